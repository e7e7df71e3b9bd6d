"""The four operations: each maps its arguments, calls one use case, maps the result."""

from __future__ import annotations

from typing import Any

from spyne import Date, Double, Integer32, ServiceBase, rpc

from segmentation_service import services
from segmentation_service.soap import mapping
from segmentation_service.soap import types as t
from segmentation_service.soap.faults import OPERATION_FAULTS
from segmentation_service.store.uow import UnitOfWork


def _uow(ctx: Any) -> UnitOfWork:
    uow: UnitOfWork = ctx.app.unit_of_work()
    return uow


class SegmentationService(ServiceBase):
    @rpc(
        t.required(t.SegmentationMethod),
        t.optional(t.RunLabel),
        t.optional(t.CustomerIdList),
        t.optional(t.APrioriParameters),
        t.optional(t.NeedsBasedParameters),
        t.optional(t.ValueBasedParameters),
        _returns=t.required(t.SegmentationRun),
        _out_variable_name="run",
        _throws=OPERATION_FAULTS["SegmentCustomers"],
    )
    def SegmentCustomers(ctx, method, label, customerIds, aPriori, needsBased, valueBased):  # type: ignore[no-untyped-def]
        request = mapping.segmentation_request(
            method, label, customerIds, aPriori, needsBased, valueBased
        )
        caller = getattr(ctx.udc, "username", None)
        return mapping.run(services.segment_customers(request, _uow(ctx), started_by=caller))

    @rpc(
        t.required(t.CustomerId),
        t.optional(t.SegmentationMethod),
        t.optional(t.RunId),
        _returns=t.required(t.CustomerSegmentList),
        _out_variable_name="assignments",
        _throws=OPERATION_FAULTS["GetCustomerSegment"],
    )
    def GetCustomerSegment(ctx, customerId, method, runId):  # type: ignore[no-untyped-def]
        found = services.get_customer_segment(
            customerId, mapping.method_or_none(method), runId, _uow(ctx)
        )
        return mapping.assignments(found)

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
        ids = mapping.customer_ids(customerIds)
        scores = services.score_customer_value(
            ids, horizonMonths, annualDiscountRate, asOfDate, _uow(ctx)
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
        page = services.list_segment_members(
            segmentCode, runId, mapping.method_or_none(method), pageSize, pageToken, _uow(ctx)
        )
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
        _returns=t.required(t.SegmentationRunList),
        _out_variable_name="runs",
        _throws=OPERATION_FAULTS["ListSegmentationRuns"],
    )
    def ListSegmentationRuns(ctx, method, limit, before):  # type: ignore[no-untyped-def]
        found = services.list_segmentation_runs(
            mapping.method_or_none(method), limit, before, _uow(ctx)
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
