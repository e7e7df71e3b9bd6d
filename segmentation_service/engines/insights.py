"""What sets a segment apart from a baseline, from sums over the two groups.

Every feature is tested against the rest of the baseline (the baseline without the
segment, so the two samples are independent): a share by Fisher's exact test where a
cell expects fewer than five customers and by the chi-square test (Yates' correction)
otherwise; a number by Welch's t-test. The p-values are adjusted for the number of
features tested (Benjamini-Hochberg, false discovery rate ``SIGNIFICANCE``); the
significant features are ranked by effect size (Cohen's h for shares, the standardised
difference for numbers), so the strongest comes first whatever its kind.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from segmentation_service.domain.insights import (
    Differentiator,
    FigureMoments,
    ShareCounts,
)

SIGNIFICANCE = 0.05
MAX_DIFFERENTIATORS = 20
SMALL_EXPECTED_COUNT = 5


@dataclass(frozen=True)
class _Tested:
    answer: Differentiator  # p_value still unadjusted
    effect: float


def differentiators(
    shares: Sequence[ShareCounts],
    figures: Sequence[FigureMoments],
    baseline_includes_segment: bool,
    significance: float = SIGNIFICANCE,
    limit: int = MAX_DIFFERENTIATORS,
) -> list[Differentiator]:
    """The features that set the segment apart, strongest first, at most ``limit``.

    ``baseline_includes_segment``: the baseline is everyone (segment included), so its
    value is the two groups' together; otherwise it is the rest alone (another segment).
    """
    tested = [
        found
        for found in (
            *(_share(counts, baseline_includes_segment) for counts in shares),
            *(_figure(moments, baseline_includes_segment) for moments in figures),
        )
        if found is not None
    ]
    if not tested:
        return []
    adjusted = stats.false_discovery_control([t.answer.p_value for t in tested], method="bh")
    kept = [(t, float(p)) for t, p in zip(tested, adjusted, strict=True) if float(p) < significance]
    kept.sort(key=lambda pair: (-abs(pair[0].effect), pair[1], pair[0].answer.feature))
    return [
        Differentiator(
            t.answer.feature, t.answer.segment_value, t.answer.baseline_value, t.answer.lift, p
        )
        for t, p in kept[:limit]
    ]


def _share(counts: ShareCounts, baseline_includes_segment: bool) -> _Tested | None:
    if counts.segment_size == 0 or counts.rest_size == 0:
        return None
    table = np.array(
        [
            [counts.in_segment, counts.segment_size - counts.in_segment],
            [counts.in_rest, counts.rest_size - counts.in_rest],
        ]
    )
    if (table.sum(axis=0) == 0).any():  # nobody, or everybody, has it: nothing to tell
        return None
    expected = stats.contingency.expected_freq(table)
    if expected.min() < SMALL_EXPECTED_COUNT:
        p_value = float(stats.fisher_exact(table).pvalue)
    else:
        p_value = float(stats.chi2_contingency(table, correction=True).pvalue)
    segment = counts.in_segment / counts.segment_size
    if baseline_includes_segment:
        size = counts.segment_size + counts.rest_size
        baseline = (counts.in_segment + counts.in_rest) / size
    else:
        size, baseline = counts.rest_size, counts.in_rest / counts.rest_size
    # A share the baseline lacks: half a customer of it (Haldane-Anscombe), not infinity.
    lift = segment / max(baseline, 0.5 / size)
    effect = 2 * math.asin(math.sqrt(segment)) - 2 * math.asin(math.sqrt(baseline))
    return _Tested(Differentiator(counts.feature, segment, baseline, lift, p_value), effect)


def _figure(moments: FigureMoments, baseline_includes_segment: bool) -> _Tested | None:
    segment, rest = moments.segment, moments.rest
    if segment.count < 2 or rest.count < 2:
        return None
    baseline = segment + rest if baseline_includes_segment else rest
    spread = math.sqrt(baseline.variance)
    if spread == 0.0:
        return None
    result = stats.ttest_ind_from_stats(
        segment.mean,
        math.sqrt(segment.variance),
        segment.count,
        rest.mean,
        math.sqrt(rest.variance),
        rest.count,
        equal_var=False,
    )
    p_value = float(result.pvalue)
    if math.isnan(p_value):
        return None
    lift = (segment.mean - baseline.mean) / spread
    return _Tested(
        Differentiator(moments.feature, segment.mean, baseline.mean, lift, p_value), lift
    )


def jaccard(shared: int, size: int, other_size: int) -> float:
    """Shared customers over the customers of either segment."""
    either = size + other_size - shared
    return shared / either if either else 0.0
