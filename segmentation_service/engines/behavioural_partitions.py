"""Behavioural runs in partitions: k-means fitted on a bounded sample, applied to everyone.

As needs-based runs (``needs_partitions``): ``summarise`` keeps each partition's
candidates for the fit sample, the customers with a purchase in the window whose
key (a hash of the seed and customer id) is among the ``fit_sample_size``
smallest, as counts (``BehaviourCounts``, which do not depend on the run's channel
and category names); ``fit`` builds the sample's features over every partition's
names and fits ``BehaviouralSegmenter`` on it, in customer_id order, so a run with
at most ``fit_sample_size`` purchasers gives exactly the in-memory engine's result.
When the sample leaves purchasers out, ``refine`` sums each cluster's feature
values per partition and ``settle`` describes the segments (codes by size,
profiles, names) and computes ``behaviour.calinskiHarabasz`` over everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import clone

from segmentation_service.domain.model import BehaviourFeature
from segmentation_service.engines.behaviour_features import (
    ALL_FAMILIES,
    BehaviourCounts,
    BehaviourWindow,
    behaviour_features,
)
from segmentation_service.engines.behavioural import (
    BehaviouralSegmenter,
    BehaviourDescription,
)
from segmentation_service.engines.clustering import (
    Matrix,
    calinski_harabasz_of_sums,
    group_sums,
    sums_to_means,
)
from segmentation_service.engines.needs_partitions import (
    FIT_SAMPLE_SIZE,
    checked_fit_sample_size,
)
from segmentation_service.engines.partitions import (
    PartitionInput,
    PartitionOutput,
    RunOutcome,
    SegmentTotals,
    assignment_frame,
    sample_keys,
)


@dataclass(frozen=True)
class BehaviourSummary:
    """One partition (or several): customers, those who bought in the window, the channel
    and category names seen, and the candidates for the fit sample."""

    customers: int
    purchasers: int
    channels: frozenset[str]
    categories: frozenset[str]
    candidates: BehaviourCounts


@dataclass(frozen=True)
class BehaviourModel:
    segmenter: BehaviouralSegmenter
    description: BehaviourDescription
    metrics: dict[str, float]
    sampled: bool


@dataclass(frozen=True)
class BehaviourSums:
    """Per k-means cluster: members, sums of their feature values, and of their offsets
    from the centre in the clustering space and those offsets' squared norms."""

    counts: npt.NDArray[np.intp]
    features: Matrix
    offsets: Matrix
    squares: Matrix

    @classmethod
    def merge(cls, parts: Sequence[BehaviourSums]) -> BehaviourSums:
        return cls(
            np.sum([part.counts for part in parts], axis=0),
            np.sum([part.features for part in parts], axis=0),
            np.sum([part.offsets for part in parts], axis=0),
            np.sum([part.squares for part in parts], axis=0),
        )


