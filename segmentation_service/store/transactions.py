"""Transactions: per-customer aggregates computed by the database, and upserts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from segmentation_service.store.bulk import read_frame, upsert_rows
from segmentation_service.store.tables import TransactionRow, table

AGGREGATE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "transaction_count",
    "purchase_count",
    "revenue",
    "gross_revenue",
    "cost",
    "first_purchase",
    "last_purchase",
    "purchase_days",
    "repeat_spend",
)


TOTAL_COLUMNS: tuple[str, ...] = ("customer_id", "revenue", "cost", "first_purchase")


class TransactionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def aggregates(self, as_of: date, customer_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per customer with transactions dated on or before ``as_of``.

        A purchase is a transaction with an amount of zero or more: a free item
        is a purchase occasion too. A negative amount is a return, which lowers
        revenue but is no purchase occasion. Purchase days count a day's
        purchases as one occasion; ``repeat_spend`` is what was spent on
        purchase days after the first (the Gamma–Gamma input; zero when those
        purchases were all free). Missing costs count as zero. Columns:
        ``AGGREGATE_COLUMNS``.
        """
        end = datetime.combine(as_of + timedelta(days=1), time.min)

        def query(part: Sequence[str] | None) -> Select[Any]:
            return self._aggregate_query(end, part)

        frame = read_frame(self._session, query, customer_ids, AGGREGATE_COLUMNS)
        for column in ("first_purchase", "last_purchase"):
            frame[column] = pd.to_datetime(frame[column])
        return frame.set_index("customer_id").sort_index()

    def totals(self, as_of: date, customer_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Revenue, cost and first purchase per customer: one light pass over transactions.

        What runs that do not rank by value need (segment value and profit);
        ``aggregates`` computes everything value-based runs need.
        Columns ``TOTAL_COLUMNS``, indexed by customer_id.
        """
        end = datetime.combine(as_of + timedelta(days=1), time.min)
        t = table(TransactionRow).c

        def query(part: Sequence[str] | None) -> Select[Any]:
            selected = (
                select(
                    t.customer_id,
                    func.sum(t.amount).label("revenue"),
                    func.coalesce(func.sum(t.cost), 0.0).label("cost"),
                    func.min(case((t.amount >= 0, t.occurred_at))).label("first_purchase"),
                )
                .where(t.occurred_at < end)
                .group_by(t.customer_id)
            )
            return selected if part is None else selected.where(t.customer_id.in_(part))

        frame = read_frame(self._session, query, customer_ids, TOTAL_COLUMNS)
        frame["first_purchase"] = pd.to_datetime(frame["first_purchase"])
        return frame.set_index("customer_id").sort_index()

    @staticmethod
    def _aggregate_query(end: datetime, customer_ids: Sequence[str] | None) -> Select[Any]:
        t = table(TransactionRow).c
        in_scope = t.occurred_at < end
        if customer_ids is not None:
            in_scope = and_(in_scope, t.customer_id.in_(customer_ids))
        purchase = t.amount >= 0  # zero is a purchase (a free item); only returns are not
        day = func.date(t.occurred_at)
        first_days = (
            select(t.customer_id, func.min(day).label("first_day"))
            .where(in_scope, purchase)
            .group_by(t.customer_id)
            .subquery()
        )
        return (
            select(
                t.customer_id,
                func.count().label("transaction_count"),
                func.count(case((purchase, 1))).label("purchase_count"),
                func.sum(t.amount).label("revenue"),
                func.coalesce(func.sum(case((purchase, t.amount))), 0.0).label("gross_revenue"),
                func.coalesce(func.sum(t.cost), 0.0).label("cost"),
                func.min(case((purchase, t.occurred_at))).label("first_purchase"),
                func.max(case((purchase, t.occurred_at))).label("last_purchase"),
                func.count(func.distinct(case((purchase, day)))).label("purchase_days"),
                func.coalesce(
                    func.sum(case((and_(purchase, day > first_days.c.first_day), t.amount))), 0.0
                ).label("repeat_spend"),
            )
            .select_from(
                table(TransactionRow).outerjoin(
                    first_days, first_days.c.customer_id == t.customer_id
                )
            )
            .where(in_scope)
            .group_by(t.customer_id)
        )

    def upsert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        upsert_rows(self._session, table(TransactionRow), rows, key=("transaction_id",))
