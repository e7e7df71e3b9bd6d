"""Customer portfolios: create them, evaluate them now or when a newer run completes, keep
every evaluation as their history, and give cells owners and treatments
(``engines.portfolio``, ``engines.treatments``)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd

from segmentation_service.domain.errors import (
    InsufficientData,
    InvalidRequest,
    PortfolioNotFound,
    SegmentNotFound,
)
from segmentation_service.domain.model import (
    Portfolio,
    PortfolioCell,
    PortfolioEvaluation,
    SegmentationMethod,
    Strategy,
    Treatment,
)
from segmentation_service.engines.group_figures import GroupSums
from segmentation_service.engines.portfolio import CellFigures, CellSums, portfolio_figures
from segmentation_service.engines.profitability import customer_profitability
from segmentation_service.engines.treatments import TreatmentPolicy, recommend
from segmentation_service.engines.value_based import ValueModel, score_with_model
from segmentation_service.engines.value_features import value_features
from segmentation_service.services.clock import Clock, utc_now
from segmentation_service.services.executors import DEFAULT_PARTITION_SIZE
from segmentation_service.services.runs import overriding
from segmentation_service.store.portfolios import CellSettings, DuplicatePortfolioName
from segmentation_service.store.runs import treatment_data, treatment_of
from segmentation_service.store.uow import UnitOfWork

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200
DEFAULT_POLICY = TreatmentPolicy()  # the settings' defaults
CELL_KEY_SEPARATOR = "\x1f"  # segment names are free text; this never is in them
# A cell's message speaks of its needs or behaviour segment.
THEMED_METHODS = (SegmentationMethod.NEEDS_BASED, SegmentationMethod.BEHAVIOURAL)
CUSTOMER_COLUMNS = ("signup_date", "annual_cost_to_serve", "acquisition_cost", "preferred_channel")


def create_portfolio(
    name: str,
    rows: SegmentationMethod,
    columns: SegmentationMethod,
    owner: str | None,
    objective: str | None,
    uow: UnitOfWork,
    now: Clock = utc_now,
    created_by: str | None = None,
) -> Portfolio:
    if not 1 <= len(name.strip()) <= MAX_NAME_LENGTH:
        raise InvalidRequest("name", f"must be 1 to {MAX_NAME_LENGTH} characters")
    if rows is columns:
        raise InvalidRequest("columns", f"must be another method than rows ({rows.value})")
    with uow:
        try:
            portfolio = uow.portfolios.add(
                name.strip(), rows, columns, owner, objective, created_by, now()
            )
        except DuplicatePortfolioName:
            raise InvalidRequest("name", f"a portfolio named {name.strip()!r} exists") from None
        uow.commit()
    return portfolio


def list_portfolios(uow: UnitOfWork) -> list[Portfolio]:
    with uow:
        return uow.portfolios.all()


def delete_portfolio(portfolio_id: int, uow: UnitOfWork) -> Portfolio:
    """Delete the portfolio with its owners and history; answers with it as it was."""
    with uow:
        found = uow.portfolios.get(portfolio_id)
        if found is None or not uow.portfolios.delete(portfolio_id):
            raise PortfolioNotFound(portfolio_id)
        uow.commit()
    return found


def evaluate_portfolio(
    portfolio_id: int,
    uow: UnitOfWork,
    now: Clock = utc_now,
    policy: TreatmentPolicy = DEFAULT_POLICY,
    partition_size: int = DEFAULT_PARTITION_SIZE,
) -> tuple[Portfolio, PortfolioEvaluation]:
    """The portfolio's grid now, from the latest completed runs of its two methods, each
    cell with its recommended treatment by ``policy``; kept in the history."""
    portfolio = _portfolio(uow, portfolio_id)
    return portfolio, _evaluate(portfolio, uow, now, policy, partition_size)


def portfolio_history(
    portfolio_id: int, uow: UnitOfWork
) -> tuple[Portfolio, list[PortfolioEvaluation]]:
    """Every evaluation of the portfolio, oldest first."""
    portfolio = _portfolio(uow, portfolio_id)
    with uow:
        kept = uow.portfolios.evaluations(portfolio_id)
        settings = uow.portfolios.cells(portfolio_id)
    return portfolio, [_evaluation(*row, settings) for row in kept]


def set_portfolio_cell_owner(
    portfolio_id: int,
    row_segment_code: str,
    column_segment_code: str,
    owner: str,
    uow: UnitOfWork,
) -> tuple[str, str]:
    """Give the cell an owner; the codes are those of the latest completed runs, the owner
    is kept by the segments' names (so it stays with the cell when a run renumbers)."""
    if not 1 <= len(owner) <= MAX_NAME_LENGTH:
        raise InvalidRequest("owner", f"must be 1 to {MAX_NAME_LENGTH} characters")
    portfolio = _portfolio(uow, portfolio_id)
    with uow:
        row_name = _segment_name(uow, portfolio.rows, row_segment_code, "rows")
        column_name = _segment_name(uow, portfolio.columns, column_segment_code, "columns")
        uow.portfolios.set_cell_owner(portfolio_id, row_name, column_name, owner)
        uow.commit()
    return row_name, column_name


