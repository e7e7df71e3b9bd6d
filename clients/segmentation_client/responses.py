"""Plain dicts shaped like the XSD response elements, whatever zeep returned.

zeep returns the operation result in different shapes depending on the
response element:

* a response with a single child is unwrapped: SegmentCustomers and
  GetSegmentationRun return the `run`, SetSegmentOwner the `segment`, and
  GetCustomerSegment and ListSegmentationRuns are unwrapped twice (their list
  container has a single child too) into a bare list, or None when empty;
* an empty list container (`<members/>`) comes back as None instead of a
  container holding an empty list.

These functions undo both, so every caller (tables, JSON, paging) sees the
response element's own shape with every list container present, e.g.
{"members": {"member": [...]}}.
"""

from __future__ import annotations

from typing import Any

from zeep.helpers import serialize_object


def plain(value: Any) -> Any:
    """zeep objects (CompoundValue, OrderedDict) to plain dicts and lists."""
    return serialize_object(value, dict)  # type: ignore[no-untyped-call]


def listed(container: Any, child: str) -> list[Any]:
    """The items of a list container that may be None, a bare list or {child: [...]}."""
    if container is None:
        return []
    if isinstance(container, list):
        return container
    items = container.get(child)
    if items is None:
        return []
    return items if isinstance(items, list) else [items]


def _container(container: Any, child: str) -> dict[str, list[Any]]:
    return {child: listed(container, child)}


def _unwrapped(value: Any, name: str) -> Any:
    """`value[name]` when zeep kept the response wrapper, else `value` itself."""
    if isinstance(value, dict) and isinstance(value.get(name), (dict, list)):
        return value[name]
    return value


def segment_record(segment: dict[str, Any]) -> dict[str, Any]:
    return {**segment, "profile": _container(segment.get("profile"), "entry")}


def run_record(run: dict[str, Any]) -> dict[str, Any]:
    """A SegmentationRun with metrics, segments (and their profiles) and lossMakingSegments."""
    segments = [segment_record(segment) for segment in listed(run.get("segments"), "segment")]
    return {
        **run,
        "metrics": _container(run.get("metrics"), "metric"),
        "segments": {"segment": segments},
        "lossMakingSegments": _container(run.get("lossMakingSegments"), "segmentCode"),
    }


def segment_customers_response(result: Any) -> dict[str, Any]:
    """{"run": {..., "metrics": {"metric": [...]}, "segments": {"segment": [...]}}}."""
    return {"run": run_record(_unwrapped(plain(result) or {}, "run"))}


def get_segmentation_run_response(result: Any) -> dict[str, Any]:
    """{"run": {...}}, shaped as by segment_customers_response."""
    return segment_customers_response(result)


def list_segmentation_runs_response(result: Any) -> dict[str, Any]:
    """{"runs": {"run": [...]}}, newest first."""
    value = _unwrapped(plain(result), "runs")
    return {"runs": {"run": [run_record(run) for run in listed(value, "run")]}}


def compare_segmentation_runs_response(result: Any) -> dict[str, Any]:
    """fromRunId, toRunId, {"transitions": {"transition": [...]}}, and the four summaries."""
    value = plain(result) or {}
    return {
        "fromRunId": value.get("fromRunId"),
        "toRunId": value.get("toRunId"),
        "transitions": _container(value.get("transitions"), "transition"),
        "stayedShare": value.get("stayedShare"),
        "adjustedRandIndex": value.get("adjustedRandIndex"),
        "enteredCount": value.get("enteredCount"),
        "leftCount": value.get("leftCount"),
    }


def set_segment_owner_response(result: Any) -> dict[str, Any]:
    """{"segment": {...}} with its profile container."""
    return {"segment": segment_record(_unwrapped(plain(result) or {}, "segment"))}


def get_customer_segment_response(result: Any) -> dict[str, Any]:
    """{"assignments": {"assignment": [...]}}."""
    value = plain(result)
    if isinstance(value, dict) and "assignments" in value:
        value = value["assignments"]
    return {"assignments": _container(value, "assignment")}


def score_customer_value_response(result: Any) -> dict[str, Any]:
    """{"scores": {"score": [...]}, "unknownCustomerIds": {"customerId": [...]}}."""
    value = plain(result) or {}
    return {
        "scores": _container(value.get("scores"), "score"),
        "unknownCustomerIds": _container(value.get("unknownCustomerIds"), "customerId"),
    }


def list_segment_members_response(result: Any) -> dict[str, Any]:
    """One page: runId, segmentCode, totalCount, {"members": {"member": [...]}}, nextPageToken."""
    value = plain(result) or {}
    return {
        "runId": value.get("runId"),
        "segmentCode": value.get("segmentCode"),
        "totalCount": value.get("totalCount"),
        "members": _container(value.get("members"), "member"),
        "nextPageToken": value.get("nextPageToken"),
    }


