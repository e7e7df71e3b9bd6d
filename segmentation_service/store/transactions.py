"""Transactions: per-customer aggregates computed by the database, and upserts.

A run's partitions each aggregate their own customers' transactions: one
``GROUP BY`` restricted to a customer_id range, read through the covering index
``(customer_id, occurred_at, amount, cost)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, String, and_, case, func, literal, not_, select
from sqlalchemy.orm import Session

from segmentation_service.store.bulk import (
    Restriction,
    Scope,
    read_frame,
    upsert_columns,
    upsert_rows,
)
from segmentation_service.store.queries import aggregate_query, day_after
from segmentation_service.store.tables import TransactionRow, table

# The value columns and their dtypes, whichever engine computed the frame (an
# empty one too); the frames are indexed by customer_id.
AGGREGATE_DTYPES: dict[str, str] = {
    "transaction_count": "int64",
    "purchase_count": "int64",
    "revenue": "float64",
    "gross_revenue": "float64",
    "cost": "float64",
    "first_purchase": "datetime64[us]",
    "last_purchase": "datetime64[us]",
    "purchase_days": "int64",
    "repeat_spend": "float64",
}
AGGREGATE_COLUMNS: tuple[str, ...] = ("customer_id", *AGGREGATE_DTYPES)

# Per customer, channel and category of their transactions in a window (``behaviour``).
BEHAVIOUR_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "channel",
    "category",
    "purchases",
    "returns",
    "spend",
    "first_purchase",
    "last_purchase",
)

TOTAL_DTYPES: dict[str, str] = {
    "revenue": "float64",
    "cost": "float64",
    "first_purchase": "datetime64[us]",
    "last_purchase": "datetime64[us]",
}
TOTAL_COLUMNS: tuple[str, ...] = ("customer_id", *TOTAL_DTYPES)


class TransactionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def aggregates(self, as_of: date, scope: Scope = None) -> pd.DataFrame:
        """One row per customer with transactions dated on or before ``as_of``.

        A purchase is a transaction with an amount of zero or more: a free item
        is a purchase occasion too. A negative amount is a return, which lowers
        revenue but is no purchase occasion. Purchase days count a day's
        purchases as one occasion; ``repeat_spend`` is what was spent on
        purchase days after the first (the Gamma–Gamma input; zero when those
        purchases were all free). Missing costs count as zero. Columns:
        ``AGGREGATE_COLUMNS``.
        """
        dated = self._dated_up_to(as_of)

        def query(restrict: Restriction) -> Select[Any]:
            return aggregate_query(dated, restrict)

        frame = read_frame(self._session, query, scope, AGGREGATE_COLUMNS)
        return _typed(frame, AGGREGATE_DTYPES)

    def totals(self, as_of: date, scope: Scope = None) -> pd.DataFrame:
        """Revenue, cost, first and last purchase per customer: one light pass over
        transactions.

        What runs that do not rank by value need (segment value and profit);
        ``aggregates`` computes everything value-based runs need.
        Columns ``TOTAL_COLUMNS``, indexed by customer_id.
        """
        dated = self._dated_up_to(as_of)
        t = table(TransactionRow).c

        def query(restrict: Restriction) -> Select[Any]:
            return (
                select(
                    t.customer_id,
                    func.sum(t.amount).label("revenue"),
                    func.coalesce(func.sum(t.cost), 0.0).label("cost"),
                    func.min(case((t.amount >= 0, t.occurred_at))).label("first_purchase"),
                    func.max(case((t.amount >= 0, t.occurred_at))).label("last_purchase"),
                )
                .where(dated, *restrict(t.customer_id))
                .group_by(t.customer_id)
            )

        frame = read_frame(self._session, query, scope, TOTAL_COLUMNS)
        return _typed(frame, TOTAL_DTYPES)

    def purchase_days(self, after: date, up_to: date, scope: Scope = None) -> pd.Series:
        """Days with a purchase (amount ≥ 0) after ``after`` up to ``up_to`` (whole days),
        per customer who has any: BG/NBD's purchase occasions in a window."""
        t = table(TransactionRow).c
        window = and_(self._dated_up_to(up_to), not_(self._dated_up_to(after)))
        day = func.date(t.occurred_at)

        def query(restrict: Restriction) -> Select[Any]:
            return (
                select(t.customer_id, func.count(func.distinct(day)).label("purchase_days"))
                .where(window, t.amount >= 0, *restrict(t.customer_id))
                .group_by(t.customer_id)
            )

        frame = read_frame(self._session, query, scope, ("customer_id", "purchase_days"))
        days: pd.Series = frame.set_index("customer_id")["purchase_days"].astype("int64")
        return days

    def behaviour(self, since: date, as_of: date, scope: Scope = None) -> pd.DataFrame:
        """Per customer, channel and category: purchases (amount ≥ 0), returns (amount < 0),
        what the purchases came to, and the first and last purchase, over the transactions
        dated after ``since`` up to ``as_of`` (whole days). Columns ``BEHAVIOUR_COLUMNS``,
        not indexed; channel and category None where the transactions have none."""
        t = table(TransactionRow).c
        window = and_(self._dated_up_to(as_of), not_(self._dated_up_to(since)))
        purchase = t.amount >= 0

        def query(restrict: Restriction) -> Select[Any]:
            return (
                select(
                    t.customer_id,
                    t.channel,
                    t.category,
                    func.count(case((purchase, 1))).label("purchases"),
                    func.count(case((t.amount < 0, 1))).label("returns"),
                    func.coalesce(func.sum(case((purchase, t.amount))), 0.0).label("spend"),
                    func.min(case((purchase, t.occurred_at))).label("first_purchase"),
                    func.max(case((purchase, t.occurred_at))).label("last_purchase"),
                )
                .where(window, *restrict(t.customer_id))
                .group_by(t.customer_id, t.channel, t.category)
            )

        frame = read_frame(self._session, query, scope, BEHAVIOUR_COLUMNS)
        for column in ("first_purchase", "last_purchase"):
            frame[column] = pd.to_datetime(frame[column], format="ISO8601")
        return frame.astype({"purchases": "int64", "returns": "int64", "spend": "float64"})

    def _dated_up_to(self, as_of: date) -> ColumnElement[bool]:
        return dated_up_to(self._session, as_of)

    def upsert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        upsert_rows(self._session, table(TransactionRow), rows, key=("transaction_id",))

    def upsert_columns(self, columns: Mapping[str, Sequence[Any]]) -> None:
        upsert_columns(self._session, table(TransactionRow), columns, key=("transaction_id",))


def _typed(frame: pd.DataFrame, dtypes: Mapping[str, str]) -> pd.DataFrame:
    """A frame read by SQL with the columns' dtypes, indexed and sorted by customer_id.

    Timestamps come as text from SQLite, with or without fractional seconds.
    """
    for column, dtype in dtypes.items():
        if dtype.startswith("datetime64"):
            frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    return frame.astype(dict(dtypes)).set_index("customer_id").sort_index()


def dated_up_to(session: Session, as_of: date) -> ColumnElement[bool]:
    """Transactions dated on or before ``as_of`` (see ``queries.day_after``)."""
    occurred_at = table(TransactionRow).c.occurred_at
    bound = day_after(session.get_bind().dialect.name, as_of)
    if isinstance(bound, str):
        return occurred_at < literal(bound, String)
    return occurred_at < bound
