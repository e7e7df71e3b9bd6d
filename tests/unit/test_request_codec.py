"""A queued run's and a schedule's request survive the trip through JSON unchanged."""

from __future__ import annotations

import json
from datetime import date

import pytest

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
from segmentation_service.domain.request_codec import decode, encode

REQUESTS = [
    SegmentationRequest(SegmentationMethod.A_PRIORI),
    SegmentationRequest(
        SegmentationMethod.A_PRIORI,
        label="rules",
        customer_ids=("C1", "C2"),
        a_priori=APrioriOptions(
            group_by=("region",),
            rules=(
                Rule(
                    "BIG",
                    "Big spenders",
                    (
                        Condition("annualRevenue", ConditionOperator.BETWEEN, ("1e6", "5e6")),
                        Condition("industry", ConditionOperator.IS_MISSING),
                    ),
                ),
            ),
            default_segment_code="REST",
            company_size_bands=(Band("Small", 50.0), Band("Large")),
            age_bands=None,
            minimum_segment_size=5,
        ),
    ),
    SegmentationRequest(
        SegmentationMethod.NEEDS_BASED,
        needs_based=NeedsBasedOptions(4, 7, 0.5, True, 3),
    ),
    SegmentationRequest(
        SegmentationMethod.VALUE_BASED,
        value_based=ValueBasedOptions(ValueMetric.CLV, 5, date(2025, 6, 30), 24, 0.1),
    ),
    SegmentationRequest(
        SegmentationMethod.BEHAVIOURAL,
        behavioural=BehaviouralOptions(
            (BehaviourFeature.CHANNEL_MIX, BehaviourFeature.RECENCY), 4, 9, date(2025, 6, 30), 12
        ),
    ),
    SegmentationRequest(SegmentationMethod.BEHAVIOURAL, behavioural=BehaviouralOptions()),
]


@pytest.mark.parametrize("request_", REQUESTS)
def test_a_request_decodes_to_itself_after_json(request_: SegmentationRequest) -> None:
    assert decode(json.loads(json.dumps(encode(request_)))) == request_
