"""A portfolio evaluation as a grid, and its cells over the history (stdlib only).

Both the tables of `portfolio show`/`history` and the HTML report read the
service's answers (dicts from `responses`) through these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# `report --portfolio --colour-by`: the PortfolioCell figure that colours the grid.
PORTFOLIO_COLOURINGS = {"equity": "customerEquity", "profit": "profit"}
DEFAULT_COLOURING = "equity"
CELL_SEPARATOR = " × "


@dataclass(frozen=True)
class Side:
    """A row or a column of the grid: a segment of the rows' or the columns' run."""

    code: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}" if self.name and self.name != self.code else self.code


@dataclass(frozen=True)
class Grid:
    """One evaluation: rows x columns in the runs' segment order, cells by (row, column) code."""

    rows: list[Side]
    columns: list[Side]
    cells: dict[tuple[str, str], dict[str, Any]]
    row_totals: dict[str, dict[str, Any]]
    column_totals: dict[str, dict[str, Any]]
    outside: dict[str, Any] | None

    def cell(self, row: Side, column: Side) -> dict[str, Any] | None:
        return self.cells.get((row.code, column.code))

    def values(self, figure: str) -> list[list[float | None]]:
        """`figure` of each cell, row by row; None where a cell is missing."""
        return [
            [_figure(self.cell(row, column), figure) for column in self.columns]
            for row in self.rows
        ]


def _figure(cell: dict[str, Any] | None, figure: str) -> float | None:
    value = None if cell is None else cell.get(figure)
    return None if value is None else float(value)


def _sides(
    totals: Sequence[dict[str, Any]], cells: Sequence[dict[str, Any]], side: str
) -> list[Side]:
    """The totals' segments in their order, then any other segment the cells name."""
    found: dict[str, Side] = {}
    for record in (*totals, *cells):
        code = record.get(f"{side}SegmentCode")
        if code is not None and str(code) not in found:
            found[str(code)] = Side(str(code), str(record.get(f"{side}SegmentName") or ""))
    return list(found.values())


def grid_of(evaluation: dict[str, Any]) -> Grid:
    """The grid of a PortfolioEvaluation shaped by responses.evaluation_record."""
    cells = evaluation["cells"]["cell"]
    row_totals = evaluation["rowTotals"]["cell"]
    column_totals = evaluation["columnTotals"]["cell"]
    return Grid(
        rows=_sides(row_totals, cells, "row"),
        columns=_sides(column_totals, cells, "column"),
        cells={
            (str(cell.get("rowSegmentCode")), str(cell.get("columnSegmentCode"))): cell
            for cell in cells
        },
        row_totals={str(total.get("rowSegmentCode")): total for total in row_totals},
        column_totals={str(total.get("columnSegmentCode")): total for total in column_totals},
        outside=evaluation.get("outside"),
    )


def cell_name(cell: dict[str, Any]) -> str:
    """A cell by its identity, the two segments' names: "Platinum × Speed & Price"."""
    return f"{cell.get('rowSegmentName')}{CELL_SEPARATOR}{cell.get('columnSegmentName')}"


@dataclass(frozen=True)
class CellHistory:
    """Each cell's customer equity at each evaluation (None: the cell was not in it)."""

    evaluations: list[dict[str, Any]]
    cells: list[str]
    equity: list[list[float | None]]
    changes: list[list[float | None]]


def cell_history(evaluations: Sequence[dict[str, Any]]) -> CellHistory:
    """Cells by name, those of the latest evaluation first in its order, then cells that
    only earlier evaluations had, in the order they appeared."""
    by_evaluation = [
        {cell_name(cell): cell for cell in evaluation["cells"]["cell"]}
        for evaluation in evaluations
    ]
    names: dict[str, None] = {}
    for cells in (*by_evaluation[-1:], *by_evaluation):
        names.update(dict.fromkeys(cells))

    def series(figure: str) -> list[list[float | None]]:
        return [[_figure(cells.get(name), figure) for cells in by_evaluation] for name in names]

    return CellHistory(
        evaluations=list(evaluations),
        cells=list(names),
        equity=series("customerEquity"),
        changes=series("equityChange"),
    )
