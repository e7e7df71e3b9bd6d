"""Segmentation runs and their segments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from segmentation_service.domain.model import (
    Metric,
    RunPhase,
    RunStatus,
    Segment,
    SegmentationMethod,
    SegmentationRun,
    Strategy,
    Treatment,
)
from segmentation_service.store.reads import LookupReads
from segmentation_service.store.tables import RunRow, SegmentRow
from segmentation_service.store.times import to_naive_utc, to_utc


class RunRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def start(
        self,
        method: SegmentationMethod,
        label: str | None,
        parameters: dict[str, Any],
        started_at: datetime,
        started_by: str | None = None,
        runner: str | None = None,
    ) -> int:
        row = RunRow(
            method=method.value,
            label=label,
            status=RunStatus.RUNNING.value,
            started_at=to_naive_utc(started_at),
            parameters=parameters,
            metrics={},
            started_by=started_by,
            runner=runner,
            heartbeat_at=to_naive_utc(started_at),
        )
        self._session.add(row)
        self._session.flush()
        return row.run_id

    def complete(
        self,
        run_id: int,
        *,
        finished_at: datetime,
        customer_count: int,
        assigned_count: int,
        metrics: dict[str, float],
        model: dict[str, Any] | None,
        segments: Sequence[Segment],
    ) -> bool:
        """Write the results and mark the run Completed, unless a cancel was asked for.

        False (nothing to commit: the caller rolls back) when the run is no longer
        Running or its cancel was requested.
        """
        self._session.add_all(
            SegmentRow(
                run_id=run_id,
                code=segment.code,
                ordinal=ordinal,
                name=segment.name,
                description=segment.description,
                size=segment.size,
                share=segment.share,
                total_value=segment.total_value,
                average_value=segment.average_value,
                profile=[list(entry) for entry in segment.profile],
                revenue=segment.revenue,
                cost=segment.cost,
                treatment=treatment_data(segment.treatment),
            )
            for ordinal, segment in enumerate(segments)
        )
        done = self._session.execute(
            update(RunRow)
            .where(
                RunRow.run_id == run_id,
                RunRow.status == RunStatus.RUNNING.value,
                RunRow.cancel_requested.is_(False),
            )
            .values(
                status=RunStatus.COMPLETED.value,
                phase=RunPhase.DONE.value,
                progress=1.0,
                finished_at=to_naive_utc(finished_at),
                customer_count=customer_count,
                assigned_count=assigned_count,
                unassigned_count=customer_count - assigned_count,
                metrics=metrics,
                model=model,
            )
        )
        return bool(getattr(done, "rowcount", 0) == 1)

    def fail(
        self,
        run_id: int,
        reason: str,
        finished_at: datetime,
        kind: str = "internal",
        field: str | None = None,
    ) -> None:
        """Mark the run Failed; ``kind`` is request, internal or interrupted (tables.py)."""
        self._session.execute(
            update(RunRow)
            .where(RunRow.run_id == run_id)
            .values(
                status=RunStatus.FAILED.value,
                finished_at=to_naive_utc(finished_at),
                failure_reason=reason,
                failure_kind=kind,
                failure_field=field,
            )
        )

    def beat(self, run_id: int, at: datetime) -> None:
        """Note that the process running ``run_id`` is still alive."""
        self._session.execute(
            update(RunRow)
            .where(RunRow.run_id == run_id, RunRow.status == RunStatus.RUNNING.value)
            .values(heartbeat_at=to_naive_utc(at))
        )

    def running(self) -> list[tuple[int, str | None, datetime | None]]:
        """(run id, runner, last heartbeat) of every run still marked Running."""
        query = select(RunRow.run_id, RunRow.runner, RunRow.heartbeat_at).where(
            RunRow.status == RunStatus.RUNNING.value
        )
        return [
            (row.run_id, row.runner, to_utc(row.heartbeat_at))
            for row in self._session.execute(query)
        ]

    def get(self, run_id: int) -> SegmentationRun | None:
        row = self._session.get(RunRow, run_id)
        return None if row is None else _run(row, self.segments(run_id))

    def newest(
        self,
        methods: Sequence[SegmentationMethod] | None,
        limit: int,
        before: int | None,
        statuses: Sequence[RunStatus] | None = None,
    ) -> list[SegmentationRun]:
        """Runs newest first, of the given methods or all, with ids below ``before``.

        Two queries whatever the limit: the runs, then the segments of them all.
        """
        query = select(RunRow).order_by(RunRow.run_id.desc()).limit(limit)
        if statuses is not None:
            query = query.where(RunRow.status.in_([status.value for status in statuses]))
        if methods is not None:
            query = query.where(RunRow.method.in_([method.value for method in methods]))
        if before is not None:
            query = query.where(RunRow.run_id < before)
        rows = list(self._session.scalars(query))
        segments = self._segments_of([row.run_id for row in rows])
        return [_run(row, segments.get(row.run_id, [])) for row in rows]

    def _segments_of(self, run_ids: list[int]) -> dict[int, list[Segment]]:
        """The segments of each run in ``run_ids`` (a page of runs), in one query."""
        if not run_ids:
            return {}
        query = (
            select(SegmentRow)
            .where(SegmentRow.run_id.in_(run_ids))
            .order_by(SegmentRow.run_id, SegmentRow.ordinal)
        )
        found: defaultdict[int, list[Segment]] = defaultdict(list)
        for row in self._session.scalars(query):
            found[row.run_id].append(_segment(row))
        return found

    def set_owner(self, run_id: int, code: str, owner: str) -> Segment | None:
        row = self._session.get(SegmentRow, (run_id, code))
        if row is None:
            return None
        row.owner = owner
        self._session.flush()
        return _segment(row)

    def segments(self, run_id: int) -> list[Segment]:
        query = select(SegmentRow).where(SegmentRow.run_id == run_id).order_by(SegmentRow.ordinal)
        return [_segment(row) for row in self._session.scalars(query)]

    def set_treatment(self, run_id: int, code: str, treatment: Treatment) -> Segment | None:
        """Keep an analyst's treatment of the segment; it is shown instead of the
        recommendation (marked overridden), which stays kept."""
        row = self._session.get(SegmentRow, (run_id, code))
        if row is None:
            return None
        row.treatment_override = treatment_data(treatment)
        self._session.flush()
        return _segment(row)

    def segment(self, run_id: int, code: str) -> Segment | None:
        row = self._session.get(SegmentRow, (run_id, code))
        return None if row is None else _segment(row)

    def method_of(self, run_id: int) -> tuple[SegmentationMethod, RunStatus] | None:
        return LookupReads(self._session).run_method_and_status(run_id)

    def latest_completed(self, method: SegmentationMethod) -> int | None:
        return LookupReads(self._session).latest_completed(method)

    def model(self, run_id: int) -> dict[str, Any] | None:
        return LookupReads(self._session).run_model(run_id)


def _run(row: RunRow, segments: Sequence[Segment]) -> SegmentationRun:
    return SegmentationRun(
        run_id=row.run_id,
        method=SegmentationMethod(row.method),
        label=row.label,
        status=RunStatus(row.status),
        started_at=to_utc(row.started_at) or row.started_at,
        finished_at=to_utc(row.finished_at),
        customer_count=row.customer_count,
        assigned_count=row.assigned_count,
        unassigned_count=row.unassigned_count,
        metrics=tuple(Metric(name, float(value)) for name, value in row.metrics.items()),
        segments=tuple(segments),
        failure_reason=row.failure_reason,
        started_by=row.started_by,
        progress=row.progress,
        phase=row.phase,
        queued_at=to_utc(row.queued_at),
    )


def _segment(row: SegmentRow) -> Segment:
    return Segment(
        code=row.code,
        name=row.name,
        description=row.description,
        size=row.size,
        share=row.share,
        total_value=row.total_value,
        average_value=row.average_value,
        profile=tuple((str(attribute), str(value)) for attribute, value in row.profile),
        revenue=row.revenue,
        cost=row.cost,
        owner=row.owner,
        treatment=treatment_of(row.treatment_override, overridden=True)
        or treatment_of(row.treatment),
    )


def treatment_data(treatment: Treatment | None) -> dict[str, Any] | None:
    """A treatment as JSON (its ``overridden`` flag is where it is stored)."""
    if treatment is None:
        return None
    return {
        "strategy": treatment.strategy.value,
        "channel": treatment.channel,
        "message": treatment.message,
        "reason": treatment.reason,
    }


def treatment_of(data: dict[str, Any] | None, overridden: bool = False) -> Treatment | None:
    if not data:
        return None
    return Treatment(
        Strategy(data["strategy"]), data["channel"], data["message"], data["reason"], overridden
    )