def set_portfolio_cell_treatment(
    portfolio_id: int,
    row_segment_code: str,
    column_segment_code: str,
    strategy: Strategy,
    channel: str | None,
    message: str | None,
    uow: UnitOfWork,
    set_by: str | None = None,
) -> tuple[str, str, Treatment]:
    """An analyst's treatment of the cell (codes of the latest completed runs), kept by the
    segments' names and shown, marked overridden, instead of the recommendation (that of
    the latest evaluation); channel and message default to the recommendation's."""
    portfolio = _portfolio(uow, portfolio_id)
    with uow:
        row_name = _segment_name(uow, portfolio.rows, row_segment_code, "rows")
        column_name = _segment_name(uow, portfolio.columns, column_segment_code, "columns")
        kept = uow.portfolios.evaluations(portfolio_id, last_only=True)
        recommended = None
        if kept:
            cells = kept[-1][-1]["cells"]
            for cell in cells:
                if (cell["row"], cell["column"]) == (row_name, column_name):
                    recommended = treatment_of(cell.get("treatment"))
        chosen = overriding(recommended, strategy, channel, message, set_by)
        uow.portfolios.set_cell_treatment(portfolio_id, row_name, column_name, chosen)
        uow.commit()
    return row_name, column_name, chosen


def evaluate_portfolios_of(
    method: SegmentationMethod,
    uow: UnitOfWork,
    now: Clock,
    policy: TreatmentPolicy = DEFAULT_POLICY,
) -> int:
    """Evaluate every portfolio crossing ``method`` (after a run of it completed), so that
    scheduled runs keep their history current; a failing one is logged and skipped."""
    with uow:
        portfolios = uow.portfolios.using(method)
    evaluated = 0
    for portfolio in portfolios:
        try:
            _evaluate(portfolio, uow, now, policy, DEFAULT_PARTITION_SIZE)
            evaluated += 1
        except InsufficientData as exc:  # the other method has no completed run yet
            logger.info("portfolio %s not evaluated: %s", portfolio.portfolio_id, exc)
    return evaluated


def _portfolio(uow: UnitOfWork, portfolio_id: int) -> Portfolio:
    with uow:
        portfolio = uow.portfolios.get(portfolio_id)
    if portfolio is None:
        raise PortfolioNotFound(portfolio_id)
    return portfolio


def _segment_name(uow: UnitOfWork, method: SegmentationMethod, code: str, side: str) -> str:
    run_id = _latest(uow, method, side)
    segment = uow.runs.segment(run_id, code)
    if segment is None:
        raise SegmentNotFound(run_id, code)
    return segment.name


def _latest(uow: UnitOfWork, method: SegmentationMethod, side: str) -> int:
    run_id = uow.runs.latest_completed(method)
    if run_id is None:
        raise InsufficientData(f"there is no completed {method.value} run yet", side)
    return run_id


