"""Conversions between spyne objects and the service layer's primitives and domain objects."""

from __future__ import annotations

from typing import Any

from segmentation_service.domain import model
from segmentation_service.domain.insights import SegmentInsights
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
    behavioural: t.BehaviouralParameters | None = None,
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
        behavioural=None if behavioural is None else _behavioural(behavioural),
    )


def _behavioural(options: t.BehaviouralParameters) -> model.BehaviouralOptions:
    features = None
    if options.features is not None:
        features = tuple(model.BehaviourFeature(f) for f in _items(options.features, "feature"))
    return model.BehaviouralOptions(
        features=features,
        segment_count=options.segmentCount,
        random_seed=options.randomSeed,
        as_of_date=options.asOfDate,
        lookback_months=options.lookbackMonths,
    )


def request_of(body: t.SegmentCustomers | t.SubmitSegmentation) -> model.SegmentationRequest:
    """A SegmentCustomers (or SubmitSegmentation) body as a domain request."""
    return segmentation_request(
        body.method,
        body.label,
        body.customerIds,
        body.aPriori,
        body.needsBased,
        body.valueBased,
        body.behavioural,
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


def statuses(found: t.RunStatusList | None) -> tuple[model.RunStatus, ...] | None:
    if found is None:
        return None
    return tuple(model.RunStatus(status) for status in _items(found, "status"))


def strategy(name: str) -> model.Strategy:
    return model.Strategy(name)


def method(name: str) -> model.SegmentationMethod:
    return model.SegmentationMethod(name)


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
        progress=run_.progress,
        phase=run_.phase,
        queuedAt=run_.queued_at,
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
        treatment=treatment(segment.treatment),
    )


