"""Executing a run: one method over the store's customers, in partitions, kept as a run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from segmentation_service.domain.errors import (
    InsufficientData,
    InvalidRequest,
    SegmentationError,
)
from segmentation_service.domain.model import (
    Partition,
    RunPhase,
    RunStatus,
    Segment,
    SegmentationMethod,
    SegmentationRequest,
    SegmentationRun,
)
from segmentation_service.domain.request_codec import decode
from segmentation_service.engines.a_priori import OTHER_CODE, APrioriSegmenter
from segmentation_service.engines.behaviour_features import CHANNEL_PREFIX, BehaviourWindow
from segmentation_service.engines.group_figures import GroupSums
from segmentation_service.engines.holdout import HoldoutWindow
from segmentation_service.engines.partitions import PartitionPlan, Stage
from segmentation_service.engines.rules import InvalidRuleError
from segmentation_service.engines.treatments import TreatmentPolicy, recommend
from segmentation_service.engines.value_based import tier_ranks
from segmentation_service.observability.logs import incident_reference
from segmentation_service.services.clock import Clock, utc_now
from segmentation_service.services.executors import InlineExecutor, PartitionExecutor, RunLayout
from segmentation_service.services.liveness import heartbeat, this_runner
from segmentation_service.services.partition_tasks import NeedsRun, PartitionTask, PreviousTiers
from segmentation_service.services.requests import OPTION_BLOCKS, EffectiveOptions, check_request
from segmentation_service.store.uow import UnitOfWork

logger = logging.getLogger(__name__)


# Summaries are folded into one whenever this many are held (see PartitionPlan.combine).
FOLD_SUMMARIES = 8


class RunCancelled(Exception):
    """A cancel was asked for: the run stops at this checkpoint and writes nothing."""


def execute_run(
    run_id: int, uow: UnitOfWork, now: Clock = utc_now, layout: RunLayout | None = None
) -> SegmentationRun | None:
    """Claim a Queued run and execute it here; None when it is not ours to run.

    Another worker may have claimed it (a duplicated queue message), or it was
    cancelled or has finished. Between phases the run records its progress and
    stops if a cancel was asked for. Its segments, assignments and the Completed
    status are written in one transaction at the end, so readers see the previous
    complete run or this complete run, never a part of it. A run that fails is
    kept as Failed with no assignments: with the reason when the data cannot
    support it (the caller's to act on), else only with the reference its
    traceback is logged under (a bug); the exception is raised again.
    """
    with uow:
        encoded = uow.run_states.claim(run_id, this_runner(), now())
        uow.commit()
    if encoded is None:
        return None
    with uow:  # what an interrupted earlier attempt of this run may have left
        uow.assignments.discard(run_id)
        uow.commit()
    try:
        with heartbeat(uow.another(), run_id, now):
            _execute(uow, run_id, decode(encoded), now, layout or RunLayout())
    except RunCancelled:
        with uow:
            uow.assignments.discard(run_id)
            uow.run_states.cancelled(run_id, now())
            uow.commit()
        logger.info("segmentation run %s was cancelled", run_id)
    except BaseException as exc:
        _record_failure(uow, run_id, exc, now)
        raise
    with uow:
        run = uow.runs.get(run_id)
    if run is not None and run.status is RunStatus.COMPLETED:
        _evaluate_portfolios(run.method, uow, now, (layout or RunLayout()).treatments)
    return run


def _execute(
    uow: UnitOfWork, run_id: int, request: SegmentationRequest, now: Clock, layout: RunLayout
) -> None:
    """The run, partition by partition (``engines.partitions``): summaries, fit, assignments.

    Each partition's assignments are committed as it finishes; the run's segments,
    metrics and Completed status in one transaction at the end, which is what
    makes the rows visible (readers see completed runs only).
    """
    today = now().date()
    options = check_request(request, today)
    as_of = _as_of(request.method, options, today)
    ids = None if request.customer_ids is None else tuple(dict.fromkeys(request.customer_ids))
    with uow:
        partitions = uow.customers.partitions(layout.partition_size, ids)
    if not partitions:
        raise InsufficientData("there are no customers to segment", "customerIds")
    window = _window(request.method, options, as_of)
    holdout = _holdout(request.method, options, as_of, today)
    plan = _plan(request.method, options, window or as_of, holdout)
    with uow:
        previous = _previous_tiers(uow, request.method)
        needs_run = _needs_run(uow, request.method)
    task = PartitionTask(
        uow.database_url,
        run_id,
        request.method,
        as_of,
        plan,
        window,
        treatments=layout.treatments,
        previous=previous,
        needs_run=needs_run,
        holdout=holdout,
    )
    executor = InlineExecutor(uow) if len(partitions) == 1 else layout.executor(uow)
    stages = _Stages(uow, run_id, executor, task, partitions)
    with _data_conditions(request.method):
        summaries = stages.run(Stage.SUMMARISE, RunPhase.READING, (0.05, 0.4))
        _checkpoint(uow, run_id, RunPhase.FITTING)
        model = plan.fit(summaries)
        if plan.refines(model):
            refinements = stages.run(Stage.REFINE, RunPhase.FITTING, (0.4, 0.55), model)
            model = plan.settle(model, refinements)
        assigned = stages.run(Stage.ASSIGN, RunPhase.ASSIGNING, (0.55, 0.95), model)
        outcome = plan.finish(model, [part.partial for part in assigned])
    groups = GroupSums.merge([part.groups for part in assigned])
    segments = [
        _treated(segment, groups, layout.treatments, request.method) for segment in outcome.segments
    ]
    _checkpoint(uow, run_id, RunPhase.WRITING, 0.95)
    with uow:
        completed = uow.runs.complete(
            run_id,
            finished_at=now(),
            customer_count=sum(part.customers for part in assigned),
            assigned_count=sum(part.assigned for part in assigned),
            metrics=outcome.metrics,
            model=outcome.model,
            segments=segments,
        )
        if not completed:  # cancelled while finishing
            raise RunCancelled()
        uow.commit()


@dataclass
class _Stages:
    """Runs one stage over every partition, recording progress and heeding a cancel."""

    uow: UnitOfWork
    run_id: int
    executor: PartitionExecutor
    task: PartitionTask
    partitions: list[Partition]

    @property
    def plan(self) -> PartitionPlan:
        return self.task.plan

    def run(
        self, stage: Stage, phase: RunPhase, span: tuple[float, float], model: Any = None
    ) -> list[Any]:
        _checkpoint(self.uow, self.run_id, phase, span[0])
        tasks = [self.task.at(stage, partition, model) for partition in self.partitions]
        results: list[Any] = []
        finished = self.executor.map(tasks)
        done_count = 0
        try:
            for result in finished:
                results.append(result)
                done_count += 1
                if stage is Stage.SUMMARISE and len(results) >= FOLD_SUMMARIES:
                    results = [self.plan.combine(results)]  # held: a few, not one per partition
                done = done_count / len(tasks)
                _checkpoint(self.uow, self.run_id, phase, span[0] + done * (span[1] - span[0]))
        finally:
            finished.close()  # a cancel or a failure: drop the partitions not started
        return results


@contextmanager
def _data_conditions(method: SegmentationMethod) -> Iterator[None]:
    """An engine's data conditions as the request's faults; any other exception is a bug."""
    try:
        yield
    except InvalidRuleError as exc:
        raise InvalidRequest(f"aPriori.{exc.field}", exc.reason) from exc
    except InsufficientData as exc:  # the engines' words; the request block it concerns
        raise InsufficientData(exc.reason, exc.field or OPTION_BLOCKS[method]) from exc


def _treated(
    segment: Segment, groups: GroupSums, policy: TreatmentPolicy, method: SegmentationMethod
) -> Segment:
    """The segment with its recommended treatment. A behavioural segment's channel is the
    one its members buy through most, the others' the one they prefer (customer record).
    The message speaks of a needs-based or behavioural segment's own drivers (its name),
    else of the needs segment over-represented among its members."""
    figures = groups.figures(segment.code)
    if method in (SegmentationMethod.NEEDS_BASED, SegmentationMethod.BEHAVIOURAL):
        figures = replace(figures, themes=[segment.name.lower()])
    if method is SegmentationMethod.BEHAVIOURAL:
        figures = replace(figures, channel=_most_used_channel(segment))
    return replace(segment, treatment=recommend(figures, policy))


def _needs_run(uow: UnitOfWork, method: SegmentationMethod) -> NeedsRun | None:
    """The latest completed needs-based run, whose segments theme another method's."""
    if method in (SegmentationMethod.NEEDS_BASED, SegmentationMethod.BEHAVIOURAL):
        return None
    run_id = uow.runs.latest_completed(SegmentationMethod.NEEDS_BASED)
    run = uow.runs.get(run_id) if run_id is not None else None
    if run is None:
        return None
    return NeedsRun(run.run_id, {segment.code: segment.name for segment in run.segments})


def _most_used_channel(segment: Segment) -> tuple[str, float] | None:
    """The channel with the largest mean share of purchases in a behavioural profile."""
    shares = {
        name[len(CHANNEL_PREFIX) :]: float(value)
        for name, value in segment.profile
        if name.startswith(CHANNEL_PREFIX) and not name.endswith(".zScore")
    }
    if not shares:
        return None
    best = max(sorted(shares), key=lambda name: shares[name])
    return best, shares[best]


def _previous_tiers(uow: UnitOfWork, method: SegmentationMethod) -> PreviousTiers | None:
    """The latest completed value-based run's tier ranks (from its model's tier codes, empty
    tiers included), for a value-based run."""
    if method is not SegmentationMethod.VALUE_BASED:
        return None
    run_id = uow.runs.latest_completed(method)
    model = uow.runs.model(run_id) if run_id is not None else None
    if run_id is None or not model:
        return None
    return PreviousTiers(run_id, tier_ranks(model["tier_codes"]))


def _checkpoint(
    uow: UnitOfWork, run_id: int, phase: RunPhase, progress: float | None = None
) -> None:
    with uow:
        going_on = uow.run_states.advance(run_id, phase, progress)
        uow.commit()
    if not going_on:
        raise RunCancelled()


def _as_of(method: SegmentationMethod, options: EffectiveOptions, today: date) -> date:
    """The run's observation end: today, or earlier for a back-test (``asOfDate``)."""
    if method is SegmentationMethod.VALUE_BASED:
        return options.value_based.as_of_date or today
    if method is SegmentationMethod.BEHAVIOURAL:
        return options.behavioural.as_of_date or today
    return today


def _window(
    method: SegmentationMethod, options: EffectiveOptions, as_of: date
) -> BehaviourWindow | None:
    """The transactions a behavioural run reads: ``lookbackMonths`` up to ``as_of``."""
    if method is not SegmentationMethod.BEHAVIOURAL:
        return None
    assert options.behavioural.lookback_months is not None
    return BehaviourWindow(as_of, options.behavioural.lookback_months)


def _holdout(
    method: SegmentationMethod, options: EffectiveOptions, as_of: date, today: date
) -> HoldoutWindow | None:
    """The weeks a value-based run looking at the past is checked on (``engines.holdout``)."""
    if method is not SegmentationMethod.VALUE_BASED:
        return None
    assert options.value_based.horizon_months is not None
    return HoldoutWindow.of(as_of, today, options.value_based.horizon_months)


def _plan(
    method: SegmentationMethod,
    options: EffectiveOptions,
    observation: date | BehaviourWindow,
    holdout: HoldoutWindow | None = None,
) -> PartitionPlan:
    """The configured method, as a partition plan, observing up to ``observation``."""
    if isinstance(observation, BehaviourWindow):
        from segmentation_service.engines.behavioural_partitions import BehaviouralPartitionPlan

        b = options.behavioural
        assert b.features is not None
        return BehaviouralPartitionPlan(
            observation, b.features, n_segments=b.segment_count, random_state=b.random_seed
        )
    as_of = observation
    if method is SegmentationMethod.A_PRIORI:
        from segmentation_service.engines.a_priori_partitions import APrioriPartitionPlan

        a = options.a_priori
        return APrioriPartitionPlan(
            APrioriSegmenter(
                a.group_by,
                reference_date=as_of,
                rules=a.rules,
                default_segment_code=a.default_segment_code or OTHER_CODE,
                company_size_bands=a.company_size_bands,
                age_bands=a.age_bands,
                min_segment_size=a.minimum_segment_size,
            )
        )
    if method is SegmentationMethod.NEEDS_BASED:
        from segmentation_service.engines.needs_partitions import NeedsBasedPartitionPlan

        n = options.needs_based
        assert n.min_answered_share is not None
        return NeedsBasedPartitionPlan(
            n.segment_count,
            min_answered_share=n.min_answered_share,
            centre_respondents=bool(n.centre_respondents),
            pca_components=n.pca_components,
            random_state=n.random_seed,
        )
    from segmentation_service.engines.value_partitions import ValueBasedPartitionPlan

    v = options.value_based
    assert v.value_metric is not None and v.tier_count is not None
    assert v.horizon_months is not None and v.annual_discount_rate is not None
    return ValueBasedPartitionPlan(
        v.value_metric.value,
        v.tier_count,
        as_of,
        horizon_months=v.horizon_months,
        annual_discount_rate=v.annual_discount_rate,
        holdout=holdout,
    )


def _evaluate_portfolios(
    method: SegmentationMethod, uow: UnitOfWork, now: Clock, policy: TreatmentPolicy
) -> None:
    """A newer run of a method its portfolios cross: evaluate them (their history). The run
    has completed whatever happens here: a failure is logged, not the run's."""
    from segmentation_service.services.portfolios import evaluate_portfolios_of

    try:
        evaluate_portfolios_of(method, uow, now, policy)
    except Exception:
        logger.exception("portfolios of %s runs were not evaluated", method.value)


def _record_failure(uow: UnitOfWork, run_id: int, exc: BaseException, now: Clock) -> None:
    """Mark the run Failed: a domain error in its own words, anything else only by reference.

    The reference is the request's id, under which the SOAP layer logs the traceback
    and answers the Server fault: an operator goes from the run to the traceback. The
    bug's own message is not kept.
    """
    kind, field = "request", None
    if isinstance(exc, InvalidRequest):
        reason, field = str(exc), exc.field
    elif isinstance(exc, SegmentationError):
        reason = str(exc)
    else:
        kind = "internal"
        reference = incident_reference()
        reason = f"internal error (reference {reference})"
        logger.error(
            "segmentation run %s failed on %s (reference %s)",
            run_id,
            type(exc).__name__,
            reference,
            exc_info=exc,  # in a run worker, this is where the traceback is
        )
    try:
        with uow:
            uow.assignments.discard(run_id)
            uow.runs.fail(run_id, reason, now(), kind, field)
            uow.commit()
    except Exception:
        logger.exception("could not record the failure of segmentation run %s", run_id)