def _evaluate(
    portfolio: Portfolio,
    uow: UnitOfWork,
    now: Clock,
    policy: TreatmentPolicy,
    partition_size: int,
) -> PortfolioEvaluation:
    moment = now()
    as_of = moment.date()
    with uow:
        rows_run = _latest(uow, portfolio.rows, "rows")
        columns_run = _latest(uow, portfolio.columns, "columns")
        row_segments = _segments(uow, rows_run)
        column_segments = _segments(uow, columns_run)
        value_run = uow.runs.latest_completed(SegmentationMethod.VALUE_BASED)
        needs_run = None  # a cell's theme: its needs or behaviour side, else the needs run's
        if not {portfolio.rows, portfolio.columns} & set(THEMED_METHODS):
            needs_run = uow.runs.latest_completed(SegmentationMethod.NEEDS_BASED)
        needs_names = _segments(uow, needs_run) if needs_run is not None else {}
        stored = uow.runs.model(value_run) if value_run is not None else None
        partitions = uow.customers.partitions(partition_size)
    model = ValueModel.from_dict(dict(stored)) if stored else None
    if model is not None and model.bgnbd is None:
        model = None  # no CLV fit: equity without predicted value
    sums, groups = [], []
    for partition in partitions:
        with uow:
            customers = uow.customers.frame(partition, columns=CUSTOMER_COLUMNS)
            aggregates = uow.transactions.aggregates(as_of, partition)
            row_codes = uow.assignments.codes(rows_run, partition)
            column_codes = uow.assignments.codes(columns_run, partition)
            needs_codes = (
                uow.assignments.codes(needs_run, partition) if needs_run is not None else None
            )
        placed = pd.DataFrame(
            {
                "row": row_codes.map(row_segments).reindex(customers.index),
                "column": column_codes.map(column_segments).reindex(customers.index),
            }
        )
        needs_segments = None if needs_codes is None else needs_codes.map(needs_names)
        cell_sums, group_sums = _partition_sums(
            customers, aggregates, placed, needs_segments, model, as_of, policy
        )
        sums.append(cell_sums)
        groups.append(group_sums)
    figures = portfolio_figures(
        CellSums.merge(sums), list(row_segments.values()), list(column_segments.values())
    )
    codes = {
        "rows": {name: code for code, name in row_segments.items()},
        "columns": {name: code for code, name in column_segments.items()},
    }
    data = _to_json(figures, codes)
    treatments = _treatments(GroupSums.merge(groups), portfolio, policy)
    with uow:
        kept = uow.portfolios.evaluations(portfolio.portfolio_id, last_only=True)
    before = {(c["row"], c["column"]): c["equity"] for c in kept[-1][-1]["cells"]} if kept else {}
    for cell in data["cells"]:
        cell["treatment"] = treatment_data(treatments.get(_key(cell["row"], cell["column"])))
        previous = before.get((cell["row"], cell["column"]))
        cell["equityChange"] = None if previous is None else cell["equity"] - previous
    with uow:
        evaluation_id = uow.portfolios.add_evaluation(
            portfolio.portfolio_id, moment, rows_run, columns_run, value_run, data
        )
        settings = uow.portfolios.cells(portfolio.portfolio_id)
        uow.commit()
    return _evaluation(evaluation_id, moment, rows_run, columns_run, value_run, data, settings)


def _segments(uow: UnitOfWork, run_id: int) -> dict[str, str]:
    """Segment name by code, in the run's order."""
    run = uow.runs.get(run_id)
    assert run is not None
    return {segment.code: segment.name for segment in run.segments}


def _partition_sums(
    customers: pd.DataFrame,
    aggregates: pd.DataFrame,
    placed: pd.DataFrame,
    needs_segments: pd.Series | None,
    model: ValueModel | None,
    as_of: date,
    policy: TreatmentPolicy,
) -> tuple[CellSums, GroupSums]:
    """The partition's cell figures, and its sums per cell for the cells' treatments."""
    features = value_features(aggregates, customers.index, as_of)
    profitability = customer_profitability(features, customers, as_of)
    scores = None
    if model is not None:
        cost = customers["annual_cost_to_serve"].astype(float)
        scores = score_with_model(
            features, model, cost, model.horizon_months, model.annual_discount_rate
        )
    cells = CellSums.of(placed, profitability, customers["acquisition_cost"], scores)
    in_grid = placed.dropna()
    keys = pd.Series(
        [_key(row, column) for row, column in zip(in_grid["row"], in_grid["column"], strict=True)],
        index=in_grid.index,
        dtype=object,
    )
    groups = GroupSums.of(
        keys.reindex(customers.index),
        customers,
        profitability,
        features["last_purchase_date"],
        as_of,
        policy,
        scores=scores,
        needs_segments=needs_segments,
    )
    return cells, groups


