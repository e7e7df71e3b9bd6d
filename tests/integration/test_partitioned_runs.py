"""Runs in partitions over a real store: the same run whatever the partitioning and executor.

A run over the demo store is executed once as one partition and again cut into
several (by customer_id range, or as lists of given ids), inline, on the local
process pool and on a Dask cluster: assignments, segments, metrics and the kept
model must agree. A run cancelled or failed between partitions leaves no rows.
"""

from __future__ import annotations

import gc
import math
import weakref
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import date, datetime, timezone
from typing import Any

import distributed
import pandas as pd
import pytest
from sqlalchemy import select

from segmentation_service import services
from segmentation_service.domain.model import (
    APrioriOptions,
    BehaviouralOptions,
    BehaviourFeature,
    Condition,
    ConditionOperator,
    NeedsBasedOptions,
    Partition,
    Rule,
    RunStatus,
    SegmentationMethod,
    SegmentationRequest,
    SegmentationRun,
    ValueBasedOptions,
    ValueMetric,
)
from segmentation_service.engines.needs_partitions import NeedsBasedPartitionPlan, NeedsModel
from segmentation_service.engines.partitions import PartitionInput, RunOutcome, Stage
from segmentation_service.engines.value_partitions import ValueBasedPartitionPlan
from segmentation_service.jobs.executors import DaskExecutor, local_executor
from segmentation_service.services.executors import InlineExecutor, PartitionExecutor, RunLayout
from segmentation_service.services.partition_inputs import load_partition
from segmentation_service.services.partition_tasks import PartitionTask
from segmentation_service.services.segmentation import FOLD_SUMMARIES
from segmentation_service.store.database import Store
from segmentation_service.store.tables import AssignmentRow
from tests import factories

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)
CUSTOMERS = 400
SMALL = 70  # 400 customers: 6 partitions, the last one short
WHOLE = RunLayout(partition_size=10**9)
METHOD, AS_OF = SegmentationMethod.NEEDS_BASED, date(2026, 7, 1)

REQUESTS = {
    "a-priori-groups": SegmentationRequest(
        SegmentationMethod.A_PRIORI,
        a_priori=APrioriOptions(group_by=("customerType", "region", "industry")),
    ),
    "a-priori-rules": SegmentationRequest(
        SegmentationMethod.A_PRIORI,
        a_priori=APrioriOptions(
            rules=(
                Rule(
                    "BIG",
                    "Big companies",
                    (Condition("companySize", ConditionOperator.EQUALS, ("Large",)),),
                ),
                Rule(
                    "NORTH",
                    "North",
                    (Condition("region", ConditionOperator.EQUALS, ("North",)),),
                ),
            )
        ),
    ),
    "needs-fixed-k": SegmentationRequest(
        SegmentationMethod.NEEDS_BASED,
        needs_based=NeedsBasedOptions(segment_count=4, random_seed=7),
    ),
    "needs-auto-k-centred-pca": SegmentationRequest(
        SegmentationMethod.NEEDS_BASED,
        needs_based=NeedsBasedOptions(centre_respondents=True, pca_components=3, random_seed=3),
    ),
    **{
        f"value-{metric.value.lower()}": SegmentationRequest(
            SegmentationMethod.VALUE_BASED,
            value_based=ValueBasedOptions(value_metric=metric, tier_count=4),
        )
        for metric in ValueMetric
    },
    "behavioural-auto-k": SegmentationRequest(
        SegmentationMethod.BEHAVIOURAL, behavioural=BehaviouralOptions(random_seed=5)
    ),
    "behavioural-fixed-k-some-families": SegmentationRequest(
        SegmentationMethod.BEHAVIOURAL,
        behavioural=BehaviouralOptions(
            features=(
                BehaviourFeature.CHANNEL_MIX,
                BehaviourFeature.BASKET,
                BehaviourFeature.RETURNS,
            ),
            segment_count=3,
            lookback_months=12,
        ),
    ),
}


def clock() -> datetime:
    return NOW


