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
        a_priori=None if a_priori is None else _a_priori(a_priori),
        needs_based=None
        if needs_based is None
        else model.NeedsBasedOptions(
            segment_count=needs_based.segmentCount,
            random_seed=needs_based.randomSeed,
            min_answered_share=needs_based.minAnsweredShare,
            centre_respondents=needs_based.centreRespondents,
            pca_components=needs_based.pcaComponents,
        ),
        value_based=None
        if value_based is None
        else model.ValueBasedOptions(
            value_metric=None
            if value_based.valueMetric is None
            else model.ValueMetric(value_based.valueMetric),
            tier_count=value_based.tierCount,
            as_of_date=value_based.asOfDate,
            horizon_months=value_based.horizonMonths,
            annual_discount_rate=value_based.annualDiscountRate,
        ),
    )


def _a_priori(options: t.APrioriParameters) -> model.APrioriOptions:
    rules = tuple(
        model.Rule(
            segment_code=rule.segmentCode,
            segment_name=rule.segmentName,
            conditions=tuple(
                model.Condition(
                    attribute=condition.attribute,
                    operator=model.ConditionOperator(condition.operator),
                    values=tuple(_items(condition.values, "value")),
                )
                for condition in _items(rule.conditions, "condition")
            ),
        )
        for rule in _items(options.rules, "rule")
    )
    return model.APrioriOptions(
        group_by=tuple(_items(options.groupBy, "attribute")),
        rules=rules,
        default_segment_code=options.defaultSegmentCode,
        company_size_bands=_bands(options.companySizeBands),
        age_bands=_bands(options.ageBands),
        minimum_segment_size=options.minimumSegmentSize,
    )


def _bands(bands: t.BandList | None) -> tuple[model.Band, ...] | None:
    if bands is None:
        return None
    return tuple(model.Band(band.name, band.upperBound) for band in _items(bands, "band"))


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
        segments=t.SegmentList(segment=[segment(s) for s in run_.segments]),
        failureReason=run_.failure_reason,
        startedBy=run_.started_by,
        lossMakingSegments=t.SegmentCodeList(segmentCode=list(run_.loss_making_segments)),
    )


def runs(found: list[model.SegmentationRun]) -> t.SegmentationRunList:
    return t.SegmentationRunList(run=[run(r) for r in found])


def segment(segment: model.Segment) -> t.Segment:
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
        revenue=segment.revenue,
        cost=segment.cost,
        profit=segment.profit,
        profitable=segment.profitable,
        owner=segment.owner,
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
                    probabilityAlive=s.probability_alive,
                    expectedPurchases=s.expected_purchases,
                    acquisitionCost=s.acquisition_cost,
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


def comparison(found: model.RunComparison) -> tuple[Any, ...]:
    transitions = [
        t.Transition(
            fromSegmentCode=x.from_segment_code,
            toSegmentCode=x.to_segment_code,
            customerCount=x.customer_count,
            valueBefore=x.value_before,
            valueAfter=x.value_after,
        )
        for x in found.transitions
    ]
    return (
        found.from_run_id,
        found.to_run_id,
        t.TransitionList(transition=transitions),
        found.stayed_share,
        found.adjusted_rand_index,
        found.entered_count,
        found.left_count,
    )