class BehaviouralPartitionPlan:
    """``PartitionPlan`` of a ``BehaviouralSegmenter`` over ``families`` in ``window``."""

    def __init__(
        self,
        window: BehaviourWindow,
        families: Sequence[BehaviourFeature] = ALL_FAMILIES,
        n_segments: int | None = None,
        random_state: int | None = None,
        sample_size: int = 5000,
        n_init: int = 10,
        stability_resamples: int = 10,
        fit_sample_size: int = FIT_SAMPLE_SIZE,
    ) -> None:
        self.window = window
        self.families = tuple(families)
        self.segmenter = BehaviouralSegmenter(
            n_segments, sample_size, n_init, stability_resamples, random_state
        )
        self.fit_sample_size = fit_sample_size

    def summarise(self, data: PartitionInput) -> BehaviourSummary:
        counts = _counts(data)
        return BehaviourSummary(
            len(data.customers),
            len(counts.purchasers),
            frozenset(counts.channels.columns),
            frozenset(counts.categories.columns),
            self._candidates(counts),
        )

    def combine(self, summaries: Sequence[BehaviourSummary]) -> BehaviourSummary:
        merged = _merge(summaries)
        return replace(merged, candidates=self._candidates(merged.candidates))

    def fit(self, summaries: Sequence[BehaviourSummary]) -> BehaviourModel:
        merged = _merge(summaries)
        segmenter: BehaviouralSegmenter = clone(self.segmenter)
        size = self._checked_sample_size()
        segmenter.check_counts(merged.purchasers)
        sample = self._candidates(merged.candidates)
        segmenter.fit(self._features(sample, merged))
        for name in ("labels_", "scores_", "reasons_"):  # per sample row: not sent to tasks
            delattr(segmenter, name)
        metrics = segmenter.metrics_ | {
            "behaviour.customers": float(merged.purchasers),
            "behaviour.withoutPurchases": float(merged.customers - merged.purchasers),
        }
        return BehaviourModel(
            segmenter, segmenter.description_, metrics, sampled=merged.purchasers > size
        )

    def refines(self, model: BehaviourModel) -> bool:
        return model.sampled

    def refine(self, data: PartitionInput, model: BehaviourModel) -> BehaviourSums:
        segmenter = model.segmenter
        placed = segmenter.place(self._features_for(data, segmenter))
        centres = segmenter.kmeans_.cluster_centers_
        k, clusters = len(centres), placed.clusters
        offsets = placed.space - centres[clusters]
        return BehaviourSums(
            np.bincount(clusters, minlength=k),
            group_sums(placed.features, clusters, k),
            group_sums(offsets, clusters, k),
            np.bincount(clusters, (offsets**2).sum(axis=1), k).astype(np.float64, copy=False),
        )

    def settle(self, model: BehaviourModel, refinements: Sequence[BehaviourSums]) -> BehaviourModel:
        sums, segmenter = BehaviourSums.merge(refinements), model.segmenter
        description = segmenter.describe(sums_to_means(sums.features, sums.counts), sums.counts)
        centres = segmenter.kmeans_.cluster_centers_
        score = calinski_harabasz_of_sums(centres, sums.counts, sums.offsets, sums.squares)
        metrics = model.metrics | {"behaviour.calinskiHarabasz": score}
        return replace(model, description=description, metrics=metrics)

    def assign(self, data: PartitionInput, model: BehaviourModel) -> PartitionOutput:
        ids = data.customers.index
        features = self._features_for(data, model.segmenter)
        labels = np.full(len(ids), None, dtype=object)
        scores = np.full(len(ids), np.nan)
        reasons = np.full(
            len(ids),
            f"no purchase between {self.window.start} (exclusive) and {self.window.as_of}",
            dtype=object,
        )
        if len(features):
            rows = ids.get_indexer(features.index)
            labels[rows], scores[rows], reasons[rows] = model.segmenter.assign(
                features, model.description
            )
        margin = data.features["margin"].to_numpy(dtype=float)
        frame = assignment_frame(ids, labels, scores, margin, reasons)
        return PartitionOutput(frame, SegmentTotals.of(labels, margin, data.profitability))

    def finish(self, model: BehaviourModel, partials: Sequence[SegmentTotals]) -> RunOutcome:
        segments = SegmentTotals.merge(partials).segments(model.description.segments)
        return RunOutcome(segments, dict(model.metrics))

    def _features(self, counts: BehaviourCounts, merged: BehaviourSummary) -> pd.DataFrame:
        return behaviour_features(
            counts,
            self.window,
            self.families,
            sorted(merged.channels),
            sorted(merged.categories),
        )

    def _features_for(self, data: PartitionInput, segmenter: BehaviouralSegmenter) -> pd.DataFrame:
        """The partition's features over the run's channel and category names."""
        names = segmenter.features_
        channels = [n.split(".", 1)[1] for n in names if n.startswith("channel.")]
        categories = [n.split(".", 1)[1] for n in names if n.startswith("category.")]
        return behaviour_features(_counts(data), self.window, self.families, channels, categories)

    def _candidates(self, counts: BehaviourCounts) -> BehaviourCounts:
        """The purchasers with the ``fit_sample_size`` smallest keys, in customer_id order."""
        purchasers = counts.purchasers
        keys = sample_keys(purchasers, self.segmenter.random_state)
        chosen = np.sort(np.argsort(keys, kind="stable")[: self._checked_sample_size()])
        return counts.take(purchasers[chosen])

    def _checked_sample_size(self) -> int:
        return checked_fit_sample_size(self.fit_sample_size, self.segmenter.n_segments)


def _merge(summaries: Sequence[BehaviourSummary]) -> BehaviourSummary:
    return BehaviourSummary(
        sum(summary.customers for summary in summaries),
        sum(summary.purchasers for summary in summaries),
        frozenset().union(*(summary.channels for summary in summaries)),
        frozenset().union(*(summary.categories for summary in summaries)),
        BehaviourCounts.concat([summary.candidates for summary in summaries]),
    )


def _counts(data: PartitionInput) -> BehaviourCounts:
    if data.behaviour is None:
        raise ValueError("a behavioural partition needs its behaviour counts")
    return data.behaviour
