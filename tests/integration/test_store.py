"""Repositories and the unit of work, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from segmentation_service.domain.model import Partition, Segment, SegmentationMethod
from segmentation_service.engines.needs_based import needs_matrix
from segmentation_service.engines.value_features import value_features
from segmentation_service.store.bulk import read_frame
from segmentation_service.store.database import Store
from segmentation_service.store.tables import CustomerRow, TransactionRow, table
from tests.factories import customer, transaction

T0 = datetime(2026, 1, 1, 12, 0)


def fill(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.customers.upsert(
            [customer("A", annual_cost_to_serve=120.0), customer("B"), customer("C")]
        )
        uow.transactions.upsert(
            [
                transaction("t1", "A", datetime(2026, 1, 5, 9), 100.0, cost=60.0),
                transaction("t2", "A", datetime(2026, 1, 5, 17), 50.0, cost=None),
                transaction("t3", "A", datetime(2026, 2, 10, 10), 80.0, cost=30.0),
                transaction("t4", "A", datetime(2026, 3, 1, 10), -20.0, cost=-10.0),
                transaction("t5", "A", datetime(2026, 4, 2, 10), 999.0, cost=0.0),  # after as-of
                transaction("t6", "B", datetime(2026, 2, 1, 8), 0.0, cost=None),
            ]
        )
        uow.commit()


def test_aggregates_are_computed_by_the_database_per_customer(store: Store) -> None:
    fill(store)
    with store.unit_of_work() as uow:
        frame = uow.transactions.aggregates(date(2026, 3, 31))
    a = frame.loc["A"]
    assert a["transaction_count"] == 4
    assert a["purchase_count"] == 3  # the return is no purchase
    assert a["revenue"] == pytest.approx(210.0)
    assert a["gross_revenue"] == pytest.approx(230.0)
    assert a["cost"] == pytest.approx(80.0)  # missing cost counts as 0
    assert a["purchase_days"] == 2  # two purchases on 5 January are one occasion
    assert a["repeat_spend"] == pytest.approx(80.0)  # what was spent after the first day
    assert pd.Timestamp(a["first_purchase"]) == pd.Timestamp("2026-01-05 09:00")
    assert pd.Timestamp(a["last_purchase"]) == pd.Timestamp("2026-02-10 10:00")
    b = frame.loc["B"]  # a free item (amount 0) is a purchase
    assert (b["transaction_count"], b["purchase_count"], b["purchase_days"]) == (1, 1, 1)
    assert (b["revenue"], b["gross_revenue"], b["repeat_spend"]) == (0.0, 0.0, 0.0)
    assert pd.Timestamp(b["first_purchase"]) == pd.Timestamp("2026-02-01 08:00")
    assert "C" not in frame.index  # no transactions, no row


def test_aggregates_count_transactions_dated_on_the_as_of_day(store: Store) -> None:
    fill(store)
    with store.unit_of_work() as uow:
        inclusive = uow.transactions.aggregates(date(2026, 4, 2), ["A"])
        before = uow.transactions.aggregates(date(2026, 4, 1), ["A"])
    assert inclusive.loc["A", "transaction_count"] == 5
    assert before.loc["A", "transaction_count"] == 4


def test_upserts_replace_rows_by_key_instead_of_duplicating(store: Store) -> None:
    fill(store)
    with store.unit_of_work() as uow:
        uow.customers.upsert([customer("A", name="Renamed", region="North")])
        uow.needs.upsert([{"customer_id": "A", "need": "price", "score": 3.0, "surveyed_at": None}])
        uow.needs.upsert([{"customer_id": "A", "need": "price", "score": 6.0, "surveyed_at": None}])
        uow.commit()
    with store.unit_of_work() as uow:
        customers = uow.customers.frame()
        answers = uow.needs.responses(["A"])
    assert len(customers) == 3
    assert customers.loc["A", "name"] == "Renamed" and customers.loc["A", "region"] == "North"
    assert answers.to_dict("records") == [{"customer_id": "A", "need": "price", "score": 6.0}]


def test_frames_read_from_the_drivers_tuples_equal_pandas_read_sql(store: Store) -> None:
    """``read_frame`` skips SQLAlchemy's Row per row but keeps its conversions (SQLite's
    date text), so every read gives the frame ``pd.read_sql`` gives."""
    fill(store)
    with store.unit_of_work() as uow:
        uow.customers.upsert(
            [
                customer("D", signup_date=date(2025, 2, 3), employee_count=12, region="North"),
                customer("E", signup_date=None, annual_revenue=1.5e6),
            ]
        )
        uow.commit()
    c, t = table(CustomerRow), table(TransactionRow).c
    queries: list[Select[Any]] = [
        select(*c.columns),
        select(t.customer_id, func.max(t.occurred_at).label("last"), func.sum(t.cost)).group_by(
            t.customer_id
        ),
    ]
    with Session(store.engine) as session:
        for query in queries:
            names = tuple(column.name for column in query.selected_columns)
            read = read_frame(session, lambda restrict, q=query: q, None, names)
            pd.testing.assert_frame_equal(read, pd.read_sql(query, session.connection()))


def test_the_answers_pivoted_by_the_database_equal_the_long_answers_pivoted(
    store: Store,
) -> None:
    fill(store)
    answers = [("A", "price", 6.0), ("A", "speed", 2.5), ("B", "speed", 4.0), ("C", "brand", 1.0)]
    with store.unit_of_work() as uow:
        uow.needs.upsert(
            [{"customer_id": c, "need": n, "score": s, "surveyed_at": None} for c, n, s in answers]
        )
        uow.commit()
    needs = ["speed", "price", "quality"]  # an order of the caller's; nobody rated quality
    with store.unit_of_work() as uow:
        pivoted = uow.needs.matrix(needs, Partition(0, after="A"))
        everyone = uow.needs.matrix(needs)
        long = uow.needs.responses()
    ids = pd.Index(["A", "B", "C"], name="customer_id")
    expected = needs_matrix(long, ids).reindex(columns=needs).astype(float)
    pd.testing.assert_frame_equal(everyone.reindex(expected.index), expected)
    assert list(everyone.columns) == needs
    pd.testing.assert_frame_equal(pivoted.reindex(["B", "C"]), expected.loc[["B", "C"]])
    assert "A" not in pivoted.index


def test_unit_of_work_rolls_back_what_was_not_committed(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.customers.upsert([customer("Z")])
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 0


def test_id_lookups_work_beyond_one_statement_of_bound_parameters(store: Store) -> None:
    ids = [f"C{i:06d}" for i in range(12_000)]
    with store.unit_of_work() as uow:
        uow.customers.upsert([customer(i) for i in ids[::2]])
        uow.commit()
    with store.unit_of_work() as uow:
        assert len(uow.customers.existing_ids(ids)) == 6_000
        assert len(uow.customers.frame(ids)) == 6_000


def _complete_run(store: Store, method: SegmentationMethod, codes: dict[str, str | None]) -> int:
    with store.unit_of_work() as uow:
        run_id = uow.runs.start(method, None, {}, datetime.now(timezone.utc))
        uow.commit()
    frame = pd.DataFrame(
        {
            "customer_id": list(codes),
            "segment_code": list(codes.values()),
            "score": [0.5] * len(codes),
            "value": [float(i) for i in range(len(codes))],
            "reason": ["because"] * len(codes),
        }
    )
    segments = [Segment(code, code, "", 1, 1.0, 0.0, 0.0) for code in set(codes.values()) if code]
    with store.unit_of_work() as uow:
        uow.assignments.add(run_id, frame)
        uow.runs.complete(
            run_id,
            finished_at=datetime.now(timezone.utc),
            customer_count=len(codes),
            assigned_count=sum(1 for c in codes.values() if c),
            metrics={"m": 1.0},
            model=None,
            segments=segments,
        )
        uow.commit()
    return run_id


def test_a_customers_latest_segment_comes_from_the_newest_run_that_covered_it(store: Store) -> None:
    fill(store)
    method = SegmentationMethod.A_PRIORI
    first = _complete_run(store, method, {"A": "X", "B": "X", "C": "Y"})
    second = _complete_run(store, method, {"A": "Z"})  # a run over customer A only
    third = _complete_run(store, method, {"B": None})  # B covered but unassigned
    with store.unit_of_work() as uow:
        a, b, c = (uow.assignments.latest(i, method) for i in "ABC")
        in_first = uow.assignments.latest("A", method, run_id=first)
        other_method = uow.assignments.latest("A", SegmentationMethod.VALUE_BASED)
    assert a is not None and (a.run_id, a.segment_code) == (second, "Z")
    assert b is None  # its newest covering run (third) left it unassigned
    assert c is not None and (c.run_id, c.segment_code) == (first, "Y")
    assert in_first is not None and in_first.segment_code == "X"
    assert other_method is None
    assert third > second > first


def test_a_running_run_is_invisible_to_readers(store: Store) -> None:
    fill(store)
    method = SegmentationMethod.A_PRIORI
    done = _complete_run(store, method, {"A": "X"})
    with store.unit_of_work() as uow:
        uow.runs.start(method, None, {}, datetime.now(timezone.utc))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.runs.latest_completed(method) == done
        latest = uow.assignments.latest("A", method)
    assert latest is not None and latest.run_id == done


def test_member_pages_follow_customer_ids_after_the_cursor(store: Store) -> None:
    ids = [f"K{i:03d}" for i in range(25)]
    with store.unit_of_work() as uow:
        uow.customers.upsert([customer(i) for i in ids])
        uow.commit()
    run_id = _complete_run(
        store,
        SegmentationMethod.A_PRIORI,
        {i: ("EVEN" if n % 2 == 0 else "ODD") for n, i in enumerate(ids)},
    )
    with store.unit_of_work() as uow:
        first = uow.assignments.page(run_id, "EVEN", None, 5)
        rest = uow.assignments.page(run_id, "EVEN", first[-1].customer_id, 100)
    members = [m.customer_id for m in first + rest]
    assert members == ids[::2]
    assert first[0].name == "Customer K000"


def test_run_keeps_its_segments_metrics_and_failure(store: Store) -> None:
    run_id = _complete_run(store, SegmentationMethod.NEEDS_BASED, {})
    with store.unit_of_work() as uow:
        failed = uow.runs.start(SegmentationMethod.NEEDS_BASED, "x", {}, datetime.now(timezone.utc))
        uow.runs.fail(failed, "too few answers", datetime.now(timezone.utc))
        uow.commit()
    with store.unit_of_work() as uow:
        done, bad = uow.runs.get(run_id), uow.runs.get(failed)
    assert done is not None and [m.name for m in done.metrics] == ["m"]
    assert bad is not None and bad.failure_reason == "too few answers" and bad.label == "x"
    assert bad.status.value == "Failed"


def test_totals_give_the_money_of_each_customer_in_one_light_pass(store: Store) -> None:
    fill(store)
    with store.unit_of_work() as uow:
        totals = uow.transactions.totals(date(2026, 3, 31))
        some = uow.transactions.totals(date(2026, 3, 31), ["B", "Z"])
    assert totals.loc["A", "revenue"] == pytest.approx(210.0)
    assert totals.loc["A", "cost"] == pytest.approx(80.0)
    assert pd.Timestamp(totals.loc["A", "first_purchase"]) == pd.Timestamp("2026-01-05 09:00")
    # a zero amount is a purchase
    assert pd.Timestamp(totals.loc["B", "first_purchase"]) == pd.Timestamp("2026-02-01 08:00")
    assert list(some.index) == ["B"]
    full = uow_aggregates(store)
    assert totals.loc["A", "revenue"] == pytest.approx(full.loc["A", "revenue"])


def uow_aggregates(store: Store) -> pd.DataFrame:
    with store.unit_of_work() as uow:
        return uow.transactions.aggregates(date(2026, 3, 31))


def test_free_purchases_count_in_frequency_recency_and_age_but_returns_do_not(
    store: Store,
) -> None:
    as_of = date(2026, 3, 31)
    with store.unit_of_work() as uow:
        uow.customers.upsert([customer("F"), customer("M"), customer("R")])
        uow.transactions.upsert(
            [
                # F only ever took free items: on 2 Jan (twice), 16 Jan and 13 Feb.
                transaction("f1", "F", datetime(2026, 1, 2, 10), 0.0),
                transaction("f2", "F", datetime(2026, 1, 2, 16), 0.0),
                transaction("f3", "F", datetime(2026, 1, 16, 9), 0.0, cost=2.0),
                transaction("f4", "F", datetime(2026, 2, 13, 9), 0.0),
                transaction("f5", "F", datetime(2026, 4, 1, 9), 0.0),  # after the as-of day
                # M paid on 5 Jan, took a free item on 19 Jan and returned something on 2 Mar.
                transaction("m1", "M", datetime(2026, 1, 5, 12), 40.0, cost=25.0),
                transaction("m2", "M", datetime(2026, 1, 19, 12), 0.0),
                transaction("m3", "M", datetime(2026, 3, 2, 12), -10.0),
                # R only returned things: no purchase at all.
                transaction("r1", "R", datetime(2026, 2, 1, 12), -5.0),
            ]
        )
        uow.commit()
        aggregates = uow.transactions.aggregates(as_of)
    features = value_features(aggregates, pd.Index(["F", "M", "R"], name="customer_id"), as_of)

    f, m, r = features.loc["F"], features.loc["M"], features.loc["R"]
    # F: purchase days 2 Jan, 16 Jan, 13 Feb -> 2 repeats; 6 weeks from the first to the
    # last; 88 days (2 Jan to 31 Mar) of observation.
    assert (f["has_purchases"], f["transaction_count"], f["purchase_count"]) == (True, 4, 4)
    assert f["frequency"] == 2
    assert f["recency_weeks"] == pytest.approx(6.0)
    assert f["T_weeks"] == pytest.approx(88 / 7)
    assert f["recency_days"] == 46  # 13 Feb to 31 Mar
    assert (f["revenue"], f["margin"], f["average_order_value"]) == (0.0, -2.0, 0.0)
    assert f["repeat_spend_mean"] == 0.0
    assert f["first_purchase_date"] == date(2026, 1, 2)
    # M: the free item on 19 Jan is its repeat purchase; the return on 2 Mar is none.
    assert (m["purchase_count"], m["frequency"]) == (2, 1)
    assert m["recency_weeks"] == pytest.approx(2.0)
    assert m["T_weeks"] == pytest.approx(85 / 7)
    assert m["last_purchase_date"] == date(2026, 1, 19)
    assert (m["revenue"], m["average_order_value"], m["repeat_spend_mean"]) == (30.0, 20.0, 0.0)
    # R: returns are no purchases, as before.
    assert not r["has_purchases"]
    assert (r["purchase_count"], r["frequency"], r["T_weeks"]) == (0, 0, 0.0)
