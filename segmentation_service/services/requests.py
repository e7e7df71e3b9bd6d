"""Checks on SegmentCustomers requests beyond what the XSD can say, and their defaults."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from enum import Enum
from typing import Any, TypeVar

from segmentation_service.domain.errors import InvalidRequest
from segmentation_service.domain.model import (
    GROUPABLE_ATTRIBUTES,
    APrioriOptions,
    BehaviouralOptions,
    BehaviourFeature,
    NeedsBasedOptions,
    SegmentationMethod,
    SegmentationRequest,
    ValueBasedOptions,
    ValueMetric,
)

DEFAULT_GROUP_BY = ("customerType", "region")
MAX_LABEL_LENGTH = 200
OPTION_BLOCKS = {
    SegmentationMethod.A_PRIORI: "aPriori",
    SegmentationMethod.NEEDS_BASED: "needsBased",
    SegmentationMethod.VALUE_BASED: "valueBased",
    SegmentationMethod.BEHAVIOURAL: "behavioural",
}
DEFAULT_NEEDS = NeedsBasedOptions(
    segment_count=None,
    random_seed=0,
    min_answered_share=0.5,
    centre_respondents=False,
    pca_components=None,
)
DEFAULT_VALUE = ValueBasedOptions(
    value_metric=ValueMetric.MARGIN,
    tier_count=4,
    as_of_date=None,
    horizon_months=12,
    annual_discount_rate=0.10,
)

DEFAULT_BEHAVIOURAL = BehaviouralOptions(
    features=tuple(BehaviourFeature),
    segment_count=None,
    random_seed=0,
    as_of_date=None,
    lookback_months=24,
)


@dataclass(frozen=True)
class EffectiveOptions:
    """The options a run uses once defaults are applied; kept with the run."""

    a_priori: APrioriOptions = field(default_factory=lambda: APrioriOptions(DEFAULT_GROUP_BY))
    needs_based: NeedsBasedOptions = DEFAULT_NEEDS
    value_based: ValueBasedOptions = DEFAULT_VALUE
    behavioural: BehaviouralOptions = DEFAULT_BEHAVIOURAL

    def for_method(self, method: SegmentationMethod) -> dict[str, Any]:
        """The method's options as JSON-ready data, e.g. for the run record."""
        options: APrioriOptions | NeedsBasedOptions | ValueBasedOptions | BehaviouralOptions = (
            self.value_based
        )
        if method is SegmentationMethod.A_PRIORI:
            options = self.a_priori
        elif method is SegmentationMethod.NEEDS_BASED:
            options = self.needs_based
        elif method is SegmentationMethod.BEHAVIOURAL:
            options = self.behavioural
        plain: dict[str, Any] = _plain(asdict(options))
        return plain


def check_request(request: SegmentationRequest, today: date) -> EffectiveOptions:
    """Refuse what the request gets wrong, naming the field; return the effective options."""
    given = {
        "aPriori": request.a_priori,
        "needsBased": request.needs_based,
        "valueBased": request.value_based,
        "behavioural": request.behavioural,
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
        options = replace(options, a_priori=_a_priori(request.a_priori))
    if request.needs_based is not None:
        options = replace(options, needs_based=_needs(request.needs_based))
    if request.value_based is not None:
        options = replace(options, value_based=_value(request.value_based, today))
    if request.behavioural is not None:
        options = replace(options, behavioural=_behavioural(request.behavioural, today))
    return options


def _a_priori(options: APrioriOptions) -> APrioriOptions:
    if options.rules and options.group_by:
        raise InvalidRequest("aPriori.rules", "give groupBy or rules, not both")
    if options.rules:
        return options
    group_by = options.group_by or DEFAULT_GROUP_BY
    for attribute in group_by:
        if attribute not in GROUPABLE_ATTRIBUTES:
            raise InvalidRequest(
                "aPriori.groupBy", f"{attribute!r} is not one of {', '.join(GROUPABLE_ATTRIBUTES)}"
            )
    if len(set(group_by)) != len(group_by):
        raise InvalidRequest("aPriori.groupBy", "an attribute is named twice")
    if options.minimum_segment_size is not None and options.minimum_segment_size < 1:
        raise InvalidRequest("aPriori.minimumSegmentSize", "must be at least 1")
    return replace(options, group_by=group_by)


def _needs(options: NeedsBasedOptions) -> NeedsBasedOptions:
    _check_range("needsBased.segmentCount", options.segment_count, 2, 20)
    _check_range("needsBased.randomSeed", options.random_seed, 0, 2**31 - 1)
    _check_range("needsBased.pcaComponents", options.pca_components, 1, 50)
    share = options.min_answered_share
    if share is not None and not (math.isfinite(share) and 0 <= share <= 1):
        raise InvalidRequest("needsBased.minAnsweredShare", f"must be between 0 and 1, got {share}")
    return _with_defaults(options, DEFAULT_NEEDS)


def _value(options: ValueBasedOptions, today: date) -> ValueBasedOptions:
    _check_range("valueBased.tierCount", options.tier_count, 2, 10)
    _check_range("valueBased.horizonMonths", options.horizon_months, 1, 120)
    rate = options.annual_discount_rate
    if rate is not None and not (math.isfinite(rate) and 0 <= rate <= 1):
        raise InvalidRequest(
            "valueBased.annualDiscountRate", f"must be between 0 and 1, got {rate}"
        )
    if options.as_of_date is not None and options.as_of_date > today:
        raise InvalidRequest("valueBased.asOfDate", f"{options.as_of_date} is in the future")
    return _with_defaults(options, DEFAULT_VALUE)


def _behavioural(options: BehaviouralOptions, today: date) -> BehaviouralOptions:
    _check_range("behavioural.segmentCount", options.segment_count, 2, 20)
    _check_range("behavioural.randomSeed", options.random_seed, 0, 2**31 - 1)
    _check_range("behavioural.lookbackMonths", options.lookback_months, 1, 120)
    if options.features is not None:
        if not options.features:
            raise InvalidRequest("behavioural.features", "name at least one feature family")
        if len(set(options.features)) != len(options.features):
            raise InvalidRequest("behavioural.features", "a feature family is named twice")
    if options.as_of_date is not None and options.as_of_date > today:
        raise InvalidRequest("behavioural.asOfDate", f"{options.as_of_date} is in the future")
    return _with_defaults(options, DEFAULT_BEHAVIOURAL)


_Options = TypeVar("_Options", NeedsBasedOptions, ValueBasedOptions, BehaviouralOptions)


def _with_defaults(options: _Options, defaults: _Options) -> _Options:
    """``options`` with every field left as None taken from ``defaults``."""
    given = {name: value for name, value in asdict(options).items() if value is not None}
    return replace(defaults, **{name: getattr(options, name) for name in given})


def _check_ids(customer_ids: tuple[str, ...]) -> None:
    if not customer_ids:
        raise InvalidRequest("customerIds", "give at least one customer id, or leave it out")
    for customer_id in customer_ids:
        if not customer_id or len(customer_id) > 64:
            raise InvalidRequest("customerIds.customerId", "must be 1 to 64 characters")


def _check_range(field_name: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise InvalidRequest(field_name, f"must be between {low} and {high}, got {value}")


def _plain(data: Any) -> Any:
    """Dates as ISO strings and enums as their values, for JSON."""
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(value) for value in data]
    if isinstance(data, Enum):
        return data.value
    if isinstance(data, date):
        return data.isoformat()
    return data
