"""ValueBasedPartitionPlan: any split of the customers gives ValueBasedSegmenter's run."""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import cache
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest

from segmentation_service.domain.errors import InsufficientData
from segmentation_service.domain.model import Segment, SegmentationMethod
from segmentation_service.engines import rfm
from segmentation_service.engines.base import summarise_segments
from segmentation_service.engines.partitions import PartitionInput, RunOutcome, sample_keys
from segmentation_service.engines.value_based import (
    ValueBasedSegmenter,
    _tier_floors,
    tier_positions,
)
from segmentation_service.engines.value_partitions import ValueBasedPartitionPlan, ValueCounts
from segmentation_service.services.partition_inputs import load_everyone
from segmentation_service.store.database import Store
from tests import factories
from tests.factories import END_DATE

T = TypeVar("T")
CUSTOMERS = 3000
METRICS = ["Revenue", "Margin", "Rfm", "Clv"]
STORE: dict[str, PartitionInput] = {}


@pytest.fixture(scope="module", autouse=True)
def _demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The demo store's customers as one whole-store partition, loaded once per module."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('value') / 'store.db'}")
    store.create_schema()
    try:
        factories.load_demo(store, CUSTOMERS)
        uow = store.unit_of_work()
        STORE["demo"] = load_everyone(uow, SegmentationMethod.VALUE_BASED, END_DATE)
    finally:
        store.dispose()
    yield
    STORE.clear()
    everyone.cache_clear()
    in_memory.cache_clear()


@cache
def everyone(scenario: str) -> PartitionInput:
    """``demo``: as stored (its spend is too heterogeneous for Gamma–Gamma); ``paid``:
    repeat spend drawn from Gamma–Gamma, so spend is modelled; ``few-repeaters``: only
    ten repeat buyers, too few for BG/NBD."""
    data = STORE["demo"]
    features = data.features.copy()
    repeaters = features["frequency"].to_numpy() > 0
    if scenario == "paid":
        x = features.loc[repeaters, "frequency"].to_numpy(float)
        rng = np.random.default_rng(0)
        nu = rng.gamma(6.0, 1 / 50, x.size)
        features.loc[repeaters, "repeat_spend_mean"] = rng.gamma(5.0 * x, 1 / (nu * x))
    elif scenario == "few-repeaters":
        once = features.index[repeaters][10:]
        features.loc[once, ["frequency", "recency_weeks", "repeat_spend_mean"]] = 0
    return replace(data, features=features)


def split(data: PartitionInput, bounds: Sequence[int]) -> list[PartitionInput]:
    """Partitions of consecutive customers (in customer_id order) between the bounds."""
    edges = [0, *bounds, len(data.customers)]
    return [
        PartitionInput(
            data.customers.iloc[start:stop],
            data.features.iloc[start:stop],
            None,
            data.profitability.iloc[start:stop],
        )
        for start, stop in zip(edges[:-1], edges[1:], strict=True)
    ]


