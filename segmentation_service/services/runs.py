"""Runs as an analyst sees them: one run, the newest runs, two runs compared, segment owners."""

from __future__ import annotations

from collections.abc import Sequence

from segmentation_service.domain.errors import InvalidRequest, RunNotFound, SegmentNotFound
from segmentation_service.domain.model import (
    CONTRACT_1_1_STATUSES,
    CONTRACT_1_3_METHODS,
    RunComparison,
    RunStatus,
    Segment,
    SegmentationMethod,
    SegmentationRun,
    Strategy,
    Treatment,
)
from segmentation_service.engines.migration import compare_assignments
from segmentation_service.store.uow import UnitOfWork

DEFAULT_RUN_LIMIT = 20
MAX_RUN_LIMIT = 100
MAX_OWNER_LENGTH = 200


def get_segmentation_run(run_id: int, uow: UnitOfWork) -> SegmentationRun:
    with uow:
        run = uow.runs.get(run_id)
    if run is None:
        raise RunNotFound(run_id)
    return run


def list_segmentation_runs(
    method: SegmentationMethod | None,
    limit: int | None,
    before: int | None,
    uow: UnitOfWork,
    statuses: Sequence[RunStatus] | None = None,
) -> list[SegmentationRun]:
    """Runs newest first; ``before`` continues a listing after its last run id.

    Without ``statuses``, only the statuses of contract 1.1 (never Queued or Cancelled);
    without ``method``, only the methods of contract 1.3 (never Behavioural): what a
    client generated from an older contract can read.
    """
    count = DEFAULT_RUN_LIMIT if limit is None else limit
    if not 1 <= count <= MAX_RUN_LIMIT:
        raise InvalidRequest("limit", f"must be between 1 and {MAX_RUN_LIMIT}, got {count}")
    if before is not None and before < 1:
        raise InvalidRequest("before", f"must be a run id (at least 1), got {before}")
    with uow:
        return uow.runs.newest(
            CONTRACT_1_3_METHODS if method is None else [method],
            count,
            before,
            CONTRACT_1_1_STATUSES if statuses is None else statuses,
        )


def compare_segmentation_runs(from_run_id: int, to_run_id: int, uow: UnitOfWork) -> RunComparison:
    """The migration matrix from one completed run to another."""
    with uow:
        for run_id in (from_run_id, to_run_id):
            completed_method(uow, run_id)
        before = uow.assignments.of_run(from_run_id)
        after = uow.assignments.of_run(to_run_id)
    migration = compare_assignments(before, after)
    return RunComparison(
        from_run_id=from_run_id,
        to_run_id=to_run_id,
        transitions=migration.transitions,
        stayed_share=migration.stayed_share,
        adjusted_rand_index=migration.adjusted_rand_index,
        entered_count=migration.entered_count,
        left_count=migration.left_count,
    )


def completed_method(uow: UnitOfWork, run_id: int) -> SegmentationMethod:
    """The method of a completed run; RunNotFound for an unknown or unfinished one."""
    found = uow.runs.method_of(run_id)
    if found is None:
        raise RunNotFound(run_id)
    if found[1] is not RunStatus.COMPLETED:
        raise RunNotFound(run_id, f"has no results (status {found[1].value})")
    return found[0]


def set_segment_owner(run_id: int, segment_code: str, owner: str, uow: UnitOfWork) -> Segment:
    name = owner.strip()
    if not name or len(name) > MAX_OWNER_LENGTH:
        raise InvalidRequest("owner", f"must be 1 to {MAX_OWNER_LENGTH} non-blank characters")
    with uow:
        if uow.runs.method_of(run_id) is None:
            raise RunNotFound(run_id)
        segment = uow.runs.set_owner(run_id, segment_code, name)
        if segment is None:
            raise SegmentNotFound(run_id, segment_code)
        uow.commit()
    return segment


def set_segment_treatment(
    run_id: int,
    segment_code: str,
    strategy: Strategy,
    channel: str | None,
    message: str | None,
    uow: UnitOfWork,
    set_by: str | None = None,
) -> Segment:
    """An analyst's treatment of a segment, kept with the run and shown (marked overridden)
    instead of the recommendation; channel and message default to the recommendation's."""
    with uow:
        if uow.runs.method_of(run_id) is None:
            raise RunNotFound(run_id)
        current = uow.runs.segment(run_id, segment_code)
        if current is None:
            raise SegmentNotFound(run_id, segment_code)
        chosen = overriding(current.treatment, strategy, channel, message, set_by)
        segment = uow.runs.set_treatment(run_id, segment_code, chosen)
        assert segment is not None
        uow.commit()
    return segment


def overriding(
    recommended: Treatment | None,
    strategy: Strategy,
    channel: str | None,
    message: str | None,
    set_by: str | None,
) -> Treatment:
    """The analyst's treatment, completed from the recommendation, saying what it replaced."""
    if channel is not None and not 1 <= len(channel.strip()) <= MAX_OWNER_LENGTH:
        raise InvalidRequest("channel", f"must be 1 to {MAX_OWNER_LENGTH} non-blank characters")
    if message is not None and not message.strip():
        raise InvalidRequest("message", "must not be blank")
    who = set_by or "an analyst"
    was = "" if recommended is None else f"; the recommendation was {recommended.reason}"
    return Treatment(
        strategy,
        channel.strip() if channel else (recommended.channel if recommended else None),
        message.strip() if message else (recommended.message if recommended else strategy.value),
        f"{strategy.value}: set by {who}{was}",
        overridden=True,
    )
