"""Behavioural segmentation: k-means on how customers buy (``behaviour_features``).

Clustering space. The features are transformed so that every family weighs the
same and a segment is not just "big spenders":

- a mix (channel or category shares) is compositional: its shares are floored
  at ``MIX_FLOOR`` (a channel never used is "rare", not minus infinity), closed
  again to sum to 1 and mapped by the centred log-ratio (log share minus the
  mean log share of the row), which frees the shares from their sum constraint;
- skewed figures (purchases a year, basket, days between purchases, tenure,
  recency) are taken as log1p, the return rate as it is;
- every column is standardised, then divided by the square root of its family's
  column count: a mix of six channels weighs as much as the one basket column.

Profiles and names are in the features' own units: per feature its segment mean
and z-score (the mean's distance from the mean of all segmented customers, in
their standard deviations). A segment is named after its strongest distinguishing
behaviours ("Online-first, frequent", "Store-first, large baskets",
"Returns-heavy"); a customer's reason names their own two most distinctive ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from segmentation_service.domain.errors import InsufficientData
from segmentation_service.domain.model import SegmentDefinition
from segmentation_service.engines.base import FittedSegmentation
from segmentation_service.engines.behaviour_features import (
    CATEGORY_PREFIX,
    CHANNEL_PREFIX,
    LOGGED_FEATURES,
    MIX_FAMILIES,
    feature_family,
)
from segmentation_service.engines.clustering import (
    SEED_BOUND,
    Labels,
    Matrix,
    bootstrap_stability,
    calinski_harabasz,
    check_int,
    choose_k,
    fit_kmeans,
    group_means,
    silhouette,
    thread_limit,
)

AUTO_K_RANGE = (2, 10)
MIX_FLOOR = 0.01
CODE_PREFIX = "B"
# A behaviour names a segment when the segment's mean is at least this many standard
# deviations from everyone's.
NAMING_Z = 0.5
# A channel or category names a row (segment or customer) from this share of it.
DOMINANT_SHARE = 0.5


@dataclass(frozen=True)
class BehaviourDescription:
    """Per k-means cluster its segment code and a short text of its behaviours; the
    definitions in code order."""

    codes: npt.NDArray[np.object_]
    segments: list[SegmentDefinition]
    summaries: list[str]


@dataclass(frozen=True)
class BehaviourPlacement:
    """Where the fitted segmenter puts rows: cluster, distance to its centre (in the
    clustering space) and the rows' z-scores in feature units."""

    clusters: Labels
    distances: Matrix
    space: Matrix
    features: Matrix
    z: Matrix


