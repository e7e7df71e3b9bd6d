"""A SegmentationRequest as JSON-ready data and back: what a queued run and a schedule keep.

The encoding is the dataclasses' own field names with enums as their values, dates as
ISO strings and tuples as lists; ``decode(encode(r)) == r`` for every request (tested).
Standard library only.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from enum import Enum
from typing import Any

from segmentation_service.domain.model import (
    APrioriOptions,
    Band,
    BehaviouralOptions,
    BehaviourFeature,
    Condition,
    ConditionOperator,
    NeedsBasedOptions,
    Rule,
    SegmentationMethod,
    SegmentationRequest,
    ValueBasedOptions,
    ValueMetric,
)


def encode(request: SegmentationRequest) -> dict[str, Any]:
    encoded: dict[str, Any] = _plain(asdict(request))
    return encoded


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def decode(data: dict[str, Any]) -> SegmentationRequest:
    ids = data.get("customer_ids")
    return SegmentationRequest(
        method=SegmentationMethod(data["method"]),
        label=data.get("label"),
        customer_ids=None if ids is None else tuple(ids),
        a_priori=_a_priori(data.get("a_priori")),
        needs_based=None
        if data.get("needs_based") is None
        else NeedsBasedOptions(**data["needs_based"]),
        value_based=_value_based(data.get("value_based")),
        behavioural=_behavioural(data.get("behavioural")),
    )


def _behavioural(data: dict[str, Any] | None) -> BehaviouralOptions | None:
    if data is None:
        return None
    features, as_of = data["features"], data["as_of_date"]
    return BehaviouralOptions(
        features=None if features is None else tuple(BehaviourFeature(f) for f in features),
        segment_count=data["segment_count"],
        random_seed=data["random_seed"],
        as_of_date=None if as_of is None else date.fromisoformat(as_of),
        lookback_months=data["lookback_months"],
    )


def _a_priori(data: dict[str, Any] | None) -> APrioriOptions | None:
    if data is None:
        return None
    return APrioriOptions(
        group_by=tuple(data["group_by"]),
        rules=tuple(
            Rule(
                rule["segment_code"],
                rule["segment_name"],
                tuple(
                    Condition(c["attribute"], ConditionOperator(c["operator"]), tuple(c["values"]))
                    for c in rule["conditions"]
                ),
            )
            for rule in data["rules"]
        ),
        default_segment_code=data["default_segment_code"],
        company_size_bands=_bands(data["company_size_bands"]),
        age_bands=_bands(data["age_bands"]),
        minimum_segment_size=data["minimum_segment_size"],
    )


def _bands(data: list[dict[str, Any]] | None) -> tuple[Band, ...] | None:
    return None if data is None else tuple(Band(**band) for band in data)


def _value_based(data: dict[str, Any] | None) -> ValueBasedOptions | None:
    if data is None:
        return None
    metric, as_of = data["value_metric"], data["as_of_date"]
    return ValueBasedOptions(
        value_metric=None if metric is None else ValueMetric(metric),
        tier_count=data["tier_count"],
        as_of_date=None if as_of is None else date.fromisoformat(as_of),
        horizon_months=data["horizon_months"],
        annual_discount_rate=data["annual_discount_rate"],
    )
