"""Tables for runs in the background and schedules (contract 1.3)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from .render import _add_row, _print_fields, _table, format_value

QUEUED_RUN_FIELDS = ("runId", "method", "label", "status", "queuedAt")
SCHEDULE_FIELDS = (
    "scheduleId",
    "name",
    "cron",
    "enabled",
    "nextRunAt",
    "lastRunId",
    "createdBy",
    "request",
)
PARAMETER_BLOCKS = ("aPriori", "needsBased", "valueBased", "behavioural")


def render_queued_run(console: Console, response: dict[str, Any]) -> None:
    """SubmitSegmentation: the run as queued, and how to follow it."""
    run = dict(response["run"])
    # queuedAt is new in 1.3; startedAt holds the submission time while a run is Queued.
    if run.get("queuedAt") is None:
        run["queuedAt"] = run.get("startedAt")
    fields = [*QUEUED_RUN_FIELDS, *(["startedBy"] if run.get("startedBy") else [])]
    _print_fields(console, run, fields)
    console.print(Text(f"follow it: segmentation-client wait {run.get('runId')}"))


def _parameter(value: Any) -> str:
    """A request parameter in a few characters: lists joined, nested lists counted."""
    if isinstance(value, dict) and len(value) == 1:
        (value,) = value.values()
    if isinstance(value, list):
        if all(isinstance(item, (str, int, float)) for item in value):
            return ",".join(format_value(item) for item in value)
        return f"{len(value)} entries"
    return format_value(value)


def condense_request(request: dict[str, Any]) -> str:
    """A schedule's SegmentCustomers request as "ValueBased tierCount=3; 2 customers"."""
    parts = [str(request.get("method"))]
    block = next((request[name] for name in PARAMETER_BLOCKS if request.get(name)), None)
    if block:
        parts[0] += " " + " ".join(
            f"{name}={_parameter(value)}" for name, value in block.items() if value is not None
        )
    if request.get("label"):
        parts.append(f"label {request['label']}")
    customer_ids = (request.get("customerIds") or {}).get("customerId") or []
    if customer_ids:
        parts.append(f"{len(customer_ids)} customers")
    return "; ".join(parts)


def _schedule_cells(schedule: dict[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    cells = {field: format_value(schedule.get(field), field) for field in fields}
    cells["request"] = condense_request(schedule.get("request") or {})
    return cells


def render_schedule(console: Console, response: dict[str, Any]) -> None:
    """CreateSegmentationSchedule and DeleteSegmentationSchedule: one schedule."""
    _print_fields(console, _schedule_cells(response["schedule"], SCHEDULE_FIELDS), SCHEDULE_FIELDS)


def render_schedules(console: Console, response: dict[str, Any]) -> None:
    """ListSegmentationSchedules: one line per schedule."""
    schedules = response["schedules"]["schedule"]
    if not schedules:
        console.print(Text("No schedules."))
        return
    table = _table("Schedules", SCHEDULE_FIELDS, numeric=("scheduleId", "lastRunId"))
    for schedule in schedules:
        cells = _schedule_cells(schedule, SCHEDULE_FIELDS)
        _add_row(table, (cells[field] for field in SCHEDULE_FIELDS))
    console.print(table)
