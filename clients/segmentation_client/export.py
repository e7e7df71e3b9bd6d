"""Campaign export: every member of one segment into a CSV file."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .paged_csv import Row, number_cell, text_cell, write_paged_csv
from .paging import PageListener, iterate_member_pages

CSV_HEADER = ("customer_id", "name", "value", "score")


@dataclass(frozen=True)
class ExportResult:
    path: str
    run_id: int
    segment_code: str
    written: int
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "out": self.path,
            "runId": self.run_id,
            "segmentCode": self.segment_code,
            "written": self.written,
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        members = "member" if self.written == 1 else "members"
        return (
            f"wrote {self.written:,} {members} of segment {self.segment_code} "
            f"(run {self.run_id}) to {self.path} in {self.seconds:.1f} s"
        )


def _member_row(member: dict[str, Any]) -> Row:
    return (
        text_cell(member.get("customerId")),
        text_cell(member.get("name")),
        number_cell(member.get("value")),
        number_cell(member.get("score")),
    )


def export_members(
    list_segment_members: Callable[..., Any],
    request: dict[str, Any],
    out: str | Path,
    on_page: PageListener | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ExportResult:
    """Page through the segment and write each member once, in customer id order,
    all at once or not at all (paged_csv.write_paged_csv)."""
    written = write_paged_csv(
        out,
        CSV_HEADER,
        iterate_member_pages(list_segment_members, request),
        lambda page: page["members"]["member"],
        _member_row,
        subject=f"segment {request.get('segmentCode')}",
        unit="members",
        on_page=on_page,
        clock=clock,
    )
    return ExportResult(
        path=str(out),
        run_id=written.first["runId"],
        segment_code=written.first["segmentCode"],
        written=written.written,
        seconds=written.seconds,
    )
