"""The differentiator engine: which test, which correction, which order, and no NaN."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from segmentation_service.domain.insights import FigureMoments, Moments, ShareCounts
from segmentation_service.engines.insights import differentiators, jaccard


def moments(values: list[float]) -> Moments:
    return Moments(len(values), sum(values), sum(v * v for v in values))


def test_p_values_are_adjusted_for_every_feature_tested_benjamini_hochberg() -> None:
    shares = [
        ShareCounts("region=North", 60, 100, 100, 400),  # 60% against 25%
        ShareCounts("region=South", 20, 100, 100, 400),  # alike
        ShareCounts("type=B2B", 52, 100, 200, 400),  # alike
    ]
    raw = [
        stats.chi2_contingency(
            [[s.in_segment, s.segment_size - s.in_segment], [s.in_rest, s.rest_size - s.in_rest]]
        ).pvalue
        for s in shares
    ]
    adjusted = stats.false_discovery_control(raw, method="bh")

    (found,) = differentiators(shares, [], baseline_includes_segment=True)

    assert found.feature == "region=North"
    assert found.p_value == pytest.approx(adjusted[0]) and found.p_value > raw[0]
    assert found.segment_value == 0.6 and found.baseline_value == pytest.approx(160 / 500)
    assert found.lift == pytest.approx(0.6 / (160 / 500))


def test_small_counts_use_fishers_exact_test() -> None:
    rare = ShareCounts("industry=Mining", 4, 10, 0, 40)
    (found,) = differentiators([rare], [], baseline_includes_segment=False)
    expected = stats.fisher_exact([[4, 6], [0, 40]]).pvalue
    assert found.p_value == pytest.approx(expected)
    # The baseline lacks it: the lift divides by half a customer of it, not by zero.
    assert found.baseline_value == 0.0 and found.lift == pytest.approx(0.4 / (0.5 / 40))


def test_numbers_use_welchs_test_and_lift_in_baseline_standard_deviations() -> None:
    segment = [8.0, 9.0, 7.5, 8.5, 9.5, 8.0]
    rest = [5.0, 4.0, 6.0, 5.5, 4.5, 5.0, 6.5, 3.5]
    figure = FigureMoments("need:price", moments(segment), moments(rest))

    (found,) = differentiators([], [figure], baseline_includes_segment=False)

    assert found.p_value == pytest.approx(stats.ttest_ind(segment, rest, equal_var=False).pvalue)
    spread = stats.tstd(rest)
    assert found.lift == pytest.approx((sum(segment) / 6 - sum(rest) / 8) / spread)


def test_the_strongest_effect_comes_first_whatever_its_kind() -> None:
    big_share = ShareCounts("region=North", 90, 100, 50, 400)
    small_number = FigureMoments(
        "revenue",
        moments([10.0 + i % 5 for i in range(100)]),
        moments([9.0 + i % 5 for i in range(400)]),
    )
    found = differentiators([big_share], [small_number], baseline_includes_segment=True)
    assert [d.feature for d in found] == ["region=North", "revenue"]


def test_degenerate_groups_are_left_out_without_nan() -> None:
    found = differentiators(
        [ShareCounts("a=b", 0, 0, 5, 10), ShareCounts("c=d", 10, 10, 40, 40)],
        [
            FigureMoments("flat", moments([1.0, 1.0]), moments([1.0, 1.0, 1.0])),
            FigureMoments("alone", moments([3.0]), moments([1.0, 2.0])),
        ],
        baseline_includes_segment=True,
    )
    assert found == []
    assert jaccard(0, 0, 0) == 0.0 and not math.isnan(jaccard(3, 4, 5))
