"""Per-customer transaction aggregates in SQL, for every kind of scope a run reads.

Hand-made edge cases on top of a demo store: free items, returns only, unknown
costs, several purchases on a day, microseconds, sums that are not exact, rows
written by another program as text without fractional seconds, an id that needs
quoting. A partitioned run reads by customer_id range: the ranges' frames put
together are the frame of everyone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from segmentation_service.domain.model import Partition
from segmentation_service.store.bulk import Scope
from segmentation_service.store.database import Store
from tests.factories import END_DATE, customer, load_demo, transaction

PAST = date(2026, 1, 31)

# Edge cases, on top of the demo's customers C0000001..C0000300.
EDGE_ROWS = [
    # only free items, two of them on one day
    transaction("z1", "E-free", datetime(2026, 1, 2, 10), 0.0),
    transaction("z2", "E-free", datetime(2026, 1, 2, 16), 0.0, cost=1.5),
    transaction("z3", "E-free", datetime(2026, 2, 13, 9), 0.0),
    # only returns: no purchase, no first or last purchase
    transaction("r1", "E-returns", datetime(2026, 1, 10, 12), -5.0, cost=-2.0),
    transaction("r2", "E-returns", datetime(2026, 3, 1, 12), -7.5),
    # no cost known at all
    transaction("n1", "E-nocost", datetime(2026, 1, 5, 9), 10.0),
    transaction("n2", "E-nocost", datetime(2026, 2, 5, 9), 20.0),
    # several purchases and a return on one day, then another day
    transaction("d1", "E-sameday", datetime(2026, 1, 20, 8, 0, 0), 30.0, cost=10.0),
    transaction("d2", "E-sameday", datetime(2026, 1, 20, 8, 0, 1), 45.5, cost=20.0),
    transaction("d3", "E-sameday", datetime(2026, 1, 20, 23, 59, 59, 999_999), 12.25),
    transaction("d4", "E-sameday", datetime(2026, 1, 20, 12), -30.0, cost=-10.0),
    transaction("d5", "E-sameday", datetime(2026, 1, 21, 0, 0), 5.0, cost=2.0),
    # microseconds, and the last instant of a day against the first of the next
    transaction("m1", "E-micro", datetime(2026, 1, 31, 23, 59, 59, 999_999), 1.0),
    transaction("m2", "E-micro", datetime(2026, 2, 1, 0, 0, 0), 2.0),
    transaction("m3", "E-micro", datetime(2026, 1, 15, 7, 30, 15, 123_456), 3.0, cost=0.5),
    # amounts that need 17 significant digits, and sums that are not exact
    transaction("f1", "E-float", datetime(2026, 1, 3, 9), 0.1, cost=1 / 3),
    transaction("f2", "E-float", datetime(2026, 1, 4, 9), 0.2, cost=2 / 3),
    transaction("f3", "E-float", datetime(2026, 1, 5, 9), 1 / 3, cost=0.1 + 0.2),
    transaction("f4", "E-float", datetime(2026, 1, 6, 9), 1e-300, cost=5e-324),
    # an id that needs quoting in SQL
    transaction("q1", "E-o'quote", datetime(2026, 1, 8, 9), 8.0, cost=4.0),
]
# Rows written by another program, as text without fractional seconds.
RAW_ROWS = [
    ("w1", "E-whole", "2026-01-31 23:59:59", 4.0, None),
    ("w2", "E-whole", "2026-02-01 00:00:00", 6.0, 1.0),  # the day after PAST, at midnight
    ("w3", "E-whole", "2026-01-12 08:00:00", 0.0, None),
    ("w4", "E-whole", "2026-01-12 09:00:00", 3.0, 1.0),
    ("w5", "E-micro", "2026-01-25 10:00:00", 7.0, None),  # next to rows with microseconds
    ("w6", "E-whole", "2026-07-01 00:00:00", 9.0, None),  # the day after END_DATE
]
EDGE_IDS = sorted({row["customer_id"] for row in EDGE_ROWS} | {row[1] for row in RAW_ROWS})

# Scopes of the edge cases' ids, each with what it covers.
SCOPES: dict[str, Scope] = {
    "everyone": None,
    "an unbounded partition": Partition(0),
    "a range": Partition(1, after="C0000100", through="C0000200"),
    "the first range": Partition(0, through="C0000050"),
    "the last range, the edge cases": Partition(3, after="C0000300"),
    "a range bounded by a quoted id": Partition(2, after="C0000299", through="E-o'quote"),
    "an id list": ["C0000007", "C0000150", "E-returns", "E-o'quote", "unknown", "C0000007"],
    "a partition of ids": Partition(4, ids=("C0000003", "E-free", "E-float", "E-whole")),
    "an empty range": Partition(5, after="X", through="Y"),
    "an empty list": [],
}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo store of 300 customers plus the edge cases, in a file (WAL mode)."""
    path = tmp_path_factory.mktemp("aggregates") / "store.db"
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    load_demo(store, 300)
    with store.unit_of_work() as uow:
        uow.customers.upsert([customer(customer_id) for customer_id in EDGE_IDS])
        uow.transactions.upsert(EDGE_ROWS)
        uow.commit()
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO transactions (transaction_id, customer_id, occurred_at, amount, cost) "
            "VALUES (?, ?, ?, ?, ?)",
            RAW_ROWS,
        )
    connection.close()
    store.dispose()
    yield path


