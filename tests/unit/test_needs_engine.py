"""NeedsBasedSegmenter and needs_matrix, on hand-made answers and on the demo survey."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation_service.demo_data.vocabulary import ARCHETYPES, NEEDS
from segmentation_service.domain.errors import InsufficientData
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


@pytest.mark.parametrize(("n", "seed"), [(2000, 1)])
def test_without_a_segment_count_five_segments_are_chosen_on_the_demo_survey(
    n: int, seed: int
) -> None:
    X = demo_matrix(n, seed)

    segmenter = NeedsBasedSegmenter(random_state=0).fit(X)

    assert segmenter.metrics_["needs.k"] == 5
    assert len(segmenter.segments_) == 5
    assert planted_agreement(segmenter, X, demo(n, seed).needs_truth) >= 0.9


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


def test_run_metrics_are_present_and_finite(five: NeedsBasedSegmenter) -> None:
    segmenter, metrics = five, five.metrics_
    assert set(metrics) == {
        "needs.k",
        "needs.silhouette",
        "needs.calinskiHarabasz",
        "needs.stability",
        "needs.respondents",
        "needs.needs",
        "needs.imputedAnswers",
        "needs.centred",
    }
    for name, value in metrics.items():
        assert isinstance(value, float) and math.isfinite(value), name
    assert metrics["needs.k"] == 5
    assert 0 < metrics["needs.silhouette"] <= 1
    assert metrics["needs.calinskiHarabasz"] > 0
    assert metrics["needs.respondents"] == sum(label is not None for label in segmenter.labels_)
    assert metrics["needs.needs"] == 8
    assert metrics["needs.centred"] == 0
    assert 0 < metrics["needs.stability"] <= 1


def test_predict_places_respondents_in_the_segments_they_were_fitted_to() -> None:
    X = demo_matrix(300, 0)
    segmenter = NeedsBasedSegmenter(3, random_state=0).fit(X)
    assigned = segmenter.labels_ != None  # noqa: E711

    predicted = segmenter.predict(X[assigned][list(reversed(X.columns))])

    assert list(predicted) == list(segmenter.labels_[assigned])


def test_too_few_respondents_for_the_segment_count_is_insufficient_data() -> None:
    X = pd.DataFrame(
        {"price": [1, 7, 4, np.nan], "speed": [2, 6, 4, np.nan]},
        index=pd.Index(["C1", "C2", "C3", "C4"], name="customer_id"),
    )

    with pytest.raises(InsufficientData, match="3 customers answered at least 1 of 2 needs"):
        NeedsBasedSegmenter(3).fit(X)
    assert NeedsBasedSegmenter(2, random_state=0).fit(X).labels_[3] is None


def test_no_answers_at_all_are_insufficient_data() -> None:
    X = needs_matrix(
        pd.DataFrame({"customer_id": [], "need": [], "score": []}), pd.Index(["C1", "C2"])
    )

    with pytest.raises(InsufficientData, match="no needs were answered"):
        NeedsBasedSegmenter().fit(X)


def test_a_single_customer_is_insufficient_data() -> None:
    X = pd.DataFrame({"price": [3.0], "speed": [4.0]}, index=pd.Index(["C1"]))

    with pytest.raises(InsufficientData, match="1 customers to segment; more than 2 are needed"):
        NeedsBasedSegmenter().fit(X)


def test_fewer_respondents_than_pca_components_are_insufficient_data() -> None:
    X = pd.DataFrame(np.arange(20.0).reshape(4, 5) % 7, columns=[f"n{i}" for i in range(5)])

    with pytest.raises(InsufficientData, match="5 principal components need at least 5"):
        NeedsBasedSegmenter(2, pca_components=5).fit(X)


# Preprocessing shared by the tests below, written out independently of the engine.


def standardised(
    matrix: pd.DataFrame, eligible: np.ndarray, centre: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(raw answers with imputed gaps, z-scores) of the eligible rows, as the docstring says."""
    answers = matrix[eligible]
    offsets = answers.mean(axis=1) if centre else pd.Series(0.0, index=answers.index)
    centred = answers.sub(offsets, axis=0)
    filled = centred.fillna(centred.mean())
    z = (filled - filled.mean()) / filled.std(ddof=0)
    return filled.add(offsets, axis=0), z


