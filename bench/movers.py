"""ListSegmentMovers' pages: a deep page costs what the first does (issue 14).

Two completed value-based runs of ``--customers`` customers (four tiers and the
unassigned, drawn at random, so about two customers in three move) are written
straight into each store. A page of 100 movers is read at the start, the middle
and 99% of the way through, for each kind of listing, against the bare baseline
of the same store in the same run: a page of one segment's members (the keyset
path ListSegmentMembers takes). The count the first page makes is shown beside.
Store calls in process: the SOAP layer is the same for both and is measured by
``bench.run``.

    python -m bench.movers --customers 500000 --stores sqlite postgresql
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.stores import open_databases
from segmentation_service.domain.model import MoverFilter, Segment, SegmentationMethod
from segmentation_service.store.bulk import insert_rows
from segmentation_service.store.database import Store
from segmentation_service.store.tables import CustomerRow, table

TIERS = ["V1", "V2", "V3", "V4"]
PAGE = 100
REPEATS = 5
LISTINGS = {
    "every mover": MoverFilter(1, 2),
    "a row (from V1)": MoverFilter(1, 2, from_segment_code="V1"),
    "a column (to V2)": MoverFilter(1, 2, to_segment_code="V2"),
    "a cell (V1 to V2)": MoverFilter(1, 2, "V1", "V2"),
    "Up (to a better tier)": MoverFilter(
        1, 2, tier_pairs=frozenset((a, b) for a in TIERS for b in TIERS if b < a)
    ),
}


def fill(store: Store, customers: int) -> list[str]:
    """Customers and two completed runs; the customer ids in order."""
    rng = np.random.default_rng(0)
    ids = [f"C{number:09d}" for number in range(customers)]
    with Session(store.engine) as session:
        names = [(customer, f"Customer {customer}") for customer in ids]
        insert_rows(session, table(CustomerRow), ("customer_id", "name"), names)
        session.commit()
    for _ in range(2):
        with store.unit_of_work() as uow:
            run_id = uow.runs.start(SegmentationMethod.VALUE_BASED, None, {}, _now())
            uow.commit()
        codes = rng.choice([*TIERS, None], size=customers, p=[0.2, 0.2, 0.2, 0.3, 0.1])
        frame = pd.DataFrame(
            {
                "customer_id": ids,
                "segment_code": codes,
                "score": 0.5,
                "value": rng.random(customers),
                "reason": "",
            }
        )
        with store.unit_of_work() as uow:
            uow.assignments.add(run_id, frame)
            uow.runs.complete(
                run_id,
                finished_at=_now(),
                customer_count=customers,
                assigned_count=int(pd.notna(codes).sum()),
                metrics={},
                model={"tier_codes": TIERS},
                segments=[Segment(code, code, "", 1, 1.0, 0.0, 0.0) for code in TIERS],
            )
            uow.commit()
    with store.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return ids


def _now() -> datetime:
    return datetime.now(timezone.utc)


def best_ms(store: Store, call: Callable[[Any], object]) -> float:
    """The fastest of REPEATS calls, in milliseconds, each in its own unit of work."""
    times = []
    for _ in range(REPEATS):
        with store.unit_of_work() as uow:
            started = time.perf_counter()
            call(uow)
            times.append((time.perf_counter() - started) * 1000)
    return min(times)


def measure(store: Store, ids: list[str]) -> list[list[str]]:
    positions = {"first": None, "middle": ids[len(ids) // 2], "99%": ids[len(ids) * 99 // 100]}
    rows = []
    baseline = {
        where: best_ms(store, lambda uow, after=after: uow.assignments.page(1, "V1", after, PAGE))
        for where, after in positions.items()
    }
    rows.append(
        ["members of V1 (baseline)", *(f"{baseline[w]:.1f}" for w in positions), "", "", ""]
    )
    for name, movers in LISTINGS.items():
        pages = {
            where: best_ms(
                store, lambda uow, after=after, movers=movers: uow.movers.page(movers, after, PAGE)
            )
            for where, after in positions.items()
        }
        with store.unit_of_work() as uow:
            started = time.perf_counter()
            total = uow.movers.count(movers)
            count_ms = (time.perf_counter() - started) * 1000
        ratio = statistics.median(pages[w] / baseline[w] for w in positions)
        deep = pages["99%"] / pages["first"]
        rows.append(
            [
                name,
                *(f"{pages[w]:.1f}" for w in positions),
                f"{ratio:.2f}x / {deep:.2f}x",
                f"{total:,}",
                f"{count_ms:.0f}",
            ]
        )
    return rows


HEADER = [
    "listing (page of 100)",
    "first ms",
    "middle ms",
    "99% ms",
    "x members / 99% vs first",
    "movers",
    "count ms",
]


def print_table(title: str, rows: list[list[str]]) -> None:
    print(f"\n{title}")
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]
    for row in [HEADER, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"])
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-movers-") as work:
        for kind in arguments.stores:
            databases = open_databases(kind, Path(work))
            try:
                store = Store(databases.fresh("bench_movers"))
                store.create_schema()
                ids = fill(store, arguments.customers)
                rows = measure(store, ids)
                store.dispose()
                print_table(f"{databases.version()}, {arguments.customers:,} customers", rows)
            finally:
                databases.close()


if __name__ == "__main__":
    main()
