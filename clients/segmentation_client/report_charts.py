"""The report's charts: matplotlib figures drawn by the Agg backend into PNG bytes.

No pyplot: each chart is its own Figure on its own Agg canvas, so nothing is
shared between charts (or threads) and no display is needed. Text from the
service is drawn literally (mathtext is off: a "$" in a name stays a "$").
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

DPI = 100
WIDTH_INCHES = 8.0
PRIMARY = "#3569a8"
PROFIT = "#2f6db5"
LOSS = "#d9480f"
ACTUAL = LOSS  # the hold-out check: predicted in PRIMARY, actual in orange
TEXT = "#1f2933"
GRID = "#d5dbe3"
LABEL_LIMIT = 38

# Any keys: matplotlib types rc_context by a Literal of every rcParam name.
STYLE: dict[Any, Any] = {
    "text.parse_math": False,
    "font.size": 9,
    "axes.edgecolor": GRID,
    "axes.labelcolor": TEXT,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "figure.facecolor": "white",
}


def compact(value: float) -> str:
    """1.9M, 258k, 1,234, 12.50, -46.1: short labels for money and counts."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "k")):
        if magnitude >= limit:
            return f"{value / limit:,.1f}{suffix}" if limit != 1e4 else f"{value / 1e3:,.0f}k"
    if magnitude >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def _height(rows: int) -> float:
    return max(2.2, 0.38 * rows + 1.2)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def _barh(
    axes: Axes,
    labels: Sequence[str],
    values: Sequence[float],
    colors: Sequence[str] | str,
    invert: bool = True,
) -> None:
    positions = list(range(len(labels)))
    axes.barh(positions, values, color=colors, height=0.65)
    axes.set_yticks(positions, [_short(label) for label in labels])
    if invert:  # the first segment on top, as in the tables (once for axes sharing y)
        axes.invert_yaxis()
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: compact(value)))
    axes.grid(axis="x", color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _annotate_bars(axes: Axes, values: Sequence[float], texts: Sequence[str]) -> None:
    low, high = axes.get_xlim()
    pad = (high - low) * 0.01
    for position, (value, text) in enumerate(zip(values, texts, strict=True)):
        inside_left = value < 0
        axes.text(
            value - pad if inside_left else value + pad,
            position,
            text,
            va="center",
            ha="right" if inside_left else "left",
            fontsize=8,
            color=TEXT,
        )
    # Room for the labels beyond the longest bars.
    span = high - low
    axes.set_xlim(low - (span * 0.18 if low < 0 else 0), high + span * 0.18)


def sizes_chart(labels: Sequence[str], sizes: Sequence[int], shares: Sequence[float]) -> bytes:
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH_INCHES, _height(len(labels))))
        axes = figure.add_subplot()
        _barh(axes, labels, sizes, PRIMARY)
        axes.set_title("Customers per segment")
        axes.set_xlabel("customers")
        _annotate_bars(
            axes,
            sizes,
            [f"{size:,} ({share:.1%})" for size, share in zip(sizes, shares, strict=True)],
        )
        return _png(figure)


def value_chart(
    labels: Sequence[str], totals: Sequence[float], averages: Sequence[float], metric: str
) -> bytes:
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH_INCHES, _height(len(labels))), layout="constrained")
        total_axes, average_axes = figure.subplots(1, 2, sharey=True)
        _barh(total_axes, labels, totals, PRIMARY)
        total_axes.set_title(f"Total {metric.lower()}")
        _annotate_bars(total_axes, totals, [compact(value) for value in totals])
        _barh(average_axes, labels, averages, "#6c8ebf", invert=False)
        average_axes.set_title(f"Average {metric.lower()} per customer")
        average_axes.tick_params(axis="y", left=False)
        _annotate_bars(average_axes, averages, [compact(value) for value in averages])
        return _png(figure)


