"""Vectorised helpers of the needs-based segmenter.

Respondent centring, mean imputation, per-segment means, choosing k by
silhouette, bootstrap stability, segment names, profiles and reasons, and
parameter checks. Arrays have a row per respondent and a column per need (or
PCA component).
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import sklearn
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, silhouette_score
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]  # sklearn's

from segmentation_service.domain.model import SegmentDefinition

Matrix = npt.NDArray[np.float64]
Labels = npt.NDArray[np.intp]
SEED_BOUND = np.iinfo(np.int32).max
# Below this many rows, k-means and BLAS run on one thread: their per-iteration
# thread synchronisation costs more than it saves (30x slower on a busy 2-core machine).
PARALLEL_MIN_ROWS = 100_000
SILHOUETTE_WORKING_MB = 32


def thread_limit(n_rows: int) -> AbstractContextManager[Any]:
    """One OpenMP/BLAS thread for work on fewer than PARALLEL_MIN_ROWS rows."""
    return _thread_pools().limit(limits=1) if n_rows < PARALLEL_MIN_ROWS else nullcontext()


@cache
def _thread_pools() -> Any:
    """The OpenMP and BLAS pools loaded with scikit-learn, found once (a scan costs ~3 ms)."""
    return ThreadpoolController()


def answered_means(data: Matrix) -> Matrix:
    """Each row's mean over its answered (non-NaN) entries; 0 for a row with none."""
    answered = ~np.isnan(data)
    counts = answered.sum(axis=1)
    totals = np.where(answered, data, 0.0).sum(axis=1)
    means: Matrix = np.divide(totals, counts, out=np.zeros(len(data)), where=counts > 0)
    return means


def column_means(data: Matrix) -> Matrix:
    """Each column's mean over its answers; 0 for a need nobody answered."""
    answered = ~np.isnan(data)
    counts = answered.sum(axis=0)
    totals = np.where(answered, data, 0.0).sum(axis=0)
    means: Matrix = np.divide(totals, counts, out=np.zeros(data.shape[1]), where=counts > 0)
    return means


def impute(data: Matrix, means: Matrix) -> Matrix:
    """A copy of ``data`` whose NaN entries hold their column's value in ``means``."""
    filled = data.copy()
    missing = np.isnan(filled)
    filled[missing] = np.take(means, np.nonzero(missing)[1])
    return filled


def group_sums(data: Matrix, clusters: Labels, k: int) -> Matrix:
    """k × columns matrix: the sum of each cluster's member rows."""
    sums: Matrix = np.column_stack(
        [np.bincount(clusters, weights=col, minlength=k) for col in data.T]
    )
    return sums


def group_means(data: Matrix, clusters: Labels, k: int) -> Matrix:
    """k × columns matrix: the mean row of each cluster's members (0 for an empty cluster)."""
    return sums_to_means(group_sums(data, clusters, k), np.bincount(clusters, minlength=k))


def sums_to_means(sums: Matrix, counts: npt.NDArray[np.intp]) -> Matrix:
    """Each row of ``sums`` divided by its count (0 where the count is 0)."""
    sizes = counts.astype(np.float64)[:, None]
    means: Matrix = np.divide(sums, sizes, out=np.zeros_like(sums), where=sizes > 0)
    return means


def distance_reasons(
    drivers: list[str], clusters: Labels, distances: Matrix
) -> npt.NDArray[np.object_]:
    """ "<drivers of the cluster>; distance to the segment centre 0.84 in standard deviations".

    Each distinct (cluster, distance in hundredths) pair is formatted once, so a
    million respondents cost a sort rather than a million f-strings.
    """
    k = len(drivers)
    keys = np.rint(distances * 100).astype(np.int64) * k + clusters
    distinct, position = np.unique(keys, return_inverse=True)
    texts = [
        f"{drivers[key % k]}; distance to the segment centre {key // k / 100:.2f} "
        "in standard deviations"
        for key in distinct.tolist()
    ]
    reasons: npt.NDArray[np.object_] = np.array(texts, dtype=object)[position]
    return reasons


