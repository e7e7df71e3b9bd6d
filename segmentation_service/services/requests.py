"""Checks on SegmentCustomers requests beyond what the XSD can say, and their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from segmentation_service.domain.errors import InvalidRequest
from segmentation_service.domain.model import (
    GROUPABLE_ATTRIBUTES,
    SegmentationMethod,
    SegmentationRequest,
    ValueMetric,
)

DEFAULT_GROUP_BY = ("customerType", "region")
DEFAULT_RANDOM_SEED = 0
DEFAULT_TIER_COUNT = 4
MAX_LABEL_LENGTH = 200
OPTION_BLOCKS = {
    SegmentationMethod.A_PRIORI: "aPriori",
    SegmentationMethod.NEEDS_BASED: "needsBased",
    SegmentationMethod.VALUE_BASED: "valueBased",
}


@dataclass(frozen=True)
class EffectiveOptions:
    """The parameters a run uses once defaults are applied; kept with the run."""

    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    segment_count: int | None = None
    random_seed: int = DEFAULT_RANDOM_SEED
    value_metric: ValueMetric = ValueMetric.MARGIN
    tier_count: int = DEFAULT_TIER_COUNT

    def for_method(self, method: SegmentationMethod) -> dict[str, Any]:
        if method is SegmentationMethod.A_PRIORI:
            return {"groupBy": list(self.group_by)}
        if method is SegmentationMethod.NEEDS_BASED:
            return {"segmentCount": self.segment_count, "randomSeed": self.random_seed}
        return {"valueMetric": self.value_metric.value, "tierCount": self.tier_count}


def check_request(request: SegmentationRequest) -> EffectiveOptions:
    """Refuse what the request gets wrong, naming the field; return the effective options."""
    given = {
        "aPriori": request.a_priori,
        "needsBased": request.needs_based,
        "valueBased": request.value_based,
    }
    own = OPTION_BLOCKS[request.method]
    for block, block_options in given.items():
        if block_options is not None and block != own:
            raise InvalidRequest(block, f"applies to another method than {request.method.value}")
    if request.label is not None and len(request.label) > MAX_LABEL_LENGTH:
        raise InvalidRequest("label", f"longer than {MAX_LABEL_LENGTH} characters")
    if request.customer_ids is not None:
        _check_ids(request.customer_ids)
    options = EffectiveOptions()
    if request.a_priori is not None:
        options = EffectiveOptions(group_by=_check_group_by(request.a_priori.group_by))
    if request.needs_based is not None:
        count, seed = request.needs_based.segment_count, request.needs_based.random_seed
        _check_range("needsBased.segmentCount", count, 2, 20)
        _check_range("needsBased.randomSeed", seed, 0, 2**31 - 1)
        options = EffectiveOptions(
            segment_count=count, random_seed=DEFAULT_RANDOM_SEED if seed is None else seed
        )
    if request.value_based is not None:
        tiers = request.value_based.tier_count
        _check_range("valueBased.tierCount", tiers, 2, 10)
        options = EffectiveOptions(
            value_metric=request.value_based.value_metric or ValueMetric.MARGIN,
            tier_count=DEFAULT_TIER_COUNT if tiers is None else tiers,
        )
    return options


def _check_group_by(group_by: tuple[str, ...]) -> tuple[str, ...]:
    if not group_by:
        raise InvalidRequest("aPriori.groupBy", "name at least one attribute")
    for attribute in group_by:
        if attribute not in GROUPABLE_ATTRIBUTES:
            raise InvalidRequest(
                "aPriori.groupBy", f"{attribute!r} is not one of {', '.join(GROUPABLE_ATTRIBUTES)}"
            )
    if len(set(group_by)) != len(group_by):
        raise InvalidRequest("aPriori.groupBy", "an attribute is named twice")
    return group_by


def _check_ids(customer_ids: tuple[str, ...]) -> None:
    if not customer_ids:
        raise InvalidRequest("customerIds", "give at least one customer id, or leave it out")
    for customer_id in customer_ids:
        if not customer_id or len(customer_id) > 64:
            raise InvalidRequest("customerIds.customerId", "must be 1 to 64 characters")


def _check_range(field: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise InvalidRequest(field, f"must be between {low} and {high}, got {value}")
