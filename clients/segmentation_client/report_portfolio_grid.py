"""The grid of the portfolio report: a heat map, the grid's figures with totals, each cell.

Rows and columns in the runs' segment order; each grid cell of the table carries
data-row and data-column (the segment codes) so that it can be found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import report_portfolio_charts
from .portfolio_grid import PORTFOLIO_COLOURINGS, Grid, Side, grid_of
from .render import MISSING, condense_treatment, format_share, format_value
from .report_charts import compact
from .report_page import Page, esc, html_table, td

FIGURE_NAMES = {"customerEquity": "customer equity", "profit": "profit"}
GRID_CSS = """
td.grid-cell div { white-space: nowrap; }
td.grid-cell .figure { font-weight: 600; }
td.grid-cell .figure.loss { color: var(--loss); }
td.grid-cell .who { color: var(--muted); }
#cells td { white-space: nowrap; }
#cells td.reason { white-space: normal; min-width: 32em; }
"""


def _cell_lines(cell: dict[str, Any] | None, *, treated: bool) -> str:
    """A grid cell (or a total) in lines: customers, equity, profit[, strategy, owner]."""
    if cell is None:
        return f"<td>{MISSING}</td>"
    equity = cell.get("customerEquity")
    loss = " loss" if (equity or 0) < 0 else ""
    lines = [
        f"<div>{int(cell.get('customers') or 0):,} customers</div>",
        f'<div class="figure{loss}">equity {esc(format_value(equity, "customerEquity"))}</div>',
        f"<div>profit {esc(format_value(cell.get('profit'), 'profit'))}</div>",
    ]
    if treated:
        treatment = cell.get("treatment") or {}
        strategy = treatment.get("strategy") or MISSING
        overridden = " (overridden)" if treatment.get("overridden") else ""
        lines += [
            f'<div class="strategy">{esc(strategy)}{overridden}</div>',
            f'<div class="who">owner: {esc(cell.get("owner") or MISSING)}</div>',
        ]
    sides = "".join(
        f' data-{side}="{esc(cell.get(f"{side}SegmentCode"))}"'
        for side in ("row", "column")
        if cell.get(f"{side}SegmentCode") is not None
    )
    return f'<td class="num grid-cell"{sides}>{"".join(lines)}</td>'


def _grid_table(grid: Grid, evaluation: dict[str, Any]) -> str:
    rows = []
    for row in grid.rows:
        cells = [_cell_lines(grid.cell(row, column), treated=True) for column in grid.columns]
        total = _cell_lines(grid.row_totals.get(row.code), treated=False)
        rows.append((f"<th>{esc(row.label)}</th>", *cells, total))
    in_grid = {
        "customers": sum(int(t.get("customers") or 0) for t in grid.row_totals.values()),
        "customerEquity": evaluation.get("customerEquity"),
        "profit": sum(float(t.get("profit") or 0.0) for t in grid.row_totals.values()),
    }
    column_totals = [
        _cell_lines(grid.column_totals.get(c.code), treated=False) for c in grid.columns
    ]
    rows.append(("<th>total</th>", *column_totals, _cell_lines(in_grid, treated=False)))
    headers = ("rows \\ columns", *(column.label for column in grid.columns), "total")
    return html_table(headers, rows, numeric=headers[1:])


def grid_section(
    page: Page,
    portfolio: dict[str, Any],
    evaluation: dict[str, Any],
    colour_by: str,
    step: Callable[[str], None],
) -> None:
    grid = grid_of(evaluation)
    figure = PORTFOLIO_COLOURINGS[colour_by]
    name = FIGURE_NAMES[figure]
    page.add('<section id="grid"><h2>The grid</h2>')
    if not grid.cells:
        page.add('<p class="note">The grid has no cells.</p></section>')
        return
    values = grid.values(figure)
    texts = []
    for row in grid.rows:
        line = []
        for column in grid.columns:
            cell = grid.cell(row, column) or {}
            treatment = cell.get("treatment") or {}
            strategy = str(treatment.get("strategy") or MISSING)
            strategy += "*" if treatment.get("overridden") else ""
            figure_value = cell.get(figure)
            shown = MISSING if figure_value is None else compact(float(figure_value))
            line.append(f"{shown}\n{strategy}\n{cell.get('owner') or MISSING}")
        texts.append(line)
    step("drawing the grid")
    page.chart(
        "grid",
        report_portfolio_charts.portfolio_heatmap(
            [row.label for row in grid.rows],
            [column.label for column in grid.columns],
            values,
            texts,
            name,
            (
                f"{portfolio.get('rows')} run {evaluation.get('rowsRunId')}",
                f"{portfolio.get('columns')} run {evaluation.get('columnsRunId')}",
            ),
        ),
        f"Heat map: {name} of each cell of the grid, with its strategy and owner",
        f"Each cell's {name} (blue above zero, red below), strategy (* set by an analyst) "
        "and owner.",
    )
    outside = grid.outside or {}
    page.add(
        _grid_table(grid, evaluation),
        f'<p class="note">Outside the grid (not in both runs\' segments): '
        f"{int(outside.get('customers') or 0):,} customers, customer equity "
        f"{esc(format_value(outside.get('customerEquity'), 'customerEquity'))}.</p>",
        "</section>",
    )
    _cells_section(page, grid)


CELL_HEADERS = (
    "row",
    "column",
    "customers",
    "revenue",
    "cost",
    "profit",
    "acquisition cost",
    "predicted CLV",
    "customer equity",
    "equity share",
    "change",
    "owner",
    "treatment",
    "reason",
)


def _cell_row(row: Side, column: Side, cell: dict[str, Any]) -> tuple[str, ...]:
    equity = cell.get("customerEquity")
    treatment = cell.get("treatment") or {}
    return (
        td(row.label),
        td(column.label),
        td(cell.get("customers"), numeric=True),
        *(
            td(cell.get(name), name, numeric=True)
            for name in ("revenue", "cost", "profit", "acquisitionCost", "predictedClvTotal")
        ),
        td(equity, "customerEquity", numeric=True, css="loss" if (equity or 0) < 0 else ""),
        f'<td class="num">{esc(format_share(cell.get("equityShare")))}</td>',
        td(cell.get("equityChange"), "equityChange", numeric=True),
        td(cell.get("owner")),
        f"<td>{esc(condense_treatment(cell.get('treatment')))}</td>",
        td(treatment.get("reason"), css="reason"),
    )


def _cells_section(page: Page, grid: Grid) -> None:
    rows = [
        _cell_row(row, column, cell)
        for row in grid.rows
        for column in grid.columns
        if (cell := grid.cell(row, column)) is not None
    ]
    page.add(
        '<section id="cells"><h2>Cells</h2>',
        html_table(CELL_HEADERS, rows, numeric=CELL_HEADERS[2:11]),
        "</section>",
    )
