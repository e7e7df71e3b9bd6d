"""NeedsBasedPartitionPlan on the demo store, in 1, 3 and 7 partitions, against the engine."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from segmentation_service.domain.errors import InsufficientData
from segmentation_service.domain.model import SegmentationMethod
from segmentation_service.engines.base import summarise_segments
from segmentation_service.engines.needs_based import NeedsBasedSegmenter, needs_matrix
from segmentation_service.engines.needs_partitions import NeedsBasedPartitionPlan
from segmentation_service.engines.partitions import (
    PartitionInput,
    RunOutcome,
    assignment_frame,
    sample_keys,
)
from segmentation_service.services.partition_inputs import load_everyone
from segmentation_service.store.database import Store
from tests.factories import END_DATE, load_demo

T = TypeVar("T")
N_CUSTOMERS = 2000  # 1565 of them answered the survey
PARTS = [1, 3, 7]
PARAMS: dict[str, dict[str, Any]] = {
    "fixed k": {"n_segments": 4, "random_state": 7},
    "automatic k": {"n_segments": None, "random_state": 7},
    "centring": {
        "n_segments": 4,
        "centre_respondents": True,
        "min_answered_share": 0.75,
        "random_state": 3,
    },
    "pca": {"n_segments": 5, "pca_components": 3, "random_state": 11},
}


@pytest.fixture(scope="module")
def everyone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartitionInput]:
    """The demo store as one whole-store partition (as the ``sqlite_store`` fixture, once)."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('needs') / 'store.db'}")
    store.create_schema()
    try:
        load_demo(store, N_CUSTOMERS)
        yield load_everyone(store.unit_of_work(), SegmentationMethod.NEEDS_BASED, END_DATE)
    finally:
        store.dispose()


def split(data: PartitionInput, parts: int) -> list[PartitionInput]:
    """``parts`` partitions of consecutive customer_ids, each with only its own answers."""
    return [rows(data, part) for part in np.array_split(np.arange(len(data.customers)), parts)]


def rows(data: PartitionInput, positions: npt.NDArray[np.intp]) -> PartitionInput:
    """The customers at ``positions`` and their answers."""
    assert data.responses is not None
    ids = data.customers.index[positions]
    return PartitionInput(
        data.customers.iloc[positions],
        data.features.iloc[positions],
        data.responses[data.responses["customer_id"].isin(ids)],
        data.profitability.iloc[positions],
    )


def shipped(value: T) -> T:
    """``value`` after the trip to another process."""
    copy: T = pickle.loads(pickle.dumps(value))
    return copy


def run(
    plan: NeedsBasedPartitionPlan, partitions: list[PartitionInput]
) -> tuple[pd.DataFrame, RunOutcome]:
    """What the driver does: every stage, with summaries, models and partials pickled."""
    model = shipped(plan.fit([shipped(plan.summarise(part)) for part in partitions]))
    if plan.refines(model):
        model = shipped(plan.settle(model, [shipped(plan.refine(p, model)) for p in partitions]))
    outputs = [plan.assign(part, model) for part in partitions]
    assignments = pd.concat([output.assignments for output in outputs], ignore_index=True)
    return assignments, plan.finish(model, [shipped(output.partial) for output in outputs])


def in_memory(data: PartitionInput, params: dict[str, Any]) -> tuple[pd.DataFrame, RunOutcome]:
    """Today's run: the engine fitted on everyone, segments from summarise_segments."""
    assert data.responses is not None
    segmenter = NeedsBasedSegmenter(**params).fit(
        needs_matrix(data.responses, data.customers.index)
    )
    margin = data.features["margin"].to_numpy(dtype=float)
    frame = assignment_frame(
        data.customers.index, segmenter.labels_, segmenter.scores_, margin, segmenter.reasons_
    )
    segments = summarise_segments(
        segmenter.segments_, segmenter.labels_, margin, data.profitability
    )
    return frame, RunOutcome(segments, segmenter.metrics_)


@pytest.fixture(scope="module")
def engine_runs() -> dict[str, tuple[pd.DataFrame, RunOutcome]]:
    """``in_memory`` on everyone per PARAMS name, each computed once."""
    return {}


def codes(rows: pd.DataFrame) -> list[str | None]:
    """The segment codes, None where unassigned (NaN or None, after a concatenation)."""
    return [None if pd.isna(code) else str(code) for code in rows["segment_code"]]


