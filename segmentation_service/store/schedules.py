"""Segmentation schedules: a request submitted at every due time of a cron expression."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from segmentation_service.domain.model import Schedule
from segmentation_service.domain.request_codec import decode
from segmentation_service.store.tables import ScheduleRow
from segmentation_service.store.times import to_naive_utc, to_utc


class DuplicateScheduleName(Exception):
    pass


class ScheduleRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        name: str,
        cron: str,
        request: dict[str, Any],
        enabled: bool,
        created_by: str | None,
        created_at: datetime,
        next_run_at: datetime,
    ) -> Schedule:
        row = ScheduleRow(
            name=name,
            cron=cron,
            request=request,
            enabled=enabled,
            created_by=created_by,
            created_at=to_naive_utc(created_at),
            next_run_at=to_naive_utc(next_run_at),
        )
        try:
            with self._session.begin_nested():
                self._session.add(row)
                self._session.flush()
        except IntegrityError as exc:
            raise DuplicateScheduleName(name) from exc
        return _schedule(row)

    def all(self) -> list[Schedule]:
        query = select(ScheduleRow).order_by(ScheduleRow.schedule_id)
        return [_schedule(row) for row in self._session.scalars(query)]

    def get(self, schedule_id: int) -> Schedule | None:
        row = self._session.get(ScheduleRow, schedule_id)
        return None if row is None else _schedule(row)

    def remove(self, schedule_id: int) -> Schedule | None:
        found = self.get(schedule_id)
        if found is not None:
            self._session.execute(delete(ScheduleRow).where(ScheduleRow.schedule_id == schedule_id))
        return found

    def due(self, now: datetime) -> list[Schedule]:
        query = (
            select(ScheduleRow)
            .where(ScheduleRow.next_run_at <= to_naive_utc(now))
            .order_by(ScheduleRow.next_run_at)
        )
        return [_schedule(row) for row in self._session.scalars(query)]

    def advance(self, schedule_id: int, due_at: datetime, next_run_at: datetime) -> bool:
        """Move a schedule past ``due_at``; True for the one caller that did (it submits)."""
        moved = self._session.execute(
            update(ScheduleRow)
            .where(
                ScheduleRow.schedule_id == schedule_id,
                ScheduleRow.next_run_at == to_naive_utc(due_at),
            )
            .values(next_run_at=to_naive_utc(next_run_at))
        )
        return bool(getattr(moved, "rowcount", 0) == 1)

    def submitted(self, schedule_id: int, run_id: int) -> None:
        self._session.execute(
            update(ScheduleRow)
            .where(ScheduleRow.schedule_id == schedule_id)
            .values(last_run_id=run_id)
        )


def _schedule(row: ScheduleRow) -> Schedule:
    return Schedule(
        schedule_id=row.schedule_id,
        name=row.name,
        cron=row.cron,
        next_run_at=to_utc(row.next_run_at) or row.next_run_at,
        last_run_id=row.last_run_id,
        enabled=row.enabled,
        request=decode(row.request),
        created_by=row.created_by,
    )
