"""Needs-based runs in partitions: k-means fitted on a bounded sample, applied to everyone.

``summarise`` keeps each partition's candidates for the fit sample; ``fit`` merges
them into the sample, the at most ``fit_sample_size`` eligible respondents with the
smallest keys, a pseudo-random hash of (random_seed, customer_id): the sample is
the same whatever the partitioning. ``NeedsBasedSegmenter`` is fitted on it, in
customer_id order, so a run with at most ``fit_sample_size`` eligible respondents
gives exactly what the in-memory engine gives on everyone.

Computed on the sample: the preprocessing (imputation means, scaler, PCA and
``needs.pcaExplainedVariance``), k, the k-means centres, ``needs.silhouette`` and
``needs.stability`` (on the engine's own ``sample_size`` rows of the sample).
Computed on every eligible respondent: each one's cluster, distance and reason,
the segments' sizes, codes (N1..Nk by size), profiles, names and drivers,
``needs.calinskiHarabasz``, ``needs.respondents`` and ``needs.imputedAnswers``.
When the sample leaves respondents out, the profiles and drivers need every
partition's clusters before any reason is written: ``refine`` sums each
cluster's members per partition and ``settle`` describes the segments from the
sums; otherwise the sample fit's description is already everyone's.

Eligibility needs the global need list, which a partition does not know: it
keeps a candidate when fewer than ``fit_sample_size`` of its rows that answered
at least as many needs have smaller keys. Any row of the global sample qualifies
(those rows are eligible too, and ahead of it in the sample), and a row's count
of answered needs is the same over the partition's needs and the global ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from numbers import Integral

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import clone

from segmentation_service.engines.clustering import (
    Matrix,
    SegmentDescription,
    calinski_harabasz_of_sums,
    check_parameters,
    describe_segments,
    group_sums,
    sums_to_means,
)
from segmentation_service.engines.needs_based import (
    AUTO_K_RANGE,
    NeedsBasedSegmenter,
    Placement,
    needs_matrix,
)
from segmentation_service.engines.partitions import (
    PartitionInput,
    PartitionOutput,
    RunOutcome,
    SegmentTotals,
    assignment_frame,
    sample_keys,
)

# Eligible respondents the k-means model is fitted on. Fitting 100k × 8 took ~1 s with a
# given k and ~5 s choosing k (200k: ~3 s and ~6.5 s) on a busy 2-core machine. Its up to
# 10 segments average 10k members: the centres' sampling error is ~1% of a standard
# deviation. Stores of at most 100k respondents get exactly the in-memory engine's run.
FIT_SAMPLE_SIZE = 100_000


@dataclass(frozen=True)
class NeedsSummary:
    """One partition: customers, customers by number of needs answered, needs answered,
    and its candidates for the fit sample (needs matrix rows, indexed by customer_id).

    There are at most ``fit_sample_size`` candidates per number of needs answered, and
    about ``fit_sample_size`` in all when that number does not depend on the keys.
    """

    customers: int
    answered_histogram: tuple[int, ...]
    needs: tuple[str, ...]
    candidates: pd.DataFrame


@dataclass(frozen=True)
class NeedsModel:
    """The segmenter fitted on the sample (without its per-row attributes), the segments'
    description (codes and drivers per k-means cluster), the metrics, and whether the
    sample left eligible respondents out (then the description waits for ``settle``)."""

    segmenter: NeedsBasedSegmenter
    description: SegmentDescription
    metrics: dict[str, float]
    sampled: bool


@dataclass(frozen=True)
class ClusterSums:
    """Per k-means cluster: members, sums of their raw answers and standardised needs, and
    of their offsets from the centre in the clustering space and those offsets' squares."""

    counts: npt.NDArray[np.intp]
    raw: Matrix
    scaled: Matrix
    offsets: Matrix
    squares: Matrix

    @classmethod
    def of(cls, placed: Placement, centres: Matrix) -> ClusterSums:
        k, clusters = len(centres), placed.clusters
        offsets = placed.space - centres[clusters]
        return cls(
            np.bincount(clusters, minlength=k),
            group_sums(placed.raw, clusters, k),
            group_sums(placed.scaled, clusters, k),
            group_sums(offsets, clusters, k),
            np.bincount(clusters, (offsets**2).sum(axis=1), k).astype(np.float64, copy=False),
        )

    @classmethod
    def merge(cls, parts: Sequence[ClusterSums]) -> ClusterSums:
        names = ("counts", "raw", "scaled", "offsets", "squares")
        return cls(*(np.sum([getattr(part, name) for part in parts], axis=0) for name in names))