def list_segment_movers_response(result: Any) -> dict[str, Any]:
    """One page: totalCount, {"movers": {"mover": [...]}}, nextPageToken (contract 1.5).

    A mover without fromSegmentCode entered (it is assigned only in the later run), one
    without toSegmentCode left; the keys are present either way, as None.
    """
    value = plain(result) or {}
    return {
        "totalCount": value.get("totalCount"),
        "movers": _container(value.get("movers"), "mover"),
        "nextPageToken": value.get("nextPageToken"),
    }


def get_segment_insights_response(result: Any) -> dict[str, Any]:
    """{"differentiators": {"differentiator": [...]}, "overlaps": {"overlap": [...]}}
    (contract 1.5): differentiators strongest first, overlaps largest first."""
    value = plain(result) or {}
    return {
        "differentiators": _container(value.get("differentiators"), "differentiator"),
        "overlaps": _container(value.get("overlaps"), "overlap"),
    }


# ------------------------------------------------------- background runs (1.3)


def submit_segmentation_response(result: Any) -> dict[str, Any]:
    """{"run": {...}} (the Queued run), shaped as by segment_customers_response."""
    return segment_customers_response(result)


def cancel_segmentation_run_response(result: Any) -> dict[str, Any]:
    """{"run": {...}} as it stands, shaped as by segment_customers_response."""
    return segment_customers_response(result)


def schedule_record(schedule: dict[str, Any]) -> dict[str, Any]:
    """A SegmentationSchedule whose request has its customerIds container."""
    request = schedule.get("request") or {}
    return {
        **schedule,
        "request": {**request, "customerIds": _container(request.get("customerIds"), "customerId")},
    }


def create_segmentation_schedule_response(result: Any) -> dict[str, Any]:
    """{"schedule": {...}}."""
    return {"schedule": schedule_record(_unwrapped(plain(result) or {}, "schedule"))}


def delete_segmentation_schedule_response(result: Any) -> dict[str, Any]:
    """{"schedule": {...}} as it was before the deletion."""
    return create_segmentation_schedule_response(result)


def list_segmentation_schedules_response(result: Any) -> dict[str, Any]:
    """{"schedules": {"schedule": [...]}}."""
    value = _unwrapped(plain(result), "schedules")
    return {"schedules": {"schedule": [schedule_record(s) for s in listed(value, "schedule")]}}


# ------------------------------------------------- portfolios and treatments (1.4)


def set_segment_treatment_response(result: Any) -> dict[str, Any]:
    """{"segment": {...}} with its treatment as set, shaped as by set_segment_owner_response."""
    return set_segment_owner_response(result)


def evaluation_record(evaluation: dict[str, Any]) -> dict[str, Any]:
    """A PortfolioEvaluation with its cells, rowTotals and columnTotals containers."""
    return {
        **evaluation,
        "cells": _container(evaluation.get("cells"), "cell"),
        "rowTotals": _container(evaluation.get("rowTotals"), "cell"),
        "columnTotals": _container(evaluation.get("columnTotals"), "cell"),
    }


def portfolio_record(portfolio: dict[str, Any]) -> dict[str, Any]:
    """A Portfolio, its evaluation (GetPortfolio only, else None) shaped by evaluation_record."""
    evaluation = portfolio.get("evaluation")
    return {**portfolio, "evaluation": None if not evaluation else evaluation_record(evaluation)}


def portfolio_response(result: Any) -> dict[str, Any]:
    """{"portfolio": {...}}: CreatePortfolio, GetPortfolio and DeletePortfolio."""
    return {"portfolio": portfolio_record(_unwrapped(plain(result) or {}, "portfolio"))}


def get_portfolio_history_response(result: Any) -> dict[str, Any]:
    """{"portfolio": {...}, "evaluations": {"evaluation": [...]}}, oldest first."""
    value = plain(result) or {}
    return {
        "portfolio": portfolio_record(value.get("portfolio") or {}),
        "evaluations": {
            "evaluation": [
                evaluation_record(evaluation)
                for evaluation in listed(value.get("evaluations"), "evaluation")
            ]
        },
    }


def list_portfolios_response(result: Any) -> dict[str, Any]:
    """{"portfolios": {"portfolio": [...]}}."""
    value = _unwrapped(plain(result), "portfolios")
    return {"portfolios": {"portfolio": [portfolio_record(p) for p in listed(value, "portfolio")]}}


def set_portfolio_cell_owner_response(result: Any) -> dict[str, Any]:
    """{"cellOwner": {portfolioId, rowSegmentName, columnSegmentName, owner}}."""
    return {"cellOwner": _unwrapped(plain(result) or {}, "cellOwner")}


def set_portfolio_cell_treatment_response(result: Any) -> dict[str, Any]:
    """{"cellTreatment": {portfolioId, rowSegmentName, columnSegmentName, treatment}}."""
    return {"cellTreatment": _unwrapped(plain(result) or {}, "cellTreatment")}
