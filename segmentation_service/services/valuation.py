"""ScoreCustomerValue: live value figures of a batch of customers."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from segmentation_service.domain.errors import InvalidRequest
from segmentation_service.domain.model import (
    CustomerValueScore,
    SegmentationMethod,
    ValueScores,
)
from segmentation_service.engines.value_based import (
    ValueModel,
    score_with_model,
    with_margin_rate_of,
)
from segmentation_service.engines.value_features import value_features
from segmentation_service.engines.value_forecast import ChurnThresholds, forecast_buyers
from segmentation_service.services.clock import Clock, utc_now
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
    with uow:
        known_set = uow.customers.existing_ids(ids)
        known = [customer_id for customer_id in ids if customer_id in known_set]
        aggregates = uow.transactions.aggregates(as_of, known)
        customers = uow.customers.frame(known)
        run_id = uow.runs.latest_completed(SegmentationMethod.VALUE_BASED)
        model_data = uow.runs.model(run_id) if run_id is not None else None
    features = value_features(aggregates, pd.Index(known, name="customer_id"), as_of)
    scored = _score(features, model_data, customers, horizon, rate, churn)
    features["acquisition_cost"] = customers["acquisition_cost"].reindex(features.index)
    rows = features.to_dict("index")
    extras = scored.to_dict("index") if scored is not None else {}
    scores = tuple(_value_score(rows[i], extras.get(i, {}), i) for i in known)
    unknown = tuple(customer_id for customer_id in ids if customer_id not in known_set)
    return ValueScores(scores, unknown)


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
    features: pd.DataFrame,
    model_data: dict[str, object] | None,
    customers: pd.DataFrame,
    horizon: int,
    rate: float,
    churn: ChurnThresholds,
) -> pd.DataFrame | None:
    if model_data is None or features.empty:
        return None
    cost = customers["annual_cost_to_serve"].astype(float)
    model = ValueModel.from_dict(dict(model_data))
    features = with_margin_rate_of(features, model)
    scored = score_with_model(features, model, cost, horizon, rate)
    buyers = features[features["has_purchases"].to_numpy(dtype=bool)]
    forecast = forecast_buyers(buyers, model, cost, horizon, rate, churn)
    return scored.join(forecast)


def _value_score(
    row: Mapping[Hashable, Any], extra: Mapping[Hashable, Any], customer_id: str
) -> CustomerValueScore:
    def optional(name: str) -> Any:
        value = extra.get(name)
        return None if value is None or pd.isna(value) else value

    clv = optional("predicted_clv")
    alive = optional("probability_alive")
    purchases = optional("expected_purchases")
    low, high = optional("expected_purchases_low"), optional("expected_purchases_high")
    clv_low, clv_high = optional("predicted_clv_low"), optional("predicted_clv_high")
    wait = optional("days_to_next_purchase")
    acquisition = row.get("acquisition_cost")
    if acquisition is not None and pd.isna(acquisition):
        acquisition = None
    return CustomerValueScore(
        customer_id=customer_id,
        transaction_count=int(row["transaction_count"]),
        first_purchase_date=_date(row["first_purchase_date"]),
        last_purchase_date=_date(row["last_purchase_date"]),
        recency_days=None if pd.isna(row["recency_days"]) else int(row["recency_days"]),
        total_revenue=float(row["revenue"]),
        total_margin=float(row["margin"]),
        average_order_value=float(row["average_order_value"]),
        monthly_revenue=float(row["monthly_revenue"]),
        rfm_score=_text(optional("rfm_score")),
        rfm_segment=_text(optional("rfm_segment")),
        predicted_clv=None if clv is None else float(clv),
        value_tier=_text(optional("value_tier")),
        probability_alive=None if alive is None else min(1.0, max(0.0, float(alive))),
        expected_purchases=None if purchases is None else float(purchases),
        acquisition_cost=None
        if acquisition is None or pd.isna(acquisition)
        else float(acquisition),
        churn_risk=_text(optional("churn_risk")),
        expected_purchases_low=None if low is None else int(low),
        expected_purchases_high=None if high is None else int(high),
        predicted_clv_low=None if clv_low is None else float(clv_low),
        predicted_clv_high=None if clv_high is None else float(clv_high),
        expected_days_to_next_purchase=None if wait is None else float(wait),
    )


def _date(value: object) -> date | None:
    # pandas' NaT is a date instance too.
    return value if isinstance(value, date) and not pd.isna(value) else None


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)
