"""Needs-survey answers in long format."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from segmentation_service.store.bulk import (
    Restriction,
    Scope,
    read_frame,
    upsert_columns,
    upsert_rows,
)
from segmentation_service.store.tables import NeedResponseRow, table

RESPONSE_COLUMNS = ("customer_id", "need", "score")


class NeedRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def responses(self, scope: Scope = None) -> pd.DataFrame:
        """Answers as rows of (customer_id, need, score) of the customers in ``scope``."""
        t = table(NeedResponseRow).c

        def query(restrict: Restriction) -> Select[Any]:
            return select(t.customer_id, t.need, t.score).where(*restrict(t.customer_id))

        frame = read_frame(self._session, query, scope, RESPONSE_COLUMNS)
        return frame.astype({"customer_id": object, "need": object, "score": float})

    def matrix(self, needs: Sequence[str], scope: Scope = None) -> pd.DataFrame:
        """Customer × need scores of ``needs`` (in that order), NaN where not answered, indexed
        by customer_id (sorted); customers who answered none of them may be absent.

        The database pivots: one row per customer instead of one per answer, which is
        what made reading the answers cost more than using them.
        """
        t = table(NeedResponseRow).c
        scores = [
            func.max(case((t.need == need, t.score))).label(f"need_{position}")
            for position, need in enumerate(needs)
        ]

        def query(restrict: Restriction) -> Select[Any]:
            return (
                select(t.customer_id, *scores)
                .where(*restrict(t.customer_id))
                .group_by(t.customer_id)
            )

        names = [score.name for score in scores]
        frame = read_frame(self._session, query, scope, ("customer_id", *names))
        matrix = frame.set_index("customer_id").astype(float).sort_index()
        matrix.columns = pd.Index(list(needs), name="need")
        return matrix

    def upsert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        upsert_rows(self._session, table(NeedResponseRow), rows, key=("customer_id", "need"))

    def upsert_columns(self, columns: Mapping[str, Sequence[Any]]) -> None:
        upsert_columns(self._session, table(NeedResponseRow), columns, key=("customer_id", "need"))
