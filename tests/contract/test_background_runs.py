"""Contract 1.3, live: runs submitted and polled, cancelled, listed by status, and schedules.

The live server's run worker executes what SubmitSegmentation queues. Every
message goes through the XSD-validating zeep client. Cancelling a run that a
worker is executing, and workers that die, are in the tests that control workers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from lxml import etree
from zeep.exceptions import Fault
from zeep.helpers import serialize_object

from tests.contract.conftest import ADMIN, ANALYST, VIEWER, LiveServer, XsdValidator, service_for

TNS = "urn:customer-segmentation:v1"
FINISHED = ("Completed", "Failed", "Cancelled")
CONTRACT_1_1_STATUSES = {"Running", "Completed", "Failed"}
UNKNOWN_ID = 987654


def fault_detail(call: Any, fault: str, **kwargs: Any) -> dict[str, str]:
    """Call, expect the declared ``fault``; the fields of its (validated) detail."""
    with pytest.raises(Fault) as raised:
        call(**kwargs)
    (entry,) = [child for child in raised.value.detail if isinstance(child.tag, str)]
    assert entry.tag == f"{{{TNS}}}{fault}"
    assert raised.value.code.split(":")[-1] == f"Client.{fault.removesuffix('Fault')}"
    return {etree.QName(child).localname: child.text or "" for child in entry}


def finished(soap: Any, run_id: int, seconds: float = 60.0) -> Any:
    """Poll GetSegmentationRun, as a client would, until the run has finished."""
    deadline = time.monotonic() + seconds
    while True:
        run = soap.GetSegmentationRun(runId=run_id)
        if run.status in FINISHED:
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run.status} after {seconds} s"
        time.sleep(0.1)


def present(value: Any) -> Any:
    """A serialized zeep object without its absent (None) fields, to compare with a request."""
    if isinstance(value, dict):
        return {key: present(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [present(item) for item in value]
    return value


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


# ------------------------------------------------------------- SubmitSegmentation


def test_submit_answers_at_once_with_the_queued_run(soap: Any, validator: XsdValidator) -> None:
    before = datetime.now(timezone.utc)
    started = time.perf_counter()
    run = soap.SubmitSegmentation(method="ValueBased", label="contract: submit")
    elapsed = time.perf_counter() - started

    assert elapsed < 1.0
    assert (run.status, run.phase, run.progress) == ("Queued", "Queued", 0.0)
    assert run.queuedAt is not None and run.queuedAt >= before.replace(microsecond=0)
    assert run.startedAt == run.queuedAt  # a Queued run carries its submission time there
    assert run.finishedAt is None and run.startedBy == ANALYST.username
    assert validator.validated[-1] == "SubmitSegmentationResponse"
    finished(soap, run.runId)  # leave the worker idle for the next test


def test_a_submitted_run_is_polled_until_it_completes(soap: Any) -> None:
    queued = soap.SubmitSegmentation(method="APriori", label="contract: polled")

    run = finished(soap, queued.runId)

    assert (run.status, run.phase, run.progress) == ("Completed", "Done", 1.0)
    assert (run.label, run.queuedAt, run.startedBy) == (
        "contract: polled",
        queued.queuedAt,
        ANALYST.username,
    )
    assert run.startedAt >= run.queuedAt and run.finishedAt >= run.startedAt
    assert run.assignedCount > 0 and run.segments.segment


def test_segment_customers_still_answers_with_the_completed_run(soap: Any) -> None:
    run = soap.SegmentCustomers(method="ValueBased", label="contract: submit and wait")

    assert (run.status, run.phase, run.progress) == ("Completed", "Done", 1.0)
    assert run.queuedAt is not None and run.finishedAt is not None
    assert soap.GetSegmentationRun(runId=run.runId).status == "Completed"


def test_submit_checks_the_request_at_once(soap: Any) -> None:
    unknown = fault_detail(
        soap.SubmitSegmentation,
        "CustomerNotFoundFault",
        method="APriori",
        customerIds={"customerId": ["NO-SUCH-CUSTOMER"]},
    )
    other_block = fault_detail(
        soap.SubmitSegmentation,
        "InvalidRequestFault",
        method="ValueBased",
        aPriori={"groupBy": {"attribute": ["region"]}},
    )

    assert unknown == {"customerId": "NO-SUCH-CUSTOMER"}
    assert other_block["field"] == "aPriori"


def test_the_same_idempotency_key_answers_with_the_first_run_of_the_same_user(
    soap: Any, soap_as: Any
) -> None:
    key = unique("contract-key")

    first = soap.SubmitSegmentation(method="ValueBased", label="first", idempotencyKey=key)
    again = soap.SubmitSegmentation(method="ValueBased", label="again", idempotencyKey=key)
    other_user = soap_as(ADMIN).SubmitSegmentation(method="ValueBased", idempotencyKey=key)

    assert again.runId == first.runId and again.label == "first"
    assert other_user.runId != first.runId and other_user.startedBy == ADMIN.username
    for run_id in (first.runId, other_user.runId):
        assert finished(soap, run_id).status == "Completed"
    assert soap.SubmitSegmentation(method="ValueBased", idempotencyKey=key).runId == first.runId


# ---------------------------------------------------------- CancelSegmentationRun


def test_cancelling_a_completed_run_is_an_invalid_request_naming_run_id(soap: Any) -> None:
    run = soap.SegmentCustomers(method="ValueBased", label="contract: cancel too late")

    detail = fault_detail(soap.CancelSegmentationRun, "InvalidRequestFault", runId=run.runId)

    assert detail["field"] == "runId" and "Completed" in detail["reason"]
    assert soap.GetSegmentationRun(runId=run.runId).status == "Completed"


def test_cancelling_an_unknown_run_is_run_not_found(soap: Any) -> None:
    detail = fault_detail(soap.CancelSegmentationRun, "RunNotFoundFault", runId=UNKNOWN_ID)

    assert detail == {"runId": str(UNKNOWN_ID)}


@pytest.fixture(scope="module")
def cancelled_run(live_server: LiveServer, schema: etree.XMLSchema) -> Any:
    """A run cancelled while it waited behind others (or, failing that, while it ran)."""
    soap = service_for(live_server, XsdValidator(schema), ANALYST)
    submitted = [
        soap.SubmitSegmentation(method="NeedsBased", label=f"contract: queue {n}").runId
        for n in range(6)
    ]
    for run_id in reversed(submitted):  # the newest is the likeliest to be still queued
        try:
            answer = soap.CancelSegmentationRun(runId=run_id)
        except Fault:  # already finished: try an older one
            continue
        assert answer.status in ("Queued", "Running", "Cancelled")
        run = finished(soap, run_id)
        for other in submitted:
            finished(soap, other)
        return run
    pytest.fail("every one of six runs submitted back to back had finished before its cancel")


def test_a_cancelled_run_ends_cancelled_and_writes_nothing(soap: Any, cancelled_run: Any) -> None:
    run = soap.GetSegmentationRun(runId=cancelled_run.runId)

    assert run.status == "Cancelled" and run.finishedAt is not None
    assert run.assignedCount == 0 and not (run.segments and run.segments.segment)
    detail = fault_detail(soap.CancelSegmentationRun, "InvalidRequestFault", runId=run.runId)
    assert detail["field"] == "runId"


# ------------------------------------------------------------ ListSegmentationRuns


def test_runs_listed_without_statuses_are_only_the_1_1_statuses(
    soap: Any, cancelled_run: Any
) -> None:
    waiting = soap.SubmitSegmentation(method="NeedsBased", label="contract: listed while queued")

    listed = soap.ListSegmentationRuns(limit=100) or []

    assert {run.status for run in listed} <= CONTRACT_1_1_STATUSES
    assert cancelled_run.runId not in {run.runId for run in listed}
    finished(soap, waiting.runId)


def test_runs_listed_with_statuses_include_queued_and_cancelled_ones(
    soap: Any, cancelled_run: Any
) -> None:
    asked = ["Queued", "Cancelled"]

    listed = soap.ListSegmentationRuns(limit=100, statuses={"status": asked}) or []
    every = soap.ListSegmentationRuns(
        limit=100, statuses={"status": [*asked, *CONTRACT_1_1_STATUSES]}
    )

    assert listed and {run.status for run in listed} <= set(asked)
    assert cancelled_run.runId in {run.runId for run in listed}
    assert cancelled_run.runId in {run.runId for run in every}
    assert [run.runId for run in every] == sorted((run.runId for run in every), reverse=True)


# ---------------------------------------------------------------------- schedules

RICH_REQUEST = {
    "method": "APriori",
    "label": "kept; its runs take the schedule's name",
    "aPriori": {
        "rules": {
            "rule": [
                {
                    "segmentCode": "BIG",
                    "segmentName": "Big spenders",
                    "conditions": {
                        "condition": [
                            {
                                "attribute": "annualRevenue",
                                "operator": "GreaterThan",
                                "values": {"value": ["1000000"]},
                            }
                        ]
                    },
                }
            ]
        },
        "defaultSegmentCode": "OTHER",
        "companySizeBands": {
            "band": [{"name": "Small", "upperBound": 50.0}, {"name": "Large", "upperBound": None}]
        },
    },
}


@pytest.fixture
def schedules(soap: Any) -> Iterator[list[int]]:
    """Ids of schedules a test creates; deleted afterwards, so none ever comes due."""
    created: list[int] = []
    yield created
    for schedule_id in created:
        try:
            soap.DeleteSegmentationSchedule(scheduleId=schedule_id)
        except Fault:
            pass  # the test deleted it itself


def test_a_created_schedule_answers_with_its_next_due_time_and_request(
    soap: Any, schedules: list[int], validator: XsdValidator
) -> None:
    name = unique("contract nightly")

    schedule = soap.CreateSegmentationSchedule(name=name, cron="30 3 * * *", request=RICH_REQUEST)
    schedules.append(schedule.scheduleId)

    assert (schedule.name, schedule.cron, schedule.enabled) == (name, "30 3 * * *", True)
    assert schedule.lastRunId is None and schedule.createdBy == ANALYST.username
    now = datetime.now(timezone.utc)
    assert 0 < (schedule.nextRunAt - now).total_seconds() <= 24 * 3600
    assert (schedule.nextRunAt.hour, schedule.nextRunAt.minute) == (3, 30)
    assert present(serialize_object(schedule.request, dict)) == present(RICH_REQUEST)
    assert validator.validated[-1] == "CreateSegmentationScheduleResponse"


def test_schedules_are_listed_and_deleted_with_their_request(
    soap: Any, soap_as: Any, schedules: list[int]
) -> None:
    name = unique("contract weekly")
    created = soap.CreateSegmentationSchedule(
        name=name, cron="0 4 * * 1", request=RICH_REQUEST, enabled=False
    )
    schedules.append(created.scheduleId)

    listed = {s.scheduleId: s for s in soap_as(VIEWER).ListSegmentationSchedules() or []}
    deleted = soap.DeleteSegmentationSchedule(scheduleId=created.scheduleId)
    after = {s.scheduleId for s in soap.ListSegmentationSchedules() or []}

    assert listed[created.scheduleId].enabled is False
    assert serialize_object(listed[created.scheduleId], dict) == serialize_object(created, dict)
    assert serialize_object(deleted, dict) == serialize_object(created, dict)
    assert created.scheduleId not in after
    detail = fault_detail(
        soap.DeleteSegmentationSchedule, "ScheduleNotFoundFault", scheduleId=created.scheduleId
    )
    assert detail == {"scheduleId": str(created.scheduleId)}


@pytest.mark.parametrize(
    ("cron", "reason"),
    [("61 * * * *", "not a valid"), ("* * * * * *", "five fields"), ("every day", "five")],
)
def test_a_bad_cron_is_an_invalid_request_naming_cron(
    soap: Any, schedules: list[int], cron: str, reason: str
) -> None:
    detail = fault_detail(
        soap.CreateSegmentationSchedule,
        "InvalidRequestFault",
        name=unique("contract bad cron"),
        cron=cron,
        request={"method": "ValueBased"},
    )

    assert detail["field"] == "cron" and reason in detail["reason"]


def test_a_schedule_name_is_unique(soap: Any, schedules: list[int]) -> None:
    name = unique("contract twice")
    first = soap.CreateSegmentationSchedule(
        name=name, cron="0 5 * * *", request={"method": "ValueBased"}, enabled=False
    )
    schedules.append(first.scheduleId)

    detail = fault_detail(
        soap.CreateSegmentationSchedule,
        "InvalidRequestFault",
        name=name,
        cron="0 6 * * *",
        request={"method": "ValueBased"},
    )

    assert detail["field"] == "name"


def test_a_schedule_request_is_checked_like_a_submission(soap: Any) -> None:
    detail = fault_detail(
        soap.CreateSegmentationSchedule,
        "InvalidRequestFault",
        name=unique("contract wrong block"),
        cron="0 5 * * *",
        request={"method": "ValueBased", "aPriori": {"groupBy": {"attribute": ["region"]}}},
    )

    assert detail["field"].endswith("aPriori")


def test_deleting_an_unknown_schedule_is_schedule_not_found(soap: Any) -> None:
    detail = fault_detail(
        soap.DeleteSegmentationSchedule, "ScheduleNotFoundFault", scheduleId=UNKNOWN_ID
    )

    assert detail == {"scheduleId": str(UNKNOWN_ID)}


# -------------------------------------------------------------------------- roles


@pytest.mark.parametrize(
    ("operation", "arguments"),
    [
        ("SubmitSegmentation", {"method": "ValueBased"}),
        ("CancelSegmentationRun", {"runId": UNKNOWN_ID}),
        (
            "CreateSegmentationSchedule",
            {"name": "viewer's", "cron": "0 5 * * *", "request": {"method": "ValueBased"}},
        ),
        ("DeleteSegmentationSchedule", {"scheduleId": UNKNOWN_ID}),
    ],
)
def test_a_viewer_may_not_submit_cancel_or_schedule(
    soap_as: Any, operation: str, arguments: dict[str, Any]
) -> None:
    viewer = soap_as(VIEWER)

    detail = fault_detail(getattr(viewer, operation), "AccessDeniedFault", **arguments)

    assert detail == {"operation": operation, "role": "viewer"}


def test_a_viewer_may_read_runs_and_schedules(soap: Any, soap_as: Any) -> None:
    queued = soap.SubmitSegmentation(method="ValueBased", label="contract: read by a viewer")
    viewer = soap_as(VIEWER)

    assert viewer.GetSegmentationRun(runId=queued.runId).runId == queued.runId
    assert isinstance(viewer.ListSegmentationSchedules() or [], list)
    finished(viewer, queued.runId)
