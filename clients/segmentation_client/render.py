"""Human-readable tables for each response (dicts from `responses` and `paging`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

MISSING = "-"
# A profile entry `<name>.zScore` holds the z-score of the segment's mean `<name>`.
Z_SCORE_SUFFIX = ".zScore"

SCORE_FIELDS = (
    "customerId",
    "transactionCount",
    "firstPurchaseDate",
    "lastPurchaseDate",
    "recencyDays",
    "totalRevenue",
    "totalMargin",
    "averageOrderValue",
    "monthlyRevenue",
    "rfmScore",
    "rfmSegment",
    "predictedClv",
    "valueTier",
    "probabilityAlive",
    "expectedPurchases",
    "acquisitionCost",
)
MONEY_FIELDS = frozenset(
    {
        "totalValue",
        "averageValue",
        "totalRevenue",
        "totalMargin",
        "averageOrderValue",
        "monthlyRevenue",
        "predictedClv",
        "value",
        "revenue",
        "cost",
        "profit",
        "acquisitionCost",
        "valueBefore",
        "valueAfter",
        "predictedClvTotal",
        "predictedClvAverage",
        "customerEquity",
        "equityChange",
    }
)
RUN_SUMMARY_FIELDS = (
    "runId",
    "method",
    "label",
    "status",
    "startedAt",
    "finishedAt",
    "customerCount",
    "assignedCount",
    "unassignedCount",
)
# Shown only when the service sent them (contract 1.1; queuedAt 1.3).
RUN_OPTIONAL_FIELDS = ("startedBy", "failureReason", "queuedAt")
# Shown only while the run is Queued or Running (contract 1.3).
RUN_PROGRESS_FIELDS = ("phase", "progress")
SEGMENT_FIELDS = (
    "code",
    "name",
    "size",
    "share",
    "totalValue",
    "averageValue",
    "revenue",
    "cost",
    "profit",
    "owner",
    "treatment",
)
SEGMENT_NUMERIC = ("size", "share", "totalValue", "averageValue", "revenue", "cost", "profit")


def format_number(value: float) -> str:
    """Up to four decimals, trailing zeros dropped: 0.8731, 12,345.5, 3."""
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def format_value(value: Any, field: str = "") -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:,.2f}" if field in MONEY_FIELDS else format_number(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def format_share(share: float | None) -> str:
    """The contract's share is a fraction of the run's customers (0..1)."""
    return MISSING if share is None else f"{share * 100:.1f}%"


def condense_treatment(treatment: dict[str, Any] | None) -> str:
    """A Treatment as "Develop via Email: premium bundle (overridden)"."""
    if not treatment:
        return MISSING
    text = str(treatment.get("strategy"))
    if treatment.get("channel"):
        text += f" via {treatment['channel']}"
    if treatment.get("message"):
        text += f": {treatment['message']}"
    return text + (" (overridden)" if treatment.get("overridden") else "")


def natural_key(code: str) -> tuple[Any, ...]:
    """Sort key putting V2 before V10: digit runs compare as numbers."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", code)
        if part
    )


def condense_profile(entries: Iterable[dict[str, Any]]) -> str:
    """[{attribute: region, value: North}, ...] as "region=North; ...".

    A `<name>.zScore` entry (needs-based and behavioural profiles) is shown with its
    `<name>` entry, as "price=6.20 (+1.37)" or "channel.Online=0.82 (+1.20)".
    """
    pairs = [(str(entry.get("attribute")), entry.get("value")) for entry in entries]
    values = dict(pairs)
    parts = []
    for attribute, value in pairs:
        base = attribute.removesuffix(Z_SCORE_SUFFIX)
        if base != attribute and base in values:
            continue  # shown with its mean
        z_score = values.get(attribute + Z_SCORE_SUFFIX)
        parts.append(f"{attribute}={value}" + ("" if z_score is None else f" ({z_score})"))
    return "; ".join(parts)


def _table(title: str | None, columns: Sequence[str], numeric: Iterable[str] = ()) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    right_aligned = set(numeric)
    for column in columns:
        table.add_column(column, justify="right" if column in right_aligned else "left")
    return table


def _add_row(table: Table, cells: Iterable[str]) -> None:
    # Text(...) so that brackets in service data are never read as rich markup.
    table.add_row(*(Text(cell) for cell in cells))


def _print_fields(console: Console, record: dict[str, Any], fields: Sequence[str]) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for field in fields:
        _add_row(grid, (field, format_value(record.get(field), field)))
    console.print(grid)


