"""Assignments: bulk writes, a customer's latest placement, keyset pages of members."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import CursorResult, Select, delete, select
from sqlalchemy.orm import Session

from segmentation_service.domain.model import (
    CustomerSegment,
    SegmentationMethod,
    SegmentMember,
)
from segmentation_service.store.bulk import Restriction, Scope, insert_rows, read_frame
from segmentation_service.store.reads import LookupReads
from segmentation_service.store.tables import (
    AssignmentRow,
    table,
)

ASSIGNMENT_COLUMNS = ("customer_id", "segment_code", "score", "value", "reason")


class AssignmentRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, run_id: int, assignments: pd.DataFrame) -> None:
        """Write one row per customer of the run (segment_code None when unassigned)."""
        # Column by column: a row-wise walk over pandas' arrays cost more than the write.
        rows = list(
            zip(
                [run_id] * len(assignments),
                _texts(assignments["customer_id"]),
                _texts(assignments["segment_code"]),
                _numbers(assignments["score"]),
                _numbers(assignments["value"]),
                _texts(assignments["reason"]),
                strict=True,
            )
        )
        insert_rows(self._session, table(AssignmentRow), ("run_id", *ASSIGNMENT_COLUMNS), rows)

    def discard(self, run_id: int) -> int:
        """Delete every row of a run that never completed (its partitions may have committed)."""
        a = table(AssignmentRow)
        result: CursorResult[Any] = self._session.execute(  # type: ignore[assignment]
            delete(a).where(a.c.run_id == run_id)
        )
        return int(result.rowcount or 0)

    def latest(
        self, customer_id: str, method: SegmentationMethod, run_id: int | None = None
    ) -> CustomerSegment | None:
        """The customer's place in the newest completed run of ``method`` that covered it.

        With ``run_id``, in that run instead. None when that run left it unassigned.
        """
        return self.latest_by_method(customer_id, [method], run_id).get(method)

    def latest_by_method(
        self,
        customer_id: str,
        methods: Sequence[SegmentationMethod],
        run_id: int | None = None,
    ) -> dict[SegmentationMethod, CustomerSegment]:
        """``latest`` for several methods in one query: the customer's newest covering runs.

        Methods whose newest covering run left the customer unassigned are absent.
        """
        return LookupReads(self._session).latest_by_method(customer_id, methods, run_id)

    def of_run(self, run_id: int) -> pd.DataFrame:
        """Every assigned customer of a run: customer_id, segment_code, value."""
        a = table(AssignmentRow).c
        query = select(a.customer_id, a.segment_code, a.value).where(
            a.run_id == run_id, a.segment_code.is_not(None)
        )
        frame = pd.read_sql(query, self._session.connection())
        return frame.astype({"customer_id": object, "segment_code": object, "value": float})

    def codes(self, run_id: int, scope: Scope = None) -> pd.Series:
        """The segment code of each customer of ``scope`` the run assigned, by customer_id."""
        a = table(AssignmentRow).c

        def query(restrict: Restriction) -> Select[Any]:
            return select(a.customer_id, a.segment_code).where(
                a.run_id == run_id, a.segment_code.is_not(None), *restrict(a.customer_id)
            )

        frame = read_frame(self._session, query, scope, ("customer_id", "segment_code"))
        codes: pd.Series = frame.set_index("customer_id")["segment_code"].astype(object)
        return codes

    def page(
        self, run_id: int, segment_code: str, after: str | None, limit: int
    ) -> list[SegmentMember]:
        """Up to ``limit`` members with customer ids greater than ``after``, in id order."""
        found = LookupReads(self._session).segment_page(run_id, segment_code, after, limit)
        return [] if found is None else found.members


def _texts(column: pd.Series) -> list[str | None]:
    """Text, or None for a missing value (pandas may hold None as NaN or NA)."""
    values = column.to_numpy(dtype=object).tolist()
    missing = column.isna().to_numpy().tolist()
    return [None if gap else str(value) for value, gap in zip(values, missing, strict=True)]


def _numbers(column: pd.Series) -> list[float | None]:
    values: list[float] = column.to_numpy(dtype=float, na_value=math.nan).tolist()
    return [None if math.isnan(value) else value for value in values]
