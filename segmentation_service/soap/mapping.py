"""Conversions between spyne objects and the service layer's primitives and domain objects."""

from __future__ import annotations

from typing import Any

from segmentation_service.domain import model
from segmentation_service.soap import types as t


def _items(container: Any, field: str) -> list[Any]:
    """The children of a list container element; an absent container is an empty list."""
    if container is None:
        return []
    return list(getattr(container, field, None) or [])


def segmentation_request(
    method: str,
    label: str | None,
    customer_ids: t.CustomerIdList | None,
    a_priori: t.APrioriParameters | None,
    needs_based: t.NeedsBasedParameters | None,
    value_based: t.ValueBasedParameters | None,
) -> model.SegmentationRequest:
    return model.SegmentationRequest(
        method=model.SegmentationMethod(method),
        label=label,
        customer_ids=None if customer_ids is None else tuple(_items(customer_ids, "customerId")),
        a_priori=None
        if a_priori is None
        else model.APrioriOptions(tuple(_items(a_priori.groupBy, "attribute"))),
        needs_based=None
        if needs_based is None
        else model.NeedsBasedOptions(needs_based.segmentCount, needs_based.randomSeed),
        value_based=None
        if value_based is None
        else model.ValueBasedOptions(
            None if value_based.valueMetric is None else model.ValueMetric(value_based.valueMetric),
            value_based.tierCount,
        ),
    )


def method_or_none(method: str | None) -> model.SegmentationMethod | None:
    return None if method is None else model.SegmentationMethod(method)


def customer_ids(batch: t.CustomerIdBatch | None) -> list[str]:
    return _items(batch, "customerId")


def run(run_: model.SegmentationRun) -> t.SegmentationRun:
    return t.SegmentationRun(
        runId=run_.run_id,
        method=run_.method.value,
        label=run_.label,
        status=run_.status.value,
        startedAt=run_.started_at,
        finishedAt=run_.finished_at,
        customerCount=run_.customer_count,
        assignedCount=run_.assigned_count,
        unassignedCount=run_.unassigned_count,
        metrics=t.MetricList(metric=[t.Metric(name=m.name, value=m.value) for m in run_.metrics]),
        segments=t.SegmentList(segment=[_segment(s) for s in run_.segments]),
    )


def _segment(segment: model.Segment) -> t.Segment:
    return t.Segment(
        code=segment.code,
        name=segment.name,
        description=segment.description,
        size=segment.size,
        share=segment.share,
        totalValue=segment.total_value,
        averageValue=segment.average_value,
        profile=t.ProfileEntryList(
            entry=[t.ProfileEntry(attribute=a, value=v) for a, v in segment.profile]
        ),
    )


def assignments(found: list[model.CustomerSegment]) -> t.CustomerSegmentList:
    return t.CustomerSegmentList(
        assignment=[
            t.CustomerSegment(
                customerId=a.customer_id,
                runId=a.run_id,
                method=a.method.value,
                segmentCode=a.segment_code,
                segmentName=a.segment_name,
                assignedAt=a.assigned_at,
                score=a.score,
                reason=a.reason,
            )
            for a in found
        ]
    )


def value_scores(scores: model.ValueScores) -> tuple[Any, Any]:
    return (
        t.CustomerValueScoreList(
            score=[
                t.CustomerValueScore(
                    customerId=s.customer_id,
                    transactionCount=s.transaction_count,
                    firstPurchaseDate=s.first_purchase_date,
                    lastPurchaseDate=s.last_purchase_date,
                    recencyDays=s.recency_days,
                    totalRevenue=s.total_revenue,
                    totalMargin=s.total_margin,
                    averageOrderValue=s.average_order_value,
                    monthlyRevenue=s.monthly_revenue,
                    rfmScore=s.rfm_score,
                    rfmSegment=s.rfm_segment,
                    predictedClv=s.predicted_clv,
                    valueTier=s.value_tier,
                )
                for s in scores.scores
            ]
        ),
        t.UnknownCustomerIdList(customerId=list(scores.unknown_customer_ids)),
    )


def member_page(page: model.MemberPage) -> tuple[Any, ...]:
    members = [
        t.SegmentMember(customerId=m.customer_id, name=m.name, value=m.value, score=m.score)
        for m in page.members
    ]
    return (
        page.run_id,
        page.segment_code,
        page.total_count,
        t.SegmentMemberList(member=members),
        page.next_page_token,
    )