class BehaviouralSegmenter(FittedSegmentation, ClusterMixin, BaseEstimator):
    """Cluster customers on their behaviour features (a ``behaviour_features`` frame).

    k is ``n_segments``, or the k in 2..10 with the best silhouette on a random
    sample of at most ``sample_size`` rows (as needs-based chooses it). Segments
    are coded B1..Bk by decreasing size. Metrics: ``behaviour.k``,
    ``behaviour.silhouette`` (on the sample), ``behaviour.calinskiHarabasz``,
    ``behaviour.stability`` (mean adjusted Rand index of ``stability_resamples``
    bootstrap refits; 0 resamples skip it), ``behaviour.customers``,
    ``behaviour.features``. ``place`` and ``assign`` apply the fitted model to other
    rows (a partitioned run fits on a sample).
    """

    def __init__(
        self,
        n_segments: int | None = None,
        sample_size: int = 5000,
        n_init: int = 10,
        stability_resamples: int = 10,
        random_state: int | None = None,
    ) -> None:
        self.n_segments = n_segments
        self.sample_size = sample_size
        self.n_init = n_init
        self.stability_resamples = stability_resamples
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: None = None) -> BehaviouralSegmenter:
        self._check(len(X), X.shape[1])
        self.features_ = [str(column) for column in X.columns]
        values = X.to_numpy(dtype=float)
        self.feature_means_ = values.mean(axis=0)
        self.feature_stds_ = values.std(axis=0)
        transformed = self._transform(values)
        self.scaler_ = StandardScaler().fit(transformed)
        self.weights_ = _family_weights(self.features_)
        space = self._space(transformed)
        rng = np.random.default_rng(self.random_state)
        sample = rng.choice(len(space), size=min(self.sample_size, len(space)), replace=False)
        k_seed, kmeans_seed = (int(seed) for seed in rng.integers(SEED_BOUND, size=2))
        k = self.n_segments
        if k is None:
            with thread_limit(len(sample)):
                k = choose_k(space[sample], AUTO_K_RANGE, self.n_init, k_seed)
        with thread_limit(len(space)):
            self.kmeans_ = fit_kmeans(space, k, self.n_init, kmeans_seed, sample)
        clusters: Labels = self.kmeans_.labels_
        counts = np.bincount(clusters, minlength=k)
        self.description_ = self.describe(group_means(values, clusters, k), counts)
        placement = self._placement(values, space, clusters)
        self.labels_, self.scores_, self.reasons_ = self.rows(placement, self.description_)
        self.segments_ = self.description_.segments
        with thread_limit(len(sample)):
            stability = {}
            if self.stability_resamples:
                stability["behaviour.stability"] = bootstrap_stability(
                    space[sample], clusters[sample], k, self.n_init, self.stability_resamples, rng
                )
            self.metrics_ = {
                "behaviour.k": float(k),
                "behaviour.silhouette": silhouette(space[sample], clusters[sample]),
                "behaviour.calinskiHarabasz": calinski_harabasz(space, clusters),
                **stability,
                "behaviour.customers": float(len(values)),
                "behaviour.features": float(len(self.features_)),
            }
        return self

    def place(self, X: pd.DataFrame) -> BehaviourPlacement:
        """Cluster, distance and z-scores of each row of ``X`` (columns as in fit)."""
        check_is_fitted(self)
        values = X.reindex(columns=self.features_).to_numpy(dtype=float)
        if len(values) == 0:
            empty = np.empty((0, len(self.features_)))
            return BehaviourPlacement(np.empty(0, dtype=np.intp), np.empty(0), empty, empty, empty)
        space = self._space(self._transform(values))
        with thread_limit(len(space)):
            clusters: Labels = self.kmeans_.predict(space)
        return self._placement(values, space, clusters)

    def assign(
        self, X: pd.DataFrame, description: BehaviourDescription | None = None
    ) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64], npt.NDArray[np.object_]]:
        """Label, score (distance to the centre) and reason of each row of ``X``."""
        return self.rows(self.place(X), description or self.description_)

    def describe(self, means: Matrix, counts: npt.NDArray[np.intp]) -> BehaviourDescription:
        """Codes B1..Bk by decreasing ``counts``; names and profiles from each cluster's
        feature ``means`` (a row per cluster)."""
        z = self._z(means)
        order = np.argsort(-counts, kind="stable")
        codes = np.empty(len(order), dtype=object)
        segments: list[SegmentDefinition] = []
        summaries = [""] * len(order)
        used: set[str] = set()
        for rank, cluster in enumerate(order, start=1):
            codes[cluster] = code = f"{CODE_PREFIX}{rank}"
            traits = _traits(self.features_, means[cluster], z[cluster], segment=True)
            # the two strongest, a channel first ("Online-first, frequent")
            named = sorted(traits[:2], key=lambda trait: not trait.phrase.endswith("-first"))
            name = ", ".join(trait.phrase for trait in named) or "Typical buyers"
            name = name[0].upper() + name[1:]
            while name in used:
                name += " (alt)"
            used.add(name)
            summaries[cluster] = f"segment {code}: " + ", ".join(trait.text for trait in traits[:2])
            profile: list[tuple[str, str]] = []
            for i, feature in enumerate(self.features_):
                profile.append((feature, f"{means[cluster][i]:.2f}"))
                profile.append((f"{feature}.zScore", f"{z[cluster][i]:+.2f}"))
            described = "; ".join(trait.text for trait in traits[:3]) or "no behaviour stands out"
            segments.append(
                SegmentDefinition(code, name, f"Customers who buy so: {described}", tuple(profile))
            )
        return BehaviourDescription(codes, segments, summaries)

    def rows(
        self, placement: BehaviourPlacement, description: BehaviourDescription
    ) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64], npt.NDArray[np.object_]]:
        """Labels, scores and reasons: a reason names the row's own two most distinctive
        behaviours (largest |z|; of a mix only the parts used more than most), then its
        segment's."""
        labels = np.asarray(description.codes[placement.clusters], dtype=object)
        n, width = placement.z.shape
        strength = np.abs(placement.z)
        mixes = np.array([feature_family(f) in MIX_FAMILIES for f in self.features_], dtype=bool)
        dominant = _dominant(placement.z[:, mixes], placement.features[:, mixes])
        strength[:, mixes] = np.where(dominant, strength[:, mixes], -1.0)
        top = np.argsort(-strength, axis=1, kind="stable")[:, : min(2, width)]
        rows = np.arange(n)[:, None]
        above = placement.z[rows, top] > 0
        values = placement.features[rows, top]
        phrases = [[_phrase(f, 1.0), _phrase(f, -1.0)] for f in self.features_]
        formats = [_formatter(f) for f in self.features_]
        reasons = np.empty(n, dtype=object)
        for row, (picked, ups, figures, cluster, distance) in enumerate(
            zip(
                top.tolist(),
                above.tolist(),
                values.tolist(),
                placement.clusters.tolist(),
                placement.distances.tolist(),
                strict=True,
            )
        ):
            own = " and ".join(
                f"{phrases[f][0 if up else 1]} ({formats[f](v)})"
                for f, up, v in zip(picked, ups, figures, strict=True)
            )
            reasons[row] = (
                f"{own}; {description.summaries[cluster]}; distance to the segment centre "
                f"{distance:.2f}"
            )
        return labels, placement.distances.astype(np.float64), reasons

    def check_counts(self, n_customers: int) -> None:
        """Raise what ``fit`` raises for ``n_customers`` segmentable customers."""
        self._check(n_customers, 1)

    def _check(self, n_customers: int, n_features: int) -> None:
        check_int("n_segments", self.n_segments, 2, allow_none=True)
        check_int("sample_size", self.sample_size, 2)
        check_int("n_init", self.n_init, 1)
        check_int("stability_resamples", self.stability_resamples, 0)
        if n_features == 0:
            raise InsufficientData("no behaviour features were chosen")
        smallest_k = self.n_segments or AUTO_K_RANGE[0]
        if n_customers <= smallest_k:
            raise InsufficientData(
                f"{n_customers} customers bought in the window; more than {smallest_k} are "
                f"needed to form {smallest_k} segments"
            )

    def _placement(self, values: Matrix, space: Matrix, clusters: Labels) -> BehaviourPlacement:
        distances = np.linalg.norm(space - self.kmeans_.cluster_centers_[clusters], axis=1)
        return BehaviourPlacement(clusters, distances, space, values, self._z(values))

    def _z(self, values: Matrix) -> Matrix:
        stds = np.where(self.feature_stds_ > 0, self.feature_stds_, 1.0)
        z: Matrix = (values - self.feature_means_) / stds
        return z

    def _transform(self, values: Matrix) -> Matrix:
        """Centred log-ratios of the floored mixes, log1p of the skewed figures."""
        out = values.copy()
        for prefix in (CHANNEL_PREFIX, CATEGORY_PREFIX):
            columns = [i for i, name in enumerate(self.features_) if name.startswith(prefix)]
            if columns:
                out[:, columns] = _clr(values[:, columns])
        for i, name in enumerate(self.features_):
            if name in LOGGED_FEATURES:
                out[:, i] = np.log1p(np.clip(values[:, i], 0.0, None))
        return out

    def _space(self, transformed: Matrix) -> Matrix:
        space: Matrix = self.scaler_.transform(transformed) * self.weights_
        return space