class SegmentDescription(NamedTuple):
    """Per k-means cluster its segment code and drivers; the definitions in code order."""

    codes: npt.NDArray[np.object_]
    segments: list[SegmentDefinition]
    drivers: list[str]


def describe_segments(
    needs: list[str], raw: Matrix, z: Matrix, sizes: npt.NDArray[np.intp]
) -> SegmentDescription:
    """Each cluster's code, the segment definitions in code order and each cluster's drivers.

    Codes run N1..Nk by decreasing ``sizes`` (members per cluster). ``raw`` and ``z``
    hold the members' mean raw scores and z-scores, a row per cluster; a segment is
    named after its one or two highest z-scores (the positive ones, or the highest
    when none is).
    """
    order = np.argsort(-sizes, kind="stable")
    codes = np.empty(len(order), dtype=object)
    segments, drivers = [], [""] * len(order)
    used_names: set[str] = set()
    for rank, cluster in enumerate(order, start=1):
        codes[cluster] = code = f"N{rank}"
        top = np.argsort(-z[cluster], kind="stable")[:2]
        dominant = [i for i in top if z[cluster][i] > 0] or [top[0]]
        name = " & ".join(needs[i].capitalize() for i in dominant)
        while name in used_names:
            name += " (alt)"
        used_names.add(name)
        drivers[cluster] = f"segment {code} is driven by " + " and ".join(
            f"{needs[i]} ({raw[cluster][i]:.1f})" for i in dominant
        )
        profile: list[tuple[str, str]] = []
        for i, need in enumerate(needs):
            profile.append((need, f"{raw[cluster][i]:.2f}"))
            profile.append((f"{need}.zScore", f"{z[cluster][i]:+.2f}"))
        description = " and ".join(needs[i] for i in dominant)
        segments.append(
            SegmentDefinition(
                code=code,
                name=name,
                description=f"Customers driven by {description}",
                profile=tuple(profile),
            )
        )
    return SegmentDescription(codes, segments, drivers)


def fit_kmeans(
    data: Matrix, k: int, n_init: int, seed: int, sample: Labels | None = None
) -> KMeans:
    """k-means with ``n_init`` initialisations.

    With a ``sample`` (row indices) smaller than the data, the initialisations
    compete on the sample and the best centres seed one fit on all rows: the
    choice among initialisations costs a bounded sample, not n_init full passes.
    """
    if sample is None or n_init == 1 or len(sample) >= len(data):
        return KMeans(k, n_init=n_init, random_state=seed).fit(data)
    seeded = KMeans(k, n_init=n_init, random_state=seed).fit(data[sample])
    return KMeans(k, init=seeded.cluster_centers_, n_init=1, random_state=seed).fit(data)


def silhouette(data: Matrix, labels: Labels) -> float:
    """Silhouette of ``labels``; 0 when there are fewer than 2 clusters or only singletons."""
    found = len(np.unique(labels))
    if found < 2 or found >= len(data):
        return 0.0
    # The pairwise distances in chunks of at most this many MB: scikit-learn's default
    # (1 GB) put a 5,000-row sample's whole 200 MB matrix in memory at once, and
    # cache-sized chunks also took a third of the time (same score).
    with sklearn.config_context(working_memory=SILHOUETTE_WORKING_MB):
        return float(silhouette_score(data, labels))


def calinski_harabasz(data: Matrix, labels: Labels) -> float:
    """Calinski-Harabasz index of ``labels``; 0 where it is undefined."""
    found = len(np.unique(labels))
    if found < 2 or found >= len(data):
        return 0.0
    score = float(calinski_harabasz_score(data, labels))
    return score if np.isfinite(score) else 0.0


