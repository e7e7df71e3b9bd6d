"""Value-based runs and ScoreCustomerValue over a real store (SQLite and PostgreSQL).

Free items are purchases: a customer whose only purchases cost 0.00 is
assigned and fitted. ScoreCustomerValue as of a back-tested run's asOfDate
gives the figures that run used, from the transactions up to that day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from segmentation_service import services
from segmentation_service.domain.errors import InvalidRequest
from segmentation_service.domain.model import (
    CustomerValueScore,
    SegmentationMethod,
    SegmentationRequest,
    SegmentationRun,
    ValueBasedOptions,
    ValueMetric,
)
from segmentation_service.store.database import Store
from tests import factories
from tests.factories import END_DATE, customer, transaction

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)
AS_OF = END_DATE - timedelta(days=60)
FREE = "Z-FREE"  # took free items on three days, never paid


def clock() -> datetime:
    return NOW


def load(store: Store) -> pd.DataFrame:
    """The 300-customer demo store plus FREE; returns every transaction."""
    data = factories.load_demo(store, 300)
    free = [
        transaction("Z1", FREE, datetime(2026, 1, 10, 11), 0.0),
        transaction("Z2", FREE, datetime(2026, 2, 14, 11), 0.0),
        transaction("Z3", FREE, datetime(2026, 2, 14, 15), 0.0),
        transaction("Z4", FREE, datetime(2026, 3, 20, 11), 0.0),
    ]
    with store.unit_of_work() as uow:
        uow.customers.upsert([customer(FREE)])
        uow.transactions.upsert(free)
        uow.commit()
    return pd.concat([data.transactions, pd.DataFrame(free)], ignore_index=True)


def value_run(store: Store, metric: ValueMetric, as_of: date | None = None) -> SegmentationRun:
    request = SegmentationRequest(
        SegmentationMethod.VALUE_BASED, value_based=ValueBasedOptions(metric, as_of_date=as_of)
    )
    return services.segment_customers(request, store.unit_of_work(), now=clock)


def score(store: Store, ids: list[str], as_of: date | None) -> dict[str, CustomerValueScore]:
    found = services.score_customer_value(ids, None, None, as_of, store.unit_of_work(), now=clock)
    return {s.customer_id: s for s in found.scores}


def assigned(store: Store, run: SegmentationRun) -> pd.DataFrame:
    with store.unit_of_work() as uow:
        return uow.assignments.of_run(run.run_id).set_index("customer_id").sort_index()


def test_a_customer_whose_only_purchases_were_free_is_in_the_bottom_tier_and_the_fit(
    store: Store,
) -> None:
    transactions = load(store)

    run = value_run(store, ValueMetric.MARGIN)

    stored = assigned(store, run)
    assert stored.loc[FREE, "segment_code"] == "V4"  # the bottom of four margin tiers
    assert stored.loc[FREE, "value"] == 0.0
    metrics = {metric.name: metric.value for metric in run.metrics}
    buyers = transactions.loc[transactions["amount"] >= 0, "customer_id"].nunique()
    paying = transactions.loc[transactions["amount"] > 0, "customer_id"].nunique()
    assert buyers == paying + 1  # FREE is the one customer who never paid
    assert run.assigned_count == metrics["value.customersWithPurchases"] == buyers
    assert metrics["bgnbd.customers"] == buyers
    (scored,) = score(store, [FREE], None).values()
    assert (scored.transaction_count, scored.first_purchase_date) == (4, date(2026, 1, 10))
    assert scored.recency_days == (NOW.date() - date(2026, 3, 20)).days
    assert scored.value_tier == "Bronze"
    assert scored.predicted_clv == 0.0  # no spend, no cost to serve: never NaN


def test_scoring_as_of_a_back_tested_runs_date_gives_the_figures_the_run_used(
    store: Store,
) -> None:
    transactions = load(store)
    clv_run = value_run(store, ValueMetric.CLV, AS_OF)
    stored = assigned(store, clv_run)
    names = {segment.code: segment.name for segment in clv_run.segments}
    ids = list(stored.index)

    then = score(store, ids, AS_OF)

    for customer_id, row in stored.iterrows():
        assert then[customer_id].value_tier == names[row["segment_code"]], customer_id
        assert then[customer_id].predicted_clv == pytest.approx(row["value"], rel=1e-9)
    seen = transactions["occurred_at"] < pd.Timestamp(AS_OF + timedelta(days=1))
    counts = transactions[seen].groupby("customer_id").size().loc[ids]
    assert {c: s.transaction_count for c, s in then.items()} == counts.to_dict()
    assert all(s.last_purchase_date and s.last_purchase_date <= AS_OF for s in then.values())
    # Without asOfDate the later transactions count: the figures move on.
    today = score(store, ids, None)
    later = set(transactions.loc[~seen, "customer_id"]) & set(ids)
    assert later
    assert all(today[c].transaction_count > then[c].transaction_count for c in later)
    waited = (NOW.date() - AS_OF).days
    for c in set(ids) - later:
        assert today[c].recency_days == then[c].recency_days + waited  # type: ignore[operator]

    rfm_run = value_run(store, ValueMetric.RFM, AS_OF)
    rfm_stored = assigned(store, rfm_run)
    rfm_names = {segment.code: segment.name for segment in rfm_run.segments}
    rfm_then = score(store, list(rfm_stored.index), AS_OF)
    for customer_id, row in rfm_stored.iterrows():
        code = rfm_then[customer_id].rfm_score
        assert code is not None and sum(int(digit) for digit in code) == row["value"]
        assert rfm_then[customer_id].value_tier == rfm_names[row["segment_code"]]


def test_scoring_as_of_a_future_day_is_refused(sqlite_store: Store) -> None:
    with pytest.raises(InvalidRequest) as raised:
        score(sqlite_store, [FREE], NOW.date() + timedelta(days=1))

    assert raised.value.field == "asOfDate"


def test_a_buyer_without_revenue_scores_the_clv_the_run_gave_it_whoever_is_scored_with_it(
    store: Store,
) -> None:
    # Returned more than it bought: its own margin rate does not exist, so the run took
    # every customer's; a score must take the same one, not the scored batch's.
    load(store)
    refunded = "Z-REFUNDED"
    with store.unit_of_work() as uow:
        uow.customers.upsert([customer(refunded)])
        uow.transactions.upsert(
            [
                transaction("R1", refunded, datetime(2026, 1, 10, 11), 80.0, cost=50.0),
                transaction("R2", refunded, datetime(2026, 3, 2, 11), 80.0, cost=50.0),
                transaction("R3", refunded, datetime(2026, 3, 9, 11), -200.0, cost=-100.0),
            ]
        )
        uow.commit()
    run = value_run(store, ValueMetric.CLV)
    stored = assigned(store, run)
    others = [c for c in stored.index if c != refunded][:40]

    alone = score(store, [refunded], None)[refunded]
    in_a_batch = score(store, [*others, refunded], None)[refunded]

    assert alone.predicted_clv == pytest.approx(stored.loc[refunded, "value"], rel=1e-9)
    assert alone.predicted_clv != 0.0
    # (the same to the last bits but one: arrays of other lengths add in other orders)
    assert in_a_batch.predicted_clv == pytest.approx(alone.predicted_clv, rel=1e-12)
    assert in_a_batch.predicted_clv_low == pytest.approx(alone.predicted_clv_low, rel=1e-12)
    assert in_a_batch.predicted_clv_high == pytest.approx(alone.predicted_clv_high, rel=1e-12)
