"""GetSegmentInsights' use case on SQLite and PostgreSQL, on planted data (issue 14, part 2).

A segment's members are drawn with region North and a high stated need for price far more
often than everyone else; every other attribute, need and figure is drawn the same way for
all. The two planted features must come first; a random split must show nothing; overlaps
must equal a cross-tabulation of the codes made here.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest

from segmentation_service.domain.errors import InvalidRequest, SegmentNotFound
from segmentation_service.domain.model import Segment, SegmentationMethod
from segmentation_service.services.insights import get_segment_insights
from segmentation_service.store.database import Store
from segmentation_service.store.insights import Groups
from tests.factories import customer, transaction

CUSTOMERS = 400
PLANTED = 80  # customers C000..C079 form segment S


def ids() -> list[str]:
    return [f"C{number:03d}" for number in range(CUSTOMERS)]


REGIONS: dict[str, str] = {}
REVENUE: dict[str, float] = {}


@pytest.fixture
def planted(store: Store) -> Store:
    REGIONS.clear()
    REVENUE.clear()
    rng = np.random.default_rng(7)
    rows, needs, sales = [], [], []
    for number, customer_id in enumerate(ids()):
        in_segment = number < PLANTED
        north = rng.random() < (0.8 if in_segment else 0.2)
        REGIONS[customer_id] = "North" if north else str(rng.choice(["South", "East", "West"]))
        rows.append(
            customer(
                customer_id,
                region=REGIONS[customer_id],
                industry=str(rng.choice(["Retail", "Finance", "Health"])),
                customer_type=str(rng.choice(["B2B", "B2C"])),
                employee_count=int(rng.integers(1, 500)),
                birth_year=int(rng.integers(1950, 2000)),
            )
        )
        price = rng.normal(8.0 if in_segment else 5.0, 1.0)
        needs.append({"customer_id": customer_id, "need": "price", "score": float(price)})
        needs.append(
            {"customer_id": customer_id, "need": "service", "score": float(rng.normal(5, 1))}
        )
        for k in range(int(rng.integers(0, 4))):  # some customers never bought
            day = datetime(2026, 1, 1 + int(rng.integers(0, 28)), 10)
            amount = float(rng.choice([50.0, 80.0, -10.0]))
            sales.append(transaction(f"T{customer_id}-{k}", customer_id, day, amount, cost=20.0))
            REVENUE[customer_id] = REVENUE.get(customer_id, 0.0) + amount
    with store.unit_of_work() as uow:
        uow.customers.upsert(rows)
        uow.needs.upsert(needs)
        uow.transactions.upsert(sales)
        uow.commit()
    return store


def complete_run(store: Store, method: SegmentationMethod, codes: dict[str, str | None]) -> int:
    """A completed run with these assignments and segments of their real sizes."""
    now = datetime(2026, 6, 30, 12, tzinfo=timezone.utc)
    with store.unit_of_work() as uow:
        run_id = uow.runs.start(method, None, {}, now)
        uow.commit()
    frame = pd.DataFrame(
        {
            "customer_id": list(codes),
            "segment_code": list(codes.values()),
            "score": None,
            "value": None,
            "reason": None,
        }
    )
    sizes = Counter(code for code in codes.values() if code)
    segments = [
        Segment(code, f"Segment {code}", "", size, size / sum(sizes.values()), 0.0, 0.0)
        for code, size in sorted(sizes.items())
    ]
    with store.unit_of_work() as uow:
        uow.assignments.add(run_id, frame)
        uow.runs.complete(
            run_id,
            finished_at=now,
            customer_count=len(codes),
            assigned_count=sum(sizes.values()),
            metrics={},
            model=None,
            segments=segments,
        )
        uow.commit()
    return run_id


def planted_run(store: Store) -> int:
    return complete_run(
        store,
        SegmentationMethod.NEEDS_BASED,
        {c: "S" if n < PLANTED else "R" for n, c in enumerate(ids())},
    )


def test_the_planted_attribute_value_and_need_come_first(planted: Store) -> None:
    run_id = planted_run(planted)

    found = get_segment_insights(run_id, "S", None, planted.unit_of_work())

    first_two = {d.feature for d in found.differentiators[:2]}
    assert first_two == {"region=North", "need:price"}
    by_feature = {d.feature: d for d in found.differentiators}
    north = by_feature["region=North"]
    assert north.segment_value > 0.6 and north.baseline_value < 0.4
    assert north.lift == pytest.approx(north.segment_value / north.baseline_value)
    price = by_feature["need:price"]
    assert price.segment_value == pytest.approx(8.0, abs=0.4) and price.lift > 1.0
    assert all(0.0 <= d.p_value < 0.05 for d in found.differentiators)
    assert len(found.differentiators) <= 20


def test_against_another_segment_the_baseline_is_that_segment_alone(planted: Store) -> None:
    run_id = planted_run(planted)

    found = get_segment_insights(run_id, "S", "R", planted.unit_of_work())

    north = next(d for d in found.differentiators if d.feature == "region=North")
    rest = [c for n, c in enumerate(ids()) if n >= PLANTED]
    in_rest = sum(REGIONS[c] == "North" for c in rest) / len(rest)
    assert north.baseline_value == pytest.approx(in_rest)  # R alone, not everyone


def test_a_segment_equal_to_its_baseline_has_no_differentiator(planted: Store) -> None:
    everyone = complete_run(planted, SegmentationMethod.A_PRIORI, dict.fromkeys(ids(), "ALL"))
    assert get_segment_insights(everyone, "ALL", None, planted.unit_of_work()).differentiators == ()

    rng = np.random.default_rng(3)
    halves = {c: str(rng.choice(["A", "B"])) for c in ids()}
    split = complete_run(planted, SegmentationMethod.A_PRIORI, halves)
    for baseline in (None, "B"):
        found = get_segment_insights(split, "A", baseline, planted.unit_of_work())
        assert found.differentiators == (), found.differentiators


def test_overlaps_equal_a_cross_tabulation_of_the_codes(planted: Store) -> None:
    run_id = planted_run(planted)
    rng = np.random.default_rng(5)
    value_codes = {c: str(rng.choice(["V1", "V2", "V3"])) for c in ids()}
    value_codes.update({c: None for c in ids()[-40:]})  # unassigned by the value run
    older = complete_run(planted, SegmentationMethod.VALUE_BASED, {c: "V1" for c in ids()})
    value_run = complete_run(planted, SegmentationMethod.VALUE_BASED, value_codes)
    regions = {c: ("N" if n % 3 else "S") for n, c in enumerate(ids())}
    a_priori = complete_run(planted, SegmentationMethod.A_PRIORI, regions)

    found = get_segment_insights(run_id, "S", None, planted.unit_of_work())

    members = {c for n, c in enumerate(ids()) if n < PLANTED}
    expected = []
    for method, run, codes in (
        ("ValueBased", value_run, value_codes),
        ("APriori", a_priori, regions),
    ):
        sizes = Counter(code for code in codes.values() if code)
        shared = Counter(codes[c] for c in members if codes[c])
        for code, count in shared.items():
            union = len(members) + sizes[code] - count
            share, overlap = count / len(members), count / union
            expected.append((method, run, code, count, round(share, 12), round(overlap, 12)))
    got = [
        (
            o.method,
            o.run_id,
            o.segment_code,
            o.shared_customers,
            round(o.share_of_this_segment, 12),
            round(o.jaccard, 12),
        )
        for o in found.overlaps
    ]
    assert sorted(got) == sorted(expected)
    assert [o.shared_customers for o in found.overlaps] == sorted(
        (o.shared_customers for o in found.overlaps), reverse=True
    )
    assert older not in {o.run_id for o in found.overlaps}  # only the latest run per method
    assert SegmentationMethod.NEEDS_BASED.value not in {o.method for o in found.overlaps}


def test_unknown_segments_and_the_segment_as_its_own_baseline_are_refused(planted: Store) -> None:
    run_id = planted_run(planted)
    with pytest.raises(SegmentNotFound):
        get_segment_insights(run_id, "Z", None, planted.unit_of_work())
    with pytest.raises(SegmentNotFound):
        get_segment_insights(run_id, "S", "Z", planted.unit_of_work())
    with pytest.raises(InvalidRequest) as refused:
        get_segment_insights(run_id, "S", "S", planted.unit_of_work())
    assert refused.value.field == "baseline"


def test_transaction_figures_count_customers_without_purchases_as_zero(planted: Store) -> None:
    run_id = planted_run(planted)
    with planted.unit_of_work() as uow:
        figures = uow.insights.transaction_figures(Groups(run_id, "S"), date(2026, 6, 30))
    revenue = next(f for f in figures if f.feature == "revenue")
    members = [c for n, c in enumerate(ids()) if n < PLANTED]
    rest = [c for n, c in enumerate(ids()) if n >= PLANTED]
    for moments, group in ((revenue.segment, members), (revenue.rest, rest)):
        values = np.array([REVENUE.get(c, 0.0) for c in group])
        assert moments.count == len(group)
        assert moments.mean == pytest.approx(values.mean())
        assert moments.variance == pytest.approx(values.var(ddof=1))
