"""The portfolio report's charts: the grid as a heat map, each cell's equity over time.

Drawn like report_charts (its style, no pyplot, one Agg canvas per chart).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .report_charts import GRID, STYLE, TEXT, WIDTH_INCHES, _annotate_cells, _png, _short, compact

# Beyond this many evaluations, only every n-th is labelled on the time axis.
MOST_TIME_LABELS = 12
LINE_COLOURS = "tab20"


def portfolio_heatmap(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[float | None]],
    texts: Sequence[Sequence[str]],
    figure_name: str,
    axis_titles: tuple[str, str],
) -> bytes:
    """Rows x columns coloured by `figure_name` around 0 (blue above, red below), `texts`
    written in the cells; `axis_titles` are the rows' and the columns' titles."""
    cells = [[math.nan if value is None else value for value in row] for row in values]
    bound = max([abs(v) for row in cells for v in row if not math.isnan(v)] or [1.0]) or 1.0
    with matplotlib.rc_context(STYLE):
        width = min(max(WIDTH_INCHES, 1.9 * len(column_labels) + 3.5), 16)
        height = min(max(3.0, 0.95 * len(row_labels) + 2.0), 16)
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.add_subplot()
        image = axes.imshow(cells, cmap="RdBu", norm=TwoSlopeNorm(0, -bound, bound), aspect="auto")
        axes.set_xticks(range(len(column_labels)), [_short(label) for label in column_labels])
        axes.tick_params(axis="x", labelrotation=20)
        for label in axes.get_xticklabels():
            label.set_horizontalalignment("right")
        axes.set_yticks(range(len(row_labels)), [_short(label) for label in row_labels])
        axes.set_ylabel(axis_titles[0])
        axes.set_xlabel(axis_titles[1])
        axes.set_title(f"Portfolio: {figure_name} per cell")
        _annotate_cells(axes, values, texts, dark=bound * 0.6)
        colour_bar = figure.colorbar(image, ax=axes, label=figure_name)
        colour_bar.formatter = FuncFormatter(lambda value, _: compact(value))
        colour_bar.update_ticks()
        return _png(figure)


def equity_history_chart(
    evaluation_labels: Sequence[str],
    cell_labels: Sequence[str],
    equity: Sequence[Sequence[float | None]],
) -> bytes:
    """One line per cell: its customer equity at each evaluation (gaps where it was not
    in the grid), the evaluations evenly spaced, oldest on the left."""
    positions = list(range(len(evaluation_labels)))
    colours = matplotlib.colormaps[LINE_COLOURS]
    with matplotlib.rc_context(STYLE):
        height = max(4.0, 0.2 * len(cell_labels) + 1.8)
        figure = Figure(figsize=(WIDTH_INCHES + 2, height), layout="constrained")
        axes = figure.add_subplot()
        for index, (label, series) in enumerate(zip(cell_labels, equity, strict=True)):
            axes.plot(
                positions,
                [math.nan if value is None else value for value in series],
                marker="o",
                markersize=4,
                linewidth=1.5,
                color=colours(index % colours.N),
                linestyle="-" if index < colours.N else "--",
                label=_short(label),
            )
        step = max(1, math.ceil(len(positions) / MOST_TIME_LABELS))
        axes.set_xticks(positions[::step], list(evaluation_labels)[::step])
        axes.tick_params(axis="x", labelrotation=20)
        for tick in axes.get_xticklabels():
            tick.set_horizontalalignment("right")
        if len(positions) == 1:  # one point: keep it off the edges
            axes.set_xlim(-0.5, 0.5)
        axes.axhline(0, color=TEXT, linewidth=0.8)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: compact(value)))
        axes.grid(axis="y", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.set_title("Customer equity per cell at each evaluation")
        axes.set_xlabel("evaluation")
        axes.set_ylabel("customer equity")
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7)
        return _png(figure)