def _treatments(
    groups: GroupSums, portfolio: Portfolio, policy: TreatmentPolicy
) -> dict[str, Treatment]:
    """Each cell's recommended treatment; its message speaks of the needs or behaviour
    side of the grid when it has one (that segment's name), else of its members' needs."""
    out = {}
    for key in groups.frame.index:
        row, column = str(key).split(CELL_KEY_SEPARATOR)
        themes = None
        for method, name in ((portfolio.rows, row), (portfolio.columns, column)):
            if method in THEMED_METHODS:
                themes = [name.lower()]
                break
        out[str(key)] = recommend(groups.figures(str(key), themes), policy)
    return out


def _key(row: str | None, column: str | None) -> str:
    return f"{row}{CELL_KEY_SEPARATOR}{column}"


def _to_json(figures: Any, codes: dict[str, dict[str, str]]) -> dict[str, Any]:
    def cell(figure: CellFigures) -> dict[str, Any]:
        return {
            "row": figure.row,
            "column": figure.column,
            "rowCode": codes["rows"].get(figure.row or ""),
            "columnCode": codes["columns"].get(figure.column or ""),
            "customers": figure.customers,
            "revenue": figure.revenue,
            "cost": figure.cost,
            "acquisitionCost": figure.acquisition_cost,
            "clvTotal": figure.clv_total,
            "clvAverage": figure.clv_average,
            "probabilityAliveAverage": figure.probability_alive_average,
            "equity": figure.equity,
            "equityShare": figure.equity_share,
        }

    return {
        "cells": [cell(f) for f in figures.cells],
        "rowTotals": [cell(f) for f in figures.row_totals],
        "columnTotals": [cell(f) for f in figures.column_totals],
        "outside": cell(figures.outside),
        "equity": figures.equity,
    }


def _evaluation(
    evaluation_id: int,
    evaluated_at: Any,
    rows_run: int,
    columns_run: int,
    value_run: int | None,
    data: dict[str, Any],
    settings: dict[tuple[str, str], CellSettings],
) -> PortfolioEvaluation:
    def cell(item: dict[str, Any]) -> PortfolioCell:
        found = PortfolioCell(
            row_segment=item["row"],
            column_segment=item["column"],
            customers=int(item["customers"]),
            revenue=float(item["revenue"]),
            cost=float(item["cost"]),
            acquisition_cost=float(item["acquisitionCost"]),
            equity=float(item["equity"]),
            row_segment_code=item["rowCode"],
            column_segment_code=item["columnCode"],
            clv_total=item["clvTotal"],
            clv_average=item["clvAverage"],
            probability_alive_average=item["probabilityAliveAverage"],
            equity_share=item["equityShare"],
            treatment=treatment_of(item.get("treatment")),
            equity_change=item.get("equityChange"),
        )
        if found.row_segment is not None and found.column_segment is not None:
            kept = settings.get((found.row_segment, found.column_segment))
            if kept is not None:
                found = replace(
                    found, owner=kept.owner, treatment=kept.treatment or found.treatment
                )
        return found

    return PortfolioEvaluation(
        evaluation_id=evaluation_id,
        evaluated_at=evaluated_at,
        rows_run_id=rows_run,
        columns_run_id=columns_run,
        value_run_id=value_run,
        cells=tuple(cell(item) for item in data["cells"]),
        row_totals=tuple(cell(item) for item in data["rowTotals"]),
        column_totals=tuple(cell(item) for item in data["columnTotals"]),
        outside=cell(data["outside"]),
        equity=float(data["equity"]),
    )
