"""Customers: existence checks, attribute frames and idempotent upserts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from segmentation_service.domain.model import Partition
from segmentation_service.store.bulk import (
    Restriction,
    Scope,
    read_frame,
    upsert_columns,
    upsert_rows,
)
from segmentation_service.store.reads import LookupReads
from segmentation_service.store.tables import CustomerRow, table

CUSTOMER_COLUMNS: tuple[str, ...] = tuple(c.name for c in table(CustomerRow).columns)


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def count(self) -> int:
        return int(self._session.scalar(select(func.count()).select_from(CustomerRow)) or 0)

    def existing_ids(self, customer_ids: Sequence[str]) -> set[str]:
        return LookupReads(self._session).existing_ids(customer_ids)

    def frame(self, scope: Scope = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The customers in ``scope`` (all when None), indexed by customer_id.

        Every column, or only ``columns`` (``()``: the ids alone).
        """
        customers = table(CustomerRow)
        names = CUSTOMER_COLUMNS if columns is None else ("customer_id", *columns)
        selected = [customers.c[name] for name in names]

        def query(restrict: Restriction) -> Select[Any]:
            return select(*selected).where(*restrict(customers.c.customer_id))

        frame = read_frame(self._session, query, scope, names)
        return frame.set_index("customer_id").sort_index()

    def partitions(self, size: int, customer_ids: Sequence[str] | None = None) -> list[Partition]:
        """The store's customers (or the given ones that exist) cut into ``size``-customer parts.

        All customers: customer_id ranges, whose bounds are read from the primary
        key's index (every ``size``-th id), so no partition's ids are held here.
        Given ids: sorted lists of the existing ones.
        """
        if customer_ids is not None:
            ids = sorted(self.existing_ids(customer_ids))
            return [
                Partition(index, ids=tuple(ids[start : start + size]))
                for index, start in enumerate(range(0, len(ids), size))
            ]
        c = table(CustomerRow).c
        numbered = select(
            c.customer_id, func.row_number().over(order_by=c.customer_id).label("position")
        ).subquery()
        bounds = list(
            self._session.scalars(
                select(numbered.c.customer_id)
                .where(numbered.c.position % size == 0)
                .order_by(numbered.c.customer_id)
            )
        )
        total = self.count()
        if total == 0:
            return []
        if total % size == 0:
            bounds.pop()  # the last bound is the last customer: the last range is open
        edges: list[str | None] = [None, *bounds, None]
        return [
            Partition(index, after=edges[index], through=edges[index + 1])
            for index in range(len(edges) - 1)
        ]

    def upsert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        upsert_rows(self._session, table(CustomerRow), rows, key=("customer_id",))

    def upsert_columns(self, columns: Mapping[str, Sequence[Any]]) -> None:
        upsert_columns(self._session, table(CustomerRow), columns, key=("customer_id",))
