"""Prediction intervals of what each customer will do: purchases and CLV over a horizon.

**Purchases.** Given BG/NBD's parameters and a customer's (x, t_x, T), the purchases Y
in the next t weeks have an exact distribution: the customer is alive with probability
P(alive); if so, its purchase rate has the posterior Gamma(r + x, alpha + T) and its
dropout probability Beta(a, b + x), independently, and Y >= k (k >= 1) when at least k
purchases fall in the t weeks (negative binomial: P(N >= k)) and it did not drop out
after any of the first k - 1 (E[(1-p)^(k-1)] = B(a, b+x+k-1) / B(a, b+x)). So

    P(Y >= k) = P(alive) * P(N >= k) * B(a, b+x+k-1) / B(a, b+x).

Parameter uncertainty: this distribution is averaged over ``PARAMETER_DRAWS`` draws of
the parameters from the fit's asymptotic normal distribution of the log-parameters
(``clv.log_covariance``), always the same draws (a fixed seed), so a customer's interval
does not depend on who else is scored with it. Without a covariance (a parameter on its
bound, or a run made before 1.5) the fitted values are used as they are. The interval is
the shortest whole-number interval holding at least ``COVERAGE`` of the probability
(counts are discrete: it holds a little more; the lower one where several are as short).

**CLV.** Purchases at the quantiles of that distribution are paired with spend per
purchase at quantiles of Gamma–Gamma's posterior of the customer's mean spend (``GRID``
purchase quantiles paired with ``SPEND_GRID`` spend quantiles by a fixed scrambled
pairing: a deterministic stratified sample), scaled to the point estimate's spend;
CLV = purchases x discounted share x spend x margin rate - cost to serve over the
horizon while alive (alive for sure when it buys; else with the probability of being
alive without buying). The interval is the central ``COVERAGE`` of
that sample.

These are intervals for what the customer will do, not for its expectation: a customer
who is probably gone has [0, 0] although its expected purchases are above zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from segmentation_service.engines import clv

COVERAGE = 0.8
PARAMETER_DRAWS = 200
GRID = 1000
SPEND_GRID = 100
CHUNK = 64  # customers at a time
TAIL = 1e-6  # the purchase counts considered reach this far into the tail
MAX_PURCHASES = 5000
_SEED = 20261202
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class PurchaseForecast:
    """Per customer: the distribution of purchases (``pmf[:, k]`` = P(Y = k)), the
    probability of being alive and not buying, and the interval."""

    pmf: FloatArray
    alive_without_purchase: FloatArray
    low: IntArray
    high: IntArray


@dataclass(frozen=True)
class SpendInputs:
    """What the CLV interval needs besides purchases, per customer: the point estimate's
    spend per purchase, Gamma–Gamma's posterior shape and rate of the customer's spend
    rate (shape <= 1 or no spend model: no spread), the margin rate, the discounted share
    of purchases, and the discounted cost to serve over the horizon."""

    spend: FloatArray
    shape: FloatArray
    rate: FloatArray
    margin_rate: FloatArray
    discount_share: FloatArray
    horizon_cost: FloatArray


def purchase_forecast(
    params: clv.BetaGeoParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weeks: float,
    coverage: float = COVERAGE,
) -> PurchaseForecast:
    """The distribution and interval of each customer's purchases in the next ``weeks``."""
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    T_ = np.asarray(T, dtype=np.float64)
    draws = parameter_draws(params)
    top = _largest_count(params, x, T_, weeks)
    pmf = np.zeros((x.size, top + 1))
    quiet = np.zeros(x.size)
    for start in range(0, x.size, CHUNK):  # (customers, draws, counts) arrays stay small
        part = slice(start, start + CHUNK)
        reach = _largest_count(params, x[part], T_[part], weeks)  # this chunk's tail
        pmf[part, : reach + 1], quiet[part] = _distribution(
            draws, x[part], t_x[part], T_[part], weeks, reach
        )
    low, high = shortest_intervals(pmf, coverage)
    return PurchaseForecast(pmf, quiet, low, high)


def _distribution(
    draws: list[FloatArray], x: FloatArray, t_x: FloatArray, T: FloatArray, weeks: float, top: int
) -> tuple[FloatArray, FloatArray]:
    """P(Y = k), k = 0..top, and P(alive and Y = 0), averaged over the parameter draws."""
    r, alpha, a, b = (p[None, :, None] for p in draws)
    x, t_x, T = (column[:, None, None] for column in (x, t_x, T))
    k = np.arange(1, top + 1, dtype=np.float64)[None, None, :]
    alive = _alive(r, alpha, a, b, x, t_x, T)
    chance = (alpha + T) / (alpha + T + weeks)
    # Negative binomial P(N = k) by its recurrence, then P(N >= k) = 1 - P(N <= k - 1).
    none = np.exp((r + x) * np.log(chance))
    steps = (r + x + k - 1) / k * (1.0 - chance)
    counts = none * np.concatenate(
        [np.ones_like(steps[:, :, :1]), np.cumprod(steps, axis=2)], axis=2
    )
    at_least = np.clip(1.0 - np.cumsum(counts, axis=2)[:, :, :-1], 0.0, 1.0)  # P(N >= k)
    # E[(1 - p)^(k-1)] = B(a, b+x+k-1) / B(a, b+x), by the same kind of recurrence.
    ratios = (b + x + k - 1) / (a + b + x + k - 1)
    staying = np.concatenate(
        [np.ones_like(ratios[:, :, :1]), np.cumprod(ratios, axis=2)[:, :, :-1]], axis=2
    )
    survival = np.concatenate(
        [np.ones((x.shape[0], 1)), (alive * at_least * staying).mean(axis=1)], axis=1
    )  # P(Y >= k), k = 0..top
    following = np.concatenate([survival[:, 1:], np.zeros((x.shape[0], 1))], axis=1)
    quiet = np.mean(alive[:, :, 0] * none[:, :, 0], axis=1)
    return np.clip(survival - following, 0.0, 1.0), quiet


