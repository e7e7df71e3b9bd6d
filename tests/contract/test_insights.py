"""GetSegmentInsights against the live server on the demo store (issue 14, part 2).

The planted cases are tested on the use case (tests/integration/test_insights.py); here
the answer travels: XSD-valid both ways, every number finite, the declared faults.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import zeep

TNS = "urn:customer-segmentation:v1"


def test_a_needs_segment_shows_its_needs_and_overlaps_the_other_methods(soap: Any) -> None:
    a_priori = soap.SegmentCustomers(
        method="APriori", aPriori={"groupBy": {"attribute": ["customerType"]}}
    )
    value = soap.SegmentCustomers(method="ValueBased", valueBased={"valueMetric": "Revenue"})
    needs = soap.SegmentCustomers(
        method="NeedsBased", needsBased={"segmentCount": 3, "randomSeed": 1}
    )
    largest = max(needs.segments.segment, key=lambda segment: segment.size)

    found = soap.GetSegmentInsights(runId=needs.runId, segmentCode=largest.code)

    differentiators = found.differentiators.differentiator if found.differentiators else []
    assert any(d.feature.startswith("need:") for d in differentiators)
    numbers = [
        value
        for d in differentiators
        for value in (d.segmentValue, d.baselineValue, d.lift, d.pValue)
    ]
    assert all(math.isfinite(number) for number in numbers)
    assert all(d.pValue < 0.05 for d in differentiators) and len(differentiators) <= 20
    overlaps = found.overlaps.overlap if found.overlaps else []
    assert {(o.method, o.runId) for o in overlaps} >= {
        ("APriori", a_priori.runId),
        ("ValueBased", value.runId),
    }
    for method in ("APriori", "ValueBased"):
        # Each customer of the segment is in at most one segment of another run.
        shared = sum(o.sharedCustomers for o in overlaps if o.method == method)
        assert shared <= largest.size
    assert all(0.0 <= o.jaccard <= o.shareOfThisSegment <= 1.0 for o in overlaps)
    assert [o.sharedCustomers for o in overlaps] == sorted(
        (o.sharedCustomers for o in overlaps), reverse=True
    )


def test_the_segment_as_its_own_baseline_is_an_invalid_request(soap: Any) -> None:
    run = soap.SegmentCustomers(method="ValueBased", valueBased={"tierCount": 2})
    with pytest.raises(zeep.exceptions.Fault) as raised:
        soap.GetSegmentInsights(runId=run.runId, segmentCode="V1", baseline="V1")
    (detail,) = list(raised.value.detail)
    assert detail.tag == f"{{{TNS}}}InvalidRequestFault"
    assert detail.findtext(f"{{{TNS}}}field") == "baseline"
    with pytest.raises(zeep.exceptions.Fault) as raised:
        soap.GetSegmentInsights(runId=run.runId, segmentCode="V7")
    (detail,) = list(raised.value.detail)
    assert detail.tag == f"{{{TNS}}}SegmentNotFoundFault"