def uniform_answers(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Structureless survey: every need answered 1..7 uniformly at random."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.integers(1, 8, (n, len(NEEDS))).astype(float), columns=sorted(NEEDS))


def scale_use_only(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """One needs profile; half the respondents rate everything 1.5 higher, half 1.5 lower."""
    rng = np.random.default_rng(seed)
    level = rng.integers(0, 2, n)
    profile = np.array([5.0, 3.0, 4.0, 2.0, 6.0, 3.0, 4.0, 5.0])
    answers = profile + np.where(level == 1, 1.5, -1.5)[:, None] + rng.normal(0, 0.5, (n, 8))
    return pd.DataFrame(answers, columns=sorted(NEEDS)), level


def assigned_labels(segmenter: NeedsBasedSegmenter) -> np.ndarray:
    return segmenter.labels_[segmenter.labels_ != None].astype(str)  # noqa: E711


@pytest.mark.parametrize("centre", [False, True], ids=["raw", "centred"])
@pytest.mark.parametrize("n_segments", [5, None], ids=["k=5", "k chosen"])
def test_the_planted_segments_are_recovered_with_or_without_centring(
    n_segments: int | None, centre: bool
) -> None:
    X = demo_matrix(1000, 0)

    segmenter = NeedsBasedSegmenter(n_segments, centre_respondents=centre, random_state=0).fit(X)

    assert segmenter.metrics_["needs.k"] == 5
    assert segmenter.metrics_["needs.centred"] == float(centre)
    assert planted_agreement(segmenter, X, demo(1000, 0).needs_truth) >= 0.9


@pytest.mark.parametrize("n_segments", [5, None], ids=["k=5", "k chosen"])
def test_two_random_states_give_nearly_the_same_segments(n_segments: int | None) -> None:
    X = demo_matrix(1000, 0)

    first = NeedsBasedSegmenter(n_segments, random_state=1).fit(X)
    second = NeedsBasedSegmenter(n_segments, random_state=2).fit(X)

    assert adjusted_rand_score(assigned_labels(first), assigned_labels(second)) >= 0.95


def test_centring_puts_respondents_whose_answers_differ_by_a_constant_in_one_segment() -> None:
    rng = np.random.default_rng(0)
    profiles = 4 + 0.6 * np.array([[1.0, -1.0] * 4, [-1.0, 1.0] * 4])
    archetype = rng.integers(0, 2, 150)
    answers = profiles[archetype] + rng.normal(0, 0.4, (150, 8))
    # Each respondent has a twin who rates every need 1.5 higher.
    X = pd.DataFrame(np.vstack([answers, answers + 1.5]), columns=sorted(NEEDS))

    centred = NeedsBasedSegmenter(2, centre_respondents=True, random_state=0).fit(X)
    raw = NeedsBasedSegmenter(2, random_state=0).fit(X)

    assert list(centred.labels_[:150]) == list(centred.labels_[150:])
    truth = np.concatenate([archetype, archetype])
    assert adjusted_rand_score(truth, centred.labels_.astype(str)) == 1.0
    # Without centring the level difference outweighs the profiles: twins are split.
    assert not np.any(raw.labels_[:150] == raw.labels_[150:])


@pytest.mark.parametrize("n_segments", [2, None], ids=["k=2", "k chosen"])
def test_centring_finds_no_segments_in_answers_that_differ_only_by_scale_use(
    n_segments: int | None,
) -> None:
    X, level = scale_use_only()

    raw = NeedsBasedSegmenter(n_segments, random_state=0).fit(X)
    centred = NeedsBasedSegmenter(n_segments, centre_respondents=True, random_state=0).fit(X)

    assert adjusted_rand_score(level, raw.labels_.astype(str)) >= 0.9
    assert abs(adjusted_rand_score(level, centred.labels_.astype(str))) < 0.05
    assert centred.metrics_["needs.stability"] < 0.6 < raw.metrics_["needs.stability"]


def test_predict_centres_new_respondents_so_a_shifted_twin_gets_the_same_segment() -> None:
    X = demo_matrix(1000, 0)
    segmenter = NeedsBasedSegmenter(5, centre_respondents=True, random_state=0).fit(X)
    assigned = X[segmenter.labels_ != None]  # noqa: E711

    assert list(segmenter.predict(assigned)) == list(assigned_labels(segmenter))
    assert list(segmenter.predict(assigned + 1.2)) == list(segmenter.predict(assigned))


@pytest.mark.parametrize("share", [-0.1, 1.5, "half", True])
def test_a_min_answered_share_outside_zero_to_one_raises_value_error(share: Any) -> None:
    with pytest.raises(ValueError, match="min_answered_share must be between 0 and 1"):
        NeedsBasedSegmenter(3, min_answered_share=share).fit(demo_matrix(300, 0))


@pytest.mark.parametrize("centre", [False, True], ids=["raw", "centred"])
def test_unanswered_needs_of_respondents_are_imputed_with_the_needs_mean_and_counted(
    centre: bool,
) -> None:
    X = demo_matrix(1000, 0)
    X.iloc[:40, :5] = np.nan  # 3 of 8 answered: not eligible, so not imputed either

    segmenter = NeedsBasedSegmenter(5, centre_respondents=centre, random_state=0).fit(X)

    eligible = segmenter.labels_ != None  # noqa: E711
    assert not eligible[:40].any()
    assert segmenter.metrics_["needs.imputedAnswers"] == X[eligible].isna().sum().sum() > 0
    answers = X[eligible].sub(X[eligible].mean(axis=1), axis=0) if centre else X[eligible]
    assert segmenter.imputation_means_ == pytest.approx(answers.mean().to_numpy())


def test_with_pca_the_planted_segments_are_recovered_in_component_space() -> None:
    X = demo_matrix(1000, 0)

    segmenter = NeedsBasedSegmenter(5, pca_components=4, random_state=0).fit(X)

    assert segmenter.kmeans_.cluster_centers_.shape == (5, 4)
    explained = segmenter.metrics_["needs.pcaExplainedVariance"]
    assert 0 < explained < 1
    assert explained == pytest.approx(segmenter.pca_.explained_variance_ratio_.sum())
    assert planted_agreement(segmenter, X, demo(1000, 0).needs_truth) >= 0.9
    assigned = segmenter.labels_ != None  # noqa: E711
    assert list(segmenter.predict(X[assigned])) == list(segmenter.labels_[assigned])


def test_without_pca_there_is_no_explained_variance_metric(five: NeedsBasedSegmenter) -> None:
    assert five.pca_ is None
    assert "needs.pcaExplainedVariance" not in five.metrics_


def test_more_pca_components_than_needs_are_insufficient_data() -> None:
    X = demo_matrix(300, 0)

    with pytest.raises(InsufficientData, match="pca_components=9 exceeds the number of needs"):
        NeedsBasedSegmenter(3, pca_components=9).fit(X)
    every = NeedsBasedSegmenter(3, pca_components=8, random_state=0).fit(X)
    assert every.metrics_["needs.pcaExplainedVariance"] == pytest.approx(1.0)


def test_planted_segments_are_stable_under_bootstrap_resampling(
    five: NeedsBasedSegmenter,
) -> None:
    assert five.metrics_["needs.stability"] > 0.9


@pytest.mark.parametrize("n_segments", [5, None], ids=["k=5", "k chosen"])
def test_segments_of_structureless_answers_are_unstable(n_segments: int | None) -> None:
    segmenter = NeedsBasedSegmenter(n_segments, random_state=0).fit(uniform_answers())

    assert segmenter.metrics_["needs.stability"] < 0.6


def test_no_stability_resamples_leave_out_the_stability_metric() -> None:
    segmenter = NeedsBasedSegmenter(3, stability_resamples=0, random_state=0)

    assert "needs.stability" not in segmenter.fit(demo_matrix(300, 0)).metrics_


@pytest.mark.parametrize(
    "options",
    [{}, {"centre_respondents": True, "pca_components": 3}],
    ids=["default", "centred with PCA"],
)
def test_the_same_random_state_gives_the_same_labels_metrics_and_profiles(
    options: dict[str, Any],
) -> None:
    X = demo_matrix(300, 1)

    first = NeedsBasedSegmenter(random_state=3, **options).fit(X)
    second = NeedsBasedSegmenter(random_state=3, **options).fit(X)

    assert list(first.labels_) == list(second.labels_)
    assert list(first.reasons_) == list(second.reasons_)
    assert np.array_equal(first.scores_, second.scores_, equal_nan=True)
    assert first.metrics_ == second.metrics_
    assert first.segments_ == second.segments_


@pytest.mark.parametrize(
    ("centre", "pca"), [(False, None), (True, 3)], ids=["raw", "centred with PCA"]
)
def test_profiles_hold_the_members_mean_raw_score_and_mean_z_score(
    centre: bool, pca: int | None
) -> None:
    X = demo_matrix(1000, 0)
    segmenter = NeedsBasedSegmenter(
        4, centre_respondents=centre, pca_components=pca, random_state=0
    ).fit(X)

    eligible = segmenter.labels_ != None  # noqa: E711
    raw, z = standardised(X, eligible, centre)
    labels = segmenter.labels_[eligible]
    for segment in segmenter.segments_:
        profile = dict(segment.profile)
        members = labels == segment.code
        for need in X.columns:
            assert float(profile[need]) == pytest.approx(raw.loc[members, need].mean(), abs=0.006)
            assert float(profile[f"{need}.zScore"]) == pytest.approx(
                z.loc[members, need].mean(), abs=0.006
            )


def test_reasons_quote_the_drivers_mean_scores_and_the_distance(
    five: NeedsBasedSegmenter,
) -> None:
    segments = {segment.code: segment for segment in five.segments_}
    for i in np.flatnonzero(five.labels_ != None):  # noqa: E711
        segment = segments[five.labels_[i]]
        profile = dict(segment.profile)
        drivers = " and ".join(
            f"{need.lower()} ({float(profile[need.lower()]):.1f})"
            for need in segment.name.split(" & ")
        )
        assert five.reasons_[i] == (
            f"segment {segment.code} is driven by {drivers}; "
            f"distance to the segment centre {five.scores_[i]:.2f} in standard deviations"
        )


def test_scores_are_distances_to_the_segment_centre_in_the_clustering_space() -> None:
    X = demo_matrix(300, 0)
    segmenter = NeedsBasedSegmenter(3, pca_components=2, random_state=0).fit(X)

    eligible = segmenter.labels_ != None  # noqa: E711
    space = segmenter.pca_.transform(standardised(X, eligible, centre=False)[1].to_numpy())
    distances = segmenter.kmeans_.transform(space).min(axis=1)
    assert segmenter.scores_[eligible] == pytest.approx(distances)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_segments": 0}, "n_segments must be an integer ≥ 1 or None"),
        ({"pca_components": 0}, "pca_components must be an integer ≥ 1 or None"),
        ({"n_init": 0}, "n_init must be an integer ≥ 1"),
        ({"stability_resamples": -1}, "stability_resamples must be an integer ≥ 0"),
        ({"sample_size": 1}, "sample_size must be an integer ≥ 2"),
        ({"n_segments": 5, "sample_size": 5}, "sample_size=5 must exceed n_segments=5"),
        ({"centre_respondents": "yes"}, "centre_respondents must be a bool"),
    ],
)
def test_parameters_out_of_range_raise_value_error_naming_them(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        NeedsBasedSegmenter(**options).fit(demo_matrix(300, 0))
    assert not isinstance(raised.value, InsufficientData)  # the caller's bug, not the data


def test_centring_a_single_need_is_insufficient_data() -> None:
    X = pd.DataFrame({"price": [1.0, 4.0, 7.0, 2.0]})

    with pytest.raises(InsufficientData, match="centre_respondents needs at least 2 needs"):
        NeedsBasedSegmenter(2, centre_respondents=True).fit(X)
