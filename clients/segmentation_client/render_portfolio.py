"""Tables for portfolios and cell treatments (contract 1.4)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from .portfolio_grid import Grid, Side, grid_of
from .render import (
    MISSING,
    _add_row,
    _print_fields,
    _table,
    condense_treatment,
    format_share,
    format_value,
)

PORTFOLIO_FIELDS = (
    "portfolioId",
    "name",
    "rows",
    "columns",
    "owner",
    "objective",
    "createdBy",
    "createdAt",
)
EVALUATION_FIELDS = ("evaluationId", "evaluatedAt", "rowsRunId", "columnsRunId", "valueRunId")
CELL_FIELDS = (
    "customers",
    "revenue",
    "cost",
    "profit",
    "acquisitionCost",
    "predictedClvTotal",
    "customerEquity",
    "equityShare",
    "equityChange",
    "owner",
    "treatment",
)
CELL_NUMERIC = CELL_FIELDS[:-2]
GRID_LEGEND = "each cell: customers, customer equity, strategy (* overridden), owner"


def _cell_field(cell: dict[str, Any], field: str) -> str:
    if field == "equityShare":
        return format_share(cell.get(field))
    if field == "treatment":
        return condense_treatment(cell.get(field))
    return format_value(cell.get(field), field)


def render_portfolio(console: Console, response: dict[str, Any]) -> None:
    """CreatePortfolio and DeletePortfolio: the portfolio without an evaluation."""
    _print_fields(console, response["portfolio"], PORTFOLIO_FIELDS)


def render_portfolios(console: Console, response: dict[str, Any]) -> None:
    """ListPortfolios: one line per portfolio."""
    portfolios = response["portfolios"]["portfolio"]
    if not portfolios:
        console.print(Text("No portfolios."))
        return
    table = _table("Portfolios", PORTFOLIO_FIELDS, numeric=("portfolioId",))
    for portfolio in portfolios:
        _add_row(table, (format_value(portfolio.get(f), f) for f in PORTFOLIO_FIELDS))
    console.print(table)


def _strategy(cell: dict[str, Any]) -> str:
    treatment = cell.get("treatment")
    if not treatment:
        return MISSING
    return str(treatment.get("strategy")) + ("*" if treatment.get("overridden") else "")


def _in_grid(cell: dict[str, Any] | None, *, treated: bool) -> str:
    """A cell of the grid in lines; a total has no strategy or owner."""
    if cell is None:
        return MISSING
    lines = [
        f"{int(cell.get('customers') or 0):,} customers",
        format_value(cell.get("customerEquity"), "customerEquity"),
    ]
    if treated:
        lines += [_strategy(cell), format_value(cell.get("owner"))]
    return "\n".join(lines)


def _grid_table(grid: Grid, portfolio: dict[str, Any], evaluation: dict[str, Any]) -> Any:
    headers = ("rows \\ columns", *(column.label for column in grid.columns), "total")
    title = (
        f"{portfolio.get('rows')} run {evaluation.get('rowsRunId')} (rows) × "
        f"{portfolio.get('columns')} run {evaluation.get('columnsRunId')} (columns)"
    )
    table = _table(title, headers, numeric=headers[1:])
    table.show_lines = True

    def row_of(row: Side) -> list[str]:
        cells = [_in_grid(grid.cell(row, column), treated=True) for column in grid.columns]
        return [row.label, *cells, _in_grid(grid.row_totals.get(row.code), treated=False)]

    for row in grid.rows:
        _add_row(table, row_of(row))
    in_grid = sum(int(total.get("customers") or 0) for total in grid.row_totals.values())
    everyone = {"customers": in_grid, "customerEquity": evaluation.get("customerEquity")}
    totals = [_in_grid(grid.column_totals.get(c.code), treated=False) for c in grid.columns]
    _add_row(table, ("total", *totals, _in_grid(everyone, treated=False)))
    return table


def render_portfolio_evaluation(console: Console, response: dict[str, Any]) -> None:
    """GetPortfolio: the portfolio, the grid evaluated now with its totals, then each cell."""
    portfolio = response["portfolio"]
    evaluation = portfolio.get("evaluation")
    _print_fields(console, portfolio, PORTFOLIO_FIELDS)
    if evaluation is None:
        console.print(Text("The service sent no evaluation."))
        return
    _print_fields(console, evaluation, (*EVALUATION_FIELDS, "customerEquity"))
    grid = grid_of(evaluation)
    if not grid.cells:
        console.print(Text("The grid has no cells."))
    else:
        console.print(_grid_table(grid, portfolio, evaluation))
        console.print(Text(GRID_LEGEND))
    outside = grid.outside or {}
    console.print(
        Text(
            f"outside the grid: {int(outside.get('customers') or 0):,} customers, customer "
            f"equity {format_value(outside.get('customerEquity'), 'customerEquity')}"
        )
    )
    if grid.cells:
        table = _table("Cells", ("row", "column", *CELL_FIELDS), numeric=CELL_NUMERIC)
        for row in grid.rows:
            for column in grid.columns:
                cell = grid.cell(row, column)
                if cell is not None:
                    fields = (_cell_field(cell, field) for field in CELL_FIELDS)
                    _add_row(table, (row.label, column.label, *fields))
        console.print(table)


def _side(cell: dict[str, Any], side: str) -> Side:
    return Side(str(cell.get(f"{side}SegmentCode")), str(cell.get(f"{side}SegmentName") or ""))


def render_portfolio_history(console: Console, response: dict[str, Any]) -> None:
    """GetPortfolioHistory: each evaluation, oldest first, with each cell's equity and change."""
    portfolio = response["portfolio"]
    _print_fields(console, portfolio, PORTFOLIO_FIELDS[:5])
    evaluations = response["evaluations"]["evaluation"]
    if not evaluations:
        console.print(
            Text(
                "No evaluations yet: "
                f"segmentation-client portfolio show {portfolio.get('portfolioId')} makes one."
            )
        )
        return
    columns = ("row", "column", "customers", "customerEquity", "equityChange")
    for evaluation in evaluations:
        value_run = evaluation.get("valueRunId")
        title = (
            f"Evaluation {evaluation.get('evaluationId')} at "
            f"{format_value(evaluation.get('evaluatedAt'))}: rows run "
            f"{evaluation.get('rowsRunId')}, columns run {evaluation.get('columnsRunId')}"
            + ("" if value_run is None else f", value run {value_run}")
            + f"; customer equity "
            f"{format_value(evaluation.get('customerEquity'), 'customerEquity')}"
        )
        console.print(Text(title))
        table = _table(None, columns, numeric=columns[2:])
        for cell in evaluation["cells"]["cell"]:
            _add_row(
                table,
                (
                    _side(cell, "row").label,
                    _side(cell, "column").label,
                    *(format_value(cell.get(field), field) for field in columns[2:]),
                ),
            )
        console.print(table)


def render_cell_owner(console: Console, response: dict[str, Any]) -> None:
    """SetPortfolioCellOwner: the cell, by its segments' names, and its owner."""
    fields = ("portfolioId", "rowSegmentName", "columnSegmentName", "owner")
    _print_fields(console, response["cellOwner"], fields)


def render_cell_treatment(console: Console, response: dict[str, Any]) -> None:
    """SetPortfolioCellTreatment: the cell, by its segments' names, and its treatment."""
    answer = response["cellTreatment"]
    record = {**answer, **(answer.get("treatment") or {})}
    fields = ("portfolioId", "rowSegmentName", "columnSegmentName")
    _print_fields(
        console, record, (*fields, "strategy", "channel", "message", "overridden", "reason")
    )
