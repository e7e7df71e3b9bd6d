"""A run's way through the queue: queued, claimed by one worker, progressing, cancelled.

Every change of state is a conditional UPDATE on the run's row, so two workers
that get the same run (a retried or duplicated queue message) cannot both
execute it, and a cancel and a completion cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from segmentation_service.domain.model import RunPhase, RunStatus, SegmentationMethod
from segmentation_service.store.tables import RunRow
from segmentation_service.store.times import to_naive_utc, to_utc


class RunStateRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def queue(
        self,
        method: SegmentationMethod,
        label: str | None,
        parameters: dict[str, Any],
        request: dict[str, Any],
        queued_at: datetime,
        started_by: str | None,
        idempotency_key: str | None,
    ) -> int:
        """Record a Queued run; its startedAt is the submission time until a worker claims it."""
        moment = to_naive_utc(queued_at)
        row = RunRow(
            method=method.value,
            label=label,
            status=RunStatus.QUEUED.value,
            started_at=moment,
            queued_at=moment,
            parameters=parameters,
            request=request,
            metrics={},
            started_by=started_by,
            idempotency_key=idempotency_key,
            phase=RunPhase.QUEUED.value,
            progress=0.0,
            attempts=0,
            cancel_requested=False,
        )
        try:
            with self._session.begin_nested():
                self._session.add(row)
                self._session.flush()
        except IntegrityError:  # the same key, submitted at the same moment by the same user
            found = (
                None
                if idempotency_key is None
                else self.by_idempotency_key(started_by, idempotency_key)
            )
            if found is None:
                raise
            return found
        return row.run_id

    def by_idempotency_key(self, started_by: str | None, key: str) -> int | None:
        query = select(RunRow.run_id).where(RunRow.idempotency_key == key)
        query = query.where(
            RunRow.started_by.is_(None) if started_by is None else RunRow.started_by == started_by
        )
        found: int | None = self._session.scalar(query)
        return found

    def claim(self, run_id: int, runner: str, at: datetime) -> dict[str, Any] | None:
        """Queued -> Running for this runner; the run's request, or None if another has it."""
        moment = to_naive_utc(at)
        claimed = self._session.execute(
            update(RunRow)
            .where(
                RunRow.run_id == run_id,
                RunRow.status == RunStatus.QUEUED.value,
                RunRow.cancel_requested.is_(False),
            )
            .values(
                status=RunStatus.RUNNING.value,
                started_at=moment,
                runner=runner,
                heartbeat_at=moment,
                attempts=RunRow.attempts + 1,
                phase=RunPhase.READING.value,
                progress=RunPhase.READING.progress,
            )
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        request: dict[str, Any] | None = self._session.scalar(
            select(RunRow.request).where(RunRow.run_id == run_id)
        )
        return request

    def advance(self, run_id: int, phase: RunPhase, progress: float | None = None) -> bool:
        """Record a Running run's phase and progress (default: where the phase begins).

        False when a cancel was asked for.
        """
        self._session.execute(
            update(RunRow)
            .where(RunRow.run_id == run_id, RunRow.status == RunStatus.RUNNING.value)
            .values(phase=phase.value, progress=phase.progress if progress is None else progress)
        )
        cancelled: bool | None = self._session.scalar(
            select(RunRow.cancel_requested).where(RunRow.run_id == run_id)
        )
        return not cancelled

    def request_cancel(self, run_id: int, at: datetime) -> RunStatus | None:
        """Cancel a Queued run now; ask a Running one to stop. The status it had, or None."""
        status = self._session.scalar(
            select(RunRow.status).where(RunRow.run_id == run_id).with_for_update()
        )
        if status is None:
            return None
        if status == RunStatus.QUEUED.value:
            self.cancelled(run_id, at)
        elif status == RunStatus.RUNNING.value:
            self._session.execute(
                update(RunRow).where(RunRow.run_id == run_id).values(cancel_requested=True)
            )
        return RunStatus(status)

    def cancelled(self, run_id: int, at: datetime) -> None:
        self._session.execute(
            update(RunRow)
            .where(RunRow.run_id == run_id)
            .values(
                status=RunStatus.CANCELLED.value,
                finished_at=to_naive_utc(at),
                cancel_requested=True,
            )
        )

    def requeue(self, run_id: int) -> None:
        """Running -> Queued again (its worker died): another worker may claim it."""
        self._session.execute(
            update(RunRow)
            .where(RunRow.run_id == run_id, RunRow.status == RunStatus.RUNNING.value)
            .values(
                status=RunStatus.QUEUED.value,
                runner=None,
                phase=RunPhase.QUEUED.value,
                progress=0.0,
            )
        )

    def attempts(self, run_id: int) -> int:
        found = self._session.scalar(select(RunRow.attempts).where(RunRow.run_id == run_id))
        return int(found or 0)

    def waiting(self, queued_before: datetime) -> list[int]:
        """Queued runs submitted before ``queued_before``, oldest first."""
        query = (
            select(RunRow.run_id)
            .where(
                RunRow.status == RunStatus.QUEUED.value,
                RunRow.queued_at < to_naive_utc(queued_before),
            )
            .order_by(RunRow.run_id)
        )
        return list(self._session.scalars(query))

    def failure(self, run_id: int) -> tuple[str | None, str | None, str | None]:
        """(kind, field, reason) of a Failed run."""
        row = self._session.execute(
            select(RunRow.failure_kind, RunRow.failure_field, RunRow.failure_reason).where(
                RunRow.run_id == run_id
            )
        ).one()
        return row.failure_kind, row.failure_field, row.failure_reason

    def status(self, run_id: int) -> RunStatus | None:
        found = self._session.scalar(select(RunRow.status).where(RunRow.run_id == run_id))
        return None if found is None else RunStatus(found)

    def queued_at(self, run_id: int) -> datetime | None:
        return to_utc(self._session.scalar(select(RunRow.queued_at).where(RunRow.run_id == run_id)))
