"""What a marketer can act on per customer, from a value-based run's fitted model:
churn risk, purchase and CLV intervals, and the days to the next purchase.

* ``churn_risk``: High below ``ChurnThresholds.high_below`` probability of being alive,
  Low from ``low_from`` on, Medium between (settings ``churn_high_below``,
  ``churn_low_from``).
* Intervals: ``engines.clv_forecast`` (80%: the parameters' and the customer's own
  uncertainty).
* ``days_to_next_purchase``: for customers likely active (P(alive) >= ``LIKELY_ACTIVE``),
  the expected wait until the next purchase if still active, 7 (alpha + T) / (r + x - 1)
  days (the mean of the Lomax wait under the rate's posterior Gamma(r + x, alpha + T));
  absent where that mean does not exist (r + x <= 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from segmentation_service.engines import clv
from segmentation_service.engines.clv_forecast import (
    SpendInputs,
    clv_interval,
    purchase_forecast,
)
from segmentation_service.engines.value_based import ValueModel, spend_per_purchase

LIKELY_ACTIVE = 0.5
WEEKS_PER_MONTH = 52 / 12
FORECAST_COLUMNS = (
    "churn_risk",
    "expected_purchases_low",
    "expected_purchases_high",
    "predicted_clv_low",
    "predicted_clv_high",
    "days_to_next_purchase",
)


@dataclass(frozen=True)
class ChurnThresholds:
    high_below: float = 0.3
    low_from: float = 0.7

    def __post_init__(self) -> None:
        if not 0.0 <= self.high_below <= self.low_from <= 1.0:
            raise ValueError("churn thresholds need 0 <= high_below <= low_from <= 1")

    def risk(self, probability_alive: npt.ArrayLike) -> npt.NDArray[np.object_]:
        alive = np.asarray(probability_alive, dtype=np.float64)
        return np.where(
            alive < self.high_below, "High", np.where(alive >= self.low_from, "Low", "Medium")
        ).astype(object)


def forecast_buyers(
    buyers: pd.DataFrame,
    model: ValueModel,
    cost_to_serve: pd.Series,
    horizon_months: int,
    annual_discount_rate: float,
    thresholds: ChurnThresholds,
) -> pd.DataFrame:
    """``FORECAST_COLUMNS`` for customers with purchases (``value_features`` columns), by
    the run's model; empty when the model has no BG/NBD fit."""
    if model.bgnbd is None or buyers.empty:
        return pd.DataFrame(columns=list(FORECAST_COLUMNS), index=buyers.index[:0])
    bgnbd = clv.BetaGeoParams(**model.bgnbd, log_covariance=_tuple(model.bgnbd_log_covariance))  # type: ignore[arg-type]
    gamma_gamma = (
        None if model.gamma_gamma is None else clv.GammaGammaParams(**model.gamma_gamma)  # type: ignore[arg-type]
    )
    x = buyers["frequency"].to_numpy(float)
    t_x = buyers["recency_weeks"].to_numpy(float)
    T = buyers["T_weeks"].to_numpy(float)
    weeks = horizon_months * WEEKS_PER_MONTH
    purchases = purchase_forecast(bgnbd, x, t_x, T, weeks)
    spend = _spend_inputs(
        buyers, bgnbd, gamma_gamma, cost_to_serve, horizon_months, annual_discount_rate
    )
    clv_low, clv_high = clv_interval(purchases, spend)
    alive = clv.probability_alive(bgnbd, x, t_x, T)
    shape = bgnbd.r + x
    wait_days = np.divide(
        7.0 * (bgnbd.alpha + T), shape - 1.0, out=np.full_like(T, np.nan), where=shape > 1.0
    )
    wait = np.where(alive >= LIKELY_ACTIVE, wait_days, np.nan)
    return pd.DataFrame(
        {
            "churn_risk": thresholds.risk(alive),
            "expected_purchases_low": purchases.low,
            "expected_purchases_high": purchases.high,
            "predicted_clv_low": clv_low,
            "predicted_clv_high": clv_high,
            "days_to_next_purchase": wait,
        },
        index=buyers.index,
    )


def _spend_inputs(
    buyers: pd.DataFrame,
    bgnbd: clv.BetaGeoParams,
    gamma_gamma: clv.GammaGammaParams | None,
    cost_to_serve: pd.Series,
    horizon_months: int,
    annual_discount_rate: float,
) -> SpendInputs:
    """The CLV interval's inputs, as ``value_based.predict_clv`` computes the CLV itself."""
    x = buyers["frequency"].to_numpy(float)
    t_x, T = buyers["recency_weeks"].to_numpy(float), buyers["T_weeks"].to_numpy(float)
    discounted = clv.discounted_purchases(
        bgnbd, x, t_x, T, horizon_months=horizon_months, annual_discount_rate=annual_discount_rate
    )
    expected = clv.expected_purchases(bgnbd, horizon_months * WEEKS_PER_MONTH, x, t_x, T)
    share = np.divide(discounted, expected, out=np.ones_like(expected), where=expected > 0)
    months = np.arange(1, horizon_months + 1)
    discounted_months = float(np.sum((1 + annual_discount_rate) ** (-months / 12)))
    monthly_cost = cost_to_serve.reindex(buyers.index).fillna(0.0).to_numpy() / 12
    spend = spend_per_purchase(buyers, gamma_gamma)
    if gamma_gamma is None:
        shape = rate = np.zeros_like(x)
    else:
        repeat = buyers["repeat_spend_mean"].to_numpy(float)
        modelled = np.where(x > 0, repeat > 0, buyers["average_order_value"].to_numpy(float) > 0)
        shape = np.where(modelled, gamma_gamma.p * x + gamma_gamma.q, 0.0)
        rate = np.where(modelled, gamma_gamma.v + x * np.where(x > 0, repeat, 0.0), 1.0)
    return SpendInputs(
        spend=spend,
        shape=shape,
        rate=rate,
        margin_rate=buyers["margin_rate"].to_numpy(float),
        discount_share=share,
        horizon_cost=monthly_cost * discounted_months,
    )


def _tuple(covariance: list[list[float]] | None) -> clv.Covariance | None:
    return None if covariance is None else tuple(tuple(row) for row in covariance)
