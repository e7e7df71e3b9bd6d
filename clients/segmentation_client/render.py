"""Human-readable tables for each response (dicts from `responses` and `paging`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

MISSING = "-"

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
    }
)


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


def condense_profile(entries: Iterable[dict[str, Any]]) -> str:
    """[{attribute: region, value: North}, ...] as "region=North; ..."."""
    return "; ".join(f"{entry.get('attribute')}={entry.get('value')}" for entry in entries)


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


def render_segment_run(console: Console, response: dict[str, Any]) -> None:
    run = response["run"]
    _print_fields(
        console,
        run,
        (
            "runId",
            "method",
            "label",
            "status",
            "startedAt",
            "finishedAt",
            "customerCount",
            "assignedCount",
            "unassignedCount",
        ),
    )
    metrics = _table("Metrics", ("name", "value"), numeric=("value",))
    for metric in run["metrics"]["metric"]:
        _add_row(metrics, (format_value(metric.get("name")), format_value(metric.get("value"))))
    console.print(metrics)

    columns = ("code", "name", "size", "share", "totalValue", "averageValue", "profile")
    segments = _table("Segments", columns, numeric=("size", "share", "totalValue", "averageValue"))
    for segment in run["segments"]["segment"]:
        _add_row(
            segments,
            (
                *(format_value(segment.get(field), field) for field in ("code", "name", "size")),
                format_share(segment.get("share")),
                format_value(segment.get("totalValue"), "totalValue"),
                format_value(segment.get("averageValue"), "averageValue"),
                condense_profile(segment["profile"]["entry"]),
            ),
        )
    console.print(segments)


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
    )
    table = _table("Customer value", SCORE_FIELDS, numeric=numeric)
    for score in response["scores"]["score"]:
        _add_row(table, (format_value(score.get(field), field) for field in SCORE_FIELDS))
    console.print(table)
    unknown = response["unknownCustomerIds"]["customerId"]
    if unknown:
        console.print(Text(f"Unknown customer ids: {', '.join(unknown)}"))


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
