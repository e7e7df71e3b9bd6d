"""RFM scoring: recency, frequency and monetary quintiles, and the named RFM segments.

A score is 1 plus the number of quintile boundaries the customer's value
exceeds. The boundaries are the values at the 20, 40, 60 and 80% positions
of the sorted values, so equal values always share a score (ties go to the
lower score) and any later value can be scored against the same boundaries.
Recency is reversed: the most recent buyers score 5.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

QUANTILES = 5

# (recency scores, frequency scores) -> segment, after the widely used RFM
# grid. The rows are disjoint and cover all 25 (R, F) cells, so every cell
# has exactly one name whatever the order; Hibernating is the rest of R1-2 F1-2.
RFM_SEGMENT_GRID: tuple[tuple[str, frozenset[int], frozenset[int]], ...] = (
    ("Champions", frozenset({5}), frozenset({4, 5})),
    ("Loyal", frozenset({3, 4}), frozenset({4, 5})),
    ("Potential Loyalists", frozenset({4, 5}), frozenset({2, 3})),
    ("New", frozenset({5}), frozenset({1})),
    ("Promising", frozenset({4}), frozenset({1})),
    ("Need Attention", frozenset({3}), frozenset({3})),
    ("About to Sleep", frozenset({3}), frozenset({1, 2})),
    ("Can't Lose Them", frozenset({1, 2}), frozenset({5})),
    ("At Risk", frozenset({1, 2}), frozenset({3, 4})),
    ("Lost", frozenset({1}), frozenset({1})),
    ("Hibernating", frozenset({2}), frozenset({1, 2})),
    ("Hibernating", frozenset({1}), frozenset({2})),
)


def quantile_thresholds(values: npt.ArrayLike, quantiles: int = QUANTILES) -> list[float]:
    """Boundaries between the score bands of ``values`` (quantiles - 1 of them)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    if ordered.size == 0:
        raise ValueError("cannot score an empty set of values")
    positions = [int(np.ceil(k * ordered.size / quantiles)) - 1 for k in range(1, quantiles)]
    return [float(ordered[max(position, 0)]) for position in positions]


def score(values: npt.ArrayLike, thresholds: list[float]) -> npt.NDArray[np.int64]:
    """1 + the number of thresholds each value exceeds."""
    data = np.asarray(values, dtype=float)
    exceeded = (data[:, None] > np.asarray(thresholds)[None, :]).sum(axis=1)
    return np.asarray(1 + exceeded, dtype=np.int64)


def segment_names(recency: npt.ArrayLike, frequency: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """The named RFM segment of each (R, F) pair (first matching row of the grid)."""
    r = np.asarray(recency)
    f = np.asarray(frequency)
    names = np.full(r.shape, None, dtype=object)
    unnamed = np.ones(r.shape, dtype=bool)
    for name, r_scores, f_scores in RFM_SEGMENT_GRID:
        hit = unnamed & np.isin(r, list(r_scores)) & np.isin(f, list(f_scores))
        names[hit] = name
        unnamed &= ~hit
    return names


def score_codes(r: npt.ArrayLike, f: npt.ArrayLike, m: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Three-digit RFM codes such as "545"."""
    digits = np.char.add(
        np.char.add(np.asarray(r).astype(str), np.asarray(f).astype(str)), np.asarray(m).astype(str)
    )
    return digits.astype(object)