class NeedsBasedPartitionPlan:
    """``PartitionPlan`` of a ``NeedsBasedSegmenter`` with these parameters, fitted on at most
    ``fit_sample_size`` eligible respondents (see the module docstring)."""

    def __init__(
        self,
        n_segments: int | None = None,
        min_answered_share: float = 0.5,
        centre_respondents: bool = False,
        pca_components: int | None = None,
        sample_size: int = 5000,
        n_init: int = 10,
        stability_resamples: int = 10,
        random_state: int | None = None,
        fit_sample_size: int = FIT_SAMPLE_SIZE,
    ) -> None:
        self.segmenter = NeedsBasedSegmenter(
            n_segments,
            min_answered_share,
            centre_respondents,
            pca_components,
            sample_size,
            n_init,
            stability_resamples,
            random_state,
        )
        self.fit_sample_size = fit_sample_size

    def summarise(self, data: PartitionInput) -> NeedsSummary:
        matrix = _matrix(data)
        histogram = np.bincount(_answered(matrix), minlength=matrix.shape[1] + 1)
        return NeedsSummary(
            len(matrix),
            tuple(int(count) for count in histogram),
            tuple(matrix.columns),
            self._candidates(matrix),
        )

    def combine(self, summaries: Sequence[NeedsSummary]) -> NeedsSummary:
        """The summaries as one: counts added, candidates cut by the same rule over all of
        them (with more needs the threshold can only rise: no sample row is lost)."""
        merged = _merge(summaries)
        return replace(merged, candidates=self._candidates(merged.candidates))

    def _candidates(self, matrix: pd.DataFrame) -> pd.DataFrame:
        """The rows that may belong to the fit sample: kept where fewer than
        ``fit_sample_size`` rows answering at least as many needs have a smaller key."""
        size = self._checked_sample_size()
        answered = _answered(matrix)
        minimum = self.segmenter.required_answers(matrix.shape[1])
        keys = sample_keys(matrix.index, self.segmenter.random_state)
        order = np.argsort(keys, kind="stable")  # by key, then customer_id
        ranked, keep = answered[order], np.zeros(len(order), dtype=bool)
        for level in np.unique(ranked[ranked >= minimum]):
            keep |= (ranked == level) & (np.cumsum(ranked >= level) <= size)
        chosen: pd.DataFrame = matrix.iloc[np.sort(order[keep])]
        return chosen

    def fit(self, summaries: Sequence[NeedsSummary]) -> NeedsModel:
        """The segmenter fitted on the sample, with everyone's counts in its metrics.

        ValueError or InsufficientData where the engine's ``fit`` on everyone raises them.
        """
        segmenter: NeedsBasedSegmenter = clone(self.segmenter)
        check_parameters(segmenter.get_params())
        size = self._checked_sample_size()
        merged = _merge(summaries)
        needs, histogram = merged.needs, np.asarray(merged.answered_histogram)
        required = segmenter.required_answers(len(needs))
        eligible = int(histogram[required:].sum())
        segmenter.check_counts(merged.customers, len(needs), eligible)
        segmenter.fit(self._sample_of(merged))
        for name in ("labels_", "scores_", "reasons_"):  # per sample row: travels to every task
            delattr(segmenter, name)
        unanswered = np.arange(len(needs), -1, -1)[required:]
        metrics = segmenter.metrics_ | {
            "needs.respondents": float(eligible),
            "needs.imputedAnswers": float(unanswered @ histogram[required:]),
        }
        description = segmenter.description()
        return NeedsModel(segmenter, description, metrics, sampled=eligible > size)

    def sample(self, summaries: Sequence[NeedsSummary]) -> pd.DataFrame:
        """The fit sample: the eligible candidates with the ``fit_sample_size`` smallest keys,
        in customer_id order, a column per need of any partition (sorted)."""
        return self._sample_of(_merge(summaries))

    def _sample_of(self, merged: NeedsSummary) -> pd.DataFrame:
        candidates = merged.candidates
        required = self.segmenter.required_answers(len(merged.needs))
        candidates = candidates[_answered(candidates) >= required]
        keys = sample_keys(candidates.index, self.segmenter.random_state)
        chosen = np.sort(np.argsort(keys, kind="stable")[: self._checked_sample_size()])
        sample: pd.DataFrame = candidates.iloc[chosen]
        return sample

    def refines(self, model: NeedsModel) -> bool:
        return model.sampled

    def refine(self, data: PartitionInput, model: NeedsModel) -> ClusterSums:
        segmenter = model.segmenter
        placed = segmenter.place(_matrix(data, segmenter.needs_))
        return ClusterSums.of(placed, segmenter.kmeans_.cluster_centers_)

    def settle(self, model: NeedsModel, refinements: Sequence[ClusterSums]) -> NeedsModel:
        """Codes, profiles and drivers of every eligible respondent's clusters."""
        sums, segmenter = ClusterSums.merge(refinements), model.segmenter
        centres = segmenter.kmeans_.cluster_centers_
        description = describe_segments(
            segmenter.needs_,
            sums_to_means(sums.raw, sums.counts),
            sums_to_means(sums.scaled, sums.counts),
            sums.counts,
        )
        score = calinski_harabasz_of_sums(centres, sums.counts, sums.offsets, sums.squares)
        metrics = model.metrics | {"needs.calinskiHarabasz": score}
        return replace(model, description=description, metrics=metrics)

    def assign(self, data: PartitionInput, model: NeedsModel) -> PartitionOutput:
        matrix = _matrix(data, model.segmenter.needs_)
        labels, scores, reasons = model.segmenter.assign(matrix, model.description)
        margin = data.features["margin"].to_numpy(dtype=float)
        frame = assignment_frame(data.customers.index, labels, scores, margin, reasons)
        return PartitionOutput(frame, SegmentTotals.of(labels, margin, data.profitability))

    def finish(self, model: NeedsModel, partials: Sequence[SegmentTotals]) -> RunOutcome:
        segments = SegmentTotals.merge(partials).segments(model.description.segments)
        return RunOutcome(segments, dict(model.metrics))

    def _checked_sample_size(self) -> int:
        return checked_fit_sample_size(
            self.fit_sample_size, self.segmenter.n_segments, self.segmenter.pca_components
        )