@dataclass(frozen=True)
class _Trait:
    phrase: str  # for a segment name: "online-first"
    text: str  # with the figure: "online 82% of purchases"
    strength: float


def _traits(
    features: Sequence[str], means: Matrix, z: Matrix, segment: bool = False
) -> list[_Trait]:
    """The behaviours that set a row apart, strongest first (|z| ≥ NAMING_Z for a segment)."""
    traits: list[_Trait] = []
    for i, feature in enumerate(features):
        score = float(z[i])
        if not math.isfinite(score) or score == 0.0:
            continue
        if feature_family(feature) in MIX_FAMILIES and not _dominant(score, float(means[i])):
            continue
        phrase = _phrase(feature, score)
        if segment and abs(score) < NAMING_Z:
            continue
        traits.append(_Trait(phrase, f"{phrase} ({_formatter(feature)(means[i])})", abs(score)))
    traits.sort(key=lambda trait: -trait.strength)
    return traits


def _dominant(z: Any, share: Any) -> Any:
    """Whether a mix part describes the row: used more than by most (z > 0) and for at
    least half of it ("online-first"; a third online in an even mix is not)."""
    return (z > 0) & (share >= DOMINANT_SHARE)


_NUMBER_PHRASES = {
    "purchasesPerYear": ("frequent", "occasional"),
    "averageBasket": ("large baskets", "small baskets"),
    "returnRate": ("returns-heavy", "few returns"),
    "daysBetweenPurchases": ("long gaps between purchases", "short gaps between purchases"),
    "tenureYears": ("long-standing", "new"),
    "recencyDays": ("lapsing", "recently active"),
}


