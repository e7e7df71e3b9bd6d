"""The operations: each maps its arguments, calls one use case, maps the result.

SegmentCustomers and SubmitSegmentation are declared bare (one argument, the whole
request; the result, the whole response): the contract reuses SegmentCustomers' request
type as a schedule's ``request`` (1.3), and spyne would otherwise generate a second
type of that name for the wrapper. SubmitSegmentation follows, its request being the
same fields and ``idempotencyKey``.
"""

from __future__ import annotations

from typing import Any

from spyne import Boolean, Date, Double, Integer32, ServiceBase, rpc

from segmentation_service import services
from segmentation_service.services.queue import RunQueue
from segmentation_service.soap import lookups, mapping
from segmentation_service.soap import types as t
from segmentation_service.soap.faults import OPERATION_FAULTS
from segmentation_service.store.uow import UnitOfWork


def _uow(ctx: Any) -> UnitOfWork:
    uow: UnitOfWork = ctx.app.unit_of_work()
    return uow


def _queue(ctx: Any) -> RunQueue:
    queue: RunQueue = ctx.app.run_queue
    return queue


def _caller(ctx: Any) -> str | None:
    """The authenticated caller's username (None when authentication is off)."""
    return getattr(ctx.udc, "username", None)


class SegmentationService(ServiceBase):
    @rpc(
        t.SegmentCustomers,
        _body_style="bare",
        _returns=t.SegmentCustomersResponse,
        _throws=OPERATION_FAULTS["SegmentCustomers"],
    )
    def SegmentCustomers(ctx, request):  # type: ignore[no-untyped-def]
        queued = services.submit_segmentation(
            mapping.request_of(request), _uow(ctx), _queue(ctx), started_by=_caller(ctx)
        )
        run = services.wait_for_run(queued.run_id, _uow(ctx))
        return t.SegmentCustomersResponse(run=mapping.run(run))

    @rpc(
        t.SubmitSegmentation,
        _body_style="bare",
        _returns=t.SubmitSegmentationResponse,
        _throws=OPERATION_FAULTS["SubmitSegmentation"],
    )
    def SubmitSegmentation(ctx, submission):  # type: ignore[no-untyped-def]
        request, key = mapping.request_of(submission), submission.idempotencyKey
        queued = services.submit_segmentation(
            request, _uow(ctx), _queue(ctx), started_by=_caller(ctx), idempotency_key=key
        )
        return t.SubmitSegmentationResponse(run=mapping.run(queued))

    @rpc(
        t.required(t.RunId),
        _returns=t.required(t.SegmentationRun),
        _out_variable_name="run",
        _throws=OPERATION_FAULTS["CancelSegmentationRun"],
    )
    def CancelSegmentationRun(ctx, runId):  # type: ignore[no-untyped-def]
        return mapping.run(services.cancel_segmentation_run(runId, _uow(ctx)))

    @rpc(
        t.required(t.CustomerId),
        t.optional(t.SegmentationMethod),
        t.optional(t.RunId),
        _returns=t.required(t.CustomerSegmentList),
        _out_variable_name="assignments",
        _throws=OPERATION_FAULTS["GetCustomerSegment"],
    )
    def GetCustomerSegment(ctx, customerId, method, runId):  # type: ignore[no-untyped-def]
        return mapping.assignments(lookups.customer_segment(ctx.app, customerId, method, runId))

    @rpc(
        t.required(t.CustomerIdBatch),
        t.optional(t.HorizonMonths),
        t.optional(t.DiscountRate),
        t.optional(Date),
        _returns=(t.required(t.CustomerValueScoreList), t.required(t.UnknownCustomerIdList)),
        _out_variable_names=("scores", "unknownCustomerIds"),
        _throws=OPERATION_FAULTS["ScoreCustomerValue"],
    )
    def ScoreCustomerValue(ctx, customerIds, horizonMonths, annualDiscountRate, asOfDate):  # type: ignore[no-untyped-def]
        scores = lookups.value_scores(
            ctx.app, customerIds, horizonMonths, annualDiscountRate, asOfDate
        )
        return mapping.value_scores(scores)

    @rpc(
        t.required(t.SegmentCode),
        t.optional(t.RunId),
        t.optional(t.SegmentationMethod),
        t.optional(t.PageSize),
        t.optional(t.PageToken),
        _returns=(
            t.optional(t.RunId),  # always sent; optional since 1.2 (see the XSD)
            t.required(t.SegmentCode),
            t.required(Integer32),
            t.required(t.SegmentMemberList),
            t.optional(t.PageToken),
        ),
        _out_variable_names=("runId", "segmentCode", "totalCount", "members", "nextPageToken"),
        _throws=OPERATION_FAULTS["ListSegmentMembers"],
    )
    def ListSegmentMembers(ctx, segmentCode, runId, method, pageSize, pageToken):  # type: ignore[no-untyped-def]
        page = lookups.segment_members(ctx.app, segmentCode, runId, method, pageSize, pageToken)
        return mapping.member_page(page)

    @rpc(
        t.required(t.RunId),
        t.required(t.SegmentCode),
        t.required(t.ShortText),
        _returns=t.required(t.Segment),
        _out_variable_name="segment",
        _throws=OPERATION_FAULTS["SetSegmentOwner"],
    )
    def SetSegmentOwner(ctx, runId, segmentCode, owner):  # type: ignore[no-untyped-def]
        return mapping.segment(services.set_segment_owner(runId, segmentCode, owner, _uow(ctx)))

    @rpc(
        t.required(t.RunId),
        _returns=t.required(t.SegmentationRun),
        _out_variable_name="run",
        _throws=OPERATION_FAULTS["GetSegmentationRun"],
    )
    def GetSegmentationRun(ctx, runId):  # type: ignore[no-untyped-def]
        return mapping.run(services.get_segmentation_run(runId, _uow(ctx)))

    @rpc(
        t.optional(t.SegmentationMethod),
        t.optional(t.RunListLimit),
        t.optional(t.RunId),
        t.optional(t.RunStatusList),
        _returns=t.required(t.SegmentationRunList),
        _out_variable_name="runs",
        _throws=OPERATION_FAULTS["ListSegmentationRuns"],
    )
    def ListSegmentationRuns(ctx, method, limit, before, statuses):  # type: ignore[no-untyped-def]
        found = services.list_segmentation_runs(
            mapping.method_or_none(method), limit, before, _uow(ctx), mapping.statuses(statuses)
        )
        return mapping.runs(found)

    @rpc(
        t.required(t.RunId),
        t.required(t.RunId),
        _returns=(
            t.required(t.RunId),
            t.required(t.RunId),
            t.required(t.TransitionList),
            t.required(Double),
            t.required(Double),
            t.required(Integer32),
            t.required(Integer32),
        ),
        _out_variable_names=(
            "fromRunId",
            "toRunId",
            "transitions",
            "stayedShare",
            "adjustedRandIndex",
            "enteredCount",
            "leftCount",
        ),
        _throws=OPERATION_FAULTS["CompareSegmentationRuns"],
    )
    def CompareSegmentationRuns(ctx, fromRunId, toRunId):  # type: ignore[no-untyped-def]
        return mapping.comparison(services.compare_segmentation_runs(fromRunId, toRunId, _uow(ctx)))

    @rpc(
        t.required(t.RunId),
        t.required(t.RunId),
        t.optional(t.SegmentCode),
        t.optional(t.SegmentCode),
        t.optional(t.MoveDirection),
        t.optional(t.PageSize),
        t.optional(t.PageToken),
        _returns=(
            t.required(Integer32),
            t.required(t.MoverList),
            t.optional(t.PageToken),
        ),
        _out_variable_names=("totalCount", "movers", "nextPageToken"),
        _throws=OPERATION_FAULTS["ListSegmentMovers"],
    )
    def ListSegmentMovers(  # type: ignore[no-untyped-def]
        ctx, fromRunId, toRunId, fromSegmentCode, toSegmentCode, direction, pageSize, pageToken
    ):
        page = services.list_segment_movers(
            mapping.mover_filter(fromRunId, toRunId, fromSegmentCode, toSegmentCode),
            mapping.direction_or_none(direction),
            pageSize,
            pageToken,
            _uow(ctx),
        )
        return mapping.mover_page(page)

    @rpc(
        t.required(t.RunId),
        t.required(t.SegmentCode),
        t.optional(t.SegmentCode),
        _returns=(t.required(t.DifferentiatorList), t.required(t.OverlapList)),
        _out_variable_names=("differentiators", "overlaps"),
        _throws=OPERATION_FAULTS["GetSegmentInsights"],
    )
    def GetSegmentInsights(ctx, runId, segmentCode, baseline):  # type: ignore[no-untyped-def]
        found = services.get_segment_insights(runId, segmentCode, baseline, _uow(ctx))
        return mapping.insights(found)

    @rpc(
        t.required(t.ShortText),
        t.required(t.CronExpression),
        t.required(t.SegmentCustomers),
        t.optional(Boolean),
        _returns=t.required(t.SegmentationSchedule),
        _out_variable_name="schedule",
        _throws=OPERATION_FAULTS["CreateSegmentationSchedule"],
    )
    def CreateSegmentationSchedule(ctx, name, cron, request, enabled):  # type: ignore[no-untyped-def]
        created = services.create_schedule(
            name, cron, mapping.request_of(request), enabled, _uow(ctx), created_by=_caller(ctx)
        )
        return mapping.schedule(created)

    @rpc(
        _returns=t.required(t.SegmentationScheduleList),
        _out_variable_name="schedules",
        _throws=OPERATION_FAULTS["ListSegmentationSchedules"],
    )
    def ListSegmentationSchedules(ctx):  # type: ignore[no-untyped-def]
        return mapping.schedules(services.list_schedules(_uow(ctx)))

    @rpc(
        t.required(t.ScheduleId),
        _returns=t.required(t.SegmentationSchedule),
        _out_variable_name="schedule",
        _throws=OPERATION_FAULTS["DeleteSegmentationSchedule"],
    )
    def DeleteSegmentationSchedule(ctx, scheduleId):  # type: ignore[no-untyped-def]
        return mapping.schedule(services.delete_schedule(scheduleId, _uow(ctx)))

    # ------------------------------------------------------------ portfolios (1.4)
    @rpc(
        t.required(t.ShortText),
        t.required(t.SegmentationMethod),
        t.required(t.SegmentationMethod),
        t.optional(t.ShortText),
        t.optional(t.PortfolioObjective),
        _returns=t.required(t.Portfolio),
        _out_variable_name="portfolio",
        _throws=OPERATION_FAULTS["CreatePortfolio"],
    )
    def CreatePortfolio(ctx, name, rows, columns, owner, objective):  # type: ignore[no-untyped-def]
        created = services.create_portfolio(
            name,
            mapping.method(rows),
            mapping.method(columns),
            owner,
            objective,
            _uow(ctx),
            created_by=_caller(ctx),
        )
        return mapping.portfolio(created)

    @rpc(
        t.required(t.PortfolioId),
        _returns=t.required(t.Portfolio),
        _out_variable_name="portfolio",
        _throws=OPERATION_FAULTS["GetPortfolio"],
    )
    def GetPortfolio(ctx, portfolioId):  # type: ignore[no-untyped-def]
        found, evaluation = services.evaluate_portfolio(
            portfolioId, _uow(ctx), policy=ctx.app.treatments
        )
        return mapping.portfolio(found, evaluation)

    @rpc(
        t.required(t.PortfolioId),
        _returns=(t.required(t.Portfolio), t.required(t.PortfolioEvaluationList)),
        _out_variable_names=("portfolio", "evaluations"),
        _throws=OPERATION_FAULTS["GetPortfolioHistory"],
    )
    def GetPortfolioHistory(ctx, portfolioId):  # type: ignore[no-untyped-def]
        return mapping.portfolio_history(*services.portfolio_history(portfolioId, _uow(ctx)))

    @rpc(
        t.required(t.PortfolioId),
        t.required(t.SegmentCode),
        t.required(t.SegmentCode),
        t.required(t.ShortText),
        _returns=t.required(t.PortfolioCellOwner),
        _out_variable_name="cellOwner",
        _throws=OPERATION_FAULTS["SetPortfolioCellOwner"],
    )
    def SetPortfolioCellOwner(ctx, portfolioId, rowSegmentCode, columnSegmentCode, owner):  # type: ignore[no-untyped-def]
        row, column = services.set_portfolio_cell_owner(
            portfolioId, rowSegmentCode, columnSegmentCode, owner, _uow(ctx)
        )
        return t.PortfolioCellOwner(
            portfolioId=portfolioId, rowSegmentName=row, columnSegmentName=column, owner=owner
        )

    @rpc(
        _returns=t.required(t.PortfolioList),
        _out_variable_name="portfolios",
        _throws=OPERATION_FAULTS["ListPortfolios"],
    )
    def ListPortfolios(ctx):  # type: ignore[no-untyped-def]
        found = services.list_portfolios(_uow(ctx))
        return t.PortfolioList(portfolio=[mapping.portfolio(p) for p in found])

    @rpc(
        t.required(t.PortfolioId),
        _returns=t.required(t.Portfolio),
        _out_variable_name="portfolio",
        _throws=OPERATION_FAULTS["DeletePortfolio"],
    )
    def DeletePortfolio(ctx, portfolioId):  # type: ignore[no-untyped-def]
        return mapping.portfolio(services.delete_portfolio(portfolioId, _uow(ctx)))

    @rpc(
        t.required(t.RunId),
        t.required(t.SegmentCode),
        t.required(t.Strategy),
        t.optional(t.ShortText),
        t.optional(t.TreatmentMessage),
        _returns=t.required(t.Segment),
        _out_variable_name="segment",
        _throws=OPERATION_FAULTS["SetSegmentTreatment"],
    )
    def SetSegmentTreatment(ctx, runId, segmentCode, strategy, channel, message):  # type: ignore[no-untyped-def]
        found = services.set_segment_treatment(
            runId,
            segmentCode,
            mapping.strategy(strategy),
            channel,
            message,
            _uow(ctx),
            _caller(ctx),
        )
        return mapping.segment(found)

    @rpc(
        t.required(t.PortfolioId),
        t.required(t.SegmentCode),
        t.required(t.SegmentCode),
        t.required(t.Strategy),
        t.optional(t.ShortText),
        t.optional(t.TreatmentMessage),
        _returns=t.required(t.PortfolioCellTreatment),
        _out_variable_name="cellTreatment",
        _throws=OPERATION_FAULTS["SetPortfolioCellTreatment"],
    )
    def SetPortfolioCellTreatment(  # type: ignore[no-untyped-def]
        ctx, portfolioId, rowSegmentCode, columnSegmentCode, strategy, channel, message
    ):
        row, column, treatment = services.set_portfolio_cell_treatment(
            portfolioId,
            rowSegmentCode,
            columnSegmentCode,
            mapping.strategy(strategy),
            channel,
            message,
            _uow(ctx),
            _caller(ctx),
        )
        return t.PortfolioCellTreatment(
            portfolioId=portfolioId,
            rowSegmentName=row,
            columnSegmentName=column,
            treatment=mapping.treatment(treatment),
        )
