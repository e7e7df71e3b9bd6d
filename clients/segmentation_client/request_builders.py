"""Keyword arguments for each operation, shaped like the XSD request elements.

zeep takes nested dicts for complex types. Optional elements whose value was
not given are left out of the dict, so zeep does not send them at all (the
service would reject an empty `needsBased` or `groupBy` element).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

SEGMENTATION_METHODS = ("APriori", "NeedsBased", "ValueBased")
VALUE_METRICS = ("Revenue", "Margin", "Rfm", "Clv")
CUSTOMER_ATTRIBUTES = (
    "customerType",
    "industry",
    "companySize",
    "region",
    "ageBand",
    "preferredChannel",
)


def split_comma_separated(values: Iterable[str] | None) -> list[str]:
    """Flatten ["a,b", "c"] into ["a", "b", "c"], dropping blanks."""
    items: list[str] = []
    for value in values or ():
        items.extend(part.strip() for part in value.split(",") if part.strip())
    return items


def _without_missing(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def segment_customers_request(
    method: str,
    *,
    label: str | None = None,
    customer_ids: Sequence[str] = (),
    group_by: Sequence[str] = (),
    segment_count: int | None = None,
    random_seed: int | None = None,
    value_metric: str | None = None,
    tier_count: int | None = None,
) -> dict[str, Any]:
    """SegmentCustomers: only the parameter block of `method`, and only if it has content."""
    request: dict[str, Any] = {"method": method}
    if label is not None:
        request["label"] = label
    if customer_ids:
        request["customerIds"] = {"customerId": list(customer_ids)}
    if method == "APriori" and group_by:
        request["aPriori"] = {"groupBy": {"attribute": list(group_by)}}
    elif method == "NeedsBased":
        needs_based = _without_missing({"segmentCount": segment_count, "randomSeed": random_seed})
        if needs_based:
            request["needsBased"] = needs_based
    elif method == "ValueBased":
        value_based = _without_missing({"valueMetric": value_metric, "tierCount": tier_count})
        if value_based:
            request["valueBased"] = value_based
    return request


def get_customer_segment_request(
    customer_id: str, *, method: str | None = None, run_id: int | None = None
) -> dict[str, Any]:
    return _without_missing({"customerId": customer_id, "method": method, "runId": run_id})


def score_customer_value_request(
    customer_ids: Sequence[str],
    *,
    horizon_months: int | None = None,
    discount_rate: float | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {"customerIds": {"customerId": list(customer_ids)}}
    request.update(
        _without_missing({"horizonMonths": horizon_months, "annualDiscountRate": discount_rate})
    )
    return request


def list_segment_members_request(
    segment_code: str,
    *,
    run_id: int | None = None,
    method: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    return _without_missing(
        {
            "segmentCode": segment_code,
            "runId": run_id,
            "method": method,
            "pageSize": page_size,
            "pageToken": page_token,
        }
    )
