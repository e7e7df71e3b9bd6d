"""SegmentCustomers: run one engine over the store and keep the run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from segmentation_service.domain.errors import (
    InsufficientData,
    InvalidRequest,
    SegmentationError,
)
from segmentation_service.domain.model import (
    RunPhase,
    SegmentationMethod,
    SegmentationRequest,
    SegmentationRun,
)
from segmentation_service.domain.request_codec import decode
from segmentation_service.engines.a_priori import OTHER_CODE, APrioriSegmenter
from segmentation_service.engines.base import FittedSegmentation, summarise_segments
from segmentation_service.engines.needs_based import NeedsBasedSegmenter, needs_matrix
from segmentation_service.engines.profitability import customer_profitability
from segmentation_service.engines.rules import InvalidRuleError
from segmentation_service.engines.value_based import ValueBasedSegmenter
from segmentation_service.engines.value_features import money_features, value_features
from segmentation_service.observability.logs import incident_reference
from segmentation_service.services.clock import Clock, utc_now
from segmentation_service.services.liveness import heartbeat, this_runner
from segmentation_service.services.requests import OPTION_BLOCKS, EffectiveOptions, check_request
from segmentation_service.store.uow import UnitOfWork

logger = logging.getLogger(__name__)


@dataclass
class _Inputs:
    customers: pd.DataFrame
    features: pd.DataFrame
    responses: pd.DataFrame | None
    profitability: pd.DataFrame


class RunCancelled(Exception):
    """A cancel was asked for: the run stops at this checkpoint and writes nothing."""


def execute_run(run_id: int, uow: UnitOfWork, now: Clock = utc_now) -> SegmentationRun | None:
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
    try:
        with heartbeat(uow.another(), run_id, now):
            _execute(uow, run_id, decode(encoded), now)
    except RunCancelled:
        with uow:
            uow.run_states.cancelled(run_id, now())
            uow.commit()
        logger.info("segmentation run %s was cancelled", run_id)
    except BaseException as exc:
        _record_failure(uow, run_id, exc, now)
        raise
    with uow:
        return uow.runs.get(run_id)


def _execute(uow: UnitOfWork, run_id: int, request: SegmentationRequest, now: Clock) -> None:
    today = now().date()
    options = check_request(request, today)
    # A value-based run may end its observation earlier (a back-test).
    as_of = options.value_based.as_of_date or today
    if request.method is not SegmentationMethod.VALUE_BASED:
        as_of = today
    ids = None if request.customer_ids is None else tuple(dict.fromkeys(request.customer_ids))
    with uow:
        inputs = _load(uow, request.method, ids, as_of)
    _checkpoint(uow, run_id, RunPhase.FITTING)
    segmenter = _fit(request.method, options, inputs, as_of)
    _checkpoint(uow, run_id, RunPhase.ASSIGNING)
    _store(uow, run_id, segmenter, inputs, now)


def _checkpoint(uow: UnitOfWork, run_id: int, phase: RunPhase) -> None:
    with uow:
        going_on = uow.run_states.advance(run_id, phase)
        uow.commit()
    if not going_on:
        raise RunCancelled()


def _load(
    uow: UnitOfWork, method: SegmentationMethod, ids: tuple[str, ...] | None, as_of: date
) -> _Inputs:
    customers = uow.customers.frame(ids)
    if customers.empty:
        raise InsufficientData("there are no customers to segment", "customerIds")
    if method is SegmentationMethod.VALUE_BASED:
        aggregates = uow.transactions.aggregates(as_of, ids)
        features = value_features(aggregates, customers.index, as_of)
        features["annual_cost_to_serve"] = customers["annual_cost_to_serve"].astype(float)
    else:  # segment value and profit need only the money, not RFM and CLV inputs
        features = money_features(uow.transactions.totals(as_of, ids), customers.index)
    responses = uow.needs.responses(ids) if method is SegmentationMethod.NEEDS_BASED else None
    profitability = customer_profitability(features, customers, as_of)
    return _Inputs(customers, features, responses, profitability)


def _fit(
    method: SegmentationMethod, options: EffectiveOptions, inputs: _Inputs, as_of: date
) -> FittedSegmentation:
    segmenter, data = _segmenter(method, options, inputs, as_of)
    try:
        segmenter.fit(data)
    except InvalidRuleError as exc:
        raise InvalidRequest(f"aPriori.{exc.field}", exc.reason) from exc
    except InsufficientData as exc:  # a data condition; any other exception is an engine bug
        raise InsufficientData(exc.reason, exc.field or OPTION_BLOCKS[method]) from exc
    fitted: FittedSegmentation = segmenter
    return fitted


def _segmenter(
    method: SegmentationMethod, options: EffectiveOptions, inputs: _Inputs, as_of: date
) -> tuple[Any, pd.DataFrame]:
    """The configured engine and the frame it fits on."""
    if method is SegmentationMethod.A_PRIORI:
        a = options.a_priori
        segmenter = APrioriSegmenter(
            a.group_by,
            reference_date=as_of,
            rules=a.rules,
            default_segment_code=a.default_segment_code or OTHER_CODE,
            company_size_bands=a.company_size_bands,
            age_bands=a.age_bands,
            min_segment_size=a.minimum_segment_size,
        )
        return segmenter, inputs.customers
    if method is SegmentationMethod.NEEDS_BASED:
        assert inputs.responses is not None
        n = options.needs_based
        assert n.min_answered_share is not None
        return NeedsBasedSegmenter(
            n.segment_count,
            min_answered_share=n.min_answered_share,
            centre_respondents=bool(n.centre_respondents),
            pca_components=n.pca_components,
            random_state=n.random_seed,
        ), needs_matrix(inputs.responses, inputs.customers.index)
    v = options.value_based
    assert v.value_metric is not None and v.tier_count is not None
    assert v.horizon_months is not None and v.annual_discount_rate is not None
    return ValueBasedSegmenter(
        v.value_metric.value,
        v.tier_count,
        as_of,
        horizon_months=v.horizon_months,
        annual_discount_rate=v.annual_discount_rate,
    ), inputs.features


def _store(uow: UnitOfWork, run_id: int, segmenter: Any, inputs: _Inputs, now: Clock) -> None:
    values = getattr(segmenter, "values_", inputs.features["margin"].to_numpy(dtype=float))
    assignments = pd.DataFrame(
        {
            "customer_id": inputs.customers.index,
            "segment_code": segmenter.labels_,
            "score": segmenter.scores_,
            "value": values,
            "reason": segmenter.reasons_,
        }
    )
    segments = summarise_segments(
        segmenter.segments_, segmenter.labels_, np.asarray(values), inputs.profitability
    )
    model = segmenter.model_.to_dict() if hasattr(segmenter, "model_") else None
    _checkpoint(uow, run_id, RunPhase.WRITING)
    with uow:
        uow.assignments.add(run_id, assignments)
        completed = uow.runs.complete(
            run_id,
            finished_at=now(),
            customer_count=len(assignments),
            assigned_count=int(assignments["segment_code"].notna().sum()),
            metrics=segmenter.metrics_,
            model=model,
            segments=segments,
        )
        if not completed:  # cancelled while writing: roll the rows back
            raise RunCancelled()
        uow.commit()


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
            uow.runs.fail(run_id, reason, now(), kind, field)
            uow.commit()
    except Exception:
        logger.exception("could not record the failure of segmentation run %s", run_id)
