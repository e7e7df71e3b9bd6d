"""Probabilistic customer lifetime value: BG/NBD purchases and Gamma–Gamma spend.

BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way"; Gamma–Gamma:
Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value". Time is in weeks;
frequency x counts repeat purchase occasions, recency t_x runs from the first purchase to the
last and T from the first purchase to the end of observation.

Fits maximise the likelihood over the log of the parameters, on the distinct input rows
weighted by their counts; predictions are computed once per distinct row too.

The conditional expectation (paper eq. 10) needs no a > 1: its closed form is the analytic
continuation of the posterior integral to every a > 0 (the paper applies it with a = 0.79),
with a removable singularity at a == 1 that is interpolated across. It is evaluated after
Euler's transformation of its 2F1, on which SciPy is reliable; where SciPy's 2F1 still fails
(extreme parameters) the posterior integral is computed by quadrature instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, optimize, special

from segmentation_service.domain.errors import InsufficientData

FloatArray = NDArray[np.float64]
_LOG_BOUND = 12.0  # fitted parameters stay within exp(+-12)
# BG/NBD's a and b grow without bound when dropout hardly varies between customers;
# past ~1,000 the Beta is effectively a point mass (predictions change < 1%), while
# the hypergeometric terms get slow and fall back to quadrature. Cap them there.
_LOG_BOUND_DROPOUT = 7.0
_A_NEAR_ONE = 1e-4  # eq. 10's removable singularity at a == 1 is interpolated across


Covariance = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class BetaGeoParams:
    """BG/NBD parameters: purchase rate ~ Gamma(r, alpha), dropout probability ~ Beta(a, b).

    ``log_covariance``: the fit's asymptotic covariance of (log r, log alpha, log a,
    log b) (see ``log_covariance``); None when unknown (a parameter sits on its bound,
    or the parameters came from elsewhere).
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int
    log_covariance: Covariance | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma–Gamma parameters: spend ~ Gamma(p, nu) with nu ~ Gamma(q, v)."""

    p: float
    q: float
    v: float
    customers: int
    log_covariance: Covariance | None = field(default=None, compare=False, repr=False)


def _arrays(**named: ArrayLike) -> list[FloatArray]:
    out = [np.atleast_1d(np.asarray(value, dtype=np.float64)) for value in named.values()]
    for name, arr in zip(named, out, strict=True):
        if arr.ndim != 1 or arr.shape != out[0].shape:
            raise ValueError(f"{name} must be one-dimensional and as long as the other arguments")
    return out


def _check_frequency(x: FloatArray) -> None:
    if not (np.all(np.isfinite(x)) and np.all(x >= 0) and np.all(x == np.floor(x))):
        raise ValueError("frequency must hold finite non-negative whole numbers")


def _check_rfm(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> list[FloatArray]:
    x, tx, T_ = _arrays(frequency=frequency, recency=recency, T=T)
    _check_frequency(x)
    if not (np.all(np.isfinite(T_)) and np.all(T_ > 0)):
        raise ValueError("T must be finite and positive")
    if not (np.all(np.isfinite(tx)) and np.all(tx >= 0) and np.all(tx <= T_)):
        raise ValueError("recency must be finite with 0 <= recency <= T")
    if np.any(tx[x == 0] != 0):
        raise ValueError("recency must be 0 where frequency is 0")
    return [x, tx, T_]


def _check_spend(frequency: ArrayLike, monetary: ArrayLike) -> list[FloatArray]:
    x, m = _arrays(frequency=frequency, monetary=monetary)
    _check_frequency(x)
    if not (np.all(np.isfinite(m[x > 0])) and np.all(m[x > 0] > 0)):
        raise ValueError("monetary must be finite and positive where frequency > 0")
    return [x, np.where(x > 0, m, 1.0)]  # m is unused where x == 0


def _distinct(*columns: FloatArray) -> tuple[FloatArray, NDArray[np.intp], FloatArray]:
    """Distinct rows of the columns, the inverse index and each row's count."""
    # lexsort is several times faster than np.unique(axis=0) on a million rows
    data = np.column_stack(columns)
    order = np.lexsort(data.T[::-1])
    ordered = data[order]
    first = np.ones(len(data), dtype=bool)
    first[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    group = np.cumsum(first) - 1
    inverse = np.empty(len(data), dtype=np.intp)
    inverse[order] = group
    return ordered[first], inverse, np.bincount(group).astype(np.float64)


def _minimize(
    objective: Callable[[FloatArray], Any],
    starts: list[FloatArray],
    upper: list[float] | None = None,
) -> FloatArray:
    """Minimise (value, gradient) from the best start by L-BFGS-B, else Nelder-Mead.

    Parameters are logs, bounded below by -12 and above by ``upper`` (default 12).
    """

    def converged(res: Any) -> bool:
        if not (np.all(np.isfinite(res.x)) and np.isfinite(res.fun)):
            return False
        # a line search stalled at the optimum by rounding has still converged
        return bool(res.success) or bool(np.max(np.abs(objective(res.x)[1])) < 1e-6)

    best = min(starts, key=lambda s: float(objective(s)[0]))
    bounds = [(-_LOG_BOUND, high) for high in (upper or [_LOG_BOUND] * best.size)]
    res: Any = optimize.minimize(
        objective, best, jac=True, method="L-BFGS-B", bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
    )  # fmt: skip
    if not converged(res):
        res = optimize.minimize(
            lambda z: objective(z)[0], res.x if np.all(np.isfinite(res.x)) else best,
            method="Nelder-Mead", bounds=bounds,
            options={"maxiter": 4000, "xatol": 1e-9, "fatol": 1e-12},
        )  # fmt: skip
        if not converged(res):
            raise InsufficientData(
                f"the model could not be fitted on this data: the optimizer did not converge "
                f"({res.message})"
            )
    return np.asarray(res.x, dtype=np.float64)


def log_covariance(
    gradient: Callable[[FloatArray], FloatArray],
    z: FloatArray,
    customers: float,
    upper: list[float] | None = None,
) -> Covariance | None:
    """The asymptotic covariance of fitted log-parameters: the inverse of the observed
    information, ``customers`` times the Hessian of the mean negative log-likelihood,
    differenced from ``gradient`` (the mean's) at the optimum ``z``.

    None when a parameter sits on its bound (the likelihood is flat there: no
    normal approximation) or the Hessian is not positive definite.
    """
    highs = upper or [_LOG_BOUND] * z.size
    bounded = zip(z, highs, strict=True)
    if any(value <= -_LOG_BOUND + 1e-6 or value >= high - 1e-6 for value, high in bounded):
        return None
    step = 1e-4
    hessian = np.empty((z.size, z.size))
    for k in range(z.size):
        shift = np.zeros(z.size)
        shift[k] = step
        hessian[:, k] = (gradient(z + shift) - gradient(z - shift)) / (2 * step)
    information = customers * (hessian + hessian.T) / 2
    try:
        np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        return None
    covariance = np.linalg.inv(information)
    return tuple(tuple(float(value) for value in row) for row in covariance)


def _bgnbd(
    r: float, alpha: float, a: float, b: float, x: FloatArray, tx: FloatArray, T: FloatArray,
    w: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray | None]:  # fmt: skip
    """Per-row log-likelihood and, given row weights w, the weighted gradient in log-params."""
    ux, xi = np.unique(x, return_inverse=True)  # special functions of x: once per value
    uxs = np.maximum(ux, 1.0)
    lb1 = special.betaln(a, b + ux)
    lb2 = np.where(ux > 0, special.betaln(a + 1.0, b + uxs - 1.0), -np.inf)
    lg = special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
    log_T, log_tx = np.log(alpha + T), np.log(alpha + tx)
    a1 = lb1[xi] - (r + x) * log_T
    a2 = lb2[xi] - (r + x) * log_tx  # -inf where x == 0: that term exists only for x > 0
    total = np.logaddexp(a1, a2)
    ll = lg[xi] + total
    if w is None:
        return ll, None
    w1, w2 = np.exp(a1 - total), np.exp(a2 - total)
    dg = special.digamma
    g_r = (dg(r + ux) - dg(r))[xi] + np.log(alpha) - w1 * log_T - w2 * log_tx
    g_alpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + tx))
    d_ab = dg(a + b) - dg(a + b + ux)
    g_a = d_ab[xi] + w2 / a
    g_b = (d_ab - dg(b))[xi] + w1 * dg(b + ux)[xi] + w2 * dg(b + uxs - 1.0)[xi]
    grad = np.array([r * g_r @ w, alpha * g_alpha @ w, a * g_a @ w, b * g_b @ w])
    return ll, grad


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float,
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
) -> FloatArray:  # fmt: skip
    """Per-customer BG/NBD log-likelihood (paper eq. 6), computed in log space.

    Parameters
    ----------
    r, alpha, a, b : float
        Positive BG/NBD parameters.
    frequency, recency, T : array-like
        Repeat purchases x, recency t_x and age T (weeks) per customer.

    Returns
    -------
    ndarray
        ``log L(r, alpha, a, b | x, t_x, T)`` for each customer.
    """
    return _bgnbd(r, alpha, a, b, *_check_rfm(frequency, recency, T))[0]


