"""Use cases: one function each, taking primitives and a unit of work, returning domain objects."""

from segmentation_service.services.lookups import get_customer_segment, list_segment_members
from segmentation_service.services.runs import (
    compare_segmentation_runs,
    get_segmentation_run,
    list_segmentation_runs,
    set_segment_owner,
)
from segmentation_service.services.segmentation import segment_customers
from segmentation_service.services.valuation import score_customer_value

__all__ = [
    "compare_segmentation_runs",
    "get_customer_segment",
    "get_segmentation_run",
    "list_segmentation_runs",
    "set_segment_owner",
    "list_segment_members",
    "score_customer_value",
    "segment_customers",
]
