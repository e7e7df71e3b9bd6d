"""Campaign export: every member of one segment into a CSV file."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import atomic_text_file
from .paging import PageListener, PagingError, iterate_member_pages

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


def _number(value: Any) -> str:
    """15 significant digits (all a spreadsheet keeps, and no 22418.890000000007); else empty."""
    return "" if value is None else f"{value:.15g}"


def export_members(
    list_segment_members: Callable[..., Any],
    request: dict[str, Any],
    out: str | Path,
    on_page: PageListener | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ExportResult:
    """Page through the segment and write each member once, in customer id order.

    The file appears only when every page has been written and the count
    matches the service's totalCount; otherwise it is not created (or an
    existing file is left as it was) and the error propagates.
    """
    started = clock()
    seen: set[str] = set()
    first: dict[str, Any] | None = None
    total_count: int | None = None
    with atomic_text_file(out, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_HEADER)
        for page in iterate_member_pages(list_segment_members, request):
            first = first or page
            total_count = page["totalCount"]
            for member in page["members"]["member"]:
                customer_id = member.get("customerId")
                if customer_id in seen:
                    continue
                seen.add(customer_id)
                writer.writerow(
                    (
                        customer_id,
                        member.get("name") or "",
                        _number(member.get("value")),
                        _number(member.get("score")),
                    )
                )
            if on_page is not None:
                on_page(len(seen), total_count)
        if total_count is not None and len(seen) != total_count:
            raise PagingError(
                f"segment {request.get('segmentCode')} has {total_count} members "
                f"but paging returned {len(seen)}; nothing was written"
            )
    assert first is not None  # iterate_member_pages always yields the first page
    return ExportResult(
        path=str(out),
        run_id=first["runId"],
        segment_code=first["segmentCode"],
        written=len(seen),
        seconds=clock() - started,
    )