def _phrase(feature: str, z: float) -> str:
    if feature.startswith(CHANNEL_PREFIX):
        return f"{feature[len(CHANNEL_PREFIX) :].lower()}-first"
    if feature.startswith(CATEGORY_PREFIX):
        return f"{feature[len(CATEGORY_PREFIX) :].lower()} buyers"
    above, below = _NUMBER_PHRASES[feature]
    return above if z > 0 else below


def _formatter(feature: str) -> Callable[[float], str]:
    """How a feature's figure reads in a sentence: shares in %, rates, money, days."""
    if feature.startswith((CHANNEL_PREFIX, CATEGORY_PREFIX)):
        return lambda value: (
            f"{value:.0%} of purchases"
            if feature.startswith(CHANNEL_PREFIX)
            else f"{value:.0%} of spend"
        )
    return {
        "returnRate": lambda value: f"{value:.0%} returned",
        "purchasesPerYear": lambda value: f"{value:.1f} purchases a year",
        "averageBasket": lambda value: f"{value:.2f} a purchase",
        "tenureYears": lambda value: f"{value:.1f} years a customer",
        "daysBetweenPurchases": lambda value: f"{value:.0f} days between purchases",
        "recencyDays": lambda value: f"last purchase {value:.0f} days ago",
    }[feature]


def _clr(shares: Matrix) -> Matrix:
    floored = np.clip(shares, MIX_FLOOR, None)
    logs = np.log(floored / floored.sum(axis=1, keepdims=True))
    centred: Matrix = logs - logs.mean(axis=1, keepdims=True)
    return centred


def _family_weights(features: Sequence[str]) -> Matrix:
    families = [feature_family(feature) for feature in features]
    sizes = {family: families.count(family) for family in set(families)}
    return np.array([1.0 / math.sqrt(sizes[family]) for family in families])
