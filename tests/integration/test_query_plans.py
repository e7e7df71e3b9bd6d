"""The lookups a CRM makes on every screen use indexes, on SQLite and PostgreSQL.

Each repository call's SQL is captured as it runs and explained by the
database: the plan must use the named index (keyset paging must also need no
sort). PostgreSQL is asked with sequential scans discouraged, as its planner
rightly prefers them on tables this small.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, text

from segmentation_service.domain.model import MoverFilter, SegmentationMethod
from segmentation_service.store.database import Store
from segmentation_service.store.uow import UnitOfWork
from tests.integration.test_store import _complete_run, fill


@contextmanager
def captured(store: Store) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        catalog = "pg_catalog" in statement or "sqlite_master" in statement
        if statement.lstrip().upper().startswith("SELECT") and not catalog:
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(store.engine, "before_cursor_execute", remember)


def plan(store: Store, call: Callable[[UnitOfWork], Any]) -> str:
    """The query plan(s) of the SELECTs ``call`` runs, as one text."""
    with captured(store) as statements, store.unit_of_work() as uow:
        call(uow)
    postgres = store.engine.dialect.name == "postgresql"
    lines: list[str] = []
    with store.engine.connect() as connection:
        if postgres:
            connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            lines.extend(" ".join(str(value) for value in row) for row in rows)
        connection.rollback()
    return "\n".join(lines)


@pytest.fixture
def filled(store: Store) -> Store:
    fill(store)
    _complete_run(store, SegmentationMethod.A_PRIORI, {"A": "X", "B": "X", "C": "Y"})
    with store.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return store


def test_member_pages_seek_into_the_segment_index_after_the_cursor(filled: Store) -> None:
    # The page is cut from the index in order (a seek past the cursor, then at most
    # `limit` rows); only those rows are joined to the names and put back in order.
    found = plan(filled, lambda uow: uow.assignments.page(1, "X", "A", 100))
    (access,) = [line for line in found.splitlines() if "ix_assignments_segment_members" in line]
    if filled.engine.dialect.name == "sqlite":
        assert "customer_id>?" in access
    else:
        assert "Index" in access and "Limit" in found
        assert re.search(r"customer_id\)?(::\w+)? > ", found), found


def test_a_customers_segments_use_the_customer_index(filled: Store) -> None:
    found = plan(
        filled, lambda uow: uow.assignments.latest_by_method("A", list(SegmentationMethod))
    )
    assert "ix_assignments_customer_run" in found


def test_value_scoring_aggregates_a_batch_through_the_transaction_index(filled: Store) -> None:
    found = plan(filled, lambda uow: uow.transactions.aggregates(date(2026, 6, 30), ["A", "B"]))
    assert "ix_transactions_customer_covering" in found


def test_known_customers_are_found_by_primary_key(filled: Store) -> None:
    found = plan(filled, lambda uow: uow.customers.existing_ids(["A", "Z"]))
    assert "customers_pkey" in found or "sqlite_autoindex_customers_1" in found


@pytest.fixture
def moved(filled: Store) -> Store:
    _complete_run(filled, SegmentationMethod.A_PRIORI, {"A": "Y", "B": "X", "C": None})
    with filled.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return filled


@pytest.mark.parametrize(
    ("movers", "branches"),
    [
        (MoverFilter(1, 2), 2),  # moved or left; entered
        (MoverFilter(1, 2, to_segment_code="Y"), 2),
        (MoverFilter(1, 2, from_segment_code="X"), 1),
        (MoverFilter(1, 2, tier_pairs=frozenset({("X", "Y")})), 1),
    ],
)
def test_mover_pages_seek_past_the_cursor_in_every_branch(
    moved: Store, movers: MoverFilter, branches: int
) -> None:
    # Each branch reads the assignments from an index past the cursor, so a deep page
    # reads what the first does; no branch scans a run's assignments from the start.
    found = plan(moved, lambda uow: uow.movers.page(movers, "A", 100))
    if moved.engine.dialect.name == "sqlite":
        seeks = re.findall(r"SEARCH (?:before|after) USING INDEX \S+ \([^)]*customer_id>\?", found)
        assert len(seeks) >= branches, found
        assert not re.search(r"SCAN (?:before|after)\b", found), found
    else:
        assert "Seq Scan on assignments" not in found, found
        seeks = re.findall(r"Index Cond: \(\(run_id = [^\n]*customer_id\)::text > ", found)
        assert len(seeks) >= branches, found
