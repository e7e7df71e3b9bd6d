"""Runs as an analyst sees them: listing, comparison, owners and profitability (both stores)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import event

from segmentation_service import services
from segmentation_service.domain.errors import InvalidRequest, RunNotFound, SegmentNotFound
from segmentation_service.domain.model import (
    CONTRACT_1_3_METHODS,
    APrioriOptions,
    RunStatus,
    Segment,
    SegmentationMethod,
    SegmentationRequest,
)
from segmentation_service.store.database import Store
from tests.factories import customer, transaction

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOW


def stored_run(store: Store, method: SegmentationMethod, rows: list[tuple[str, str, float]]) -> int:
    """A completed run whose assignments are (customer, segment code, value) rows."""
    with store.unit_of_work() as uow:
        run_id = uow.runs.start(method, None, {}, NOW)
        uow.commit()
    frame = pd.DataFrame(rows, columns=["customer_id", "segment_code", "value"])
    frame["score"], frame["reason"] = None, "crafted"
    codes = sorted(set(frame["segment_code"]))
    with store.unit_of_work() as uow:
        uow.assignments.add(run_id, frame)
        uow.runs.complete(
            run_id,
            finished_at=NOW,
            customer_count=len(rows),
            assigned_count=len(rows),
            metrics={},
            model=None,
            segments=[Segment(c, c, "", 1, 0.5, 0.0, 0.0) for c in codes],
        )
        uow.commit()
    return run_id


def test_comparison_gives_the_known_migration_matrix(store: Store) -> None:
    earlier = stored_run(
        store,
        SegmentationMethod.VALUE_BASED,
        [
            ("a", "V1", 10.0),
            ("b", "V1", 20.0),
            ("c", "V2", 5.0),
            ("d", "V2", 1.0),
            ("e", "V2", 2.0),
        ],
    )
    later = stored_run(
        store,
        SegmentationMethod.VALUE_BASED,
        [
            ("a", "V1", 11.0),
            ("b", "V2", 4.0),
            ("c", "V2", 6.0),
            ("d", "V1", 30.0),
            ("f", "V1", 9.0),
        ],
    )
    found = services.compare_segmentation_runs(earlier, later, store.unit_of_work())
    matrix = {
        (t.from_segment_code, t.to_segment_code): (t.customer_count, t.value_before, t.value_after)
        for t in found.transitions
    }
    assert matrix == {
        ("V1", "V1"): (1, 10.0, 11.0),
        ("V1", "V2"): (1, 20.0, 4.0),
        ("V2", "V1"): (1, 1.0, 30.0),
        ("V2", "V2"): (1, 5.0, 6.0),
    }
    assert found.stayed_share == pytest.approx(0.5)
    assert (found.entered_count, found.left_count) == (1, 1)  # f entered, e left
    assert found.adjusted_rand_index == pytest.approx(-0.5)  # a,b | c,d  vs  a,d | b,c


def test_comparison_of_a_relabelled_grouping_has_full_agreement_but_no_stayers(
    store: Store,
) -> None:
    rows = [("a", "X", 1.0), ("b", "X", 1.0), ("c", "Y", 1.0), ("d", "Y", 1.0)]
    first = stored_run(store, SegmentationMethod.A_PRIORI, rows)
    second = stored_run(
        store, SegmentationMethod.A_PRIORI, [(c, {"X": "P", "Y": "Q"}[s], v) for c, s, v in rows]
    )
    found = services.compare_segmentation_runs(first, second, store.unit_of_work())
    assert found.adjusted_rand_index == pytest.approx(1.0)
    assert found.stayed_share == 0.0


def test_comparison_needs_two_completed_runs(store: Store) -> None:
    done = stored_run(store, SegmentationMethod.A_PRIORI, [("a", "X", 1.0)])
    with store.unit_of_work() as uow:
        running = uow.runs.start(SegmentationMethod.A_PRIORI, None, {}, NOW)
        uow.commit()
    with pytest.raises(RunNotFound) as missing:
        services.compare_segmentation_runs(done, 999, store.unit_of_work())
    assert missing.value.run_id == 999
    with pytest.raises(RunNotFound, match="status Running"):
        services.compare_segmentation_runs(done, running, store.unit_of_work())


def test_runs_are_listed_newest_first_by_method_and_page(store: Store) -> None:
    a1 = stored_run(store, SegmentationMethod.A_PRIORI, [("a", "X", 1.0)])
    v1 = stored_run(store, SegmentationMethod.VALUE_BASED, [("a", "V1", 1.0)])
    a2 = stored_run(store, SegmentationMethod.A_PRIORI, [("a", "Y", 1.0)])
    uow = store.unit_of_work()
    assert [r.run_id for r in services.list_segmentation_runs(None, None, None, uow)] == [
        a2,
        v1,
        a1,
    ]
    only_a = services.list_segmentation_runs(SegmentationMethod.A_PRIORI, None, None, uow)
    assert [r.run_id for r in only_a] == [a2, a1]
    assert [r.run_id for r in services.list_segmentation_runs(None, 1, a2, uow)] == [v1]
    with pytest.raises(InvalidRequest) as raised:
        services.list_segmentation_runs(None, 0, None, uow)
    assert raised.value.field == "limit"


def many_runs(store: Store, count: int) -> None:
    """``count`` runs, labelled by number: completed with segments S<n>a and S<n>b, every
    tenth failed without segments."""
    methods = list(CONTRACT_1_3_METHODS)  # what a listing without a method shows
    with store.unit_of_work() as uow:
        for n in range(count):
            run_id = uow.runs.start(methods[n % len(methods)], str(n), {}, NOW)
            if n % 10 == 0:
                uow.runs.fail(run_id, "too few answers", NOW)
                continue
            uow.runs.complete(
                run_id,
                finished_at=NOW,
                customer_count=2,
                assigned_count=2,
                metrics={},
                model=None,
                segments=[Segment(f"S{n}{c}", c, "", 1, 0.5, 0.0, 0.0) for c in "ab"],
            )
        uow.commit()


@contextmanager
def statements_run(store: Store) -> Iterator[list[str]]:
    """Every SQL statement sent to the database meanwhile."""
    sent: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", remember)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", remember)


def test_listing_runs_takes_the_same_few_queries_for_one_run_as_for_a_hundred(
    store: Store,
) -> None:
    many_runs(store, 130)
    sent: dict[int, list[str]] = {}

    for limit in (1, 100):
        with statements_run(store) as sent[limit]:
            runs = services.list_segmentation_runs(None, limit, None, store.unit_of_work())

        assert [run.label for run in runs] == [str(n) for n in range(129, 129 - limit, -1)]
        for run in runs:
            n = int(run.label or "")
            expected = [] if n % 10 == 0 else [f"S{n}a", f"S{n}b"]
            assert [segment.code for segment in run.segments] == expected

    assert len(sent[1]) == len(sent[100])
    assert [s.lstrip().split()[0].upper() for s in sent[100]].count("SELECT") == 2


def test_segment_owner_is_kept_and_shown_with_the_run(store: Store) -> None:
    run_id = stored_run(store, SegmentationMethod.A_PRIORI, [("a", "X", 1.0), ("b", "Y", 1.0)])
    segment = services.set_segment_owner(run_id, "X", "  Key accounts  ", store.unit_of_work())
    assert segment.owner == "Key accounts"
    run = services.get_segmentation_run(run_id, store.unit_of_work())
    assert {s.code: s.owner for s in run.segments} == {"X": "Key accounts", "Y": None}
    with pytest.raises(SegmentNotFound):
        services.set_segment_owner(run_id, "Z", "Team", store.unit_of_work())
    with pytest.raises(RunNotFound):
        services.set_segment_owner(run_id + 100, "X", "Team", store.unit_of_work())
    with pytest.raises(InvalidRequest) as raised:
        services.set_segment_owner(run_id, "X", "   ", store.unit_of_work())
    assert raised.value.field == "owner"


def test_a_failed_run_is_readable_with_its_reason(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.customers.upsert([customer("a")])
        uow.commit()
    with pytest.raises(InvalidRequest):
        services.segment_customers(
            SegmentationRequest(SegmentationMethod.NEEDS_BASED, label="no answers"),
            store.unit_of_work(),
            now=clock,
        )
    (run,) = services.list_segmentation_runs(None, None, None, store.unit_of_work())
    assert run.status is RunStatus.FAILED and run.label == "no answers"
    assert run.failure_reason and "needs" in run.failure_reason


def test_segment_profit_is_revenue_minus_goods_and_cost_to_serve(store: Store) -> None:
    # Signed up a year before the run: one year of cost to serve each.
    signup = date(2025, 7, 1)
    with store.unit_of_work() as uow:
        uow.customers.upsert(
            [
                customer(
                    "big", customer_type="B2B", signup_date=signup, annual_cost_to_serve=100.0
                ),
                customer(
                    "small", customer_type="B2C", signup_date=signup, annual_cost_to_serve=500.0
                ),
            ]
        )
        uow.transactions.upsert(
            [
                transaction("t1", "big", datetime(2026, 1, 5), 1000.0, cost=600.0),
                transaction("t2", "small", datetime(2026, 1, 5), 300.0, cost=100.0),
                transaction("t3", "small", datetime(2026, 2, 5), -50.0, cost=None),
            ]
        )
        uow.commit()
    run = services.segment_customers(
        SegmentationRequest(
            SegmentationMethod.A_PRIORI, a_priori=APrioriOptions(("customerType",))
        ),
        store.unit_of_work(),
        now=clock,
    )
    segments = {s.code: s for s in run.segments}
    year = (date(2026, 7, 1) - signup).days / 365.25
    assert segments["B2B"].revenue == pytest.approx(1000.0)
    assert segments["B2B"].cost == pytest.approx(600.0 + 100.0 * year)
    assert segments["B2B"].profitable is True
    assert segments["B2C"].revenue == pytest.approx(250.0)
    assert segments["B2C"].cost == pytest.approx(100.0 + 500.0 * year)
    assert segments["B2C"].profit == pytest.approx(250.0 - 100.0 - 500.0 * year)
    assert run.loss_making_segments == ("B2C",)
