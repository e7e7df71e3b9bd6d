"""Customer portfolios: the grid crossing the segments of two runs, and what each cell is worth.

A portfolio crosses the segments of the latest completed run of one method (its
rows) with those of another (its columns). A cell is identified by the two
segments' *names*, which a later run of the same method keeps when it only
renumbers its codes (needs-based, behavioural and value-tier segments are coded by
size or rank; their names say what they are).

Per customer the evaluation knows: the row and column segment (None: the run left
the customer unassigned or did not cover it), revenue and cost so far (cost of
goods plus the cost to serve since signing up, as run profitability counts them),
the acquisition cost, and where a value-based run with a CLV model exists, the
predicted CLV over its horizon and the probability of being alive. Per cell:

- ``profit`` = revenue − cost;
- ``equity`` (customer equity, what the cell is worth) = profit − acquisition cost
  + predicted CLV: the profit its customers made so far, net of what it cost to
  win and serve them, plus what they are predicted to bring.

Sums add up across partitions (``CellSums.merge``), so a portfolio is evaluated
partition by partition like a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# The sums kept per cell, in this order.
SUM_COLUMNS = (
    "customers",
    "revenue",
    "cost",
    "acquisition",
    "clv_sum",
    "clv_count",
    "alive_sum",
    "alive_count",
)
KEY = ["row", "column"]


@dataclass(frozen=True)
class CellSums:
    """Per (row segment name, column segment name), None for "not in that run's segments":
    the ``SUM_COLUMNS``. A frame indexed by (row, column)."""

    frame: pd.DataFrame

    @classmethod
    def of(
        cls,
        placed: pd.DataFrame,
        profitability: pd.DataFrame,
        acquisition: pd.Series,
        scores: pd.DataFrame | None = None,
    ) -> CellSums:
        """Sums of one partition. ``placed`` has ``row`` and ``column`` (segment names or
        None) per customer; ``profitability`` revenue and cost; ``scores`` (optional)
        ``predicted_clv`` and ``probability_alive``; all indexed by customer_id."""
        index = placed.index
        clv = _column(scores, "predicted_clv", index)
        alive = _column(scores, "probability_alive", index)
        frame = pd.DataFrame(
            {
                "row": placed["row"].astype(object).where(placed["row"].notna(), None),
                "column": placed["column"].astype(object).where(placed["column"].notna(), None),
                "customers": 1,
                "revenue": profitability["revenue"].reindex(index).fillna(0.0).to_numpy(),
                "cost": profitability["cost"].reindex(index).fillna(0.0).to_numpy(),
                "acquisition": acquisition.reindex(index).astype(float).fillna(0.0).to_numpy(),
                "clv_sum": np.nan_to_num(clv),
                "clv_count": np.isfinite(clv).astype(int),
                "alive_sum": np.nan_to_num(alive),
                "alive_count": np.isfinite(alive).astype(int),
            },
            index=index,
        )
        sums = frame.groupby(KEY, dropna=False, sort=False)[list(SUM_COLUMNS)].sum()
        return cls(sums)

    @classmethod
    def merge(cls, parts: Sequence[CellSums]) -> CellSums:
        frames = [part.frame for part in parts if len(part.frame)]
        if not frames:
            return cls(_empty())
        merged = pd.concat(frames).groupby(level=KEY, dropna=False, sort=False).sum()
        return cls(merged)


@dataclass(frozen=True)
class CellFigures:
    """A cell (or a row or column total, or everyone outside the grid)."""

    row: str | None
    column: str | None
    customers: int
    revenue: float
    cost: float
    acquisition_cost: float
    clv_total: float | None
    clv_average: float | None
    probability_alive_average: float | None
    equity: float
    equity_share: float | None = None

    @property
    def profit(self) -> float:
        return self.revenue - self.cost


@dataclass(frozen=True)
class PortfolioFigures:
    """The grid's cells (customers in both runs' segments), row and column totals,
    everyone in only one run's segments or in neither, and the grid's total equity."""

    cells: list[CellFigures]
    row_totals: list[CellFigures]
    column_totals: list[CellFigures]
    outside: CellFigures
    equity: float


def portfolio_figures(
    sums: CellSums, row_order: Sequence[str], column_order: Sequence[str]
) -> PortfolioFigures:
    """Figures of every cell (in row, then column order), with equity shares of the grid."""
    frame = sums.frame.reset_index()
    in_grid = frame["row"].notna() & frame["column"].notna()
    grid = frame[in_grid]
    total_equity = _equity(grid[list(SUM_COLUMNS)].sum())
    cells = []
    for row in row_order:
        for column in column_order:
            found = grid[(grid["row"] == row) & (grid["column"] == column)]
            cells.append(_figures(row, column, found, total_equity))
    rows = [_figures(r, None, grid[grid["row"] == r], total_equity) for r in row_order]
    columns = [_figures(None, c, grid[grid["column"] == c], total_equity) for c in column_order]
    outside = _figures(None, None, frame[~in_grid], None)
    return PortfolioFigures(cells, rows, columns, outside, total_equity)


def _figures(
    row: str | None, column: str | None, part: pd.DataFrame, total_equity: float | None
) -> CellFigures:
    sums = part[list(SUM_COLUMNS)].sum()
    equity = _equity(sums)
    clv_count, alive_count = int(sums["clv_count"]), int(sums["alive_count"])
    share = None
    if total_equity is not None and total_equity != 0.0:
        share = equity / total_equity
    return CellFigures(
        row=row,
        column=column,
        customers=int(sums["customers"]),
        revenue=float(sums["revenue"]),
        cost=float(sums["cost"]),
        acquisition_cost=float(sums["acquisition"]),
        clv_total=float(sums["clv_sum"]) if clv_count else None,
        clv_average=float(sums["clv_sum"]) / clv_count if clv_count else None,
        probability_alive_average=float(sums["alive_sum"]) / alive_count if alive_count else None,
        equity=equity,
        equity_share=share,
    )


def _equity(sums: pd.Series) -> float:
    return float(sums["revenue"] - sums["cost"] - sums["acquisition"] + sums["clv_sum"])


def _column(scores: pd.DataFrame | None, name: str, index: pd.Index) -> np.ndarray:
    if scores is None or name not in scores:
        return np.full(len(index), np.nan)
    return scores[name].reindex(index).to_numpy(dtype=float)


def _empty() -> pd.DataFrame:
    index = pd.MultiIndex.from_arrays([[], []], names=KEY)
    return pd.DataFrame({name: pd.Series(dtype=float) for name in SUM_COLUMNS}, index=index)