def profit_chart(labels: Sequence[str], profits: Sequence[float]) -> bytes:
    """Diverging bars around zero: profit in blue, loss in orange."""
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH_INCHES, _height(len(labels))))
        axes = figure.add_subplot()
        colors = [PROFIT if profit >= 0 else LOSS for profit in profits]
        _barh(axes, labels, profits, colors)
        axes.axvline(0, color=TEXT, linewidth=0.8)
        axes.set_title("Profit or loss per segment (revenue − cost)")
        axes.set_xlabel("profit")
        low, high = axes.get_xlim()
        bound = max(abs(low), abs(high))
        axes.set_xlim(-bound if low < 0 else low, bound if high > 0 else high)
        _annotate_bars(axes, profits, [compact(profit) for profit in profits])
        axes.legend(
            handles=[Patch(color=PROFIT, label="profit"), Patch(color=LOSS, label="loss")],
            loc="lower right",
            frameon=False,
        )
        return _png(figure)


def _annotate_cells(
    axes: Axes,
    values: Sequence[Sequence[float | None]],
    texts: Sequence[Sequence[str]],
    dark: float,
) -> None:
    for row, (row_values, row_texts) in enumerate(zip(values, texts, strict=True)):
        for column, (value, text) in enumerate(zip(row_values, row_texts, strict=True)):
            color = "white" if value is not None and abs(value) >= dark else TEXT
            axes.text(column, row, text, ha="center", va="center", fontsize=8, color=color)


def _z_heatmap(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    z_scores: Sequence[Sequence[float | None]],
    texts: Sequence[Sequence[str]],
    title: str,
) -> bytes:
    """Rows x columns coloured by z-score around 0 (red above, blue below), `texts` in the
    cells."""
    cells = [[math.nan if z is None else z for z in row] for row in z_scores]
    bound = max([abs(z) for row in cells for z in row if not math.isnan(z)] or [1.0])
    bound = max(bound, 0.5)
    with matplotlib.rc_context(STYLE):
        width = min(max(WIDTH_INCHES, 1.1 * len(column_labels) + 3), 16)
        height = max(2.5, 0.42 * len(row_labels) + 1.8)
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.add_subplot()
        image = axes.imshow(
            cells, cmap="RdBu_r", norm=TwoSlopeNorm(0, -bound, bound), aspect="auto"
        )
        axes.set_xticks(range(len(column_labels)), [_short(label) for label in column_labels])
        axes.tick_params(axis="x", labelrotation=30)
        for label in axes.get_xticklabels():
            label.set_horizontalalignment("right")
        axes.set_yticks(range(len(row_labels)), [_short(label) for label in row_labels])
        axes.set_title(title)
        _annotate_cells(axes, z_scores, texts, dark=bound * 0.6)
        figure.colorbar(image, ax=axes, label="z-score (standard deviations from the mean)")
        return _png(figure)


def needs_heatmap(
    needs: Sequence[str], segment_labels: Sequence[str], z_scores: Sequence[Sequence[float | None]]
) -> bytes:
    """Needs (rows) x segments (columns), coloured by z-score around 0."""
    texts = [["" if z is None else f"{z:+.2f}" for z in row] for row in z_scores]
    return _z_heatmap(
        needs,
        segment_labels,
        z_scores,
        texts,
        "Needs profile: z-score of each need's mean per segment",
    )


def _mean_text(mean: str | None) -> str:
    """A mean as sent ("0.82", "1234.56") in a few characters: 0.82, 1,235."""
    try:
        return compact(float(mean or ""))
    except (ValueError, OverflowError):  # not a number, or not a finite one
        return mean or ""


def behaviour_heatmap(
    segment_labels: Sequence[str],
    features: Sequence[str],
    z_scores: Sequence[Sequence[float | None]],
    means: Sequence[Sequence[str | None]],
) -> bytes:
    """Segments (rows) x behaviours (columns), coloured by z-score around 0 and labelled
    with the segment's mean in the behaviour's own unit (a share, days, a count...)."""
    texts = [
        ["" if z is None else _mean_text(mean) for z, mean in zip(z_row, mean_row, strict=True)]
        for z_row, mean_row in zip(z_scores, means, strict=True)
    ]
    return _z_heatmap(
        segment_labels,
        features,
        z_scores,
        texts,
        "Behavioural profile: each behaviour's mean per segment, coloured by its z-score",
    )