def _print_run_summary(console: Console, run: dict[str, Any]) -> None:
    optional = list(RUN_OPTIONAL_FIELDS)
    if run.get("status") in ("Queued", "Running"):
        optional += RUN_PROGRESS_FIELDS
    present = [field for field in optional if run.get(field) is not None]
    record = dict(run)
    if run.get("progress") is not None:
        record["progress"] = format_share(run["progress"])
    fields = [*RUN_SUMMARY_FIELDS, *present]
    loss_making = (run.get("lossMakingSegments") or {}).get("segmentCode") or []
    if loss_making:
        record["lossMakingSegments"] = ", ".join(loss_making)
        fields.append("lossMakingSegments")
    _print_fields(console, record, fields)


def _segment_field(segment: dict[str, Any], field: str) -> str:
    if field == "share":
        return format_share(segment.get(field))
    if field == "treatment":
        return condense_treatment(segment.get(field))
    return format_value(segment.get(field), field)


def _segment_cells(segment: dict[str, Any]) -> list[str]:
    return [_segment_field(segment, field) for field in SEGMENT_FIELDS]


def render_segment_run(console: Console, response: dict[str, Any]) -> None:
    """SegmentCustomers and GetSegmentationRun: summary, metrics and segments."""
    run = response["run"]
    _print_run_summary(console, run)
    metric_list = run["metrics"]["metric"]
    if metric_list:
        metrics = _table("Metrics", ("name", "value"), numeric=("value",))
        for metric in metric_list:
            _add_row(metrics, (format_value(metric.get("name")), format_value(metric.get("value"))))
        console.print(metrics)

    segment_list = run["segments"]["segment"]
    if not segment_list:
        console.print(Text("No segments."))
        return
    segments = _table("Segments", (*SEGMENT_FIELDS, "profile"), numeric=SEGMENT_NUMERIC)
    for segment in segment_list:
        _add_row(
            segments, (*_segment_cells(segment), condense_profile(segment["profile"]["entry"]))
        )
    console.print(segments)


def render_runs(console: Console, response: dict[str, Any], limit: int | None) -> None:
    """ListSegmentationRuns: one line per run, and how to get the next page."""
    runs = response["runs"]["run"]
    if not runs:
        console.print(Text("No runs."))
        return
    columns = (
        "runId",
        "method",
        "status",
        "label",
        "startedAt",
        "startedBy",
        "customerCount",
        "assignedCount",
        "segments",
        "lossMakingSegments",
    )
    table = _table("Runs", columns, numeric=("runId", "customerCount", "assignedCount", "segments"))
    for run in runs:
        cells = {field: format_value(run.get(field), field) for field in columns}
        cells["segments"] = str(len(run["segments"]["segment"]))
        cells["lossMakingSegments"] = ", ".join(run["lossMakingSegments"]["segmentCode"])
        _add_row(table, (cells[field] for field in columns))
    console.print(table)
    # The service sends at most `limit` runs (default 20): a full page may have a successor.
    if len(runs) >= (limit or 20):
        console.print(Text(f"older runs: --before {runs[-1].get('runId')}"))


def migration_matrix(
    transitions: Iterable[dict[str, Any]],
    from_order: Sequence[str] = (),
    to_order: Sequence[str] = (),
) -> tuple[list[str], list[str], dict[tuple[str, str], int]]:
    """(from codes, to codes, {(from, to): customers}) from CompareSegmentationRuns' transitions.

    Codes keep the given orders (a run's segment order); others follow in natural order.
    """
    counts: dict[tuple[str, str], int] = {}
    for transition in transitions:
        key = (str(transition.get("fromSegmentCode")), str(transition.get("toSegmentCode")))
        counts[key] = counts.get(key, 0) + int(transition.get("customerCount") or 0)

    def ordered(known: Sequence[str], found: Iterable[str]) -> list[str]:
        rest = sorted(set(found) - set(known), key=natural_key)
        return [*known, *rest]

    return (
        ordered(from_order, (key[0] for key in counts)),
        ordered(to_order, (key[1] for key in counts)),
        counts,
    )