def treatment(found: model.Treatment | None) -> t.Treatment | None:
    if found is None:
        return None
    return t.Treatment(
        strategy=found.strategy.value,
        channel=found.channel,
        message=found.message,
        reason=found.reason,
        overridden=found.overridden,
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
                    churnRisk=s.churn_risk,
                    expectedPurchasesLow=s.expected_purchases_low,
                    expectedPurchasesHigh=s.expected_purchases_high,
                    predictedClvLow=s.predicted_clv_low,
                    predictedClvHigh=s.predicted_clv_high,
                    expectedDaysToNextPurchase=s.expected_days_to_next_purchase,
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


def mover_filter(
    from_run_id: int, to_run_id: int, from_code: str | None, to_code: str | None
) -> model.MoverFilter:
    return model.MoverFilter(from_run_id, to_run_id, from_code, to_code)


def direction_or_none(direction: str | None) -> model.MoveDirection | None:
    return None if direction is None else model.MoveDirection(direction)


def mover_page(page: model.MoverPage) -> tuple[Any, ...]:
    movers = [
        t.Mover(
            customerId=m.customer_id,
            name=m.name,
            fromSegmentCode=m.from_segment_code,
            toSegmentCode=m.to_segment_code,
            valueBefore=m.value_before,
            valueAfter=m.value_after,
        )
        for m in page.movers
    ]
    return page.total_count, t.MoverList(mover=movers), page.next_page_token


def insights(found: SegmentInsights) -> tuple[Any, ...]:
    differentiators = [
        t.Differentiator(
            feature=d.feature,
            segmentValue=d.segment_value,
            baselineValue=d.baseline_value,
            lift=d.lift,
            pValue=d.p_value,
        )
        for d in found.differentiators
    ]
    overlaps = [
        t.Overlap(
            method=o.method,
            runId=o.run_id,
            segmentCode=o.segment_code,
            segmentName=o.segment_name,
            sharedCustomers=o.shared_customers,
            shareOfThisSegment=o.share_of_this_segment,
            jaccard=o.jaccard,
        )
        for o in found.overlaps
    ]
    return (
        t.DifferentiatorList(differentiator=differentiators),
        t.OverlapList(overlap=overlaps),
    )


# ------------------------------------------------------------- schedules (1.3)
def schedule(found: model.Schedule) -> t.SegmentationSchedule:
    return t.SegmentationSchedule(
        scheduleId=found.schedule_id,
        name=found.name,
        cron=found.cron,
        nextRunAt=found.next_run_at,
        lastRunId=found.last_run_id,
        enabled=found.enabled,
        request=segment_customers(found.request),
        createdBy=found.created_by,
    )


def schedules(found: list[model.Schedule]) -> t.SegmentationScheduleList:
    return t.SegmentationScheduleList(schedule=[schedule(s) for s in found])


def segment_customers(request: model.SegmentationRequest) -> t.SegmentCustomers:
    """The reverse of ``request_of``: a domain request as a SegmentCustomers body."""
    ids = request.customer_ids
    a_priori, needs, value = request.a_priori, request.needs_based, request.value_based
    return t.SegmentCustomers(
        method=request.method.value,
        label=request.label,
        customerIds=None if ids is None else t.CustomerIdList(customerId=list(ids)),
        aPriori=None if a_priori is None else _a_priori_parameters(a_priori),
        needsBased=None
        if needs is None
        else t.NeedsBasedParameters(
            segmentCount=needs.segment_count,
            randomSeed=needs.random_seed,
            minAnsweredShare=needs.min_answered_share,
            centreRespondents=needs.centre_respondents,
            pcaComponents=needs.pca_components,
        ),
        valueBased=None
        if value is None
        else t.ValueBasedParameters(
            valueMetric=None if value.value_metric is None else value.value_metric.value,
            tierCount=value.tier_count,
            asOfDate=value.as_of_date,
            horizonMonths=value.horizon_months,
            annualDiscountRate=value.annual_discount_rate,
        ),
        behavioural=None if request.behavioural is None else _behavioural_parameters(request),
    )


def _behavioural_parameters(request: model.SegmentationRequest) -> t.BehaviouralParameters:
    options = request.behavioural
    assert options is not None
    features = options.features
    return t.BehaviouralParameters(
        features=None
        if features is None
        else t.BehaviourFeatureList(feature=[f.value for f in features]),
        segmentCount=options.segment_count,
        randomSeed=options.random_seed,
        asOfDate=options.as_of_date,
        lookbackMonths=options.lookback_months,
    )


def _a_priori_parameters(options: model.APrioriOptions) -> t.APrioriParameters:
    rules = [
        t.Rule(
            segmentCode=rule.segment_code,
            segmentName=rule.segment_name,
            conditions=t.ConditionList(
                condition=[
                    t.Condition(
                        attribute=c.attribute,
                        operator=c.operator.value,
                        values=t.ConditionValueList(value=list(c.values)) if c.values else None,
                    )
                    for c in rule.conditions
                ]
            ),
        )
        for rule in options.rules
    ]
    return t.APrioriParameters(
        groupBy=t.CustomerAttributeList(attribute=list(options.group_by))
        if options.group_by
        else None,
        rules=t.RuleList(rule=rules) if rules else None,
        defaultSegmentCode=options.default_segment_code,
        companySizeBands=_band_list(options.company_size_bands),
        ageBands=_band_list(options.age_bands),
        minimumSegmentSize=options.minimum_segment_size,
    )


def _band_list(bands: tuple[model.Band, ...] | None) -> t.BandList | None:
    if bands is None:
        return None
    return t.BandList(band=[t.Band(name=b.name, upperBound=b.upper_bound) for b in bands])


def portfolio(
    found: model.Portfolio, evaluation: model.PortfolioEvaluation | None = None
) -> t.Portfolio:
    return t.Portfolio(
        portfolioId=found.portfolio_id,
        name=found.name,
        rows=found.rows.value,
        columns=found.columns.value,
        owner=found.owner,
        objective=found.objective,
        createdBy=found.created_by,
        createdAt=found.created_at,
        evaluation=None if evaluation is None else portfolio_evaluation(evaluation),
    )


def portfolio_evaluation(evaluation: model.PortfolioEvaluation) -> t.PortfolioEvaluation:
    def cells(found: tuple[model.PortfolioCell, ...]) -> t.PortfolioCellList:
        return t.PortfolioCellList(cell=[portfolio_cell(c) for c in found])

    return t.PortfolioEvaluation(
        evaluationId=evaluation.evaluation_id,
        evaluatedAt=evaluation.evaluated_at,
        rowsRunId=evaluation.rows_run_id,
        columnsRunId=evaluation.columns_run_id,
        valueRunId=evaluation.value_run_id,
        customerEquity=evaluation.equity,
        cells=cells(evaluation.cells),
        rowTotals=cells(evaluation.row_totals),
        columnTotals=cells(evaluation.column_totals),
        outside=portfolio_cell(evaluation.outside),
    )


def portfolio_cell(cell: model.PortfolioCell) -> t.PortfolioCell:
    return t.PortfolioCell(
        rowSegmentCode=cell.row_segment_code,
        rowSegmentName=cell.row_segment,
        columnSegmentCode=cell.column_segment_code,
        columnSegmentName=cell.column_segment,
        customers=cell.customers,
        revenue=cell.revenue,
        cost=cell.cost,
        profit=cell.profit,
        acquisitionCost=cell.acquisition_cost,
        predictedClvTotal=cell.clv_total,
        predictedClvAverage=cell.clv_average,
        probabilityAliveAverage=cell.probability_alive_average,
        customerEquity=cell.equity,
        equityShare=cell.equity_share,
        equityChange=cell.equity_change,
        owner=cell.owner,
        treatment=treatment(cell.treatment),
    )


def portfolio_history(
    found: model.Portfolio, evaluations: list[model.PortfolioEvaluation]
) -> tuple[t.Portfolio, t.PortfolioEvaluationList]:
    listed = [portfolio_evaluation(evaluation) for evaluation in evaluations]
    return portfolio(found), t.PortfolioEvaluationList(evaluation=listed)
