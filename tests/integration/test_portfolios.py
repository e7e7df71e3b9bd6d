"""Portfolios over a real store: cells equal an independent cross-tabulation, evaluations are
kept as history (also when a newer run completes), and owners stay with their cells."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import select

from segmentation_service import services
from segmentation_service.domain.errors import InsufficientData, InvalidRequest, PortfolioNotFound
from segmentation_service.domain.model import (
    NeedsBasedOptions,
    PortfolioEvaluation,
    SegmentationMethod,
    SegmentationRequest,
    ValueBasedOptions,
    ValueMetric,
)
from segmentation_service.store.database import Store
from segmentation_service.store.tables import AssignmentRow, SegmentRow, table
from tests import factories

CUSTOMERS = 400
NOW = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)
VALUE = SegmentationMethod.VALUE_BASED
NEEDS = SegmentationMethod.NEEDS_BASED


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def value_run(store: Store, clock: Clock, tiers: int = 4) -> int:
    request = SegmentationRequest(
        VALUE, value_based=ValueBasedOptions(value_metric=ValueMetric.CLV, tier_count=tiers)
    )
    return services.segment_customers(request, store.unit_of_work(), now=clock).run_id


def needs_run(store: Store, clock: Clock, seed: int = 1) -> int:
    request = SegmentationRequest(
        NEEDS, needs_based=NeedsBasedOptions(segment_count=3, random_seed=seed)
    )
    return services.segment_customers(request, store.unit_of_work(), now=clock).run_id


@pytest.fixture
def demo_store(store: Store) -> Store:
    factories.load_demo(store, CUSTOMERS)
    return store


def segment_names(store: Store, run_id: int) -> pd.Series:
    """Each assigned customer's segment name in the run."""
    a, s = table(AssignmentRow).c, table(SegmentRow).c
    query = (
        select(a.customer_id, s.name)
        .join_from(
            table(AssignmentRow),
            table(SegmentRow),
            (a.run_id == s.run_id) & (a.segment_code == s.code),
        )
        .where(a.run_id == run_id)
    )
    with store.engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    return frame.set_index("customer_id")["name"]


def expected_cells(store: Store, rows_run: int, columns_run: int) -> pd.DataFrame:
    """The cross-tabulation computed here from the raw demo data and ScoreCustomerValue."""
    data = factories.demo(CUSTOMERS)
    customers = data.customers.set_index("customer_id")
    as_of = pd.Timestamp(NOW.date())
    tx = data.transactions[data.transactions["occurred_at"] < as_of + pd.Timedelta(days=1)]
    revenue = tx.groupby("customer_id")["amount"].sum().reindex(customers.index, fill_value=0.0)
    goods = tx["cost"].fillna(0.0).groupby(tx["customer_id"]).sum()
    first = tx[tx["amount"] >= 0].groupby("customer_id")["occurred_at"].min()
    start = pd.to_datetime(customers["signup_date"]).fillna(first.reindex(customers.index))
    years = ((as_of - start).dt.days / 365.25).fillna(0.0).clip(lower=0.0)
    cost = (
        goods.reindex(customers.index, fill_value=0.0)
        + customers["annual_cost_to_serve"].fillna(0.0) * years
    )
    ids = list(customers.index)
    clv = {}
    for start_at in range(0, len(ids), 1000):
        scores = services.score_customer_value(
            ids[start_at : start_at + 1000], None, None, None, store.unit_of_work(), now=lambda: NOW
        )
        clv.update({s.customer_id: s.predicted_clv for s in scores.scores})
    frame = pd.DataFrame(
        {
            "row": segment_names(store, rows_run).reindex(customers.index),
            "column": segment_names(store, columns_run).reindex(customers.index),
            "revenue": revenue,
            "cost": cost,
            "acquisition": customers["acquisition_cost"].fillna(0.0),
            "clv": pd.Series(clv, dtype=float).reindex(customers.index),
        }
    ).dropna(subset=["row", "column"])
    grouped = frame.groupby(["row", "column"])
    return pd.DataFrame(
        {
            "customers": grouped.size(),
            "revenue": grouped["revenue"].sum(),
            "cost": grouped["cost"].sum(),
            "clv": grouped["clv"].sum(),
            "equity": grouped.apply(
                lambda g: (g["revenue"] - g["cost"] - g["acquisition"]).sum() + g["clv"].sum()
            ),
        }
    )


def cells_of(evaluation: PortfolioEvaluation) -> dict[tuple[str, str], object]:
    return {(c.row_segment or "", c.column_segment or ""): c for c in evaluation.cells}


