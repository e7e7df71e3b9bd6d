"""ScoreCustomerValue: live value figures of a batch of customers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from segmentation_service.domain.errors import InvalidRequest
from segmentation_service.domain.model import (
    CustomerValueScore,
    SegmentationMethod,
    ValueScores,
)
from segmentation_service.engines.value_based import (
    BUYER_COLUMNS,
    FloatArray,
    ValueModel,
    margin_rates_of,
    predict_clv,
    score_columns,
)
from segmentation_service.engines.value_features import AGGREGATE_INPUTS, feature_columns
from segmentation_service.engines.value_forecast import ChurnThresholds, forecast_columns
from segmentation_service.services.clock import Clock, utc_now
from segmentation_service.store.reads import LookupReads, ValueInputs
from segmentation_service.store.uow import UnitOfWork

MAX_BATCH = 1000
DEFAULT_HORIZON_MONTHS = 12
DEFAULT_DISCOUNT_RATE = 0.10
DEFAULT_CHURN = ChurnThresholds()


def score_customer_value(
    customer_ids: Sequence[str],
    horizon_months: int | None,
    annual_discount_rate: float | None,
    as_of_date: date | None,
    uow: UnitOfWork,
    now: Clock = utc_now,
    churn: ChurnThresholds = DEFAULT_CHURN,
) -> ValueScores:
    """Transaction figures as of a day, scored against the latest value-based run's model.

    The figures count the transactions dated up to the end of ``as_of_date``
    (default: today), as a value-based run with that ``asOfDate`` does; later
    ones are ignored. RFM score, RFM segment, value tier and predicted CLV
    need a completed value-based run (its quintile boundaries, tier floors and
    fitted CLV model); without one they are absent. Churn risk, the purchase and
    CLV intervals and the days to the next purchase (``engines.value_forecast``) need
    its BG/NBD fit. Unknown ids are listed, not faulted.
    """
    ids, horizon, rate = _checked(customer_ids, horizon_months, annual_discount_rate)
    today = now().date()
    if as_of_date is not None and as_of_date > today:
        raise InvalidRequest("asOfDate", f"{as_of_date} is in the future")
    as_of = as_of_date or today

    def read(reads: LookupReads) -> tuple[ValueInputs, ValueModel | None]:
        run_id = reads.latest_completed(SegmentationMethod.VALUE_BASED)
        return reads.value_inputs(as_of, ids), None if run_id is None else _model(reads, run_id)

    inputs, model = uow.read(read)
    known_set = {row[0] for row in inputs.costs}
    known = [customer_id for customer_id in ids if customer_id in known_set]
    features, costs = _batch(inputs, known, as_of)
    scored = _score(features, costs, model, horizon, rate, churn)
    # Python values, read once per column: indexing arrays per customer and field costs more.
    columns = {name: values.tolist() for name, values in {**features, **costs, **scored}.items()}
    scores = tuple(_value_score(columns, i, c) for i, c in enumerate(known))
    unknown = tuple(customer_id for customer_id in ids if customer_id not in known_set)
    return ValueScores(scores, unknown)


def _model(reads: LookupReads, run_id: int) -> ValueModel | None:
    data = reads.run_model(run_id)
    return None if data is None else ValueModel.from_dict(dict(data))


def _batch(
    inputs: ValueInputs, known: list[str], as_of: date
) -> tuple[dict[str, Any], dict[str, FloatArray]]:
    """The batch's features (``feature_columns``) and costs, in the order of ``known``."""
    position = {customer_id: i for i, customer_id in enumerate(known)}
    size = len(known)
    columns: dict[str, Any] = {
        name: np.full(size, np.nan) for name in AGGREGATE_INPUTS if "purchase" not in name
    }
    columns["transaction_count"] = np.zeros(size)
    columns["purchase_count"] = np.zeros(size)
    columns["purchase_days"] = np.zeros(size)
    columns["first_purchase"] = np.full(size, None, dtype=object)
    columns["last_purchase"] = np.full(size, None, dtype=object)
    for row in inputs.aggregates:
        values = row._mapping
        i = position[values["customer_id"]]
        for name in AGGREGATE_INPUTS:
            columns[name][i] = values[name]
    costs = {name: np.full(size, np.nan) for name in ("acquisition_cost", "annual_cost_to_serve")}
    for customer_id, acquisition, serving in inputs.costs:
        i = position[customer_id]
        costs["acquisition_cost"][i] = np.nan if acquisition is None else acquisition
        costs["annual_cost_to_serve"][i] = np.nan if serving is None else serving
    return feature_columns(columns, as_of), costs