def in_parts(data: PartitionInput, count: int) -> list[PartitionInput]:
    assert data.customers.index.is_monotonic_increasing
    return split(data, [len(data.customers) * k // count for k in range(1, count)])


def shipped(value: T) -> T:
    """What another process receives."""
    received: T = pickle.loads(pickle.dumps(value))
    return received


def run_in_partitions(
    plan: ValueBasedPartitionPlan, parts: Sequence[PartitionInput]
) -> tuple[pd.DataFrame, RunOutcome]:
    summaries = [shipped(plan.summarise(part)) for part in parts]
    model = shipped(plan.fit(summaries))
    if plan.refines(model):
        model = shipped(plan.settle(model, [shipped(plan.refine(part, model)) for part in parts]))
    assert not plan.refines(model)
    outputs = [plan.assign(part, model) for part in parts]
    assignments = pd.concat([output.assignments for output in outputs], ignore_index=True)
    return assignments, plan.finish(model, [shipped(output.partial) for output in outputs])


@cache
def in_memory(scenario: str, metric: str, tiers: int) -> tuple[pd.DataFrame, RunOutcome]:
    """What the service stores of a ``ValueBasedSegmenter`` run on everyone."""
    data = everyone(scenario)
    segmenter = ValueBasedSegmenter(metric, tiers, END_DATE).fit(data.features)
    assignments = pd.DataFrame(
        {
            "customer_id": data.customers.index,
            "segment_code": segmenter.labels_,
            "score": segmenter.scores_,
            "value": segmenter.values_,
            "reason": segmenter.reasons_,
        }
    )
    segments = summarise_segments(
        segmenter.segments_, segmenter.labels_, segmenter.values_, data.profitability
    )
    return assignments, RunOutcome(segments, segmenter.metrics_, segmenter.model_.to_dict())


def plain(column: pd.Series) -> list[Any]:
    """The column's values, None where missing (pandas infers its ``str`` dtype, whose
    missing value is NaN, for codes of a partition unless none of them is assigned)."""
    return [None if pd.isna(value) else value for value in column.tolist()]


def assert_same_segments(actual: list[Segment], expected: list[Segment]) -> None:
    exact = ("code", "name", "description", "size", "profile")
    assert [[getattr(s, f) for f in exact] for s in actual] == [
        [getattr(s, f) for f in exact] for s in expected
    ]
    sums = ("share", "total_value", "average_value", "revenue", "cost")
    for got, want in zip(actual, expected, strict=True):
        assert [getattr(got, f) for f in sums] == pytest.approx(
            [getattr(want, f) for f in sums], rel=1e-9, abs=1e-9
        )


def assert_same_model(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    fitted = ("bgnbd", "gamma_gamma", "tier_floors")
    assert {k: v for k, v in actual.items() if k not in fitted} == {
        k: v for k, v in expected.items() if k not in fitted
    }  # thresholds exactly
    if expected["metric"] == "Clv":
        # CLVs are computed a batch of customers at a time, through a matrix product whose
        # last bits depend on the batch, and from fits that may differ in their last digits
        assert actual["tier_floors"] == pytest.approx(expected["tier_floors"], rel=1e-9)
    else:
        assert actual["tier_floors"] == expected["tier_floors"]
    for name in ("bgnbd", "gamma_gamma"):
        if expected[name] is None:
            assert actual[name] is None
        else:
            assert actual[name] == pytest.approx(expected[name], rel=1e-6)


def assert_same_run(scenario: str, metric: str, tiers: int, parts: list[PartitionInput]) -> None:
    assignments, outcome = run_in_partitions(
        ValueBasedPartitionPlan(metric, tiers, END_DATE), parts
    )
    expected, wanted = in_memory(scenario, metric, tiers)

    for column in ("customer_id", "segment_code", "reason"):
        assert plain(assignments[column]) == plain(expected[column])
    for column in ("score", "value"):
        np.testing.assert_allclose(assignments[column], expected[column], rtol=1e-9, atol=0)
    assert_same_segments(outcome.segments, wanted.segments)
    assert list(outcome.metrics) == list(wanted.metrics)
    assert outcome.metrics == pytest.approx(wanted.metrics, rel=1e-9)
    assert outcome.model is not None and wanted.model is not None
    assert_same_model(outcome.model, wanted.model)


@pytest.mark.parametrize(("tiers", "parts"), [(3, 1), (3, 7), (5, 3)])
@pytest.mark.parametrize("metric", METRICS)
def test_any_split_gives_the_in_memory_run(metric: str, tiers: int, parts: int) -> None:
    assert_same_run("demo", metric, tiers, in_parts(everyone("demo"), parts))
    assert in_memory("demo", metric, tiers)[1].metrics["clv.spendModel"] == 0.0


@pytest.mark.parametrize(("metric", "parts"), [("Clv", 7), ("Margin", 3)])
def test_any_split_gives_the_in_memory_run_when_spend_is_modelled(metric: str, parts: int) -> None:
    assert_same_run("paid", metric, 4, in_parts(everyone("paid"), parts))
    assert in_memory("paid", metric, 4)[1].metrics["clv.spendModel"] == 1.0


@pytest.mark.parametrize("metric", ["Rfm", "Clv"])
def test_partitions_without_buyers_or_customers_change_nothing(metric: str) -> None:
    data = everyone("demo")
    never = int(np.flatnonzero(~data.features["has_purchases"].to_numpy(dtype=bool))[0])
    parts = split(data, [never, never, never + 1, 1500])  # empty; one non-buyer

    assert [len(part.customers) for part in parts][1:3] == [0, 1]
    assert_same_run("demo", metric, 3, parts)


def test_without_a_bgnbd_fit_runs_go_on_without_clv_as_in_memory() -> None:
    assert_same_run("few-repeaters", "Revenue", 4, in_parts(everyone("few-repeaters"), 3))
    assert in_memory("few-repeaters", "Revenue", 4)[1].metrics["clv.available"] == 0.0


def test_without_a_bgnbd_fit_clv_runs_fail_as_in_memory() -> None:
    data = everyone("few-repeaters")
    with pytest.raises(InsufficientData) as expected:
        ValueBasedSegmenter("Clv", 4, END_DATE).fit(data.features)
    with pytest.raises(InsufficientData) as raised:
        run_in_partitions(ValueBasedPartitionPlan("Clv", 4, END_DATE), in_parts(data, 3))

    assert str(raised.value) == str(expected.value)
    assert "only 10 customers bought more than once" in str(raised.value)


def test_too_few_buyers_for_the_tiers_fail_as_in_memory() -> None:
    data = split(everyone("demo"), [12])[0]
    tiers = int(data.features["has_purchases"].sum()) + 1
    with pytest.raises(InsufficientData) as expected:
        ValueBasedSegmenter("Margin", tiers, END_DATE).fit(data.features)
    with pytest.raises(InsufficientData) as raised:
        run_in_partitions(ValueBasedPartitionPlan("Margin", tiers, END_DATE), split(data, [5]))

    assert str(raised.value) == str(expected.value)


@pytest.mark.parametrize(
    ("metric", "tiers", "drop"), [("Turnover", 4, None), ("Margin", 0, None), ("Rfm", 4, "T_weeks")]
)
def test_bad_parameters_and_inputs_fail_as_in_memory(
    metric: str, tiers: int, drop: str | None
) -> None:
    data = split(everyone("demo"), [50])[0]
    if drop:
        data = replace(data, features=data.features.drop(columns=drop))
    with pytest.raises(ValueError) as expected:
        ValueBasedSegmenter(metric, tiers, END_DATE).fit(data.features)
    with pytest.raises(ValueError) as raised:
        ValueBasedPartitionPlan(metric, tiers, END_DATE).summarise(data)

    assert str(raised.value) == str(expected.value)


def test_summaries_count_distinct_values_not_customers() -> None:
    """Three copies of every customer: the same tables, three times the counts; the CLV
    sample holds three times the buyers, up to its size."""
    data = everyone("demo")
    copies = [data.customers.index + suffix for suffix in ("", "-b", "-c")]
    tripled = PartitionInput(
        pd.concat([data.customers.set_axis(ids) for ids in copies]),
        pd.concat([data.features.set_axis(ids) for ids in copies]),
        None,
        pd.concat([data.profitability.set_axis(ids) for ids in copies]),
    )
    plan = ValueBasedPartitionPlan("Margin", 4, END_DATE)
    once, thrice = plan.summarise(data), plan.summarise(tripled)

    assert thrice.buyers == 3 * once.buyers
    for name in ("recency", "purchases", "revenue", "margin"):
        single, triple = getattr(once, name), getattr(thrice, name)
        np.testing.assert_array_equal(triple.values, single.values)
        np.testing.assert_array_equal(triple.counts, 3 * single.counts.astype(np.int64))
    for name in ("purchase_rows", "spend_rows"):
        single, triple = getattr(once.clv_sample, name)(), getattr(thrice.clv_sample, name)()
        np.testing.assert_array_equal(triple.rows, single.rows)
        np.testing.assert_array_equal(triple.counts, 3 * single.counts)
    bounded = ValueBasedPartitionPlan("Margin", 4, END_DATE, clv_fit_sample_size=once.buyers)
    assert len(bounded.summarise(tripled).clv_sample.keys) == once.buyers
    # Days since the last purchase and purchase counts take few values whatever the store size.
    assert len(once.recency.values) < once.buyers / 3
    assert len(once.purchases.values) < 100


@pytest.mark.parametrize("parts", [1, 7])
def test_beyond_the_clv_sample_size_the_models_are_fitted_on_the_buyers_with_smallest_keys(
    parts: int,
) -> None:
    """The CLV fits of a run whose buyers outnumber its fit sample are the in-memory
    engine's fits on the sampled buyers alone, whatever the split; tiers and thresholds
    stay every buyer's."""
    data, size = everyone("paid"), 1000
    features = data.features
    buyers = features.index[features["has_purchases"].to_numpy(dtype=bool)]
    sampled = buyers[np.argsort(sample_keys(buyers, None))[:size]]
    on_sample = ValueBasedSegmenter("Margin", 4, END_DATE).fit(features.loc[sampled.sort_values()])
    plan = ValueBasedPartitionPlan("Margin", 4, END_DATE, clv_fit_sample_size=size)
    _, outcome = run_in_partitions(plan, in_parts(data, parts))
    _, everyone_run = in_memory("paid", "Margin", 4)

    assert len(buyers) > 2 * size
    assert outcome.model is not None and everyone_run.model is not None
    for name in ("bgnbd", "gamma_gamma"):
        fitted = on_sample.model_.to_dict()[name]
        assert fitted is not None
        assert outcome.model[name] == pytest.approx(fitted, rel=1e-6)
        assert outcome.model[name] != pytest.approx(everyone_run.model[name], rel=1e-3)
    assert outcome.model["tier_floors"] == everyone_run.model["tier_floors"]
    assert outcome.model["rfm_thresholds"] == everyone_run.model["rfm_thresholds"]
    assert outcome.metrics["value.customersWithPurchases"] == len(buyers)


def test_the_clv_sample_is_the_same_whatever_the_order_of_its_parts() -> None:
    plan = ValueBasedPartitionPlan("Margin", 4, END_DATE, clv_fit_sample_size=500)
    summaries = [plan.summarise(part) for part in in_parts(everyone("demo"), 5)]
    forward = plan.combine([plan.combine(summaries[:2]), *summaries[2:]]).clv_sample
    backward = plan.combine(summaries[::-1]).clv_sample

    assert len(forward.keys) == 500
    order_f, order_b = np.argsort(forward.keys), np.argsort(backward.keys)
    np.testing.assert_array_equal(forward.keys[order_f], backward.keys[order_b])
    np.testing.assert_array_equal(forward.rows[order_f], backward.rows[order_b])


def tied_values() -> Iterator[np.ndarray]:
    rng = np.random.default_rng(7)
    yield rng.integers(0, 6, 997).astype(float)  # heavy ties
    yield np.round(rng.normal(100, 30, 1000), 1)  # some ties
    yield np.array([5.0])


@pytest.mark.parametrize("values", list(tied_values()), ids=["heavy", "some", "one"])
def test_merged_value_counts_give_thresholds_floors_and_ranks_of_all_values(
    values: np.ndarray,
) -> None:
    pieces = np.array_split(values, [0, 10, 400, 401])
    merged = ValueCounts.merge([ValueCounts.of(piece) for piece in pieces])
    ids = pd.Index([f"C{k:05d}" for k in range(len(values))])
    n = len(values)

    assert merged.total == n
    quantiles = [max(int(np.ceil(k * n / 5)) - 1, 0) for k in range(1, 5)]
    assert merged.at(quantiles) == rfm.quantile_thresholds(values)
    for count in (1, 3, 4):
        ascending = [n - 1 - position for position in tier_positions(n, count)]
        assert merged.at(ascending) == _tier_floors(values, ids, count)
    np.testing.assert_array_equal(
        merged.percent_rank(values), pd.Series(values).rank(pct=True).to_numpy()
    )