def render_comparison(console: Console, response: dict[str, Any]) -> None:
    """CompareSegmentationRuns: the summary figures and the from x to matrix of customers."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    _add_row(grid, ("fromRunId", format_value(response.get("fromRunId"))))
    _add_row(grid, ("toRunId", format_value(response.get("toRunId"))))
    _add_row(grid, ("stayedShare", format_share(response.get("stayedShare"))))
    _add_row(grid, ("adjustedRandIndex", format_value(response.get("adjustedRandIndex"))))
    _add_row(grid, ("enteredCount", format_value(response.get("enteredCount"))))
    _add_row(grid, ("leftCount", format_value(response.get("leftCount"))))
    console.print(grid)
    from_codes, to_codes, counts = migration_matrix(response["transitions"]["transition"])
    if not counts:
        console.print(Text("No customer is assigned in both runs."))
        return
    corner = "from \\ to"
    title = f"Customers: run {response.get('fromRunId')} (rows) → run {response.get('toRunId')}"
    table = _table(title, (corner, *to_codes, "total"), numeric=(*to_codes, "total"))
    for from_code in from_codes:
        row = [counts.get((from_code, to_code), 0) for to_code in to_codes]
        _add_row(table, (from_code, *(f"{n:,}" if n else "." for n in row), f"{sum(row):,}"))
    column_totals = [sum(counts.get((f, t), 0) for f in from_codes) for t in to_codes]
    table.add_section()
    _add_row(table, ("total", *(f"{n:,}" for n in column_totals), f"{sum(column_totals):,}"))
    console.print(table)


def render_segment(console: Console, response: dict[str, Any]) -> None:
    """SetSegmentOwner and SetSegmentTreatment: the segment as it is now."""
    segment = response["segment"]
    fields = (*SEGMENT_FIELDS, "profitable", "description")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for field in fields:
        _add_row(grid, (field, _segment_field(segment, field)))
    if segment.get("treatment"):
        _add_row(grid, ("reason", format_value(segment["treatment"].get("reason"))))
    _add_row(grid, ("profile", condense_profile(segment["profile"]["entry"])))
    console.print(grid)


def render_customer_segments(console: Console, response: dict[str, Any], customer_id: str) -> None:
    assignments = response["assignments"]["assignment"]
    if not assignments:
        console.print(Text(f"Customer {customer_id} is not in any segment of a completed run yet."))
        return
    columns = ("method", "runId", "segmentCode", "segmentName", "assignedAt", "score", "reason")
    table = _table(f"Segments of customer {customer_id}", columns, numeric=("runId", "score"))
    for assignment in assignments:
        _add_row(table, (format_value(assignment.get(field), field) for field in columns))
    console.print(table)


def render_value_scores(console: Console, response: dict[str, Any]) -> None:
    numeric = (
        "transactionCount",
        "recencyDays",
        "totalRevenue",
        "totalMargin",
        "averageOrderValue",
        "monthlyRevenue",
        "predictedClv",
        "probabilityAlive",
        "expectedPurchases",
        "acquisitionCost",
    )
    table = _table("Customer value", SCORE_FIELDS, numeric=numeric)
    for score in response["scores"]["score"]:
        _add_row(table, (format_value(score.get(field), field) for field in SCORE_FIELDS))
    console.print(table)
    _render_predictions(console, response["scores"]["score"])
    unknown = response["unknownCustomerIds"]["customerId"]
    if unknown:
        console.print(Text(f"Unknown customer ids: {', '.join(unknown)}"))


PREDICTION_COLUMNS = (
    "customerId",
    "churnRisk",
    "purchases (80%)",
    "predictedClv (80%)",
    "expectedDaysToNextPurchase",
)


def _render_predictions(console: Console, scores: list[dict[str, Any]]) -> None:
    """Contract 1.5's predictions, where the service gave them: one line per customer."""
    predicted = [score for score in scores if score.get("churnRisk") is not None]
    if not predicted:
        return
    table = _table(
        "Predictions (80% intervals)",
        PREDICTION_COLUMNS,
        numeric=PREDICTION_COLUMNS[2:],
    )
    for score in predicted:
        _add_row(
            table,
            (
                str(score["customerId"]),
                str(score["churnRisk"]),
                _interval(score.get("expectedPurchasesLow"), score.get("expectedPurchasesHigh")),
                _interval(
                    score.get("predictedClvLow"), score.get("predictedClvHigh"), "predictedClv"
                ),
                format_value(score.get("expectedDaysToNextPurchase")),
            ),
        )
    console.print(table)


def _interval(low: Any, high: Any, field: str = "") -> str:
    if low is None or high is None:
        return MISSING
    return f"{format_value(low, field)} – {format_value(high, field)}"


def _members_table(members: Iterable[dict[str, Any]]) -> Table:
    columns = ("customerId", "name", "value", "score")
    table = _table(None, columns, numeric=("value", "score"))
    for member in members:
        _add_row(table, (format_value(member.get(field), field) for field in columns))
    return table


def render_member_page(console: Console, page: dict[str, Any]) -> None:
    _print_fields(console, page, ("runId", "segmentCode", "totalCount"))
    console.print(_members_table(page["members"]["member"]))
    token = page.get("nextPageToken")
    if token:
        console.print(Text(f"nextPageToken: {token}  (pass it as --page-token, or use --all)"))


def render_all_members(console: Console, listing: dict[str, Any]) -> None:
    """The result of paging.fetch_all_members: every member in one table."""
    _print_fields(console, listing, ("runId", "segmentCode", "totalCount"))
    console.print(_members_table(listing["members"]))
