"""Tests of the BG/NBD and Gamma–Gamma customer lifetime value engine."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import integrate, optimize, special

from segmentation_service.domain.errors import InsufficientData
from segmentation_service.engines import clv
from segmentation_service.engines.clv import (
    BetaGeoParams,
    GammaGammaParams,
    bgnbd_log_likelihood,
    discounted_purchases,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
)
from tests.simulation import simulate_bgnbd, simulate_gamma_gamma

# CDNOW estimates from the BG/NBD paper (a < 1) and a set with a > 1.
CDNOW = (0.24, 4.41, 0.79, 2.43)
A_ABOVE_ONE = (0.6, 5.0, 1.8, 4.0)
GG_TRUTH = (6.25, 3.74, 15.44)
NELDER_MEAD = {"xatol": 1e-9, "fatol": 1e-9, "maxiter": 20_000}


def _params(r: float, alpha: float, a: float, b: float) -> BetaGeoParams:
    return BetaGeoParams(r, alpha, a, b, log_likelihood=0.0, customers=0)


def _relative_errors(fitted: Any, names: str, truth: tuple[float, ...]) -> dict[str, float]:
    return {k: getattr(fitted, k) / v - 1 for k, v in zip(names.split(), truth, strict=True)}


@pytest.fixture(scope="module")
def history() -> dict[str, np.ndarray]:
    return simulate_bgnbd(
        5000, *CDNOW, first_purchase_weeks=12, observation_weeks=78, holdout_weeks=26, seed=11
    )


@pytest.mark.parametrize("truth", [CDNOW, A_ABOVE_ONE], ids=["a below one", "a above one"])
def test_fit_bgnbd_recovers_simulated_parameters_within_ten_percent(
    truth: tuple[float, ...],
) -> None:
    # 40,000 customers over three years: a and b have about 3% standard error there
    data = simulate_bgnbd(40_000, *truth, first_purchase_weeks=12, observation_weeks=156, seed=2024)
    fitted = fit_bgnbd(data["frequency"], data["recency"], data["T"])
    errors = _relative_errors(fitted, "r alpha a b", truth)
    assert all(abs(e) < 0.10 for e in errors.values()), errors
    assert fitted.customers == 40_000


def test_fit_gamma_gamma_recovers_simulated_parameters_within_ten_percent() -> None:
    frequency = np.random.default_rng(5).geometric(0.4, size=50_000).astype(float)
    monetary = simulate_gamma_gamma(frequency, *GG_TRUTH, seed=6)
    fitted = fit_gamma_gamma(frequency, monetary)
    errors = _relative_errors(fitted, "p q v", GG_TRUTH)
    assert all(abs(e) < 0.10 for e in errors.values()), errors
    assert fitted.customers == 50_000


@pytest.mark.parametrize("truth", [CDNOW, A_ABOVE_ONE], ids=["a below one", "a above one"])
def test_predicted_holdout_purchases_are_within_five_percent_of_the_simulated_total(
    truth: tuple[float, ...],
) -> None:
    data = simulate_bgnbd(
        40_000, *truth, first_purchase_weeks=12, observation_weeks=52, holdout_weeks=39, seed=7
    )
    fitted = fit_bgnbd(data["frequency"], data["recency"], data["T"])
    predicted = expected_purchases(fitted, 39.0, data["frequency"], data["recency"], data["T"])
    actual = data["holdout_purchases"].sum()
    assert predicted.sum() == pytest.approx(actual, rel=0.05)


def _direct_likelihood(
    r: float, alpha: float, a: float, b: float, x: int, tx: float, age: float
) -> float:
    beta, gamma = special.beta, special.gamma
    common = gamma(r + x) * alpha**r / gamma(r)
    first = beta(a, b + x) / beta(a, b) * common / (alpha + age) ** (r + x)
    second = beta(a + 1, b + x - 1) / beta(a, b) * common / (alpha + tx) ** (r + x)
    return first + (second if x > 0 else 0.0)


def test_log_likelihood_equals_the_direct_likelihood_formula_on_hand_picked_points() -> None:
    points = [(0, 0.0, 30.0), (1, 5.0, 30.0), (7, 29.5, 30.0), (3, 10.2, 52.0), (12, 0.5, 3.0)]
    x, tx, age = (np.array(c, dtype=float) for c in zip(*points, strict=True))
    for params in [CDNOW, A_ABOVE_ONE, (1.3, 0.7, 0.2, 0.6)]:
        logs = bgnbd_log_likelihood(*params, x, tx, age)
        direct = [_direct_likelihood(*params, *point) for point in points]
        assert np.exp(logs) == pytest.approx(direct, rel=1e-9)


def _expected_by_integration(
    params: BetaGeoParams, t: float, x: int, tx: float, age: float
) -> float:
    """P(alive) times E[Y(t) | alive], integrating over the posterior of the dropout rate."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    k, s = r + x, t / (alpha + age)

    def integrand(p: float) -> float:
        return -math.expm1(-k * math.log1p(p * s)) / p * p ** (a - 1) * (1 - p) ** (b + x - 1)

    alive_mean = integrate.quad(integrand, 0, 1, epsabs=0, epsrel=1e-12, limit=200)[0]
    alive_mean /= special.beta(a, b + x)
    odds = a / (b + x - 1) * ((alpha + age) / (alpha + tx)) ** (r + x) if x > 0 else 0.0
    return alive_mean / (1 + odds)


