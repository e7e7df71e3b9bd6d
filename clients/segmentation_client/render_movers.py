"""The table of a page of movers between two runs (ListSegmentMovers, contract 1.5)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from .render import _add_row, _print_fields, _table, format_value

MOVE_COLUMN = "from → to"
MOVER_COLUMNS = ("customerId", "name", MOVE_COLUMN, "valueBefore", "valueAfter")
# What an absent segment code means in a mover.
ENTERED = "(entered)"  # no fromSegmentCode: assigned only in the later run
LEFT = "(left)"  # no toSegmentCode: assigned only in the earlier run


def describe_move(mover: dict[str, Any]) -> str:
    """ "V2 → V1", "(entered) → V3" or "V4 → (left)"."""
    before = mover.get("fromSegmentCode") or ENTERED
    after = mover.get("toSegmentCode") or LEFT
    return f"{before} → {after}"


def render_mover_page(
    console: Console, page: dict[str, Any], from_run_id: int, to_run_id: int
) -> None:
    """The two runs and totalCount, one line per mover, and the next page's token."""
    header = {"fromRunId": from_run_id, "toRunId": to_run_id, "totalCount": page["totalCount"]}
    _print_fields(console, header, tuple(header))
    movers = page["movers"]["mover"]
    if not movers:
        console.print(Text("No movers."))
    else:
        table = _table(None, MOVER_COLUMNS, numeric=("valueBefore", "valueAfter"))
        for mover in movers:
            cells = {field: format_value(mover.get(field), field) for field in MOVER_COLUMNS}
            cells[MOVE_COLUMN] = describe_move(mover)
            _add_row(table, (cells[column] for column in MOVER_COLUMNS))
        console.print(table)
    token = page.get("nextPageToken")
    if token:
        console.print(
            Text(f"nextPageToken: {token}  (pass it as --page-token, or use export-movers)")
        )