def _enough(repeaters: int, min_repeat_buyers: int, model: str) -> int:
    needed = max(int(min_repeat_buyers), 1)
    if repeaters < needed:
        raise InsufficientData(
            f"only {repeaters} customers bought more than once; the {model} model needs "
            f"at least {needed}"
        )
    return repeaters


def fit_bgnbd(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *, min_repeat_buyers: int = 20
) -> BetaGeoParams:
    """Fit the BG/NBD model by maximum likelihood.

    Parameters
    ----------
    frequency, recency, T : array-like
        Repeat purchases x, recency t_x and age T (weeks) per customer.
    min_repeat_buyers : int, optional
        Fewest customers with x > 0 accepted (never fewer than one).

    Returns
    -------
    BetaGeoParams
        Fitted parameters, total log-likelihood and number of customers.

    Raises
    ------
    ValueError
        An input breaks the conventions; the message names it.
    InsufficientData
        Too few repeat buyers, or the optimizer did not converge.
    """
    x, tx, T_ = _check_rfm(frequency, recency, T)
    rows, _, counts = _distinct(x, tx, T_)
    return fit_bgnbd_counts(rows, counts, min_repeat_buyers=min_repeat_buyers)


def fit_bgnbd_counts(
    rows: ArrayLike, counts: ArrayLike, *, min_repeat_buyers: int = 20
) -> BetaGeoParams:
    """``fit_bgnbd`` on distinct (x, t_x, T) rows, each weighted by how many customers have it.

    What a run in partitions fits on: each partition's distinct rows, merged with their
    counts added, are the distinct rows of every customer.
    """
    table = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    w = np.asarray(counts, dtype=np.float64)
    x, tx, T_ = _check_rfm(table[:, 0], table[:, 1], table[:, 2])
    _enough(int(w[x > 0].sum()), min_repeat_buyers, "purchase")
    cols = (x, tx, T_)

    def objective(z: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(z)
        ll, grad = _bgnbd(r, alpha, a, b, *cols, w=w)
        return float(-(ll @ w) / w.sum()), -np.asarray(grad) / w.sum()

    # 1 / mean purchase rate: the scale of alpha / r (summed exactly: the same whatever
    # order the rows were merged in)
    scale = math.fsum(T_ * w) / math.fsum(x * w)
    starts = [np.log([r, r * scale, a, b]) for r in (0.3, 2) for a in (0.5, 2) for b in (1, 5)]
    upper = [_LOG_BOUND, _LOG_BOUND, _LOG_BOUND_DROPOUT, _LOG_BOUND_DROPOUT]
    z = _minimize(objective, starts, upper)
    r, alpha, a, b = (float(v) for v in np.exp(z))
    ll = float(_bgnbd(r, alpha, a, b, *cols)[0] @ w)
    covariance = log_covariance(lambda at: objective(at)[1], z, float(w.sum()), upper)
    return BetaGeoParams(r, alpha, a, b, ll, int(w.sum()), log_covariance=covariance)


def _alive_purchases(params: BetaGeoParams, x: FloatArray, T: FloatArray, t: FloatArray) -> Any:
    """E[Y(t)] for a customer alive at T: eq. 10 without its P(alive) denominator."""
    r, alpha, b = params.r, params.alpha, params.b
    with np.errstate(over="ignore"):
        s = np.minimum(t / (alpha + T), 1e300)  # keeps absurd horizons finite

    def closed_form(a: float) -> Any:
        # Euler's transformation of eq. 10's 2F1(r+x, b+x; c; z): SciPy is far more reliable
        # on it, and it holds for every a > 0 (the paper itself uses eq. 10 with a = 0.79).
        c = a + b + x - 1.0
        hyp = special.hyp2f1(a + b - 1.0 - r, a - 1.0, c, s / (1.0 + s))
        return c / (a - 1.0) * (1.0 - np.exp((1.0 - a) * np.log1p(s)) * hyp)

    with np.errstate(all="ignore"):  # failures are caught below
        if abs(params.a - 1.0) >= _A_NEAR_ONE:
            out = closed_form(params.a)
        else:
            lo, hi = closed_form(1.0 - _A_NEAR_ONE), closed_form(1.0 + _A_NEAR_ONE)
            out = lo + (hi - lo) * (params.a - 1.0 + _A_NEAR_ONE) / (2 * _A_NEAR_ONE)
        # the true value lies in [0, (r + x) s]; outside it SciPy's 2F1 has failed
        failed = ~((out >= 0) & (out <= (r + x) * s * (1 + 1e-9))) & (s > 0)
    for i in np.flatnonzero(failed):
        out[i] = _alive_purchases_integral(params.a, b + x[i], r + x[i], s[i])
    return np.where(s > 0, out, 0.0)


def _alive_purchases_integral(a: float, b: float, k: float, s: float) -> float:
    """E[(1 - (1 + p s)^-k) / p] for p ~ Beta(a, b), by quadrature over v = logit(p)."""
    log_k, log_s, log_beta = math.log(k), math.log(s), float(special.betaln(a, b))

    def log_h(v: float) -> float:
        log_p = -float(np.logaddexp(0.0, -v))
        ps = math.exp(log_p + log_s)
        log_y = log_k + (
            log_p + log_s + math.log1p(-ps / 2) if ps < 1e-8 else math.log(math.log1p(ps))
        )
        y = math.exp(log_y)
        log_g = log_y + math.log1p(-y / 2) if y < 1e-8 else math.log(-math.expm1(-y))
        return log_g + (a - 1.0) * log_p - b * float(np.logaddexp(0.0, v)) - log_beta

    # mass sits between the Beta's centre and the kink at p = 1/(k s); tails are exponential
    centre, kink = float(special.digamma(a) - special.digamma(b)), -(log_k + log_s)
    width = math.sqrt(float(special.polygamma(1, a) + special.polygamma(1, b)))
    lo = min(centre, kink) - 40.0 * (width + 1.0 / a)
    hi = max(centre, kink) + 40.0 * (width + 1.0 / b)
    peak = max(log_h(v) for v in np.linspace(lo, hi, 401))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val = integrate.quad(
            lambda v: math.exp(log_h(v) - peak), lo, hi, points=sorted({centre, kink}),
            epsabs=0.0, epsrel=1e-10, limit=500,
        )[0]  # fmt: skip
    return float(min(max(val * math.exp(peak), 0.0), k * s))


def _alive(params: BetaGeoParams, x: FloatArray, tx: FloatArray, T: FloatArray) -> Any:
    """P(alive | x, t_x, T) (paper eq. 11) through the log of the odds of having dropped out."""
    ratio = (params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + tx))
    log_odds = np.log(params.a) - np.log(params.b + np.maximum(x, 1.0) - 1.0) + ratio
    return special.expit(-np.where(x > 0, log_odds, -np.inf))