def clv_interval(
    purchases: PurchaseForecast, spend: SpendInputs, coverage: float = COVERAGE
) -> tuple[FloatArray, FloatArray]:
    """The central ``coverage`` of each customer's CLV (low, high)."""
    grid = (np.arange(GRID) + 0.5) / GRID
    cdf = np.cumsum(purchases.pmf, axis=1)
    counts = np.stack([np.searchsorted(row, grid * row[-1]) for row in cdf])
    # Spend at SPEND_GRID quantiles (its inverse CDF is costly), each paired with GRID /
    # SPEND_GRID purchase quantiles by a fixed scrambled pairing: a stratified sample.
    strata = (np.arange(SPEND_GRID) + 0.5) / SPEND_GRID
    pairing = np.random.default_rng(_SEED).permutation(GRID) % SPEND_GRID
    spread = spend.shape > 1
    shape = np.where(spread, spend.shape, 2.0)[:, None]
    rate = np.where(spread, spend.rate, 1.0)[:, None]
    # nu's quantiles. The posterior shape p x + q takes one value per repeat count x, so
    # the inverse CDF (most of this function's time) is evaluated once per distinct shape.
    shapes, which = np.unique(shape[:, 0], return_inverse=True)
    spend_rates = stats.gamma.ppf(1.0 - strata[None, :], shapes[:, None])[which] / rate
    mean_inverse_rate = rate / (shape - 1.0)  # E[1 / nu]: scales spend to its point estimate
    per_stratum = spend.spend[:, None] / (spend_rates * mean_inverse_rate)
    per_purchase = np.where(spread[:, None], per_stratum, spend.spend[:, None])[:, pairing]
    no_purchase = purchases.pmf[:, 0]
    alive_if_quiet = np.divide(
        purchases.alive_without_purchase,
        no_purchase,
        out=np.zeros_like(no_purchase),
        where=no_purchase > 0,
    )
    alive = np.where(counts > 0, 1.0, alive_if_quiet[:, None])
    value = counts * (spend.discount_share * spend.margin_rate)[:, None] * per_purchase
    value = value - alive * spend.horizon_cost[:, None]
    tail = (1.0 - coverage) / 2
    low, high = np.quantile(value, [tail, 1.0 - tail], axis=1)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def parameter_draws(params: clv.BetaGeoParams) -> list[FloatArray]:
    """(r, alpha, a, b) draws: from the fit's covariance, or the fitted values alone."""
    centre = np.log([params.r, params.alpha, params.a, params.b])
    if params.log_covariance is None:
        return [np.exp(np.array([value])) for value in centre]
    rng = np.random.default_rng(_SEED)
    sampled = rng.multivariate_normal(centre, np.asarray(params.log_covariance), PARAMETER_DRAWS)
    return [np.exp(column) for column in sampled.T]


def shortest_intervals(pmf: FloatArray, coverage: float) -> tuple[IntArray, IntArray]:
    """Per row, the shortest [low, high] with probability at least ``coverage`` (the
    lowest of the shortest)."""
    cdf = np.concatenate([np.zeros((pmf.shape[0], 1)), np.cumsum(pmf, axis=1)], axis=1)
    size = pmf.shape[1]
    lows = np.zeros(pmf.shape[0], dtype=np.int64)
    highs = np.full(pmf.shape[0], size - 1, dtype=np.int64)
    for width in range(size):
        mass = cdf[:, width + 1 :] - cdf[:, : size - width]  # [low, low + width] per low
        enough = mass >= coverage - 1e-12
        found = enough.any(axis=1) & (highs - lows > width)
        first = np.argmax(enough, axis=1)
        lows = np.where(found, first, lows)
        highs = np.where(found, first + width, highs)
        if not (highs - lows > width).any():
            break
    return lows, highs


def _largest_count(params: clv.BetaGeoParams, x: FloatArray, T: FloatArray, weeks: float) -> int:
    """How many purchases to consider: past the alive customers' tail at the fitted rate,
    with room for the parameter draws."""
    chance = (params.alpha + T) / (params.alpha + T + weeks)
    tail = stats.nbinom.isf(TAIL, params.r + x, chance)
    return int(min(MAX_PURCHASES, max(10.0, 2.0 * float(np.max(tail)) + 10.0)))


def _alive(
    r: FloatArray, alpha: FloatArray, a: FloatArray, b: FloatArray,
    x: FloatArray, t_x: FloatArray, T: FloatArray,
) -> FloatArray:  # fmt: skip
    """P(alive | x, t_x, T) for every customer and parameter draw (``clv``'s eq. 11)."""
    ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    log_odds = np.log(a) - np.log(b + np.maximum(x, 1.0) - 1.0) + ratio
    return np.asarray(special.expit(-np.where(x > 0, log_odds, -np.inf)), dtype=np.float64)