def test_cells_equal_an_independent_cross_tabulation(demo_store: Store) -> None:
    clock = Clock()
    rows_run, columns_run = value_run(demo_store, clock), needs_run(demo_store, clock)
    portfolio = services.create_portfolio(
        "value x needs", VALUE, NEEDS, "Ana", "grow equity", demo_store.unit_of_work(), clock
    )

    _, evaluation = services.evaluate_portfolio(
        portfolio.portfolio_id, demo_store.unit_of_work(), clock
    )

    assert (evaluation.rows_run_id, evaluation.columns_run_id) == (rows_run, columns_run)
    expected = expected_cells(demo_store, rows_run, columns_run)
    cells = cells_of(evaluation)
    assert len(evaluation.cells) == 4 * 3
    for (row, column), figures in expected.iterrows():
        cell = cells[(row, column)]
        assert cell.customers == figures["customers"]  # type: ignore[attr-defined]
        assert cell.revenue == pytest.approx(figures["revenue"])  # type: ignore[attr-defined]
        assert cell.cost == pytest.approx(figures["cost"])  # type: ignore[attr-defined]
        assert cell.clv_total == pytest.approx(figures["clv"])  # type: ignore[attr-defined]
        assert cell.equity == pytest.approx(figures["equity"])  # type: ignore[attr-defined]
    empty = set(cells) - set(expected.index)
    assert all(cells[key].customers == 0 for key in empty)  # type: ignore[attr-defined]
    assert sum(c.customers for c in evaluation.cells) == expected["customers"].sum()
    assert evaluation.outside.customers == CUSTOMERS - expected["customers"].sum()
    assert sum(c.equity_share or 0.0 for c in evaluation.cells) == pytest.approx(1.0)
    for total in evaluation.row_totals:
        in_row = [c for c in evaluation.cells if c.row_segment == total.row_segment]
        assert total.customers == sum(c.customers for c in in_row)
        assert total.equity == pytest.approx(sum(c.equity for c in in_row))


def test_history_keeps_each_evaluation_and_owners_stay_with_their_cells(
    demo_store: Store,
) -> None:
    clock = Clock()
    value_run(demo_store, clock)
    needs_run(demo_store, clock, seed=1)
    portfolio = services.create_portfolio(
        "value x needs", VALUE, NEEDS, None, None, demo_store.unit_of_work(), clock
    )
    _, first = services.evaluate_portfolio(portfolio.portfolio_id, demo_store.unit_of_work(), clock)
    gold = first.cells[0]
    assert gold.row_segment_code is not None and gold.column_segment_code is not None
    services.set_portfolio_cell_owner(
        portfolio.portfolio_id,
        gold.row_segment_code,
        gold.column_segment_code,
        "Bea",
        demo_store.unit_of_work(),
    )

    clock.now = NOW + timedelta(days=30)  # a month later, a newer needs run completes
    needs_run(demo_store, clock, seed=1)

    _, history = services.portfolio_history(portfolio.portfolio_id, demo_store.unit_of_work())
    assert len(history) == 2  # the second: evaluated when the newer run completed
    assert history[1].columns_run_id != history[0].columns_run_id
    assert history[1].evaluated_at == clock.now
    later = cells_of(history[1])[(gold.row_segment or "", gold.column_segment or "")]
    assert later.owner == "Bea"  # type: ignore[attr-defined]
    assert cells_of(history[0])[(gold.row_segment or "", gold.column_segment or "")].owner == "Bea"  # type: ignore[attr-defined]
    # costs to serve grew by a month: the cell's value moved, and the history shows it
    assert later.cost > gold.cost  # type: ignore[attr-defined]


def test_portfolio_requests_are_checked(demo_store: Store) -> None:
    clock = Clock()
    with pytest.raises(InvalidRequest) as same:
        services.create_portfolio("p", VALUE, VALUE, None, None, demo_store.unit_of_work(), clock)
    assert same.value.field == "columns"
    portfolio = services.create_portfolio(
        "p", VALUE, NEEDS, None, None, demo_store.unit_of_work(), clock
    )
    with pytest.raises(InvalidRequest) as twice:
        services.create_portfolio("p", NEEDS, VALUE, None, None, demo_store.unit_of_work(), clock)
    assert twice.value.field == "name"
    with pytest.raises(InsufficientData) as missing:
        services.evaluate_portfolio(portfolio.portfolio_id, demo_store.unit_of_work(), clock)
    assert missing.value.field == "rows"
    services.delete_portfolio(portfolio.portfolio_id, demo_store.unit_of_work())
    with pytest.raises(PortfolioNotFound):
        services.evaluate_portfolio(portfolio.portfolio_id, demo_store.unit_of_work(), clock)
