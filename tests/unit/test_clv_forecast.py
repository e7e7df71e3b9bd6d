"""Prediction intervals (issue 14, part 3): the purchase distribution is BG/NBD's own, the
80% intervals cover what happens 80-90% of the time, and the figures a marketer reads
(churn risk, days to the next purchase) follow their documented rules."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from segmentation_service.engines import clv
from segmentation_service.engines.clv_forecast import (
    SpendInputs,
    clv_interval,
    purchase_forecast,
    shortest_intervals,
)
from segmentation_service.engines.value_based import ValueModel
from segmentation_service.engines.value_forecast import ChurnThresholds, forecast_columns

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee (2005)
MODERATE = {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 6.0}


def simulate(
    n: int, calibration: float, holdout: float, true: dict[str, float], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, age) in calibration and the purchases in the hold-out, from BG/NBD itself:
    each customer starts in the first 12 weeks, buys as a Poisson process and drops out
    after a purchase with its own probability."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(true["r"], 1 / true["alpha"], n)
    dropouts = rng.beta(true["a"], true["b"], n)
    age = calibration - rng.uniform(0, 12, n)
    x, t_x, later = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / rates[i])
            if t > age[i] + holdout:
                break
            if t <= age[i]:
                x[i], t_x[i] = x[i] + 1, t
            else:
                later[i] += 1
            if rng.random() < dropouts[i]:
                break
    return x, t_x, age, later


@pytest.mark.parametrize(("true", "weeks"), [(CDNOW, 39.0), (MODERATE, 52.0)])
def test_the_80_percent_interval_covers_80_to_90_percent_of_hold_out_purchases(
    true: dict[str, float], weeks: float
) -> None:
    x, t_x, age, later = simulate(4000, 52.0, weeks, true, seed=11)
    fitted = clv.fit_bgnbd(x, t_x, age)
    assert fitted.log_covariance is not None  # the parameters' uncertainty is in

    found = purchase_forecast(fitted, x, t_x, age, weeks)

    covered = float(np.mean((later >= found.low) & (later <= found.high)))
    assert 0.80 <= covered <= 0.90, covered
    assert (found.low <= found.high).all()


def test_the_purchase_distribution_is_bg_nbds_expectation_exactly() -> None:
    params = clv.BetaGeoParams(0.6, 5.0, 1.8, 4.0, 0.0, 0)  # no covariance: as fitted
    x = np.array([0.0, 1.0, 3.0, 10.0, 2.0])
    t_x = np.array([0.0, 5.0, 30.0, 50.0, 10.0])
    age = np.array([40.0, 40.0, 52.0, 52.0, 60.0])

    found = purchase_forecast(params, x, t_x, age, 26.0)

    mean = found.pmf @ np.arange(found.pmf.shape[1])
    assert mean == pytest.approx(clv.expected_purchases(params, 26.0, x, t_x, age), rel=1e-9)
    assert found.pmf.sum(axis=1) == pytest.approx(1.0, abs=1e-6)


def test_the_purchase_distribution_matches_a_simulation_of_the_customer() -> None:
    params = clv.BetaGeoParams(0.6, 5.0, 1.8, 4.0, 0.0, 0)
    x, t_x, age, weeks = 4.0, 30.0, 52.0, 39.0
    found = purchase_forecast(params, [x], [t_x], [age], weeks).pmf[0]

    rng = np.random.default_rng(3)
    draws = 200_000
    alive = rng.random(draws) < clv.probability_alive(params, [x], [t_x], [age])[0]
    rate = rng.gamma(params.r + x, 1 / (params.alpha + age), draws)
    dropout = rng.beta(params.a, params.b + x, draws)
    simulated = np.where(alive, np.minimum(rng.poisson(rate * weeks), rng.geometric(dropout)), 0)
    frequencies = np.bincount(simulated, minlength=found.size)[: found.size] / draws
    assert frequencies[:8] == pytest.approx(found[:8], abs=0.004)


def test_the_shortest_interval_holds_at_least_the_coverage() -> None:
    pmf = np.array(
        [
            [0.95, 0.04, 0.01, 0.0],  # probably nothing: [0, 0]
            [0.1, 0.2, 0.4, 0.3],  # [1, 3] and [2, 3] hold 0.9 / 0.7: [1, 3]
            [0.45, 0.4, 0.1, 0.05],  # [0, 1] holds 0.85
        ]
    )
    low, high = shortest_intervals(pmf, 0.8)
    assert low.tolist() == [0, 1, 0] and high.tolist() == [0, 3, 1]


def test_a_probably_gone_customer_has_nothing_in_its_interval_but_an_expectation() -> None:
    params = clv.BetaGeoParams(0.6, 5.0, 1.8, 4.0, 0.0, 0)
    # Bought 5 times in its first ten weeks, then nothing for two years.
    x, t_x, age = np.array([5.0]), np.array([10.0]), np.array([110.0])
    found = purchase_forecast(params, x, t_x, age, 52.0)
    assert (found.low[0], found.high[0]) == (0, 0)
    assert clv.expected_purchases(params, 52.0, x, t_x, age)[0] > 0


def buyers(**columns: list[float]) -> pd.DataFrame:
    count = len(columns["frequency"])
    defaults = {
        "repeat_spend_mean": [40.0] * count,
        "average_order_value": [40.0] * count,
        "margin_rate": [0.3] * count,
    }
    return pd.DataFrame(
        {**defaults, **columns}, index=pd.Index([f"C{i}" for i in range(count)], name="id")
    )


def model(covariance: list[list[float]] | None = None) -> ValueModel:
    return ValueModel(
        as_of=pd.Timestamp("2026-06-30").date(),
        metric="Clv",
        tier_codes=["V1"],
        tier_names=["Gold"],
        tier_floors=[0.0],
        rfm_thresholds={},
        bgnbd={"r": 0.6, "alpha": 5.0, "a": 1.8, "b": 4.0, "log_likelihood": 0, "customers": 1},
        gamma_gamma={"p": 6.0, "q": 4.0, "v": 15.0, "customers": 1},
        bgnbd_log_covariance=covariance,
    )


def forecast_frame(
    crafted: pd.DataFrame, cost: pd.Series, thresholds: ChurnThresholds
) -> pd.DataFrame:
    columns = forecast_columns(crafted, model(), cost.to_numpy(), 12, 0.1, thresholds)
    assert columns is not None
    return pd.DataFrame(columns, index=crafted.index)


def test_churn_risk_and_days_to_next_purchase_follow_their_rules() -> None:
    crafted = buyers(
        frequency=[12.0, 5.0, 2.0, 0.0],
        recency_weeks=[51.0, 10.0, 30.0, 0.0],
        T_weeks=[52.0, 110.0, 52.0, 20.0],
    )
    cost = pd.Series(0.0, index=crafted.index)
    thresholds = ChurnThresholds(high_below=0.3, low_from=0.7)

    found = forecast_frame(crafted, cost, thresholds)

    params = clv.BetaGeoParams(0.6, 5.0, 1.8, 4.0, 0.0, 0)
    alive = clv.probability_alive(
        params, crafted["frequency"], crafted["recency_weeks"], crafted["T_weeks"]
    )
    expected_risk = ["High" if a < 0.3 else "Low" if a >= 0.7 else "Medium" for a in alive]
    assert found["churn_risk"].tolist() == expected_risk
    assert expected_risk[0] == "Low" and expected_risk[1] == "High"
    # Likely active (P(alive) >= 0.5): 7 (alpha + age) / (r + x - 1) days; else absent.
    wait = found["days_to_next_purchase"]
    assert wait.iloc[0] == pytest.approx(7 * (5.0 + 52.0) / (0.6 + 12.0 - 1.0))
    assert np.isnan(wait.iloc[1])  # probably gone
    assert np.isnan(wait.iloc[3])  # r + x <= 1: the mean wait does not exist
    assert not found.drop(columns="days_to_next_purchase").isna().any().any()


def test_the_clv_interval_brackets_the_clv_of_a_likely_active_customer() -> None:
    crafted = buyers(frequency=[12.0], recency_weeks=[51.0], T_weeks=[52.0])
    cost = pd.Series(0.0, index=crafted.index)
    found = forecast_frame(crafted, cost, ChurnThresholds())
    params = clv.BetaGeoParams(0.6, 5.0, 1.8, 4.0, 0.0, 0)
    x, t_x, age = crafted["frequency"], crafted["recency_weeks"], crafted["T_weeks"]
    purchases = clv.discounted_purchases(
        params, x, t_x, age, horizon_months=12, annual_discount_rate=0.1
    )
    spend = clv.expected_spend(clv.GammaGammaParams(6.0, 4.0, 15.0, 1), x, [40.0])
    point = float(purchases[0] * spend[0] * 0.3)
    low, high = found["predicted_clv_low"].iloc[0], found["predicted_clv_high"].iloc[0]
    assert low < point < high
    assert found["expected_purchases_low"].iloc[0] < found["expected_purchases_high"].iloc[0]


def test_parameter_uncertainty_widens_the_intervals() -> None:
    x, t_x, age, _ = simulate(600, 52.0, 39.0, MODERATE, seed=5)
    fitted = clv.fit_bgnbd(x, t_x, age)
    assert fitted.log_covariance is not None
    sure = dataclasses.replace(fitted, log_covariance=None)
    with_uncertainty = purchase_forecast(fitted, x, t_x, age, 39.0)
    without = purchase_forecast(sure, x, t_x, age, 39.0)
    widths = with_uncertainty.high - with_uncertainty.low
    assert (widths >= without.high - without.low - 1).all()
    assert widths.sum() > (without.high - without.low).sum()


def test_clv_interval_without_spread_scales_purchases() -> None:
    params = clv.BetaGeoParams(0.6, 5.0, 1.8, 4.0, 0.0, 0)
    purchases = purchase_forecast(params, [6.0], [40.0], [52.0], 52.0)
    spend = SpendInputs(
        spend=np.array([10.0]),
        shape=np.array([0.0]),  # no spend model: every purchase is worth the same
        rate=np.array([1.0]),
        margin_rate=np.array([0.5]),
        discount_share=np.array([1.0]),
        horizon_cost=np.array([0.0]),
    )
    low, high = clv_interval(purchases, spend)
    # 5 per purchase: the 10% and 90% quantiles of the purchases, times 5.
    cdf = np.cumsum(purchases.pmf[0])

    def quantile(q: float) -> int:
        return int(np.searchsorted(cdf, q))

    assert quantile(0.0995) <= low[0] / 5 <= quantile(0.1005)
    assert quantile(0.8995) <= high[0] / 5 <= quantile(0.9005)
    assert high[0] > low[0]
