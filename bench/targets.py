"""The targets, each a check on one figure: PASS or MISS and by how much."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

# Issue 15: each lookup's throughput × the echo baseline's, and its p99 at concurrency 8.
LOOKUP_VS_ECHO = {"GetCustomerSegment": 0.8, "ListSegmentMembers": 0.5, "ScoreCustomerValue": 0.25}
LOOKUP_P99_MS = {"GetCustomerSegment": 25.0, "ListSegmentMembers": 60.0, "ScoreCustomerValue": 60.0}
DIGEST_ADDS = 0.15  # PasswordDigest authentication adds at most this to GetCustomerSegment's time
P99_MS = 50.0
SERVICE_VS_BARE = 1.5
PEAK_GIB = 4.0
LONG_RUN_S = 60.0
IMPORT_VS_BULK = 0.7
DEEP_PAGE_VS_FIRST = 1.2
SLOPE = 1.1
# Issue 11: runs in a run worker, apart from the SOAP workers.
BUSY_P99_VS_IDLE = 1.2  # GetCustomerSegment p99 while a run executes, × idle
QUEUED_VS_IN_PROCESS = 1.05  # a run through SubmitSegmentation, × the same run in-process
SUBMIT_ANSWER_MS = 1000.0  # SubmitSegmentation answers (Queued) within


@dataclass(frozen=True)
class Check:
    target: str
    verdict: str  # PASS, MISS or n/a

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def at_least(value: float, floor: float, label: str) -> Check:
    if not math.isfinite(value):
        return Check(f"{label} ≥ {floor:g}", "n/a")
    if value >= floor:
        return Check(f"{label} ≥ {floor:g}", f"PASS (+{(value / floor - 1) * 100:.0f}%)")
    return Check(f"{label} ≥ {floor:g}", f"MISS (−{(1 - value / floor) * 100:.0f}%)")


def at_most(value: float, ceiling: float, label: str, unit: str = "") -> Check:
    if not math.isfinite(value):
        return Check(f"{label} ≤ {ceiling:g}{unit}", "n/a")
    if value <= ceiling:
        return Check(f"{label} ≤ {ceiling:g}{unit}", f"PASS ({value / ceiling:.2f}× the limit)")
    return Check(f"{label} ≤ {ceiling:g}{unit}", f"MISS ({value / ceiling:.2f}× the limit)")
