"""The SOAP mapping of requests both ways: a schedule answers with the request it keeps."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from segmentation_service.domain import model
from segmentation_service.soap import mapping
from segmentation_service.soap import types as t

REQUESTS = [
    model.SegmentationRequest(model.SegmentationMethod.VALUE_BASED),
    model.SegmentationRequest(
        model.SegmentationMethod.A_PRIORI,
        label="nightly",
        customer_ids=("C1", "C2"),
        a_priori=model.APrioriOptions(
            group_by=("region",),
            rules=(
                model.Rule(
                    "BIG",
                    "Big spenders",
                    (
                        model.Condition(
                            "annualRevenue", model.ConditionOperator.GREATER_THAN, ("1000000",)
                        ),
                        model.Condition("region", model.ConditionOperator.IS_MISSING),
                    ),
                ),
            ),
            default_segment_code="OTHER",
            company_size_bands=(model.Band("Small", 50.0), model.Band("Large")),
            age_bands=(model.Band("Young", 30.0), model.Band("Older")),
            minimum_segment_size=5,
        ),
    ),
    model.SegmentationRequest(
        model.SegmentationMethod.NEEDS_BASED,
        needs_based=model.NeedsBasedOptions(4, 7, 0.5, True, 3),
    ),
    model.SegmentationRequest(
        model.SegmentationMethod.VALUE_BASED,
        value_based=model.ValueBasedOptions(model.ValueMetric.CLV, 5, date(2026, 1, 31), 24, 0.08),
    ),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: r.method.value)
def test_a_request_maps_to_a_segment_customers_body_and_back_unchanged(
    request_: model.SegmentationRequest,
) -> None:
    body = mapping.segment_customers(request_)

    assert isinstance(body, t.SegmentCustomers)
    assert mapping.request_of(body) == request_


def test_a_schedule_carries_its_request_as_a_segment_customers_body() -> None:
    found = model.Schedule(
        schedule_id=3,
        name="nightly",
        cron="0 3 * * *",
        next_run_at=datetime(2026, 1, 2, 3, 0, tzinfo=timezone.utc),
        last_run_id=None,
        enabled=False,
        request=REQUESTS[1],
        created_by="ana",
    )

    schedule = mapping.schedule(found)

    assert (schedule.scheduleId, schedule.name, schedule.cron) == (3, "nightly", "0 3 * * *")
    assert (schedule.enabled, schedule.lastRunId, schedule.createdBy) == (False, None, "ana")
    assert mapping.request_of(schedule.request) == found.request


def test_run_statuses_map_to_the_domain_and_absent_means_none() -> None:
    asked = t.RunStatusList(status=["Queued", "Cancelled"])

    assert mapping.statuses(asked) == (model.RunStatus.QUEUED, model.RunStatus.CANCELLED)
    assert mapping.statuses(None) is None
