"""Needs-survey answers in long format."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from segmentation_service.store.bulk import chunks, upsert_rows
from segmentation_service.store.tables import NeedResponseRow, table

RESPONSE_COLUMNS = ("customer_id", "need", "score")


class NeedRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def responses(self, customer_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Answers as rows of (customer_id, need, score)."""
        t = table(NeedResponseRow).c
        query = select(t.customer_id, t.need, t.score)
        connection = self._session.connection()
        if customer_ids is None:
            frames = [pd.read_sql(query, connection)]
        else:
            frames = [
                pd.read_sql(query.where(t.customer_id.in_(part)), connection)
                for part in chunks(list(dict.fromkeys(customer_ids)))
            ]
        frame = pd.concat(frames, ignore_index=True)
        if frame.empty:
            return pd.DataFrame({"customer_id": [], "need": [], "score": []}).astype(
                {"customer_id": object, "need": object, "score": float}
            )
        return frame

    def upsert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        upsert_rows(self._session, table(NeedResponseRow), rows, key=("customer_id", "need"))