def execute(store: Store, request: SegmentationRequest, layout: RunLayout) -> SegmentationRun:
    return services.segment_customers(request, store.unit_of_work(), now=clock, layout=layout)


def rows_of(store: Store, run_id: int) -> pd.DataFrame:
    a = AssignmentRow.__table__.c
    query = select(a.customer_id, a.segment_code, a.score, a.value, a.reason).where(
        a.run_id == run_id
    )
    with store.engine.connect() as connection:
        frame = pd.read_sql(query.order_by(a.customer_id), connection)
    return frame


def assert_same_run(
    store: Store, expected: SegmentationRun, actual: SegmentationRun, exact: bool = False
) -> None:
    assert actual.status is RunStatus.COMPLETED, actual.failure_reason
    assert (actual.customer_count, actual.assigned_count) == (
        expected.customer_count,
        expected.assigned_count,
    )
    left, right = rows_of(store, expected.run_id), rows_of(store, actual.run_id)
    assert len(left) == expected.customer_count
    pd.testing.assert_frame_equal(left, right, check_exact=exact, rtol=1e-9)
    assert [s.code for s in actual.segments] == [s.code for s in expected.segments]
    for mine, theirs in zip(actual.segments, expected.segments, strict=True):
        assert (mine.name, mine.description, mine.size, mine.profile) == (
            theirs.name,
            theirs.description,
            theirs.size,
            theirs.profile,
        )
        for figure in ("share", "total_value", "average_value", "revenue", "cost"):
            assert getattr(mine, figure) == pytest.approx(getattr(theirs, figure), rel=1e-9)
    assert [m.name for m in actual.metrics] == [m.name for m in expected.metrics]
    for mine_metric, their_metric in zip(actual.metrics, expected.metrics, strict=True):
        assert mine_metric.value == pytest.approx(their_metric.value, rel=1e-6, abs=1e-9)
    with store.unit_of_work() as uow:
        assert_same_model(uow.runs.model(expected.run_id), uow.runs.model(actual.run_id))


def assert_same_model(expected: Any, actual: Any) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys()
        for key in expected:
            assert_same_model(expected[key], actual[key])
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for mine, theirs in zip(actual, expected, strict=True):
            assert_same_model(theirs, mine)
    elif isinstance(expected, float) and not math.isnan(expected):
        assert actual == pytest.approx(expected, rel=1e-6)
    else:
        assert actual == expected


@pytest.fixture
def demo_store(store: Store) -> Store:
    factories.load_demo(store, CUSTOMERS)
    return store


@pytest.mark.parametrize("name", list(REQUESTS))
def test_a_run_cut_into_partitions_equals_the_run_in_one(demo_store: Store, name: str) -> None:
    request = REQUESTS[name]
    whole = execute(demo_store, request, WHOLE)
    parts = execute(demo_store, request, RunLayout(partition_size=SMALL))

    assert_same_run(demo_store, whole, parts)


@pytest.mark.parametrize("name", ["a-priori-groups", "needs-fixed-k", "value-clv"])
def test_summaries_of_many_partitions_are_folded_as_they_arrive(
    demo_store: Store, name: str
) -> None:
    request = REQUESTS[name]
    size = 20  # 20 partitions: the driver folds their summaries (FOLD_SUMMARIES) twice
    assert CUSTOMERS // size > 2 * FOLD_SUMMARIES
    whole = execute(demo_store, request, WHOLE)
    parts = execute(demo_store, request, RunLayout(partition_size=size))

    assert_same_run(demo_store, whole, parts)


def test_a_run_over_given_customers_is_cut_into_lists_of_them(demo_store: Store) -> None:
    with demo_store.unit_of_work() as uow:
        everyone = list(uow.customers.frame().index)
    chosen = tuple(reversed(everyone[::3]))  # unsorted on purpose
    request = SegmentationRequest(
        SegmentationMethod.VALUE_BASED,
        customer_ids=chosen,
        value_based=ValueBasedOptions(value_metric=ValueMetric.REVENUE, tier_count=3),
    )
    whole = execute(demo_store, request, WHOLE)
    parts = execute(demo_store, request, RunLayout(partition_size=25))

    assert whole.customer_count == len(chosen)
    assert_same_run(demo_store, whole, parts)


