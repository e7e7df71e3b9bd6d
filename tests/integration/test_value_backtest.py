"""A back-test through the store: a value-based run observed up to asOfDate predicts the hold-out.

Purchases are simulated day by day from known BG/NBD parameters, loaded as
transactions, and a ValueBased run ends its observation on asOfDate. The
fitted model's expected purchases over the hold-out must match the purchase
days that really followed within 5%, and later transactions must not leak
into the fit.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from segmentation_service import services
from segmentation_service.domain.model import (
    SegmentationMethod,
    SegmentationRequest,
    ValueBasedOptions,
)
from segmentation_service.engines import clv
from segmentation_service.engines.value_features import value_features
from segmentation_service.services.executors import RunLayout
from segmentation_service.services.importing import load_frame
from segmentation_service.store.database import Store

START = date(2024, 1, 1)
CALIBRATION_DAYS = 52 * 7
HOLDOUT_DAYS = 39 * 7
AS_OF = START + timedelta(days=CALIBRATION_DAYS - 1)
TRUE = {"r": 0.6, "alpha": 5.0, "a": 1.8, "b": 4.0}


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Transactions of ``n`` customers: first purchase in the first 12 weeks, BG/NBD after."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(n):
        rate_per_day = rng.gamma(TRUE["r"], 1 / TRUE["alpha"]) / 7
        dropout = rng.beta(TRUE["a"], TRUE["b"])
        day = float(rng.uniform(0, 84))
        rows.append((index, day))
        while True:
            day += rng.exponential(1 / rate_per_day)
            if day >= CALIBRATION_DAYS + HOLDOUT_DAYS:
                break
            rows.append((index, day))
            if rng.random() < dropout:
                break
    frame = pd.DataFrame(rows, columns=["customer", "day"])
    frame["customer_id"] = [f"S{c:05d}" for c in frame["customer"]]
    frame["occurred_at"] = [
        datetime.combine(START, time(12)) + timedelta(days=int(d)) for d in frame["day"]
    ]
    frame["transaction_id"] = [f"T{i:07d}" for i in range(len(frame))]
    frame["amount"], frame["cost"] = 50.0, 30.0
    frame["channel"] = frame["category"] = None
    columns = [
        "transaction_id",
        "customer_id",
        "occurred_at",
        "amount",
        "cost",
        "channel",
        "category",
    ]
    return frame[columns]


def test_run_observed_until_as_of_date_predicts_the_holdout_within_five_percent(
    sqlite_store: Store,
) -> None:
    transactions = simulate(30_000, seed=0)
    customers = pd.DataFrame({"customer_id": sorted(set(transactions["customer_id"]))})
    customers["name"] = customers["customer_id"]
    load_frame(sqlite_store.unit_of_work(), "customers", customers)
    load_frame(sqlite_store.unit_of_work(), "transactions", transactions)

    run = services.segment_customers(
        SegmentationRequest(
            SegmentationMethod.VALUE_BASED,
            value_based=ValueBasedOptions(as_of_date=AS_OF),
        ),
        sqlite_store.unit_of_work(),
        now=lambda: datetime(2025, 12, 31, tzinfo=timezone.utc),
    )
    metrics = {m.name: m.value for m in run.metrics}
    with sqlite_store.unit_of_work() as uow:
        model = uow.runs.model(run.run_id)
        aggregates = uow.transactions.aggregates(AS_OF)
    assert model is not None and model["as_of"] == AS_OF.isoformat()

    # Only calibration transactions were seen: every customer's last purchase is <= AS_OF.
    assert pd.to_datetime(aggregates["last_purchase"]).max().date() <= AS_OF
    features = value_features(aggregates, aggregates.index, AS_OF)
    params = clv.BetaGeoParams(**model["bgnbd"])
    predicted = clv.expected_purchases(
        params,
        HOLDOUT_DAYS / 7,
        features["frequency"],
        features["recency_weeks"],
        features["T_weeks"],
    ).sum()
    later = pd.to_datetime(transactions["occurred_at"]).dt.date > AS_OF
    actual = (
        transactions[later]
        .assign(day=pd.to_datetime(transactions["occurred_at"]).dt.date)
        .drop_duplicates(["customer_id", "day"])
        .shape[0]
    )

    assert predicted == pytest.approx(actual, rel=0.05)
    assert metrics["bgnbd.customers"] == len(customers)
    for name in ("r", "alpha", "a", "b"):
        assert metrics[f"bgnbd.{name}"] == pytest.approx(TRUE[name], rel=0.25)


@pytest.mark.parametrize("partition_size", [50_000, 700])  # one partition; summaries merged
def test_the_hold_out_check_equals_an_independent_computation(
    sqlite_store: Store, partition_size: int
) -> None:
    transactions = simulate(4_000, seed=1)
    customers = pd.DataFrame({"customer_id": sorted(set(transactions["customer_id"]))})
    customers["name"] = customers["customer_id"]
    load_frame(sqlite_store.unit_of_work(), "customers", customers)
    load_frame(sqlite_store.unit_of_work(), "transactions", transactions)
    run_date = AS_OF + timedelta(
        days=HOLDOUT_DAYS
    )  # before as-of + 12 months: the run date ends it

    run = services.segment_customers(
        SegmentationRequest(
            SegmentationMethod.VALUE_BASED,
            value_based=ValueBasedOptions(as_of_date=AS_OF, horizon_months=12),
        ),
        sqlite_store.unit_of_work(),
        now=lambda: datetime.combine(run_date, time(9), tzinfo=timezone.utc),
        layout=RunLayout(partition_size=partition_size),
    )

    metrics = {m.name: m.value for m in run.metrics}
    with sqlite_store.unit_of_work() as uow:
        model = uow.runs.model(run.run_id)
    assert model is not None
    # Calibration and hold-out from the raw transactions, without the service's features.
    days = transactions.assign(day=pd.to_datetime(transactions["occurred_at"]).dt.date)
    days = days[["customer_id", "day"]].drop_duplicates()
    calibration = days[days["day"] <= AS_OF].groupby("customer_id")["day"]
    first, last, count = calibration.min(), calibration.max(), calibration.size()
    x = (count - 1).to_numpy(float)
    t_x = np.array([(b - a).days / 7 for a, b in zip(first, last, strict=True)])
    age = np.array([(AS_OF - a).days / 7 for a in first])
    holdout = days[(days["day"] > AS_OF) & (days["day"] <= run_date)]
    actual = holdout.groupby("customer_id").size().reindex(count.index, fill_value=0).to_numpy()
    predicted = clv.expected_purchases(
        clv.BetaGeoParams(**model["bgnbd"]), HOLDOUT_DAYS / 7, x, t_x, age
    )

    assert metrics["holdout.weeks"] == HOLDOUT_DAYS / 7
    assert metrics["holdout.customers"] == len(count)
    assert metrics["holdout.actualPurchases"] == actual.sum()
    assert metrics["holdout.predictedPurchases"] == pytest.approx(predicted.sum(), rel=1e-9)
    assert metrics["holdout.error"] == pytest.approx(
        (predicted.sum() - actual.sum()) / actual.sum(), rel=1e-9
    )
    assert metrics["holdout.meanAbsoluteError"] == pytest.approx(
        np.abs(predicted - actual).mean(), rel=1e-9
    )
    bucket = np.minimum(x, 7)
    for frequency in range(8):
        inside = bucket == frequency
        name = f"holdout.byFrequency.{frequency}"
        assert metrics[f"{name}.customers"] == inside.sum()
        assert metrics[f"{name}.predicted"] == pytest.approx(predicted[inside].mean(), rel=1e-9)
        assert metrics[f"{name}.actual"] == pytest.approx(actual[inside].mean(), rel=1e-9)
    # A model fitted on the right process predicts the hold-out well, overall and by row.
    assert abs(metrics["holdout.error"]) < 0.1


def test_a_run_looking_at_today_has_no_hold_out_check(sqlite_store: Store) -> None:
    transactions = simulate(600, seed=2)
    customers = pd.DataFrame({"customer_id": sorted(set(transactions["customer_id"]))})
    customers["name"] = customers["customer_id"]
    load_frame(sqlite_store.unit_of_work(), "customers", customers)
    load_frame(sqlite_store.unit_of_work(), "transactions", transactions)
    run = services.segment_customers(
        SegmentationRequest(SegmentationMethod.VALUE_BASED),
        sqlite_store.unit_of_work(),
        now=lambda: datetime.combine(AS_OF, time(9), tzinfo=timezone.utc),
    )
    assert not [m.name for m in run.metrics if m.name.startswith("holdout.")]
