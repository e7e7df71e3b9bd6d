"""Repositories and the unit of work, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import pytest

from segmentation_service.domain.model import Segment, SegmentationMethod
from segmentation_service.store.database import Store
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
    b = frame.loc["B"]
    assert (b["transaction_count"], b["purchase_count"], b["purchase_days"]) == (1, 0, 0)
    assert pd.isna(b["first_purchase"])
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
    assert pd.isna(totals.loc["B", "first_purchase"])  # a zero amount is no purchase
    assert list(some.index) == ["B"]
    full = uow_aggregates(store)
    assert totals.loc["A", "revenue"] == pytest.approx(full.loc["A", "revenue"])


def uow_aggregates(store: Store) -> pd.DataFrame:
    with store.unit_of_work() as uow:
        return uow.transactions.aggregates(date(2026, 3, 31))
