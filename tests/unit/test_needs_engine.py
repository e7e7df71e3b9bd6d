"""NeedsBasedSegmenter and needs_matrix, on hand-made answers and on the demo survey."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation_service.demo_data.vocabulary import ARCHETYPES, NEEDS
from segmentation_service.engines.needs_based import NeedsBasedSegmenter, needs_matrix
from tests.factories import demo


def demo_matrix(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    data = demo(n, seed)
    return needs_matrix(data.needs, pd.Index(data.customers["customer_id"], name="customer_id"))


@pytest.fixture(scope="module")
def five() -> NeedsBasedSegmenter:
    """k = 5 on the 1000-customer demo survey; tests must not modify it."""
    return NeedsBasedSegmenter(5, random_state=0).fit(demo_matrix(1000, 0))


def planted_agreement(
    segmenter: NeedsBasedSegmenter, matrix: pd.DataFrame, truth: pd.Series
) -> float:
    """Adjusted Rand index of the labels against the planted archetypes, over respondents."""
    labels = pd.Series(segmenter.labels_, index=matrix.index).reindex(truth.index)
    assigned = labels.notna()
    return float(adjusted_rand_score(truth[assigned], labels[assigned].astype(str)))


def test_needs_matrix_pivots_long_answers_to_one_row_per_customer_in_population_order() -> None:
    answers = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "C9"],
            "need": ["quality", "price", "price", "price"],
            "score": [3, 5, 7, 1],
        }
    )
    population = pd.Index(["C3", "C2", "C1"], name="customer_id")

    matrix = needs_matrix(answers, population)

    assert list(matrix.index) == ["C3", "C2", "C1"]
    assert list(matrix.columns) == ["price", "quality"]
    assert matrix.loc["C3"].isna().all()
    assert matrix.loc["C2", "price"] == 7.0 and math.isnan(matrix.loc["C2", "quality"])
    assert matrix.loc["C1"].tolist() == [5.0, 3.0]
    assert "C9" not in matrix.index


def test_needs_matrix_of_no_answers_has_every_customer_and_no_need() -> None:
    answers = pd.DataFrame({"customer_id": [], "need": [], "score": []})

    matrix = needs_matrix(answers, pd.Index(["C1", "C2"]))

    assert list(matrix.index) == ["C1", "C2"]
    assert matrix.shape == (2, 0)


def test_demo_needs_matrix_keeps_silent_customers_as_all_nan_rows() -> None:
    data = demo(1000, 0)
    X = demo_matrix(1000, 0)

    assert list(X.index) == list(data.customers["customer_id"])
    assert list(X.columns) == sorted(NEEDS)
    silent = ~X.index.isin(data.needs_truth.index)
    assert silent.any()
    assert X[silent].isna().all(axis=None)


def test_customers_who_answered_fewer_than_half_the_needs_are_unassigned_and_told_why() -> None:
    X = demo_matrix(1000, 0)
    respondents = np.flatnonzero(X.notna().all(axis=1).to_numpy())
    three, four = respondents[:10], respondents[10:20]
    X.iloc[three, :5] = np.nan  # 3 of 8 answered
    X.iloc[four, :4] = np.nan  # 4 of 8 answered: exactly half, still assigned
    silent = X.isna().all(axis=1).to_numpy()

    segmenter = NeedsBasedSegmenter(5, random_state=0).fit(X)

    assert all(label is None for label in segmenter.labels_[three])
    assert all(label is not None for label in segmenter.labels_[four])
    assert all(label is None for label in segmenter.labels_[silent])
    assert segmenter.reasons_[three[0]] == "answered 3 of 8 needs; at least 4 are required"
    assert segmenter.reasons_[np.flatnonzero(silent)[0]].startswith("answered 0 of 8 needs")
    unassigned = sum(label is None for label in segmenter.labels_)
    assert unassigned == silent.sum() + len(three)
    assert segmenter.metrics_["needs.respondents"] == len(X) - unassigned
    assert np.isnan(segmenter.scores_[three]).all()
    assert np.isfinite(segmenter.scores_[four]).all()


def test_min_answered_share_sets_how_many_answers_are_required() -> None:
    X = demo_matrix(300, 0)
    respondents = np.flatnonzero(X.notna().all(axis=1).to_numpy())
    X.iloc[respondents[:5], :2] = np.nan  # 6 of 8 answered

    strict = NeedsBasedSegmenter(3, min_answered_share=1.0, random_state=0).fit(X)

    assert all(label is None for label in strict.labels_[respondents[:5]])
    assert strict.reasons_[respondents[0]] == "answered 6 of 8 needs; at least 8 are required"


def test_the_planted_segments_of_the_demo_survey_are_recovered_with_five_segments(
    five: NeedsBasedSegmenter,
) -> None:
    assert planted_agreement(five, demo_matrix(1000, 0), demo(1000, 0).needs_truth) >= 0.9


@pytest.mark.parametrize(("n", "seed"), [(1000, 0), (2000, 1)])
def test_without_a_segment_count_five_segments_are_chosen_on_the_demo_survey(
    n: int, seed: int
) -> None:
    X = demo_matrix(n, seed)

    segmenter = NeedsBasedSegmenter(random_state=0).fit(X)

    assert segmenter.metrics_["needs.k"] == 5
    assert len(segmenter.segments_) == 5
    assert planted_agreement(segmenter, X, demo(n, seed).needs_truth) >= 0.9


def test_the_same_random_state_gives_the_same_labels() -> None:
    X = demo_matrix(300, 1)

    first = NeedsBasedSegmenter(4, random_state=3).fit(X)
    second = NeedsBasedSegmenter(4, random_state=3).fit(X)

    assert list(first.labels_) == list(second.labels_)
    assert np.array_equal(first.scores_, second.scores_, equal_nan=True)


def test_codes_run_from_n1_to_nk_in_decreasing_size(five: NeedsBasedSegmenter) -> None:
    segmenter = five

    codes = [s.code for s in segmenter.segments_]
    assert codes == ["N1", "N2", "N3", "N4", "N5"]
    sizes = [int(np.sum(segmenter.labels_ == code)) for code in codes]
    assert sizes == sorted(sizes, reverse=True)
    assert set(segmenter.labels_) - {None} == set(codes)


def test_segments_are_named_after_their_strongest_needs(five: NeedsBasedSegmenter) -> None:
    data, X, segmenter = demo(1000, 0), demo_matrix(1000, 0), five

    labels = pd.Series(segmenter.labels_, index=X.index).reindex(data.needs_truth.index)
    for segment in segmenter.segments_:
        profile = dict(segment.profile)
        z = {need: float(profile[f"{need}.zScore"]) for need in X.columns}
        strongest = sorted(z, key=lambda need: -z[need])[:2]
        expected = [need for need in strongest if z[need] > 0]
        named = segment.name.split(" & ")
        assert set(named) == {need.capitalize() for need in expected}
        assert [z[need.lower()] for need in named] == sorted(z[n] for n in expected)[::-1]
        assert segment.description == f"Customers driven by {' and '.join(named).lower()}"
        # The name holds the top need of the archetype planted in most of its members.
        archetype = ARCHETYPES[int(data.needs_truth[labels == segment.code].mode()[0])]
        top_need = NEEDS[int(np.argmax(archetype.profile))]
        assert top_need.capitalize() in segment.name.split(" & ")


def test_profiles_hold_each_needs_mean_score_and_z_score() -> None:
    X = demo_matrix(300, 0)
    segmenter = NeedsBasedSegmenter(3, random_state=0).fit(X)

    segment = segmenter.segments_[0]
    members = segmenter.labels_ == segment.code
    imputed = X.fillna(X[segmenter.labels_ != None].mean())  # noqa: E711
    profile = dict(segment.profile)
    for need in X.columns:
        assert float(profile[need]) == pytest.approx(imputed.loc[members, need].mean(), abs=0.01)
        assert f"{need}.zScore" in profile


def test_reasons_of_assigned_customers_name_the_drivers_and_the_distance(
    five: NeedsBasedSegmenter,
) -> None:
    segmenter = five

    assigned = np.flatnonzero(segmenter.labels_ != None)  # noqa: E711
    for i in assigned[:20]:
        reason = segmenter.reasons_[i]
        assert reason.startswith(f"segment {segmenter.labels_[i]} is driven by ")
        assert f"distance to the segment centre {segmenter.scores_[i]:.2f}" in reason


def test_run_metrics_are_present_and_finite(five: NeedsBasedSegmenter) -> None:
    segmenter, metrics = five, five.metrics_
    for name in ("needs.k", "needs.silhouette", "needs.calinskiHarabasz", "needs.respondents"):
        assert math.isfinite(metrics[name]), name
    assert metrics["needs.k"] == 5
    assert 0 < metrics["needs.silhouette"] <= 1
    assert metrics["needs.calinskiHarabasz"] > 0
    assert metrics["needs.respondents"] == sum(label is not None for label in segmenter.labels_)
    assert metrics["needs.needs"] == 8


def test_predict_places_respondents_in_the_segments_they_were_fitted_to() -> None:
    X = demo_matrix(300, 0)
    segmenter = NeedsBasedSegmenter(3, random_state=0).fit(X)
    assigned = segmenter.labels_ != None  # noqa: E711

    predicted = segmenter.predict(X[assigned][list(reversed(X.columns))])

    assert list(predicted) == list(segmenter.labels_[assigned])


def test_too_few_respondents_for_the_segment_count_raises_value_error() -> None:
    X = pd.DataFrame(
        {"price": [1, 7, 4, np.nan], "speed": [2, 6, 4, np.nan]},
        index=pd.Index(["C1", "C2", "C3", "C4"], name="customer_id"),
    )

    with pytest.raises(ValueError, match="3 customers answered at least 1 of 2 needs"):
        NeedsBasedSegmenter(3).fit(X)
    assert NeedsBasedSegmenter(2, random_state=0).fit(X).labels_[3] is None


def test_no_answers_at_all_raise_value_error() -> None:
    X = needs_matrix(
        pd.DataFrame({"customer_id": [], "need": [], "score": []}), pd.Index(["C1", "C2"])
    )

    with pytest.raises(ValueError, match="no needs were answered"):
        NeedsBasedSegmenter().fit(X)