def read(path: Path, what: str, as_of: date, scope: Scope) -> pd.DataFrame:
    store = Store(f"sqlite:///{path}")
    try:
        with store.unit_of_work() as uow:
            frame: pd.DataFrame = getattr(uow.transactions, what)(as_of, scope)
    finally:
        store.dispose()
    return frame


def test_the_edge_cases_aggregate_as_documented(demo_file: Path) -> None:
    found = read(demo_file, "aggregates", PAST, EDGE_IDS)
    assert set(found.index) == set(EDGE_IDS)
    free, returns, whole = found.loc["E-free"], found.loc["E-returns"], found.loc["E-whole"]
    assert (free["purchase_count"], free["purchase_days"], free["repeat_spend"]) == (2, 1, 0.0)
    assert free["cost"] == 1.5
    assert returns["purchase_count"] == 0 and pd.isna(returns["first_purchase"])
    assert found.loc["E-nocost", "cost"] == 0.0
    same_day = found.loc["E-sameday"]
    assert (same_day["purchase_days"], same_day["repeat_spend"]) == (2, 5.0)
    # midnight of the next day, stored without fractional seconds, is not as of PAST
    assert whole["transaction_count"] == 3 and whole["revenue"] == 7.0
    assert found.loc["E-micro", "last_purchase"] == pd.Timestamp("2026-01-31 23:59:59.999999")
    assert found.loc["E-float", "revenue"] == pytest.approx(0.1 + 0.2 + 1 / 3 + 1e-300)


@pytest.mark.parametrize("as_of", [END_DATE, PAST], ids=["end", "past"])
@pytest.mark.parametrize("what", ["aggregates", "totals"])
def test_a_scope_reads_exactly_its_customers_rows(demo_file: Path, what: str, as_of: date) -> None:
    everyone = read(demo_file, what, as_of, None)
    for name, scope in SCOPES.items():
        found = read(demo_file, what, as_of, scope)
        if scope is None:
            wanted = list(everyone.index)
        elif isinstance(scope, Partition) and scope.ids is None:
            after, through = scope.after, scope.through
            wanted = [
                i
                for i in everyone.index
                if (after is None or i > after) and (through is None or i <= through)
            ]
        else:
            ids = scope.ids if isinstance(scope, Partition) else scope
            assert ids is not None
            wanted = sorted(set(ids) & set(everyone.index))
        expected = everyone.loc[wanted]
        if expected.empty:
            assert found.empty and list(found.columns) == list(expected.columns), name
            continue
        pd.testing.assert_frame_equal(found, expected, obj=name)


@pytest.mark.parametrize("what", ["aggregates", "totals"])
def test_the_ranges_of_a_partitioned_run_put_together_are_everyone(
    demo_file: Path, what: str
) -> None:
    store = Store(f"sqlite:///{demo_file}")
    try:
        with store.unit_of_work() as uow:
            partitions = uow.customers.partitions(70)
            parts = [getattr(uow.transactions, what)(END_DATE, p) for p in partitions]
            everyone = getattr(uow.transactions, what)(END_DATE)
    finally:
        store.dispose()
    assert len(partitions) > 3
    pd.testing.assert_frame_equal(pd.concat(parts), everyone)