def probability_alive(
    params: BetaGeoParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Probability that each customer is still active at T (paper eq. 11).

    Parameters
    ----------
    params : BetaGeoParams
    frequency, recency, T : array-like
        Repeat purchases x, recency t_x and age T (weeks) per customer.

    Returns
    -------
    ndarray
        P(alive | x, t_x, T); exactly 1 where x == 0.
    """
    rows, inverse, _ = _distinct(*_check_rfm(frequency, recency, T))
    return np.asarray(_alive(params, *rows.T)[inverse], dtype=np.float64)


def _expected(params: BetaGeoParams, rows: FloatArray) -> FloatArray:
    """E[Y(t) | x, t_x, T] for distinct rows (x, t_x, T, t), via distinct (x, T, t)."""
    sub, inverse, _ = _distinct(rows[:, 0], rows[:, 2], rows[:, 3])
    per_alive = _alive_purchases(params, *sub.T)[inverse]
    return np.asarray(_alive(params, *rows[:, :3].T) * per_alive, dtype=np.float64)


def expected_purchases(
    params: BetaGeoParams, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected purchases in the next t weeks, E[Y(t) | x, t_x, T] (paper eq. 10).

    Parameters
    ----------
    params : BetaGeoParams
        Fitted BG/NBD parameters; any a > 0 (see the module docstring).
    t : float or array-like
        Horizon in weeks (>= 0), scalar or broadcastable against the customers.
    frequency, recency, T : array-like
        Repeat purchases x, recency t_x and age T (weeks) per customer.

    Returns
    -------
    ndarray
        Expected purchases, shaped as t broadcast against the customers.
    """
    x, tx, T_ = _check_rfm(frequency, recency, T)
    t_ = np.asarray(t, dtype=np.float64)
    if not (np.all(np.isfinite(t_)) and np.all(t_ >= 0)):
        raise ValueError("t must be finite and non-negative")
    cols = np.broadcast_arrays(x, tx, T_, t_)
    rows, inverse, _ = _distinct(*(c.reshape(-1) for c in cols))
    return _expected(params, rows)[inverse].reshape(cols[0].shape)


def discounted_purchases(
    params: BetaGeoParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *,
    horizon_months: int, annual_discount_rate: float,
) -> FloatArray:  # fmt: skip
    """Expected purchases over the next months, each month discounted to today.

    ``sum_{m=1..H} (E[Y(t_m)] - E[Y(t_{m-1})]) / (1 + d) ** (m / 12)``, t_m = m * 52 / 12 weeks.

    Parameters
    ----------
    params : BetaGeoParams
    frequency, recency, T : array-like
        Repeat purchases x, recency t_x and age T (weeks) per customer.
    horizon_months : int
        Number of months H (>= 1).
    annual_discount_rate : float
        Annual discount rate d (> -1; 0 for none).

    Returns
    -------
    ndarray
        Discounted expected purchases per customer.
    """
    if isinstance(horizon_months, bool) or int(horizon_months) != horizon_months:
        raise ValueError("horizon_months must be a whole number")
    if horizon_months < 1:
        raise ValueError("horizon_months must be at least 1")
    if not (np.isfinite(annual_discount_rate) and annual_discount_rate > -1):
        raise ValueError("annual_discount_rate must be finite and greater than -1")
    rows, inverse, _ = _distinct(*_check_rfm(frequency, recency, T))
    sub, sub_inverse, _ = _distinct(rows[:, 0], rows[:, 2])
    months = np.arange(int(horizon_months) + 1, dtype=np.float64)
    x, T_, t = np.broadcast_arrays(sub[:, :1], sub[:, 1:], months * 52.0 / 12.0)
    cumulative = _alive_purchases(params, x.ravel(), T_.ravel(), t.ravel()).reshape(x.shape)
    per_alive = np.diff(cumulative, axis=1) @ (1.0 + annual_discount_rate) ** (-months[1:] / 12)
    out = _alive(params, *rows.T) * per_alive[sub_inverse]
    return np.asarray(out[inverse], dtype=np.float64)


def _gamma_gamma(
    p: float, q: float, v: float, x: FloatArray, m: FloatArray, w: FloatArray
) -> tuple[float, FloatArray]:
    """Weighted mean negative log-likelihood and its gradient in log-parameters."""
    px, log_xmv = p * x, np.log(x * m + v)
    ll = special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
    ll += (px - 1.0) * np.log(m) + px * np.log(x) - (px + q) * log_xmv
    dg_pxq = special.digamma(px + q)
    g_p = x * (dg_pxq - special.digamma(px) + np.log(m) + np.log(x) - log_xmv)
    g_q = dg_pxq - special.digamma(q) + np.log(v) - log_xmv
    g_v = q / v - (px + q) / (x * m + v)
    n = w.sum()
    return float(-(ll @ w) / n), -np.array([p * g_p @ w, q * g_q @ w, v * g_v @ w]) / n


def fit_gamma_gamma(
    frequency: ArrayLike, monetary: ArrayLike, *, min_repeat_buyers: int = 20
) -> GammaGammaParams:
    """Fit the Gamma–Gamma spend model by maximum likelihood on the repeat buyers.

    Parameters
    ----------
    frequency : array-like
        Repeat purchases x per customer; customers with x == 0 are left out.
    monetary : array-like
        Mean spend per repeat purchase m_x (> 0 where x > 0; ignored where x == 0).
    min_repeat_buyers : int, optional
        Fewest customers with x > 0 accepted (never fewer than one).

    Returns
    -------
    GammaGammaParams
        Fitted parameters and the number of repeat buyers fitted.

    Raises
    ------
    ValueError
        An input breaks the conventions; the message names it.
    InsufficientData
        Too few repeat buyers, no convergence, or q <= 1 (expected spend undefined).
    """
    x, m = _check_spend(frequency, monetary)
    rows, _, counts = _distinct(x[x > 0], m[x > 0])
    return fit_gamma_gamma_counts(rows, counts, min_repeat_buyers=min_repeat_buyers)


def fit_gamma_gamma_counts(
    rows: ArrayLike, counts: ArrayLike, *, min_repeat_buyers: int = 20
) -> GammaGammaParams:
    """``fit_gamma_gamma`` on distinct (x, m_x) rows, each weighted by its customers.

    Rows with x == 0 are left out, as ``fit_gamma_gamma`` leaves those customers out.
    """
    table = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
    w = np.asarray(counts, dtype=np.float64)
    x, m = _check_spend(table[:, 0], table[:, 1])
    repeaters = _enough(int(w[x > 0].sum()), min_repeat_buyers, "spend")
    x, m, w = x[x > 0], m[x > 0], w[x > 0]
    mean = float(np.average(m, weights=w))
    starts = [np.log([p, q, (q - 1) * mean / p]) for p in (1, 5) for q in (2, 5)]

    def objective(z: FloatArray) -> tuple[float, FloatArray]:
        p, q, v = np.exp(z)
        return _gamma_gamma(p, q, v, x, m, w)

    z = _minimize(objective, starts)
    p, q, v = (float(c) for c in np.exp(z))
    if q <= 1.0:
        raise InsufficientData(
            f"the spend model's q came out at {q:.3g}, not above 1: average spend varies so "
            "much between customers that its expectation does not exist"
        )
    covariance = log_covariance(lambda at: objective(at)[1], z, float(w.sum()))
    return GammaGammaParams(p, q, v, customers=repeaters, log_covariance=covariance)


def expected_spend(
    params: GammaGammaParams, frequency: ArrayLike, monetary: ArrayLike
) -> FloatArray:
    """Conditional expected mean spend per transaction, E[M | x, m_x].

    ``p (v + x m_x) / (p x + q - 1)``: a weighted average of the population mean
    ``p v / (q - 1)`` (returned where x == 0) and the customer's own mean m_x.

    Parameters
    ----------
    params : GammaGammaParams
    frequency : array-like
        Repeat purchases x per customer.
    monetary : array-like
        Mean spend per repeat purchase m_x (> 0 where x > 0; ignored where x == 0).

    Returns
    -------
    ndarray
        Expected spend per transaction for each customer.
    """
    if not params.q > 1.0:
        raise ValueError("expected spend needs the spend model's q above 1 (as fitted)")
    x, m = _check_spend(frequency, monetary)
    p, q, v = params.p, params.q, params.v
    return np.asarray(p * (v + x * m) / (p * x + q - 1.0), dtype=np.float64)