def assert_same_run(
    actual: tuple[pd.DataFrame, RunOutcome], expected: tuple[pd.DataFrame, RunOutcome]
) -> None:
    (rows, outcome), (expected_rows, expected_outcome) = actual, expected
    assert rows["customer_id"].tolist() == expected_rows["customer_id"].tolist()
    assert codes(rows) == codes(expected_rows)
    np.testing.assert_allclose(rows["score"], expected_rows["score"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(rows["value"], expected_rows["value"])
    assert rows["reason"].tolist() == expected_rows["reason"].tolist()
    assert len(outcome.segments) == len(expected_outcome.segments)
    for segment, expected_segment in zip(outcome.segments, expected_outcome.segments, strict=True):
        for name in ("code", "name", "description", "size", "profile"):
            assert getattr(segment, name) == getattr(expected_segment, name), name
        for name in ("share", "total_value", "average_value", "revenue", "cost"):
            assert getattr(segment, name) == pytest.approx(getattr(expected_segment, name)), name
    assert outcome.metrics.keys() == expected_outcome.metrics.keys()
    for name, value in expected_outcome.metrics.items():
        assert outcome.metrics[name] == pytest.approx(value, rel=1e-6), name


@pytest.mark.parametrize("parts", PARTS)
@pytest.mark.parametrize("name", PARAMS)
def test_a_run_of_fewer_respondents_than_the_sample_equals_the_engine_on_everyone(
    everyone: PartitionInput,
    engine_runs: dict[str, tuple[pd.DataFrame, RunOutcome]],
    name: str,
    parts: int,
) -> None:
    plan = NeedsBasedPartitionPlan(**PARAMS[name])
    if name not in engine_runs:
        engine_runs[name] = in_memory(everyone, PARAMS[name])

    actual = run(plan, split(everyone, parts))

    assert_same_run(actual, engine_runs[name])


def test_a_sampled_run_is_the_same_whatever_the_partitioning(everyone: PartitionInput) -> None:
    plan = NeedsBasedPartitionPlan(
        None, min_answered_share=0.75, random_state=5, fit_sample_size=600
    )

    runs = [run(plan, split(everyone, parts)) for parts in PARTS]

    rows, outcome = runs[0]
    assert outcome.metrics["needs.respondents"] == rows["segment_code"].notna().sum() > 600
    assert sum(segment.size for segment in outcome.segments) == outcome.metrics["needs.respondents"]
    for other in runs[1:]:
        assert_same_run(other, runs[0])


def test_the_fit_sample_is_the_smallest_keyed_respondents_whatever_the_partitioning(
    everyone: PartitionInput,
) -> None:
    plan = NeedsBasedPartitionPlan(4, min_answered_share=0.75, random_state=5, fit_sample_size=500)
    assert everyone.responses is not None
    matrix = needs_matrix(everyone.responses, everyone.customers.index)
    eligible = matrix[matrix.notna().sum(axis=1) >= 6]
    keys = sample_keys(eligible.index, 5)
    expected = eligible.iloc[np.sort(np.argsort(keys)[:500])]

    for parts in PARTS:
        sample = plan.sample([plan.summarise(part) for part in split(everyone, parts)])

        pd.testing.assert_frame_equal(sample, expected, check_names=False)


def test_a_partition_without_a_need_gives_the_engine_result_on_everyone(
    everyone: PartitionInput,
) -> None:
    assert everyone.responses is not None
    first_third = np.array_split(everyone.customers.index, 3)[0]
    responses = everyone.responses
    dropped = responses["customer_id"].isin(first_third) & (responses["need"] == "speed")
    data = PartitionInput(
        everyone.customers, everyone.features, responses[~dropped], everyone.profitability
    )
    params: dict[str, Any] = {"n_segments": 4, "min_answered_share": 0.7, "random_state": 2}
    partitions = split(data, 3)
    assert "speed" not in set(partitions[0].responses["need"])  # type: ignore[index]

    assert_same_run(run(NeedsBasedPartitionPlan(**params), partitions), in_memory(data, params))


def test_partitions_without_customers_or_answers_change_nothing(everyone: PartitionInput) -> None:
    assert everyone.responses is not None
    silent = np.array_split(everyone.customers.index, 3)[1]
    responses = everyone.responses[~everyone.responses["customer_id"].isin(silent)]
    data = PartitionInput(everyone.customers, everyone.features, responses, everyone.profitability)
    first, second, third = split(data, 3)
    nobody = rows(data, np.arange(0))
    params: dict[str, Any] = {"n_segments": 3, "random_state": 4}

    actual = run(NeedsBasedPartitionPlan(**params), [first, nobody, second, third])

    assert_same_run(actual, in_memory(data, params))


def test_the_candidates_of_a_partition_with_fewer_needs_keep_every_row_of_the_sample() -> None:
    # Needs a, b in partition A (threshold 1 of 2 there), a..d overall (2 of 4): A's rows
    # answering only a are candidates there but not eligible, and have small keys too.
    def answers(ids: list[str], needs: str) -> list[tuple[str, str, float]]:
        return [(customer, need, 5.0) for customer in ids for need in needs]

    a_only, a_and_b = [f"A{i:03}" for i in range(60)], [f"A{i:03}" for i in range(60, 80)]
    in_b = [f"B{i:03}" for i in range(40)]
    partitions = [
        partition(a_only + a_and_b, answers(a_only, "a") + answers(a_and_b, "ab")),
        partition(in_b, answers(in_b, "abcd")),
    ]
    plan = NeedsBasedPartitionPlan(2, random_state=1, fit_sample_size=10)
    eligible = pd.Index(a_and_b + in_b)
    expected = eligible[np.argsort(sample_keys(eligible, 1))[:10]].sort_values()
    local_top = pd.Index(a_only + a_and_b)[np.argsort(sample_keys(pd.Index(a_only + a_and_b), 1))]
    assert not set(expected.intersection(a_and_b)) <= set(local_top[:10])  # the trap is real

    sample = plan.sample([plan.summarise(part) for part in partitions])

    assert sample.index.tolist() == expected.tolist()
    assert list(sample.columns) == ["a", "b", "c", "d"]


def partition(ids: list[str], answers: list[tuple[str, str, float]]) -> PartitionInput:
    index = pd.Index(sorted(ids), name="customer_id")
    frame = pd.DataFrame({"margin": 1.0, "revenue": 1.0, "cost": 0.0}, index=index)
    responses = pd.DataFrame(answers, columns=["customer_id", "need", "score"])
    return PartitionInput(frame[[]], frame[["margin"]], responses, frame[["revenue", "cost"]])


def test_refining_a_run_that_needs_no_refinement_changes_nothing(
    everyone: PartitionInput,
) -> None:
    plan = NeedsBasedPartitionPlan(5, pca_components=3, random_state=11)
    partitions = split(everyone, 7)
    model = plan.fit([plan.summarise(part) for part in partitions])

    settled = plan.settle(model, [plan.refine(part, model) for part in partitions])

    assert not plan.refines(model)
    assert settled.description.segments == model.description.segments
    assert settled.description.drivers == model.description.drivers
    assert settled.description.codes.tolist() == model.description.codes.tolist()
    assert settled.metrics == pytest.approx(model.metrics, rel=1e-9)


CASES: dict[str, tuple[dict[str, Any], str | None, int | None]] = {
    # parameters, the only need kept (None: all), customers kept (None: all)
    "nobody answered": ({"n_segments": 4}, "", None),
    "too few respondents": ({"n_segments": 1600}, None, None),
    "too many components": ({"n_segments": 4, "pca_components": 9}, None, None),
    "centring one need": ({"n_segments": 4, "centre_respondents": True}, "price", None),
    "one customer": ({"n_segments": 4}, None, 1),
    "bad parameter": ({"n_segments": 4, "min_answered_share": 2}, None, None),
}


@pytest.mark.parametrize("name", CASES)
def test_fit_raises_what_the_engine_raises_on_everyone(everyone: PartitionInput, name: str) -> None:
    params, need, customers = CASES[name]
    assert everyone.responses is not None
    responses = everyone.responses
    if need is not None:
        responses = responses[responses["need"] == need]
    data = PartitionInput(everyone.customers, everyone.features, responses, everyone.profitability)
    data = rows(data, np.arange(customers or N_CUSTOMERS))
    plan = NeedsBasedPartitionPlan(**params)

    with pytest.raises(ValueError) as expected:
        in_memory(data, params)
    with pytest.raises(ValueError) as raised:
        plan.fit(
            [plan.summarise(part) for part in split(data, 3 if len(data.customers) > 2 else 1)]
        )

    assert type(raised.value) is type(expected.value)
    assert str(raised.value) == str(expected.value)
    assert isinstance(raised.value, InsufficientData) == (name != "bad parameter")


@pytest.mark.parametrize("size", [0, 4, 2.5, None])
def test_a_fit_sample_too_small_for_the_segments_is_refused(
    everyone: PartitionInput, size: Any
) -> None:
    plan = NeedsBasedPartitionPlan(4, fit_sample_size=size)

    with pytest.raises(ValueError, match="fit_sample_size must be an integer ≥ 5"):
        plan.summarise(split(everyone, 7)[0])
