"""A paged listing of customers into a CSV file: each customer once, every page or no file."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import atomic_text_file
from .paging import PageListener, PagingError

Row = Sequence[str]


@dataclass(frozen=True)
class WrittenPages:
    """What write_paged_csv wrote: the first page (what the request resolved to),
    the number of rows below the header, and the time taken."""

    first: dict[str, Any]
    written: int
    seconds: float


def number_cell(value: Any) -> str:
    """15 significant digits (all a spreadsheet keeps, and no 22418.890000000007); else empty."""
    return "" if value is None else f"{value:.15g}"


def text_cell(value: Any) -> str:
    return "" if value is None else str(value)


def write_paged_csv(
    out: str | Path,
    header: Row,
    pages: Iterable[dict[str, Any]],
    items: Callable[[dict[str, Any]], list[dict[str, Any]]],
    row: Callable[[dict[str, Any]], Row],
    *,
    subject: str,
    unit: str,
    on_page: PageListener | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> WrittenPages:
    """Write one row per customer (by customerId) of `items(page)` for every page, in order.

    `pages` is lazy (paging.iterate_pages): the file is opened before the first
    request, so an unwritable destination costs no request. The file appears
    only when every page has been written and the count matches the service's
    totalCount; otherwise it is not created (or an existing file is left as it
    was) and the error propagates; it names the listing as e.g. "segment GOLD
    (subject) has 3 members (unit)".
    """
    started = clock()
    seen: set[str] = set()
    first: dict[str, Any] | None = None
    total_count: int | None = None
    with atomic_text_file(out, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for page in pages:
            first = first or page
            total_count = page["totalCount"]
            for item in items(page):
                customer_id = item["customerId"]  # required in every listing
                if customer_id in seen:
                    continue
                seen.add(customer_id)
                writer.writerow(row(item))
            if on_page is not None:
                on_page(len(seen), total_count)
        if total_count is not None and len(seen) != total_count:
            raise PagingError(
                f"{subject} has {total_count} {unit} but paging returned {len(seen)}; "
                "nothing was written"
            )
    assert first is not None  # paging always yields the first page
    return WrittenPages(first=first, written=len(seen), seconds=clock() - started)