def calinski_harabasz_of_sums(
    centres: Matrix, counts: npt.NDArray[np.intp], offsets: Matrix, squares: Matrix
) -> float:
    """``calinski_harabasz`` from per-cluster sums, which add up over partitions.

    Per cluster: ``counts`` members, ``offsets`` the sum of their offsets from the
    cluster's row of ``centres`` and ``squares`` the sum of those offsets' squared
    norms. Offsets from a centre near the members' mean keep the difference
    ``squares - |offsets|² / count`` (the cluster's dispersion) accurate.
    """
    found = counts > 0
    n, n_labels = int(counts.sum()), int(found.sum())
    if n_labels < 2 or n_labels >= n:
        return 0.0
    sizes = counts[found].astype(np.float64)
    means = centres[found] + offsets[found] / sizes[:, None]
    overall = (sizes[:, None] * means).sum(axis=0) / n
    extra = float((sizes * ((means - overall) ** 2).sum(axis=1)).sum())
    dispersion = squares[found] - (offsets[found] ** 2).sum(axis=1) / sizes
    intra = float(np.where(dispersion > squares[found] * 1e-12, dispersion, 0.0).sum())
    score = 1.0 if intra == 0.0 else extra * (n - n_labels) / (intra * (n_labels - 1.0))
    return score if np.isfinite(score) else 0.0


def choose_k(sample: Matrix, k_range: tuple[int, int], n_init: int, seed: int) -> int:
    """The k in ``k_range`` (bounded by the sample size) with the best silhouette on the sample."""
    best_k, best_score = k_range[0], -np.inf
    for k in range(k_range[0], min(k_range[1], len(sample) - 1) + 1):
        score = silhouette(sample, fit_kmeans(sample, k, n_init, seed).labels_)
        if score > best_score:
            best_k, best_score = k, score
    return best_k


def bootstrap_stability(
    sample: Matrix,
    labels: Labels,
    k: int,
    n_init: int,
    resamples: int,
    rng: np.random.Generator,
) -> float:
    """Mean adjusted Rand index between ``labels`` and k-means refits on bootstrap resamples.

    Each refit (same k and n_init) is fitted on a resample, drawn with
    replacement, of the ``sample`` rows and predicts every sample row.
    A resample with fewer distinct rows than k still counts: k-means then
    warns and leaves clusters empty, which lowers the agreement as it should.
    """
    agreements = np.empty(resamples)
    for i in range(resamples):
        rows = rng.integers(len(sample), size=len(sample))
        seed = int(rng.integers(SEED_BOUND))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            refit = fit_kmeans(sample[rows], k, n_init, seed)
        agreements[i] = adjusted_rand_score(labels, refit.predict(sample))
    return float(agreements.mean())


def check_parameters(params: dict[str, Any]) -> None:
    """ValueError naming the first NeedsBasedSegmenter parameter outside its range."""
    check_int("n_segments", params["n_segments"], 1, allow_none=True)
    share = params["min_answered_share"]
    if isinstance(share, bool) or not isinstance(share, Real) or not 0 <= float(share) <= 1:
        raise ValueError(f"min_answered_share must be between 0 and 1, got {share!r}")
    if not isinstance(params["centre_respondents"], (bool, np.bool_)):
        raise ValueError(f"centre_respondents must be a bool, got {params['centre_respondents']!r}")
    check_int("pca_components", params["pca_components"], 1, allow_none=True)
    check_int("sample_size", params["sample_size"], 2)
    check_int("n_init", params["n_init"], 1)
    check_int("stability_resamples", params["stability_resamples"], 0)
    n_segments, sample_size = params["n_segments"], params["sample_size"]
    if n_segments is not None and sample_size <= n_segments:
        raise ValueError(f"sample_size={sample_size} must exceed n_segments={n_segments}")


def check_int(name: str, value: object, minimum: int, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < minimum:
        expected = f"an integer ≥ {minimum}" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {expected}, got {value!r}")