@pytest.mark.parametrize("a", [0.3, 0.79, 1.0, 1.0 + 5e-5, 1.8], ids=lambda a: f"a={a}")
def test_expected_purchases_equals_integration_over_the_posterior(a: float) -> None:
    params = _params(0.24, 4.41, a, 2.43)
    cases = [
        (0, 0.0, 30.0, 39.0),
        (3, 20.0, 50.0, 10.0),
        (40, 70.0, 70.0, 156.0),
        (1, 0.1, 1.0, 500.0),
    ]
    for x, tx, age, t in cases:
        got = expected_purchases(params, t, [x], [tx], [age])[0]
        assert got == pytest.approx(_expected_by_integration(params, t, x, tx, age), rel=1e-6)


def test_expected_purchases_equals_the_paper_closed_form_when_a_is_above_one() -> None:
    r, alpha, a, b = A_ABOVE_ONE
    x, tx, age, t = np.array([0, 2, 9.0]), np.array([0, 8.0, 40.0]), np.array([30, 30, 52.0]), 26
    z = t / (alpha + age + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    head = (a + b + x - 1) / (a - 1) * (1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp)
    odds = np.where(x > 0, a / (b + x - 1) * ((alpha + age) / (alpha + tx)) ** (r + x), 0)
    got = expected_purchases(_params(*A_ABOVE_ONE), t, x, tx, age)
    assert got == pytest.approx(head / (1 + odds), rel=1e-9)


@pytest.mark.parametrize("params", [CDNOW, A_ABOVE_ONE], ids=["a below one", "a above one"])
def test_expected_purchases_falls_back_to_integration_when_scipy_hyp2f1_fails(
    params: tuple[float, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    bg = _params(*params)
    x, tx, age = np.array([0, 1, 5, 60.0]), np.array([0, 2.0, 30.0, 50.0]), np.full(4, 52.0)
    closed_form = expected_purchases(bg, 26.0, x, tx, age)
    monkeypatch.setattr(clv.special, "hyp2f1", lambda *args: np.full(np.shape(args[-1]), np.nan))
    assert expected_purchases(bg, 26.0, x, tx, age) == pytest.approx(closed_form, rel=1e-8)


def test_expected_purchases_broadcasts_an_array_of_horizons(history: dict[str, np.ndarray]) -> None:
    params, cols = _params(*CDNOW), (history["frequency"], history["recency"], history["T"])
    horizons = np.array([[4.0], [13.0], [52.0]])
    grid = expected_purchases(params, horizons, *cols)
    assert grid.shape == (3, history["T"].size)
    for row, t in zip(grid, horizons[:, 0], strict=True):
        assert np.array_equal(row, expected_purchases(params, t, *cols))
    assert np.all(np.diff(grid, axis=0) > 0)


def test_probability_alive_is_one_without_repeat_purchases_and_falls_with_recency() -> None:
    params = _params(*CDNOW)
    assert np.all(probability_alive(params, [0, 0], [0, 0], [1.0, 80.0]) == 1.0)
    recency = np.linspace(30.0, 0.5, 12)
    alive = probability_alive(params, np.full(12, 4.0), recency, np.full(12, 30.0))
    assert np.all(np.diff(alive) < 0)
    assert np.all((alive > 0) & (alive < 1))


def test_discounted_purchases_equal_expected_purchases_at_the_horizon_without_discount(
    history: dict[str, np.ndarray],
) -> None:
    params, cols = _params(*CDNOW), (history["frequency"], history["recency"], history["T"])
    undiscounted = discounted_purchases(params, *cols, horizon_months=24, annual_discount_rate=0.0)
    horizon = expected_purchases(params, 24 * 52 / 12, *cols)
    assert undiscounted == pytest.approx(horizon, rel=1e-12, abs=1e-14)
    discounted = discounted_purchases(params, *cols, horizon_months=24, annual_discount_rate=0.1)
    assert np.all(discounted < undiscounted)
    longer = discounted_purchases(params, *cols, horizon_months=36, annual_discount_rate=0.1)
    assert np.all(longer > discounted)
    # month by month, for a few customers
    few = tuple(c[:5] for c in cols)
    steps = np.diff([expected_purchases(params, m * 52 / 12, *few) for m in range(25)], axis=0)
    by_month = (steps / 1.1 ** (np.arange(1, 25) / 12)[:, None]).sum(axis=0)
    assert discounted[:5] == pytest.approx(by_month, rel=1e-10)


def test_expected_spend_shrinks_towards_the_population_mean_for_few_purchases() -> None:
    params = GammaGammaParams(*GG_TRUTH, customers=0)
    p, q, v = GG_TRUTH
    population = p * v / (q - 1)
    x = np.array([0.0, 1.0, 3.0, 10.0, 100.0])
    for own in (5.0, 200.0):
        spend = expected_spend(params, x, np.full(5, own))
        assert spend[0] == pytest.approx(population)
        gap = np.abs(spend - own)
        assert np.all(np.diff(gap) < 0)  # more purchases: closer to the customer's own mean
        assert np.all((spend - population) * (own - population) >= 0)


def test_fitting_with_too_few_repeat_buyers_raises_insufficient_data() -> None:
    x, tx, age = np.r_[np.ones(5), np.zeros(500)], np.r_[np.full(5, 3.0), np.zeros(500)], 30.0
    with pytest.raises(InsufficientData, match="5 customers"):
        fit_bgnbd(x, tx, np.full(505, age))
    with pytest.raises(InsufficientData, match="5 customers"):
        fit_gamma_gamma(x, np.r_[np.full(5, 10.0), np.zeros(500)])
    with pytest.raises(InsufficientData):
        fit_bgnbd(np.zeros(100), np.zeros(100), np.full(100, 30.0), min_repeat_buyers=0)


def test_gamma_gamma_with_q_at_most_one_raises_insufficient_data() -> None:
    frequency = np.random.default_rng(8).geometric(0.4, size=5000).astype(float)
    monetary = simulate_gamma_gamma(frequency, 6.25, 0.6, 15.44, seed=9)
    with pytest.raises(InsufficientData, match="q came out"):
        fit_gamma_gamma(frequency, monetary)


def test_optimizer_failure_raises_insufficient_data(
    history: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = optimize.OptimizeResult(x=np.full(4, np.nan), fun=np.nan, success=False, message="x")
    monkeypatch.setattr(clv.optimize, "minimize", lambda *args, **kwargs: failed)
    with pytest.raises(InsufficientData, match="did not converge"):
        fit_bgnbd(history["frequency"], history["recency"], history["T"])


@pytest.mark.parametrize(
    ("frequency", "recency", "age", "name"),
    [
        ([1.5, 1], [1, 1], [2, 2], "frequency"),
        ([-1, 1], [1, 1], [2, 2], "frequency"),
        ([np.nan, 1], [1, 1], [2, 2], "frequency"),
        ([1, 1], [3, 1], [2, 2], "recency"),
        ([1, 1], [-1, 1], [2, 2], "recency"),
        ([0, 1], [1, 1], [2, 2], "recency"),
        ([1, 1], [1, 1], [0, 2], "T"),
        ([1, 1], [1, 1], [np.inf, 2], "T"),
        ([1, 1, 1], [1, 1], [2, 2], "recency"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_argument(
    frequency: list[float], recency: list[float], age: list[float], name: str
) -> None:
    params = _params(*CDNOW)
    calls = [
        lambda: fit_bgnbd(frequency, recency, age, min_repeat_buyers=1),
        lambda: bgnbd_log_likelihood(*CDNOW, frequency, recency, age),
        lambda: expected_purchases(params, 10.0, frequency, recency, age),
        lambda: probability_alive(params, frequency, recency, age),
        lambda: discounted_purchases(
            params, frequency, recency, age, horizon_months=12, annual_discount_rate=0.1
        ),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=rf"^{name} "):
            call()


def test_bad_spend_and_horizon_inputs_raise_value_error_naming_the_argument() -> None:
    gg = GammaGammaParams(*GG_TRUTH, customers=0)
    with pytest.raises(ValueError, match="^monetary "):
        fit_gamma_gamma([1, 2], [10.0, 0.0], min_repeat_buyers=1)
    with pytest.raises(ValueError, match="^monetary "):
        expected_spend(gg, [1, 2], [10.0, np.nan])
    with pytest.raises(ValueError, match="^frequency "):
        expected_spend(gg, [1.2, 2], [10.0, 10.0])
    with pytest.raises(ValueError, match="^t "):
        expected_purchases(_params(*CDNOW), -1.0, [1], [1], [2])
    for bad in ({"horizon_months": 0}, {"horizon_months": 1.5}, {"annual_discount_rate": -1}):
        kwargs: dict[str, Any] = {"horizon_months": 12, "annual_discount_rate": 0.1, **bad}
        with pytest.raises(ValueError, match=f"^{next(iter(bad))} "):
            discounted_purchases(_params(*CDNOW), [1], [1], [2], **kwargs)


def test_spend_of_customers_without_repeat_purchases_ignores_their_monetary_value() -> None:
    gg = GammaGammaParams(*GG_TRUTH, customers=0)
    spend = expected_spend(gg, [0, 0, 2], [np.nan, -3.0, 20.0])
    assert spend[0] == spend[1] == pytest.approx(6.25 * 15.44 / 2.74)
    assert np.all(np.isfinite(spend))


@pytest.mark.parametrize(
    "params",
    [
        CDNOW,
        A_ABOVE_ONE,
        (1.0, 1.0, 1.0, 1.0),
        (5e-6, 1.6e5, 5e-6, 1.6e5),
        (1.6e5, 5e-6, 50.0, 0.3),
    ],
    ids=lambda p: "r={},alpha={},a={},b={}".format(*p),
)
def test_predictions_are_finite_for_extreme_customers_and_parameters(params: tuple) -> None:
    bg = _params(*params)
    x = np.array([0, 1, 1, 300, 5000, 2])
    tx = np.array([0, 1e-6, 1.0, 400.0, 500.0, 0.0])
    age = np.array([1e-3, 1.0, 500.0, 400.0, 500.0, 1.0])
    for out in (
        expected_purchases(bg, np.array([[0.0], [1.0], [1e4]]), x, tx, age),
        probability_alive(bg, x, tx, age),
        discounted_purchases(bg, x, tx, age, horizon_months=36, annual_discount_rate=0.5),
        bgnbd_log_likelihood(*params, x, tx, age),
    ):
        assert np.all(np.isfinite(out))
    assert np.all(expected_purchases(bg, 52.0, x, tx, age) >= 0)


def test_fit_on_duplicated_rows_matches_the_row_by_row_optimum() -> None:
    data = simulate_bgnbd(600, *A_ABOVE_ONE, first_purchase_weeks=1, observation_weeks=40, seed=3)
    # whole weeks make many customers' rows identical, so the fit sees far fewer rows
    x, tx, age = (np.round(data[k]) for k in ("frequency", "recency", "T"))
    assert len(np.unique(np.column_stack([x, tx, age]), axis=0)) < 300

    def row_by_row(z: np.ndarray) -> float:
        return -float(bgnbd_log_likelihood(*np.exp(z), x, tx, age).sum())

    best = optimize.minimize(row_by_row, np.zeros(4), method="Nelder-Mead", options=NELDER_MEAD)
    fitted = fit_bgnbd(x, tx, age)
    got = np.array([fitted.r, fitted.alpha, fitted.a, fitted.b])
    assert got == pytest.approx(np.exp(best.x), rel=1e-4)
    assert fitted.log_likelihood == pytest.approx(-best.fun, rel=1e-9)
    assert fitted.customers == 600

    # spends rounded up to multiples of 5 repeat too
    monetary = np.ceil(simulate_gamma_gamma(x, *GG_TRUTH, seed=4) / 5) * 5
    rep = x > 0
    xr, mr = x[rep], monetary[rep]
    assert len(np.unique(np.column_stack([xr, mr]), axis=0)) < rep.sum() / 2

    def gg_row_by_row(z: np.ndarray) -> float:
        p, q, v = np.exp(z)
        ll = special.gammaln(p * xr + q) - special.gammaln(p * xr) - special.gammaln(q)
        ll += q * np.log(v) + (p * xr - 1) * np.log(mr) + p * xr * np.log(xr)
        return -float((ll - (p * xr + q) * np.log(xr * mr + v)).sum())

    start = np.log([2.0, 3.0, 10.0])
    best = optimize.minimize(gg_row_by_row, start, method="Nelder-Mead", options=NELDER_MEAD)
    gg = fit_gamma_gamma(x, monetary)
    assert [gg.p, gg.q, gg.v] == pytest.approx(np.exp(best.x), rel=1e-4)
