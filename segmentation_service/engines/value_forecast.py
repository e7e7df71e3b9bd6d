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
from typing import Any

import numpy as np
import numpy.typing as npt

from segmentation_service.engines import clv
from segmentation_service.engines.clv_forecast import (
    SpendInputs,
    clv_interval,
    purchase_forecast,
)
from segmentation_service.engines.value_based import (
    Columns,
    FloatArray,
    ValueModel,
    predict_clv,
    spend_modelled,
)

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


def forecast_columns(
    buyers: Columns,
    model: ValueModel,
    cost_to_serve: npt.ArrayLike,
    horizon_months: int,
    annual_discount_rate: float,
    thresholds: ChurnThresholds,
    point: dict[str, FloatArray] | None = None,
) -> dict[str, npt.NDArray[Any]] | None:
    """``FORECAST_COLUMNS`` as arrays for customers with purchases (``value_features``
    columns; ``cost_to_serve`` per customer), by the run's model; None when the model
    has no BG/NBD fit. ``point``: their ``predict_clv``, when the caller has it already."""
    bgnbd, gamma_gamma = model.purchase_params(), model.spend_params()
    if bgnbd is None:
        return None
    x = np.asarray(buyers["frequency"], dtype=float)
    t_x = np.asarray(buyers["recency_weeks"], dtype=float)
    T = np.asarray(buyers["T_weeks"], dtype=float)
    purchases = purchase_forecast(bgnbd, x, t_x, T, horizon_months * WEEKS_PER_MONTH)
    point = point or predict_clv(
        buyers, bgnbd, gamma_gamma, cost_to_serve, horizon_months, annual_discount_rate
    )
    clv_low, clv_high = clv_interval(purchases, _spend_inputs(buyers, point, gamma_gamma))
    alive = point["probability_alive"]
    shape = bgnbd.r + x
    wait_days = np.divide(
        7.0 * (bgnbd.alpha + T), shape - 1.0, out=np.full_like(T, np.nan), where=shape > 1.0
    )
    wait = np.where(alive >= LIKELY_ACTIVE, wait_days, np.nan)
    return {
        "churn_risk": thresholds.risk(alive),
        "expected_purchases_low": purchases.low,
        "expected_purchases_high": purchases.high,
        "predicted_clv_low": clv_low,
        "predicted_clv_high": clv_high,
        "days_to_next_purchase": wait,
    }


def _spend_inputs(
    buyers: Columns, point: dict[str, FloatArray], gamma_gamma: clv.GammaGammaParams | None
) -> SpendInputs:
    """The CLV interval's inputs: the parts of the point CLV (``value_based.predict_clv``)
    and Gamma–Gamma's posterior of each customer's spend rate where it models the spend."""
    discounted = point["discounted_purchases"]
    expected = point["expected_purchases"]
    share = np.divide(discounted, expected, out=np.ones_like(expected), where=expected > 0)
    x = np.asarray(buyers["frequency"], dtype=float)
    if gamma_gamma is None:
        shape = rate = np.zeros_like(x)
    else:
        modelled = spend_modelled(buyers)
        repeat = np.where(x > 0, np.asarray(buyers["repeat_spend_mean"], dtype=float), 0.0)
        shape = np.where(modelled, gamma_gamma.p * x + gamma_gamma.q, 0.0)
        rate = np.where(modelled, gamma_gamma.v + x * repeat, 1.0)
    return SpendInputs(
        spend=point["spend_per_purchase"],
        shape=shape,
        rate=rate,
        margin_rate=np.asarray(buyers["margin_rate"], dtype=float),
        discount_share=share,
        horizon_cost=point["horizon_cost"],
    )
