"""Customers: existence checks, attribute frames and idempotent upserts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from segmentation_service.store import queries
from segmentation_service.store.bulk import chunks, read_frame, upsert_rows
from segmentation_service.store.tables import CustomerRow, table

CUSTOMER_COLUMNS: tuple[str, ...] = tuple(c.name for c in table(CustomerRow).columns)


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def count(self) -> int:
        return int(self._session.scalar(select(func.count()).select_from(CustomerRow)) or 0)

    def existing_ids(self, customer_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(list(dict.fromkeys(customer_ids))):
            found.update(self._session.scalars(queries.EXISTING_CUSTOMERS, {"customer_ids": part}))
        return found

    def frame(self, customer_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Every column of the given customers (all when None), indexed by customer_id."""
        customers = table(CustomerRow)

        def query(part: Sequence[str] | None) -> Select[Any]:
            selected = select(customers)
            return selected if part is None else selected.where(customers.c.customer_id.in_(part))

        frame = read_frame(self._session, query, customer_ids, CUSTOMER_COLUMNS)
        return frame.set_index("customer_id").sort_index()

    def upsert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        upsert_rows(self._session, table(CustomerRow), rows, key=("customer_id",))