def tiers_chart(
    labels: Sequence[str], minimums: Sequence[float], maximums: Sequence[float], metric: str
) -> bytes:
    """Each tier's range of the value metric, on a symmetric log scale (tiers span decades)."""
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH_INCHES, _height(len(labels))))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        widths = [high - low for low, high in zip(minimums, maximums, strict=True)]
        axes.barh(positions, widths, left=minimums, color=PRIMARY, height=0.55)
        axes.set_yticks(positions, [_short(label) for label in labels])
        axes.invert_yaxis()
        spread = max([abs(value) for value in (*minimums, *maximums)] or [1.0])
        axes.set_xscale("symlog", linthresh=max(1.0, spread / 1e4))
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: compact(value)))
        axes.grid(axis="x", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.set_title(f"Value tiers: range of {metric.lower()} per tier")
        axes.set_xlabel(f"{metric.lower()} (symmetric log scale)")
        for position, (low, high) in enumerate(zip(minimums, maximums, strict=True)):
            axes.text(
                high, position, f"  {compact(low)} – {compact(high)}", va="center", fontsize=8
            )
        low, high = axes.get_xlim()
        axes.set_xlim(low, high * 8 if high > 0 else high)
        return _png(figure)


def migration_heatmap(
    from_labels: Sequence[str],
    to_labels: Sequence[str],
    counts: Sequence[Sequence[int]],
    from_title: str,
    to_title: str,
) -> bytes:
    """Customers by (segment before, segment after), counts written in the cells."""
    peak = max([count for row in counts for count in row] or [1]) or 1
    with matplotlib.rc_context(STYLE):
        width = min(max(WIDTH_INCHES, 1.0 * len(to_labels) + 3.5), 16)
        height = min(max(2.8, 0.45 * len(from_labels) + 2.2), 16)
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.add_subplot()
        image = axes.imshow(counts, cmap="Blues", vmin=0, vmax=peak, aspect="auto")
        axes.set_xticks(range(len(to_labels)), [_short(label) for label in to_labels])
        axes.tick_params(axis="x", labelrotation=30)
        for label in axes.get_xticklabels():
            label.set_horizontalalignment("right")
        axes.set_yticks(range(len(from_labels)), [_short(label) for label in from_labels])
        axes.set_xlabel(to_title)
        axes.set_ylabel(from_title)
        axes.set_title("Migration: customers by segment before (rows) and after (columns)")
        if len(from_labels) * len(to_labels) <= 625:
            texts = [[f"{count:,}" if count else "·" for count in row] for row in counts]
            _annotate_cells(axes, counts, texts, dark=peak * 0.55)
        figure.colorbar(image, ax=axes, label="customers")
        return _png(figure)


def calibration_chart(
    labels: Sequence[str], predicted: Sequence[float], actual: Sequence[float]
) -> bytes:
    """The hold-out check's calibration plot: the mean predicted and the mean actual
    hold-out purchases (y) of the customers with each number of repeat purchases in the
    calibration period (x, the last label "7+")."""
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH_INCHES, 4.2))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        axes.plot(positions, predicted, marker="o", color=PRIMARY, linewidth=1.8, label="predicted")
        axes.plot(
            positions,
            actual,
            marker="s",
            color=ACTUAL,
            linewidth=1.8,
            linestyle="--",
            label="actual",
        )
        axes.set_xticks(positions, list(labels))
        axes.set_xlabel("purchases in calibration period (repeat purchases up to the as-of date)")
        axes.set_ylabel("average purchases in hold-out period")
        axes.set_ylim(bottom=0)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: compact(value)))
        axes.grid(axis="y", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.set_title("Hold-out check: predicted vs actual purchases after the as-of date")
        axes.legend(loc="upper left", frameon=False)
        return _png(figure)
