"""Simulators of BG/NBD purchase histories and Gamma–Gamma spends, for the tests.

Time is in weeks. Conventions follow ``segmentation_service.engines.clv``: ``frequency`` counts
repeat purchases, ``recency`` is the time from the first purchase to the last, and ``T`` the
time from the first purchase to the end of the calibration period.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def simulate_bgnbd(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    *,
    first_purchase_weeks: float,
    observation_weeks: float,
    holdout_weeks: float = 0.0,
    seed: int,
) -> dict[str, FloatArray]:
    """Simulate ``n`` customers from the BG/NBD model (Fader, Hardie & Lee 2005).

    Each customer makes a first purchase at a time uniform on ``[0, first_purchase_weeks)``,
    then purchases as a Poisson process with rate ``lambda ~ Gamma(shape r, rate alpha)``;
    after every repeat purchase they drop out for good with probability
    ``p ~ Beta(a, b)``. Same-day purchases are not merged (time is continuous).

    Parameters
    ----------
    n : int
        Number of customers.
    r, alpha, a, b : float
        BG/NBD parameters.
    first_purchase_weeks : float
        First purchases are spread uniformly over this many weeks at the start.
    observation_weeks : float
        Length of the calibration window, counted from its start (not per customer).
    holdout_weeks : float, optional
        Length of the hold-out window that follows the calibration window.
    seed : int
        Seed of ``np.random.default_rng``.

    Returns
    -------
    dict of str to ndarray
        ``frequency``, ``recency``, ``T`` (calibration) and ``holdout_purchases``.
    """
    if not 0 <= first_purchase_weeks < observation_weeks:
        raise ValueError("first_purchase_weeks must lie in [0, observation_weeks)")
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    age = observation_weeks - rng.uniform(0.0, first_purchase_weeks, size=n)
    end = age + holdout_weeks

    frequency = np.zeros(n)
    recency = np.zeros(n)
    holdout = np.zeros(n)
    clock = np.zeros(n)
    active = np.arange(n)
    # One purchase per pass for every customer still alive and inside the window.
    while active.size:
        clock[active] += rng.exponential(1.0, size=active.size) / lam[active]
        active = active[clock[active] <= end[active]]
        in_cal = clock[active] <= age[active]
        cal, hold = active[in_cal], active[~in_cal]
        frequency[cal] += 1
        recency[cal] = clock[cal]
        holdout[hold] += 1
        active = active[rng.random(active.size) >= p[active]]
    return {"frequency": frequency, "recency": recency, "T": age, "holdout_purchases": holdout}


def simulate_gamma_gamma(
    frequency: NDArray[np.floating] | list[float],
    p: float,
    q: float,
    v: float,
    *,
    seed: int,
) -> FloatArray:
    """Simulate each customer's mean spend per repeat purchase under the Gamma–Gamma model.

    Per customer ``nu ~ Gamma(shape q, rate v)``; each of the ``x`` repeat transactions
    spends ``Gamma(shape p, rate nu)``, so their sum is ``Gamma(shape p x, rate nu)``.

    Parameters
    ----------
    frequency : array-like
        Number of repeat purchases ``x`` per customer.
    p, q, v : float
        Gamma–Gamma parameters.
    seed : int
        Seed of ``np.random.default_rng``.

    Returns
    -------
    ndarray
        Mean spend per repeat purchase; 0 for customers with ``x == 0``.
    """
    x = np.asarray(frequency, dtype=np.float64)
    rng = np.random.default_rng(seed)
    nu = rng.gamma(q, 1.0 / v, size=x.shape)
    repeat = x > 0
    spend = np.zeros(x.shape)
    spend[repeat] = rng.gamma(p * x[repeat], 1.0 / nu[repeat]) / x[repeat]
    return spend
