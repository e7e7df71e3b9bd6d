"""Treatments through runs and portfolios: every segment and cell carries one, an analyst's
override is kept, marked, and survives later evaluations."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from segmentation_service import services
from segmentation_service.domain.errors import InvalidRequest, SegmentNotFound
from segmentation_service.domain.model import (
    SegmentationMethod,
    SegmentationRequest,
    Strategy,
    ValueBasedOptions,
    ValueMetric,
)
from segmentation_service.engines.treatments import TreatmentPolicy
from segmentation_service.services.executors import RunLayout
from segmentation_service.store.database import Store
from tests import factories

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOW


@pytest.fixture
def demo_store(store: Store) -> Store:
    factories.load_demo(store, 400)
    return store


@pytest.mark.parametrize("method", list(SegmentationMethod))
def test_every_segment_of_every_method_carries_a_treatment(
    demo_store: Store, method: SegmentationMethod
) -> None:
    run = services.segment_customers(SegmentationRequest(method), demo_store.unit_of_work(), clock)

    for segment in run.segments:
        treatment = segment.treatment
        assert treatment is not None and not treatment.overridden
        assert treatment.reason.startswith(f"{treatment.strategy.value}: ")
        assert f"({segment.size} customers" in treatment.reason
        if method is SegmentationMethod.BEHAVIOURAL:
            shares = {
                name.split(".", 1)[1]: float(value)
                for name, value in segment.profile
                if name.startswith("channel.") and not name.endswith(".zScore")
            }
            assert treatment.channel == max(shares, key=lambda name: shares[name])
            assert segment.name.lower() in treatment.message
    again = services.get_segmentation_run(run.run_id, demo_store.unit_of_work())
    assert [s.treatment for s in again.segments] == [s.treatment for s in run.segments]


def test_thresholds_come_from_the_layout(demo_store: Store) -> None:
    """Everyone signed up within ten years: with new_days that long, every group is new."""
    policy = TreatmentPolicy(new_days=3650, new_share=0.5)
    run = services.segment_customers(
        SegmentationRequest(SegmentationMethod.A_PRIORI),
        demo_store.unit_of_work(),
        clock,
        layout=RunLayout(treatments=policy),
    )
    strategies = {s.treatment.strategy for s in run.segments if s.treatment}
    assert strategies <= {Strategy.ACQUIRE, Strategy.REDUCE_COST_TO_SERVE}
    assert Strategy.ACQUIRE in strategies


def test_an_analysts_treatment_is_kept_with_the_run_and_marked(demo_store: Store) -> None:
    run = services.segment_customers(
        SegmentationRequest(
            SegmentationMethod.VALUE_BASED,
            value_based=ValueBasedOptions(value_metric=ValueMetric.CLV),
        ),
        demo_store.unit_of_work(),
        clock,
    )
    top = run.segments[0]
    assert top.treatment is not None

    changed = services.set_segment_treatment(
        run.run_id,
        top.code,
        Strategy.DEVELOP,
        None,
        "premium bundle",
        demo_store.unit_of_work(),
        "ana",
    )

    kept = services.get_segmentation_run(run.run_id, demo_store.unit_of_work()).segments[0]
    assert kept.treatment == changed.treatment
    assert kept.treatment is not None and kept.treatment.overridden
    assert kept.treatment.strategy is Strategy.DEVELOP
    assert kept.treatment.message == "premium bundle"
    assert kept.treatment.channel == top.treatment.channel  # not given: the recommendation's
    assert kept.treatment.reason == (
        f"Develop: set by ana; the recommendation was {top.treatment.reason}"
    )
    with pytest.raises(SegmentNotFound):
        services.set_segment_treatment(
            run.run_id, "NOPE", Strategy.RETAIN, None, None, demo_store.unit_of_work()
        )
    with pytest.raises(InvalidRequest) as blank:
        services.set_segment_treatment(
            run.run_id, top.code, Strategy.RETAIN, None, "  ", demo_store.unit_of_work()
        )
    assert blank.value.field == "message"


def test_portfolio_cells_carry_treatments_and_overrides_outlive_evaluations(
    demo_store: Store,
) -> None:
    for method in (SegmentationMethod.VALUE_BASED, SegmentationMethod.NEEDS_BASED):
        services.segment_customers(SegmentationRequest(method), demo_store.unit_of_work(), clock)
    portfolio = services.create_portfolio(
        "value x needs",
        SegmentationMethod.VALUE_BASED,
        SegmentationMethod.NEEDS_BASED,
        None,
        None,
        demo_store.unit_of_work(),
        clock,
    )
    _, first = services.evaluate_portfolio(portfolio.portfolio_id, demo_store.unit_of_work(), clock)
    filled = [cell for cell in first.cells if cell.customers]
    assert all(cell.treatment is not None for cell in filled)
    cell = filled[0]
    assert cell.treatment is not None and cell.column_segment is not None
    assert cell.column_segment.lower() in cell.treatment.message  # the needs side's theme

    services.set_portfolio_cell_treatment(
        portfolio.portfolio_id,
        cell.row_segment_code or "",
        cell.column_segment_code or "",
        Strategy.WIN_BACK,
        "Phone",
        None,
        demo_store.unit_of_work(),
        "bea",
    )
    _, second = services.evaluate_portfolio(
        portfolio.portfolio_id, demo_store.unit_of_work(), clock
    )

    again = next(
        c
        for c in second.cells
        if (c.row_segment, c.column_segment) == (cell.row_segment, cell.column_segment)
    )
    assert again.treatment is not None and again.treatment.overridden
    assert (again.treatment.strategy, again.treatment.channel) == (Strategy.WIN_BACK, "Phone")
    assert again.treatment.message == cell.treatment.message
