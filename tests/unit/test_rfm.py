"""RFM quintile scores and the named R×F segments, on hand-computed cases."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from segmentation_service.engines import rfm
from segmentation_service.engines.value_based import rfm_scores

SEGMENT_NAMES = {
    "Champions",
    "Loyal",
    "Potential Loyalists",
    "New",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "Can't Lose Them",
    "At Risk",
    "Lost",
    "Hibernating",
}


def test_thresholds_are_the_values_at_the_20_40_60_80_percent_positions() -> None:
    # sorted: 1 1 2 3 3 4 5 5 6 9; positions 2, 4, 6, 8 (1-based) hold 1, 3, 4, 5
    values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]

    assert rfm.quantile_thresholds(values) == [1.0, 3.0, 4.0, 5.0]


def test_scores_of_ten_values_with_ties_are_one_plus_the_thresholds_exceeded() -> None:
    values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]

    scores = rfm.score(values, rfm.quantile_thresholds(values))

    assert scores.tolist() == [2, 1, 3, 1, 4, 5, 2, 5, 4, 2]


def test_ten_distinct_values_get_two_of_each_score() -> None:
    values = [70, 10, 100, 40, 20, 90, 30, 60, 80, 50]

    thresholds = rfm.quantile_thresholds(values)

    assert thresholds == [20.0, 40.0, 60.0, 80.0]
    assert rfm.score(values, thresholds).tolist() == [4, 1, 5, 2, 1, 5, 2, 3, 4, 3]


def test_fewer_values_than_quintiles_repeat_boundaries() -> None:
    # positions ceil(k × 3 / 5) = 1, 2, 2, 3 hold 1, 2, 2, 3
    thresholds = rfm.quantile_thresholds([3, 1, 2])

    assert thresholds == [1.0, 2.0, 2.0, 3.0]
    assert rfm.score([1, 2, 3], thresholds).tolist() == [1, 2, 4]


def test_equal_values_all_score_one() -> None:
    values = [7.5] * 6

    assert rfm.score(values, rfm.quantile_thresholds(values)).tolist() == [1] * 6


def test_later_values_are_scored_against_the_same_boundaries() -> None:
    thresholds = rfm.quantile_thresholds([70, 10, 100, 40, 20, 90, 30, 60, 80, 50])

    assert rfm.score([-5, 20, 20.5, 1000], thresholds).tolist() == [1, 1, 2, 5]


@pytest.mark.parametrize("seed", range(5))
def test_ties_always_share_a_score_and_scores_never_fall_as_values_rise(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 8, size=int(rng.integers(5, 200)))

    scores = rfm.score(values, rfm.quantile_thresholds(values))

    for value in np.unique(values):
        assert len(set(scores[values == value])) == 1
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(scores[order]) >= 0)
    assert scores.min() >= 1 and scores.max() <= 5


def test_an_empty_set_of_values_cannot_be_scored() -> None:
    with pytest.raises(ValueError, match="empty"):
        rfm.quantile_thresholds([])


def test_recency_is_reversed_so_the_most_recent_buyer_scores_five() -> None:
    features = pd.DataFrame(
        {
            "recency_days": pd.array([0, 10, 20, 30, 40], dtype="Int64"),
            "purchase_count": [1, 2, 3, 4, 5],
            "revenue": [50.0, 40.0, 30.0, 20.0, 10.0],
        },
        index=pd.Index(["A", "B", "C", "D", "E"], name="customer_id"),
    )
    thresholds = {
        "recency": rfm.quantile_thresholds(-features["recency_days"].astype(float)),
        "frequency": rfm.quantile_thresholds(features["purchase_count"]),
        "monetary": rfm.quantile_thresholds(features["revenue"]),
    }

    scores = rfm_scores(features, thresholds)

    assert scores["r"].tolist() == [5, 4, 3, 2, 1]
    assert scores["f"].tolist() == [1, 2, 3, 4, 5]
    assert scores["m"].tolist() == [5, 4, 3, 2, 1]
    assert scores["code"].tolist() == ["515", "424", "333", "242", "151"]
    assert scores["segment"].tolist() == [
        "New",
        "Potential Loyalists",
        "Need Attention",
        "At Risk",
        "Can't Lose Them",
    ]


def test_every_r_f_cell_lies_in_exactly_one_row_of_the_grid() -> None:
    for r, f in itertools.product(range(1, 6), repeat=2):
        rows = [name for name, rs, fs in rfm.RFM_SEGMENT_GRID if r in rs and f in fs]
        assert len(rows) == 1, (r, f, rows)


def test_the_25_cells_use_all_eleven_names_and_no_other() -> None:
    r, f = np.meshgrid(np.arange(1, 6), np.arange(1, 6))

    names = rfm.segment_names(r.ravel(), f.ravel())

    assert None not in set(names)
    assert set(names) == SEGMENT_NAMES


@pytest.mark.parametrize(
    ("r", "f", "name"),
    [
        (5, 5, "Champions"),
        (5, 4, "Champions"),
        (1, 1, "Lost"),
        (1, 5, "Can't Lose Them"),
        (5, 1, "New"),
        (4, 1, "Promising"),
        (3, 3, "Need Attention"),
        (4, 4, "Loyal"),
        (4, 2, "Potential Loyalists"),
        (3, 1, "About to Sleep"),
        (2, 3, "At Risk"),
        (2, 2, "Hibernating"),
        (1, 2, "Hibernating"),
        (2, 1, "Hibernating"),
    ],
)
def test_spot_checked_cells_have_their_usual_names(r: int, f: int, name: str) -> None:
    assert rfm.segment_names([r], [f]).tolist() == [name]


def test_score_codes_join_the_three_digits() -> None:
    codes = rfm.score_codes([5, 1], [4, 2], [3, 3])

    assert codes.tolist() == ["543", "123"]
