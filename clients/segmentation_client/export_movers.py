"""Movers export: every customer who moved between two runs into a CSV file."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .paged_csv import Row, number_cell, text_cell, write_paged_csv
from .paging import PageListener, iterate_mover_pages

MOVERS_CSV_HEADER = (
    "customer_id",
    "name",
    "from_segment_code",
    "to_segment_code",
    "value_before",
    "value_after",
)


def describe_scope(
    from_segment_code: str | None, to_segment_code: str | None, direction: str | None
) -> str:
    """The filters of a listing of movers in a few words: "V1 → any, down", or ""."""
    parts = []
    if from_segment_code is not None or to_segment_code is not None:
        parts.append(f"{from_segment_code or 'any'} → {to_segment_code or 'any'}")
    if direction is not None:
        parts.append(direction.lower())
    return ", ".join(parts)


@dataclass(frozen=True)
class MoversExportResult:
    path: str
    from_run_id: int
    to_run_id: int
    from_segment_code: str | None
    to_segment_code: str | None
    direction: str | None
    written: int
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "out": self.path,
            "fromRunId": self.from_run_id,
            "toRunId": self.to_run_id,
            "fromSegmentCode": self.from_segment_code,
            "toSegmentCode": self.to_segment_code,
            "direction": self.direction,
            "written": self.written,
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        movers = "mover" if self.written == 1 else "movers"
        scope = describe_scope(self.from_segment_code, self.to_segment_code, self.direction)
        return (
            f"wrote {self.written:,} {movers}{f' ({scope})' if scope else ''} from run "
            f"{self.from_run_id} to run {self.to_run_id} to {self.path} in {self.seconds:.1f} s"
        )


def _mover_row(mover: dict[str, Any]) -> Row:
    """Empty cells where the contract leaves an element out: no fromSegmentCode, the
    customer entered; no toSegmentCode, it left; no value, the run has none."""
    return (
        text_cell(mover.get("customerId")),
        text_cell(mover.get("name")),
        text_cell(mover.get("fromSegmentCode")),
        text_cell(mover.get("toSegmentCode")),
        number_cell(mover.get("valueBefore")),
        number_cell(mover.get("valueAfter")),
    )


def export_movers(
    list_segment_movers: Callable[..., Any],
    request: dict[str, Any],
    out: str | Path,
    on_page: PageListener | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> MoversExportResult:
    """Page through ListSegmentMovers (`request` is the first page's) and write each mover
    once, in customer id order, all at once or not at all (paged_csv.write_paged_csv)."""
    from_run_id, to_run_id = request["fromRunId"], request["toRunId"]
    written = write_paged_csv(
        out,
        MOVERS_CSV_HEADER,
        iterate_mover_pages(list_segment_movers, request),
        lambda page: page["movers"]["mover"],
        _mover_row,
        subject=f"the comparison of run {from_run_id} with run {to_run_id}",
        unit="movers",
        on_page=on_page,
        clock=clock,
    )
    return MoversExportResult(
        path=str(out),
        from_run_id=from_run_id,
        to_run_id=to_run_id,
        from_segment_code=request.get("fromSegmentCode"),
        to_segment_code=request.get("toSegmentCode"),
        direction=request.get("direction"),
        written=written.written,
        seconds=written.seconds,
    )