def checked_fit_sample_size(size: object, n_segments: object, components: object = None) -> int:
    """``size`` as a fit sample size, which must leave the sample enough rows for the
    segments (and principal components): ValueError otherwise."""
    smallest_k = int(n_segments) if isinstance(n_segments, Integral) else AUTO_K_RANGE[0]
    least = max(2, smallest_k + 1)
    if isinstance(components, Integral) and not isinstance(components, bool):
        least = max(least, int(components))
    if isinstance(size, bool) or not isinstance(size, Integral) or size < least:
        raise ValueError(f"fit_sample_size must be an integer ≥ {least}, got {size!r}")
    return int(size)


def _merge(summaries: Sequence[NeedsSummary]) -> NeedsSummary:
    """The summaries added up: customers, the histogram, the needs of any partition, and
    every candidate (in customer_id order, a column per need), not yet cut."""
    needs = _needs(summaries)
    histogram = np.zeros(len(needs) + 1, dtype=np.int64)
    for summary in summaries:
        histogram[: len(summary.answered_histogram)] += summary.answered_histogram
    frames = [summary.candidates for summary in summaries if len(summary.candidates)]
    merged = pd.concat(frames).sort_index() if frames else pd.DataFrame()
    return NeedsSummary(
        sum(summary.customers for summary in summaries),
        tuple(int(count) for count in histogram),
        tuple(needs),
        merged.reindex(columns=needs).astype(float),
    )


def _needs(summaries: Sequence[NeedsSummary]) -> list[str]:
    return sorted({need for summary in summaries for need in summary.needs})


def _answered(matrix: pd.DataFrame) -> npt.NDArray[np.intp]:
    """Needs answered per row (as ``NeedsBasedSegmenter`` counts them)."""
    answered: npt.NDArray[np.intp] = (~np.isnan(matrix.to_numpy(dtype=float))).sum(axis=1)
    return answered


def _matrix(data: PartitionInput, needs: list[str] | None = None) -> pd.DataFrame:
    """The partition's needs matrix: its own needs (sorted), or ``needs`` (NaN where missing)."""
    if data.answers is not None and needs is not None:
        answers: pd.DataFrame = data.answers.reindex(index=data.customers.index, columns=needs)
        return answers.astype(float)
    if data.responses is None:
        raise ValueError("a needs-based partition needs its responses")
    matrix = needs_matrix(data.responses, data.customers.index)
    return matrix if needs is None else matrix.reindex(columns=needs).astype(float)
