"""GetSegmentationRun, ListSegmentationRuns, CompareSegmentationRuns and SetSegmentOwner, live."""

from __future__ import annotations

from typing import Any

import pytest
import zeep

TNS_URI = "urn:customer-segmentation:v1"


def codes(run: Any) -> list[str]:
    return [segment.code for segment in run.segments.segment]


def test_a_run_reads_back_with_segments_profit_and_who_started_it(soap: Any) -> None:
    started = soap.SegmentCustomers(method="APriori", label="contract: read back")
    run = soap.GetSegmentationRun(runId=started.runId)
    assert (run.runId, run.status, run.label) == (started.runId, "Completed", started.label)
    assert codes(run) == codes(started)
    for segment in run.segments.segment:
        assert segment.profit == pytest.approx(segment.revenue - segment.cost)
        assert segment.profitable == (segment.profit >= 0)
    losing = run.lossMakingSegments.segmentCode if run.lossMakingSegments else None
    assert sorted(losing or []) == sorted(s.code for s in run.segments.segment if not s.profitable)


def test_runs_are_listed_newest_first_and_paged_with_before(soap: Any) -> None:
    first = soap.SegmentCustomers(method="ValueBased", label="contract: list 1")
    second = soap.SegmentCustomers(method="ValueBased", label="contract: list 2")
    newest = soap.ListSegmentationRuns(method="ValueBased", limit=2)
    assert [r.runId for r in newest] == [second.runId, first.runId]
    older = soap.ListSegmentationRuns(method="ValueBased", limit=1, before=first.runId)
    assert all(r.runId < first.runId and r.method == "ValueBased" for r in older or [])


def test_comparing_a_run_with_itself_keeps_everyone_in_place(soap: Any) -> None:
    run = soap.SegmentCustomers(method="ValueBased", label="contract: compare")
    same = soap.CompareSegmentationRuns(fromRunId=run.runId, toRunId=run.runId)
    assert same.stayedShare == 1.0 and same.adjustedRandIndex == pytest.approx(1.0)
    assert (same.enteredCount, same.leftCount) == (0, 0)
    transitions = same.transitions.transition
    assert all(t.fromSegmentCode == t.toSegmentCode for t in transitions)
    assert sum(t.customerCount for t in transitions) == run.assignedCount
    assert all(t.valueBefore == pytest.approx(t.valueAfter) for t in transitions)


def test_comparing_a_priori_with_value_tiers_reports_movement(soap: Any) -> None:
    by_type = soap.SegmentCustomers(
        method="APriori", aPriori={"groupBy": {"attribute": ["customerType"]}}
    )
    tiers = soap.SegmentCustomers(method="ValueBased")
    found = soap.CompareSegmentationRuns(fromRunId=by_type.runId, toRunId=tiers.runId)
    assert found.leftCount == by_type.assignedCount - sum(
        t.customerCount for t in found.transitions.transition
    )
    assert found.enteredCount == 0  # every buyer also has a customer type
    assert -1.0 <= found.adjustedRandIndex <= 1.0


def test_segment_owner_appears_in_the_run(soap: Any) -> None:
    run = soap.SegmentCustomers(method="ValueBased", label="contract: owner")
    segment = soap.SetSegmentOwner(runId=run.runId, segmentCode="V1", owner="Key accounts team")
    assert (segment.code, segment.owner) == ("V1", "Key accounts team")
    again = soap.GetSegmentationRun(runId=run.runId)
    assert {s.code: s.owner for s in again.segments.segment}["V1"] == "Key accounts team"


@pytest.mark.parametrize(
    ("operation", "arguments", "fault", "field"),
    [
        ("GetSegmentationRun", {"runId": 987654}, "RunNotFoundFault", "runId"),
        (
            "CompareSegmentationRuns",
            {"fromRunId": 987654, "toRunId": 1},
            "RunNotFoundFault",
            "runId",
        ),
        (
            "SetSegmentOwner",
            {"runId": 987654, "segmentCode": "V1", "owner": "x"},
            "RunNotFoundFault",
            "runId",
        ),
    ],
)
def test_unknown_runs_get_a_run_not_found_fault(
    soap: Any, operation: str, arguments: dict[str, Any], fault: str, field: str
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as raised:
        getattr(soap, operation)(**arguments)
    (detail,) = list(raised.value.detail)
    assert detail.tag == f"{{{TNS_URI}}}{fault}"
    assert detail.findtext(f"{{{TNS_URI}}}{field}") == "987654"


def test_owner_of_an_unknown_segment_gets_a_segment_not_found_fault(soap: Any) -> None:
    run = soap.SegmentCustomers(method="ValueBased")
    with pytest.raises(zeep.exceptions.Fault) as raised:
        soap.SetSegmentOwner(runId=run.runId, segmentCode="NOPE", owner="x")
    (detail,) = list(raised.value.detail)
    assert detail.tag == f"{{{TNS_URI}}}SegmentNotFoundFault"
    assert detail.findtext(f"{{{TNS_URI}}}segmentCode") == "NOPE"