def test_partition_bounds_cover_every_customer_once(demo_store: Store) -> None:
    with demo_store.unit_of_work() as uow:
        everyone = list(uow.customers.frame().index)
        for size in (1, SMALL, CUSTOMERS // 4, CUSTOMERS, CUSTOMERS + 1):
            partitions = uow.customers.partitions(size)
            covered = [
                customer_id
                for partition in partitions
                for customer_id in uow.customers.frame(partition).index
            ]
            assert covered == everyone
            assert len(partitions) == math.ceil(CUSTOMERS / size)
            assert all(len(uow.customers.frame(p)) <= size for p in partitions)


@pytest.mark.parametrize(
    "name", ["a-priori-groups", "needs-fixed-k", "value-clv", "behavioural-auto-k"]
)
def test_the_local_process_pool_gives_the_same_run(file_store: Store, name: str) -> None:
    request = REQUESTS[name]
    whole = execute(file_store, request, WHOLE)
    pooled = execute(file_store, request, RunLayout(SMALL, local_executor))

    assert_same_run(file_store, whole, pooled)


class CancelledBetweenPartitions:
    """The inline executor, with a cancel asked for once the first partition is written."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __call__(self, uow: Any) -> PartitionExecutor:
        return self

    def map(self, tasks: Sequence[PartitionTask]) -> Generator[Any, None, None]:
        inline = InlineExecutor(self._store.unit_of_work())
        for position, result in enumerate(inline.map(tasks)):
            if tasks[0].stage is Stage.ASSIGN and position == 0:
                services.cancel_segmentation_run(tasks[0].run_id, self._store.unit_of_work())
            yield result


class LostBetweenPartitions(CancelledBetweenPartitions):
    """The inline executor, failing after the first partition is written (a lost worker)."""

    def map(self, tasks: Sequence[PartitionTask]) -> Generator[Any, None, None]:
        inline = InlineExecutor(self._store.unit_of_work())
        for position, result in enumerate(inline.map(tasks)):
            if tasks[0].stage is Stage.ASSIGN and position == 1:
                raise ConnectionResetError("the worker running the next partition was lost")
            yield result


def test_a_run_cancelled_between_partitions_leaves_no_rows(demo_store: Store) -> None:
    request = REQUESTS["value-revenue"]
    run = execute(demo_store, request, RunLayout(SMALL, CancelledBetweenPartitions(demo_store)))

    assert run.status is RunStatus.CANCELLED
    assert rows_of(demo_store, run.run_id).empty
    assert run.segments == ()


def test_a_run_failing_between_partitions_leaves_no_rows(demo_store: Store) -> None:
    request = REQUESTS["a-priori-groups"]
    with pytest.raises(ConnectionResetError):
        execute(demo_store, request, RunLayout(SMALL, LostBetweenPartitions(demo_store)))

    with demo_store.unit_of_work() as uow:
        run = uow.runs.get(1)
    assert run is not None
    assert run.status is RunStatus.FAILED
    assert rows_of(demo_store, run.run_id).empty
    with demo_store.unit_of_work() as uow:
        assert uow.assignments.latest("C0000001", SegmentationMethod.A_PRIORI) is None


@pytest.fixture
def file_store(database_url: str, tmp_path: Any) -> Iterator[Store]:
    """The demo store on a SQLite file or PostgreSQL: what other processes can open."""
    store = Store(database_url)
    store.create_schema()
    factories.load_demo(store, CUSTOMERS)
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    """A real Dask cluster: a scheduler and two worker processes on this machine."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.mark.dask
@pytest.mark.parametrize("name", ["a-priori-rules", "needs-auto-k-centred-pca", "value-rfm"])
def test_the_dask_executor_gives_the_same_run(
    file_store: Store, dask_cluster: Any, name: str
) -> None:
    request = REQUESTS[name]
    whole = execute(file_store, request, WHOLE)
    on_dask: Callable[[Any], PartitionExecutor] = lambda uow: DaskExecutor(dask_cluster)  # noqa: E731
    distributed_run = execute(file_store, request, RunLayout(SMALL, on_dask))

    assert_same_run(file_store, whole, distributed_run)
    workers = dask_cluster.run(lambda: __import__("os").getpid())
    assert len(workers) == 2


def summarise_tasks(store: Store) -> list[PartitionTask]:
    """The summarise pass of a value-based run over ``store``'s partitions of ``SMALL``."""
    uow = store.unit_of_work()
    with uow:
        partitions = uow.customers.partitions(SMALL)
    plan = ValueBasedPartitionPlan(as_of=AS_OF)
    task = PartitionTask(uow.database_url, 0, SegmentationMethod.VALUE_BASED, AS_OF, plan)
    return [task.at(Stage.SUMMARISE, partition) for partition in partitions]


def test_the_local_pool_lets_go_of_each_result_it_has_handed_on(file_store: Store) -> None:
    """A done future holds its result: kept, a run's summaries would pile up in the run's
    process (400 of them at 10M customers, 1.2 GB for a needs-based run)."""
    tasks = summarise_tasks(file_store)
    results = local_executor(file_store.unit_of_work()).map(tasks)
    handed_on = [weakref.ref(next(results)) for _ in range(3)]
    gc.collect()

    assert len(tasks) > 3
    assert [ref() for ref in handed_on] == [None, None, None]
    assert len(list(results)) == len(tasks) - 3


@pytest.mark.dask
def test_the_dask_executor_releases_each_result_it_has_handed_on(
    file_store: Store, dask_cluster: Any
) -> None:
    """The cluster keeps a result while a future of the client holds its key."""
    tasks = summarise_tasks(file_store)
    results = DaskExecutor(dask_cluster).map(tasks)
    for _ in range(3):
        next(results)
    gc.collect()

    assert len(tasks) > 3
    assert len(dask_cluster.refcount) == len(tasks) - 3
    assert len(list(results)) == len(tasks) - 3
    assert not dask_cluster.refcount


def test_needs_answers_pivoted_by_the_store_give_the_run_the_long_answers_give(
    demo_store: Store,
) -> None:
    """Once the fit knows the needs, the refine and assign passes read the answers pivoted
    by the database (``NeedRepository.matrix``); the run is the one the long answers give."""
    plan = NeedsBasedPartitionPlan(
        None, centre_respondents=True, random_state=5, fit_sample_size=150
    )
    with demo_store.unit_of_work() as uow:
        partitions = uow.customers.partitions(SMALL)

    def stages(pivoted: bool) -> tuple[pd.DataFrame, RunOutcome]:
        def load(partition: Partition, stage: Stage, model: NeedsModel | None) -> PartitionInput:
            needs = model.segmenter.needs_ if pivoted and model is not None else None
            uow = demo_store.unit_of_work()
            return load_partition(uow, METHOD, AS_OF, partition, stage, needs=needs)

        model = plan.fit([plan.summarise(load(p, Stage.SUMMARISE, None)) for p in partitions])
        assert plan.refines(model)  # the sample (150) left respondents out
        refined = [plan.refine(load(p, Stage.REFINE, model), model) for p in partitions]
        model = plan.settle(model, refined)
        inputs = [load(p, Stage.ASSIGN, model) for p in partitions]
        assert all((data.answers is not None) is pivoted for data in inputs)
        outputs = [plan.assign(data, model) for data in inputs]
        rows = pd.concat([output.assignments for output in outputs]).set_index("customer_id")
        return rows, plan.finish(model, [output.partial for output in outputs])

    rows, outcome = stages(pivoted=True)
    long_rows, long_outcome = stages(pivoted=False)

    pd.testing.assert_frame_equal(rows, long_rows)
    assert outcome.segments == long_outcome.segments
    assert outcome.metrics == long_outcome.metrics