def _checked(
    customer_ids: Sequence[str], horizon_months: int | None, annual_discount_rate: float | None
) -> tuple[list[str], int, float]:
    """The distinct ids, the horizon and the rate, defaults applied; InvalidRequest otherwise."""
    horizon = DEFAULT_HORIZON_MONTHS if horizon_months is None else horizon_months
    rate = DEFAULT_DISCOUNT_RATE if annual_discount_rate is None else annual_discount_rate
    ids = list(dict.fromkeys(customer_ids))
    if not 1 <= len(ids) <= MAX_BATCH:
        raise InvalidRequest("customerIds", f"give 1 to {MAX_BATCH} customer ids, got {len(ids)}")
    if not 1 <= horizon <= 120:
        raise InvalidRequest("horizonMonths", f"must be between 1 and 120, got {horizon}")
    if not (math.isfinite(rate) and 0 <= rate <= 1):
        raise InvalidRequest("annualDiscountRate", f"must be between 0 and 1, got {rate}")
    return ids, horizon, rate


def _score(
    features: dict[str, Any],
    costs: dict[str, FloatArray],
    model: ValueModel | None,
    horizon: int,
    rate: float,
    churn: ChurnThresholds,
) -> dict[str, npt.NDArray[Any]]:
    """``score_columns`` and, for buyers, ``forecast_columns``: per customer, None where
    there is nothing to say; empty without a value-based run."""
    if model is None or not len(features["has_purchases"]):
        return {}
    features = {**features, "margin_rate": margin_rates_of(features, model)}
    serving = costs["annual_cost_to_serve"]
    bought = np.asarray(features["has_purchases"], dtype=bool)
    buyers = {name: np.asarray(features[name])[bought] for name in BUYER_COLUMNS}
    bgnbd = model.purchase_params()
    point = None  # the buyers' CLV parts, shared by the scores and the forecast
    if bgnbd is not None and bought.any():
        spend = model.spend_params()
        point = predict_clv(buyers, bgnbd, spend, serving[bought], horizon, rate)
    scored = score_columns(features, model, serving, horizon, rate, point)
    if point is not None:
        forecast = forecast_columns(buyers, model, serving[bought], horizon, rate, churn, point)
        for name, values in (forecast or {}).items():
            scored[name] = np.full(len(bought), None, dtype=object)
            scored[name][bought] = np.asarray(values, dtype=object)
    return scored


def _value_score(columns: dict[str, list[Any]], i: int, customer_id: str) -> CustomerValueScore:
    """The figures of the batch's ``i``-th customer (features, costs and scores by column)."""

    def optional(name: str) -> Any:
        column = columns.get(name)
        value = None if column is None else column[i]
        return None if value is None or _missing(value) else value

    clv = optional("predicted_clv")
    alive = optional("probability_alive")
    purchases = optional("expected_purchases")
    low, high = optional("expected_purchases_low"), optional("expected_purchases_high")
    clv_low, clv_high = optional("predicted_clv_low"), optional("predicted_clv_high")
    wait = optional("days_to_next_purchase")
    acquisition = float(columns["acquisition_cost"][i])
    recency = float(columns["recency_days"][i])
    return CustomerValueScore(
        customer_id=customer_id,
        transaction_count=int(columns["transaction_count"][i]),
        first_purchase_date=columns["first_purchase_date"][i],
        last_purchase_date=columns["last_purchase_date"][i],
        recency_days=None if math.isnan(recency) else int(recency),
        total_revenue=float(columns["revenue"][i]),
        total_margin=float(columns["margin"][i]),
        average_order_value=float(columns["average_order_value"][i]),
        monthly_revenue=float(columns["monthly_revenue"][i]),
        rfm_score=_text(optional("rfm_score")),
        rfm_segment=_text(optional("rfm_segment")),
        predicted_clv=None if clv is None else float(clv),
        value_tier=_text(optional("value_tier")),
        probability_alive=None if alive is None else min(1.0, max(0.0, float(alive))),
        expected_purchases=None if purchases is None else float(purchases),
        acquisition_cost=None if math.isnan(acquisition) else acquisition,
        churn_risk=_text(optional("churn_risk")),
        expected_purchases_low=None if low is None else int(low),
        expected_purchases_high=None if high is None else int(high),
        predicted_clv_low=None if clv_low is None else float(clv_low),
        predicted_clv_high=None if clv_high is None else float(clv_high),
        expected_days_to_next_purchase=None if wait is None else float(wait),
    )


def _missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)
