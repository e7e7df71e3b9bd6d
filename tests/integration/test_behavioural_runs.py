"""Behavioural runs through the store: planted buying styles recovered, the window, the
unassigned, faults, and a fit on a sample that leaves purchasers out."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from sqlalchemy import select

from segmentation_service import services
from segmentation_service.domain.errors import InsufficientData, InvalidRequest
from segmentation_service.domain.model import (
    BehaviouralOptions,
    BehaviourFeature,
    Partition,
    RunStatus,
    SegmentationMethod,
    SegmentationRequest,
    SegmentationRun,
)
from segmentation_service.engines.behaviour_features import BehaviourWindow, behaviour_features
from segmentation_service.engines.behavioural_partitions import BehaviouralPartitionPlan
from segmentation_service.engines.partitions import PartitionInput, RunOutcome, Stage
from segmentation_service.services.executors import RunLayout
from segmentation_service.services.importing import load_frame
from segmentation_service.services.partition_inputs import load_partition
from segmentation_service.store.database import Store
from segmentation_service.store.tables import AssignmentRow, table
from tests import factories
from tests.planted_behaviour import PLANTED_STYLES, planted_behaviour

AS_OF = date(2025, 6, 30)
NOW = datetime(2025, 7, 15, 8, 0, tzinfo=timezone.utc)
N = 600
METHOD = SegmentationMethod.BEHAVIOURAL


def clock() -> datetime:
    return NOW


@pytest.fixture
def planted_store(store: Store) -> tuple[Store, pd.Series]:
    """The planted customers, plus two who bought only before the window and one who
    never bought."""
    transactions, customers = planted_behaviour(N, AS_OF, seed=11)
    rows = [
        factories.customer(customer_id, signup_date=signup.date())
        for customer_id, signup in customers["signup_date"].items()
    ]
    rows += [factories.customer(f"Z{i}", signup_date=date(2020, 1, 1)) for i in range(3)]
    load_frame(store.unit_of_work(), "customers", pd.DataFrame(rows))
    old = [
        {
            **factories.transaction(f"OLD{i}", f"Z{i}", datetime(2021, 3, 1), 50.0),
            "channel": "Store",
        }
        for i in range(2)
    ]
    frame = pd.concat([transactions, pd.DataFrame(old)], ignore_index=True)
    load_frame(store.unit_of_work(), "transactions", frame[list(old[0])])
    return store, customers["style"]


def run(
    store: Store, options: BehaviouralOptions, layout: RunLayout | None = None
) -> SegmentationRun:
    request = SegmentationRequest(SegmentationMethod.BEHAVIOURAL, behavioural=options)
    return services.segment_customers(request, store.unit_of_work(), now=clock, layout=layout)


def assignments(store: Store, run_id: int) -> pd.DataFrame:
    a = table(AssignmentRow).c
    query = select(a.customer_id, a.segment_code, a.reason).where(a.run_id == run_id)
    with store.engine.connect() as connection:
        return pd.read_sql(query, connection).set_index("customer_id").sort_index()


def test_the_planted_styles_are_recovered_from_the_store(
    planted_store: tuple[Store, pd.Series],
) -> None:
    store, styles = planted_store
    done = run(store, BehaviouralOptions(random_seed=2, as_of_date=AS_OF))

    assert done.status is RunStatus.COMPLETED, done.failure_reason
    metrics = {m.name: m.value for m in done.metrics}
    assert metrics["behaviour.k"] == len(PLANTED_STYLES)
    assert metrics["behaviour.customers"] == N
    assert metrics["behaviour.withoutPurchases"] == 3
    assert (done.customer_count, done.assigned_count) == (N + 3, N)
    rows = assignments(store, done.run_id)
    assigned = rows.loc[styles.index]
    assert adjusted_rand_score(styles, assigned["segment_code"]) >= 0.9
    names = {segment.code: segment.name for segment in done.segments}
    named = {
        style: names[assigned.loc[styles == style, "segment_code"].mode()[0]]
        for style in PLANTED_STYLES
    }
    assert named["online frequent"].startswith("Online-first")
    assert named["store large baskets"].startswith("Store-first")
    assert named["returns heavy"].startswith("Returns-heavy")


def test_customers_without_a_purchase_in_the_window_stay_unassigned_with_the_reason(
    planted_store: tuple[Store, pd.Series],
) -> None:
    store, _ = planted_store
    done = run(store, BehaviouralOptions(segment_count=3, as_of_date=AS_OF))

    rows = assignments(store, done.run_id)
    for customer_id in ("Z0", "Z1", "Z2"):  # bought in 2021 only, or never
        assert pd.isna(rows.loc[customer_id, "segment_code"])
        assert rows.loc[customer_id, "reason"] == (
            "no purchase between 2023-06-30 (exclusive) and 2025-06-30"
        )
    assert sum(segment.size for segment in done.segments) == N


def test_a_window_of_one_month_reads_only_that_month(
    planted_store: tuple[Store, pd.Series],
) -> None:
    store, _ = planted_store
    with store.unit_of_work() as uow:
        partition = uow.customers.partitions(10**9)[0]
    window = BehaviourWindow(AS_OF, 1)
    data = load_partition(store.unit_of_work(), METHOD, AS_OF, partition, Stage.SUMMARISE, window)
    assert data.behaviour is not None
    totals = data.behaviour.totals
    transactions, _ = planted_behaviour(N, AS_OF, seed=11)
    in_month = transactions[
        (transactions["occurred_at"] >= pd.Timestamp("2025-05-31"))  # after 2025-05-30
        & (transactions["occurred_at"] < pd.Timestamp("2025-07-01"))
    ]
    assert int(totals["purchases"].sum() + totals["returns"].sum()) == len(in_month)
    assert totals["first_purchase"].min() >= pd.Timestamp("2025-05-31")


def test_features_restrict_the_clustering_to_those_families(
    planted_store: tuple[Store, pd.Series],
) -> None:
    store, _ = planted_store
    only = (BehaviourFeature.RETURNS, BehaviourFeature.BASKET)
    done = run(store, BehaviouralOptions(features=only, segment_count=2, as_of_date=AS_OF))

    features = {name.split(".zScore")[0] for s in done.segments for name, _ in s.profile}
    assert features == {"returnRate", "averageBasket"}


def test_bad_options_are_faults_naming_the_field(planted_store: tuple[Store, pd.Series]) -> None:
    store, _ = planted_store
    with pytest.raises(InvalidRequest) as future:
        run(store, BehaviouralOptions(as_of_date=date(2025, 8, 1)))
    assert future.value.field == "behavioural.asOfDate"
    with pytest.raises(InvalidRequest) as twice:
        run(store, BehaviouralOptions(features=(BehaviourFeature.BASKET, BehaviourFeature.BASKET)))
    assert twice.value.field == "behavioural.features"


def test_a_window_without_purchases_is_insufficient_data(
    planted_store: tuple[Store, pd.Series],
) -> None:
    store, _ = planted_store
    with pytest.raises(InsufficientData) as raised:
        run(store, BehaviouralOptions(as_of_date=date(2019, 1, 1)))
    assert raised.value.field == "behavioural"


def partitioned(
    store: Store, plan: BehaviouralPartitionPlan, size: int
) -> tuple[pd.DataFrame, RunOutcome]:
    """What the driver does over partitions of ``size`` customers, inline."""
    with store.unit_of_work() as uow:
        partitions = uow.customers.partitions(size)

    def load(partition: Partition, stage: Stage) -> PartitionInput:
        uow = store.unit_of_work()
        return load_partition(uow, METHOD, AS_OF, partition, stage, plan.window)

    model = plan.fit([plan.summarise(load(p, Stage.SUMMARISE)) for p in partitions])
    if plan.refines(model):
        refined = [plan.refine(load(p, Stage.REFINE), model) for p in partitions]
        model = plan.settle(model, refined)
    outputs = [plan.assign(load(p, Stage.ASSIGN), model) for p in partitions]
    rows = pd.concat([output.assignments for output in outputs]).set_index("customer_id")
    return rows, plan.finish(model, [output.partial for output in outputs])


def plain(rows: pd.DataFrame) -> pd.DataFrame:
    """Missing values as None and object columns, however the frames were concatenated."""
    return rows.astype(object).where(rows.notna(), None)


def test_a_fit_on_a_sample_describes_every_member_whatever_the_partitioning(
    planted_store: tuple[Store, pd.Series],
) -> None:
    store, _ = planted_store
    plan = BehaviouralPartitionPlan(
        BehaviourWindow(AS_OF, 24), n_segments=3, random_state=4, fit_sample_size=200
    )
    whole_rows, whole = partitioned(store, plan, 10**9)
    rows, outcome = partitioned(store, plan, 150)  # 5 partitions

    pd.testing.assert_frame_equal(plain(rows), plain(whole_rows))
    for mine, theirs in zip(outcome.segments, whole.segments, strict=True):
        assert (mine.code, mine.name, mine.size, mine.profile) == (
            theirs.code,
            theirs.name,
            theirs.size,
            theirs.profile,
        )
        assert mine.total_value == pytest.approx(theirs.total_value)
    assert outcome.metrics == pytest.approx(whole.metrics)
    assert outcome.metrics["behaviour.customers"] == N  # the sample had 200 of them
    everyone = load_partition(
        store.unit_of_work(), METHOD, AS_OF, Partition(0), Stage.ASSIGN, plan.window
    )
    assert everyone.behaviour is not None
    features = behaviour_features(everyone.behaviour, plan.window)
    codes = rows.loc[features.index, "segment_code"]
    for segment in outcome.segments:  # sizes and profiles over every member, not the sample
        members = features[codes == segment.code]
        assert segment.size == len(members)
        profile = dict(segment.profile)
        for feature in ("averageBasket", "returnRate", "channel.Online"):
            assert float(profile[feature]) == pytest.approx(members[feature].mean(), abs=0.006)


def test_answers_naming_no_method_leave_behavioural_runs_out(
    planted_store: tuple[Store, pd.Series],
) -> None:
    """What a client generated from contract 1.3 reads never holds the value Behavioural."""
    store, _ = planted_store
    behavioural = run(store, BehaviouralOptions(segment_count=3, as_of_date=AS_OF))
    a_priori = services.segment_customers(
        SegmentationRequest(SegmentationMethod.A_PRIORI), store.unit_of_work(), now=clock
    )

    listed = services.list_segmentation_runs(None, None, None, store.unit_of_work())
    assert [r.run_id for r in listed] == [a_priori.run_id]
    asked = services.list_segmentation_runs(METHOD, None, None, store.unit_of_work())
    assert [r.run_id for r in asked] == [behavioural.run_id]

    lookups = services.get_customer_segment("B00001", None, None, store.unit_of_work())
    assert [found.method for found in lookups] == [SegmentationMethod.A_PRIORI]
    (own,) = services.get_customer_segment("B00001", METHOD, None, store.unit_of_work())
    assert own.run_id == behavioural.run_id
    assert own.segment_code.startswith("B")
