"""SegmentCustomers: run one engine over the store and keep the run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from segmentation_service.domain.errors import (
    CustomerNotFound,
    InsufficientData,
    InvalidRequest,
    SegmentationError,
)
from segmentation_service.domain.model import (
    SegmentationMethod,
    SegmentationRequest,
    SegmentationRun,
)
from segmentation_service.engines.a_priori import OTHER_CODE, APrioriSegmenter
from segmentation_service.engines.base import FittedSegmentation, summarise_segments
from segmentation_service.engines.needs_based import NeedsBasedSegmenter, needs_matrix
from segmentation_service.engines.profitability import customer_profitability
from segmentation_service.engines.rules import InvalidRuleError
from segmentation_service.engines.value_based import ValueBasedSegmenter
from segmentation_service.engines.value_features import money_features, value_features
from segmentation_service.observability.logs import incident_reference
from segmentation_service.services.clock import Clock, utc_now
from segmentation_service.services.liveness import fail_interrupted_runs, heartbeat, this_runner
from segmentation_service.services.requests import OPTION_BLOCKS, EffectiveOptions, check_request
from segmentation_service.store.uow import UnitOfWork

logger = logging.getLogger(__name__)


@dataclass
class _Inputs:
    customers: pd.DataFrame
    features: pd.DataFrame
    responses: pd.DataFrame | None
    profitability: pd.DataFrame


def segment_customers(
    request: SegmentationRequest,
    uow: UnitOfWork,
    now: Clock = utc_now,
    started_by: str | None = None,
) -> SegmentationRun:
    """Segment the customers (all, or the ids given) and store the run with every assignment.

    The run is recorded as Running first; its segments, assignments and the
    Completed status are then written in one transaction, so readers see the
    previous complete run or this complete run, never a part of it. A run
    that fails is kept as Failed with no assignments: with the reason when
    the data cannot support it (InsufficientData, the caller's to act on),
    else only with the reference its traceback is logged under (a bug).
    """
    started_at = now()
    options = check_request(request, started_at.date())
    # A value-based run may end its observation earlier (a back-test).
    as_of = options.value_based.as_of_date or started_at.date()
    if request.method is not SegmentationMethod.VALUE_BASED:
        as_of = started_at.date()
    ids = None if request.customer_ids is None else tuple(dict.fromkeys(request.customer_ids))
    fail_interrupted_runs(uow, now)
    with uow:
        if ids is not None:
            _require_customers(uow, ids)
        parameters = {**options.for_method(request.method), "customerIds": len(ids or ()) or None}
        run_id = uow.runs.start(
            request.method, request.label, parameters, started_at, started_by, this_runner()
        )
        uow.commit()
    try:
        with heartbeat(uow.another(), run_id, now):
            with uow:
                inputs = _load(uow, request.method, ids, as_of)
            segmenter = _fit(request.method, options, inputs, as_of)
            _store(uow, run_id, segmenter, inputs, now)
    except BaseException as exc:
        _record_failure(uow, run_id, exc, now)
        raise
    with uow:
        run = uow.runs.get(run_id)
    assert run is not None
    return run


def _require_customers(uow: UnitOfWork, ids: tuple[str, ...]) -> None:
    known = uow.customers.existing_ids(ids)
    for customer_id in ids:
        if customer_id not in known:
            raise CustomerNotFound(customer_id)


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
    with uow:
        uow.assignments.add(run_id, assignments)
        uow.runs.complete(
            run_id,
            finished_at=now(),
            customer_count=len(assignments),
            assigned_count=int(assignments["segment_code"].notna().sum()),
            metrics=segmenter.metrics_,
            model=model,
            segments=segments,
        )
        uow.commit()


def _record_failure(uow: UnitOfWork, run_id: int, exc: BaseException, now: Clock) -> None:
    """Mark the run Failed: a domain error in its own words, anything else only by reference.

    The reference is the request's id, under which the SOAP layer logs the traceback
    and answers the Server fault: an operator goes from the run to the traceback. The
    bug's own message is not kept.
    """
    if isinstance(exc, SegmentationError):
        reason = str(exc)
    else:
        reference = incident_reference()
        reason = f"internal error (reference {reference})"
        logger.error(
            "segmentation run %s failed on %s (reference %s)", run_id, type(exc).__name__, reference
        )
    try:
        with uow:
            uow.runs.fail(run_id, reason, now())
            uow.commit()
    except Exception:
        logger.exception("could not record the failure of segmentation run %s", run_id)
