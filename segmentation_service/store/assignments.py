"""Assignments: bulk writes, a customer's latest placement, keyset pages of members."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from segmentation_service.domain.model import (
    CustomerSegment,
    RunStatus,
    SegmentationMethod,
    SegmentMember,
)
from segmentation_service.store.bulk import insert_rows
from segmentation_service.store.runs import to_utc
from segmentation_service.store.tables import (
    AssignmentRow,
    CustomerRow,
    RunRow,
    SegmentRow,
    table,
)

ASSIGNMENT_COLUMNS = ("customer_id", "segment_code", "score", "value", "reason")


class AssignmentRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, run_id: int, assignments: pd.DataFrame) -> None:
        """Write one row per customer of the run (segment_code None when unassigned)."""
        frame = assignments.loc[:, list(ASSIGNMENT_COLUMNS)]
        rows = [
            (run_id, customer, _text(code), _nullable(score), _nullable(value), _text(reason))
            for customer, code, score, value, reason in frame.itertuples(index=False, name=None)
        ]
        insert_rows(self._session, table(AssignmentRow), ("run_id", *ASSIGNMENT_COLUMNS), rows)

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
        a, r, s = AssignmentRow, RunRow, SegmentRow
        newest = func.row_number().over(partition_by=r.method, order_by=a.run_id.desc())
        ranked = (
            select(
                a.run_id,
                a.segment_code,
                a.score,
                a.reason,
                r.method,
                r.finished_at,
                s.name,
                newest.label("rank"),
            )
            .join(r, r.run_id == a.run_id)
            .outerjoin(s, and_(s.run_id == a.run_id, s.code == a.segment_code))
            .where(
                a.customer_id == customer_id,
                r.method.in_([method.value for method in methods]),
                r.status == RunStatus.COMPLETED.value,
            )
        )
        if run_id is not None:
            ranked = ranked.where(a.run_id == run_id)
        inner = ranked.subquery()
        query = select(inner).where(inner.c.rank == 1, inner.c.segment_code.is_not(None))
        return {
            SegmentationMethod(row.method): CustomerSegment(
                customer_id=customer_id,
                run_id=row.run_id,
                method=SegmentationMethod(row.method),
                segment_code=row.segment_code,
                segment_name=row.name or row.segment_code,
                assigned_at=to_utc(row.finished_at) or row.finished_at,
                score=row.score,
                reason=row.reason,
            )
            for row in self._session.execute(query)
        }

    def of_run(self, run_id: int) -> pd.DataFrame:
        """Every assigned customer of a run: customer_id, segment_code, value."""
        a = table(AssignmentRow).c
        query = select(a.customer_id, a.segment_code, a.value).where(
            a.run_id == run_id, a.segment_code.is_not(None)
        )
        frame = pd.read_sql(query, self._session.connection())
        return frame.astype({"customer_id": object, "segment_code": object, "value": float})

    def page(
        self, run_id: int, segment_code: str, after: str | None, limit: int
    ) -> list[SegmentMember]:
        """Up to ``limit`` members with customer ids greater than ``after``, in id order."""
        a, c = AssignmentRow, CustomerRow
        query = (
            select(a.customer_id, c.name, a.value, a.score)
            .outerjoin(c, c.customer_id == a.customer_id)
            .where(a.run_id == run_id, a.segment_code == segment_code)
            .order_by(a.customer_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(a.customer_id > after)
        return [
            SegmentMember(
                customer_id=row.customer_id, name=row.name or "", value=row.value, score=row.score
            )
            for row in self._session.execute(query)
        ]


def _text(value: Any) -> str | None:
    """Text, or None for a missing value (pandas may turn None into NaN)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _nullable(number: Any) -> float | None:
    if number is None:
        return None
    number = float(number)
    return None if math.isnan(number) else number
