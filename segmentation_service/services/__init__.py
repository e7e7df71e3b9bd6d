"""Use cases: one function each, taking primitives and a unit of work, returning domain objects.

The use cases load on first use (PEP 562), so a command that needs none of them (`users`,
`config`, `--help`) does not import pandas, scikit-learn and SciPy through this package.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segmentation_service.services.insights import get_segment_insights
    from segmentation_service.services.lookups import get_customer_segment, list_segment_members
    from segmentation_service.services.movers import list_segment_movers
    from segmentation_service.services.portfolios import (
        create_portfolio,
        delete_portfolio,
        evaluate_portfolio,
        list_portfolios,
        portfolio_history,
        set_portfolio_cell_owner,
        set_portfolio_cell_treatment,
    )
    from segmentation_service.services.runs import (
        compare_segmentation_runs,
        get_segmentation_run,
        list_segmentation_runs,
        set_segment_owner,
        set_segment_treatment,
    )
    from segmentation_service.services.schedules import (
        create_schedule,
        delete_schedule,
        list_schedules,
    )
    from segmentation_service.services.submission import (
        cancel_segmentation_run,
        segment_customers,
        submit_segmentation,
        wait_for_run,
    )
    from segmentation_service.services.valuation import score_customer_value

# Use case name -> the module of this package that defines it.
_USE_CASES = {
    "compare_segmentation_runs": "runs",
    "get_customer_segment": "lookups",
    "get_segmentation_run": "runs",
    "list_segmentation_runs": "runs",
    "set_segment_owner": "runs",
    "list_segment_members": "lookups",
    "list_segment_movers": "movers",
    "get_segment_insights": "insights",
    "score_customer_value": "valuation",
    "segment_customers": "submission",
    "submit_segmentation": "submission",
    "wait_for_run": "submission",
    "cancel_segmentation_run": "submission",
    "create_schedule": "schedules",
    "list_schedules": "schedules",
    "delete_schedule": "schedules",
    "create_portfolio": "portfolios",
    "list_portfolios": "portfolios",
    "delete_portfolio": "portfolios",
    "evaluate_portfolio": "portfolios",
    "portfolio_history": "portfolios",
    "set_portfolio_cell_owner": "portfolios",
    "set_portfolio_cell_treatment": "portfolios",
    "set_segment_treatment": "runs",
}

__all__ = [
    "compare_segmentation_runs",
    "get_customer_segment",
    "get_segmentation_run",
    "list_segmentation_runs",
    "set_segment_owner",
    "list_segment_members",
    "list_segment_movers",
    "get_segment_insights",
    "score_customer_value",
    "segment_customers",
    "submit_segmentation",
    "wait_for_run",
    "cancel_segmentation_run",
    "create_schedule",
    "list_schedules",
    "delete_schedule",
    "create_portfolio",
    "list_portfolios",
    "delete_portfolio",
    "evaluate_portfolio",
    "portfolio_history",
    "set_portfolio_cell_owner",
    "set_portfolio_cell_treatment",
    "set_segment_treatment",
]


def __getattr__(name: str) -> Any:
    module = _USE_CASES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
