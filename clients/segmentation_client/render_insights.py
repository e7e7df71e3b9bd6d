"""The tables of what sets a segment apart (GetSegmentInsights, contract 1.5)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from .render import MISSING, _add_row, _print_fields, _table, format_share, format_value

# "region=North" is an attribute value, whose values are shares (0..1) and whose lift is
# their ratio; any other feature ("need:price", "revenue", "age") is a mean, whose lift
# is the difference in the baseline's standard deviations.
SHARE_MARK = "="
# The service lists only the features significant at this false discovery rate.
FALSE_DISCOVERY_RATE = 0.05
NO_DIFFERENTIATORS = (
    f"No feature sets this segment apart at a {FALSE_DISCOVERY_RATE:.0%} false discovery rate."
)
NO_OVERLAPS = "No overlaps: no other method has a completed run."
WHOLE_RUN = "all assigned customers of the run"
# Smaller p-values are shown in scientific notation (3.2e-08), larger ones as 0.012.
SMALL_P_VALUE = 0.001

DIFFERENTIATOR_COLUMNS = ("feature", "segmentValue", "baselineValue", "lift", "pValue")
OVERLAP_COLUMNS = (
    "method",
    "runId",
    "segmentCode",
    "segmentName",
    "sharedCustomers",
    "shareOfThisSegment",
    "jaccard",
)


def is_share(feature: str) -> bool:
    """True for an attribute value ("region=North"), False for a mean ("need:price")."""
    return SHARE_MARK in feature


def _decimals(value: float, sign: str = "-") -> str:
    """One decimal, or two below 0.1 where one would read as none: 1.8, 0.75 -> 0.8, 0.04."""
    digits = 1 if abs(value) >= 0.095 else 2
    return format(value, f"{sign},.{digits}f")


def format_lift(lift: float | None, share: bool) -> str:
    """A share's ratio as "×1.8", a mean's difference as "+1.2 sd" or "-0.04 sd"."""
    if lift is None:
        return MISSING
    if share:
        return f"×{_decimals(lift)}"
    return f"{_decimals(lift, '+')} sd"


def format_p_value(p_value: float | None) -> str:
    """ "0.012", or "3.2e-08" below SMALL_P_VALUE."""
    if p_value is None:
        return MISSING
    return f"{p_value:.1e}" if p_value < SMALL_P_VALUE else f"{p_value:.3f}"


def _feature_value(value: float | None, share: bool) -> str:
    if share:
        return format_share(value)
    return MISSING if value is None else f"{value:,.2f}"


def differentiator_cells(differentiator: dict[str, Any]) -> tuple[str, ...]:
    """One row of the differentiators' table, in DIFFERENTIATOR_COLUMNS order."""
    feature = str(differentiator.get("feature"))
    share = is_share(feature)
    return (
        feature,
        _feature_value(differentiator.get("segmentValue"), share),
        _feature_value(differentiator.get("baselineValue"), share),
        format_lift(differentiator.get("lift"), share),
        format_p_value(differentiator.get("pValue")),
    )


def overlap_cells(overlap: dict[str, Any]) -> tuple[str, ...]:
    """One row of the overlaps' table, in OVERLAP_COLUMNS order."""
    shared = overlap.get("sharedCustomers")
    jaccard = overlap.get("jaccard")
    return (
        format_value(overlap.get("method")),
        format_value(overlap.get("runId")),
        format_value(overlap.get("segmentCode")),
        format_value(overlap.get("segmentName")),
        MISSING if shared is None else f"{shared:,}",
        format_share(overlap.get("shareOfThisSegment")),
        MISSING if jaccard is None else f"{jaccard:.3f}",
    )


def render_insights(
    console: Console,
    response: dict[str, Any],
    run_id: int,
    segment_code: str,
    baseline: str | None,
) -> None:
    """The segment and its baseline, the differentiators (or a line saying there are
    none) and the overlaps with the other methods' latest runs."""
    header = {"runId": run_id, "segmentCode": segment_code, "baseline": baseline or WHOLE_RUN}
    _print_fields(console, header, tuple(header))
    differentiators = response["differentiators"]["differentiator"]
    if not differentiators:
        console.print(Text(NO_DIFFERENTIATORS))
    else:
        table = _table(
            "Differentiators", DIFFERENTIATOR_COLUMNS, numeric=DIFFERENTIATOR_COLUMNS[1:]
        )
        for differentiator in differentiators:
            _add_row(table, differentiator_cells(differentiator))
        console.print(table)
    overlaps = response["overlaps"]["overlap"]
    if not overlaps:
        console.print(Text(NO_OVERLAPS))
        return
    table = _table(
        "Overlaps",
        OVERLAP_COLUMNS,
        numeric=("runId", "sharedCustomers", "shareOfThisSegment", "jaccard"),
    )
    for overlap in overlaps:
        _add_row(table, overlap_cells(overlap))
    console.print(table)
