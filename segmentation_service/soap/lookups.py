"""The hot lookups, from their SOAP arguments to the domain results.

One place for both ways a lookup is served: spyne's operations in service.py,
and the compiled path in hot_path.py. Arguments arrive as spyne deserialized
them (names as in the contract).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from segmentation_service import services
from segmentation_service.domain.model import CustomerSegment, MemberPage, ValueScores
from segmentation_service.engines.value_forecast import ChurnThresholds
from segmentation_service.soap import mapping
from segmentation_service.soap import types as t
from segmentation_service.store.uow import UnitOfWork


class LookupContext(Protocol):
    """What the lookups need of the application."""

    churn: ChurnThresholds

    def unit_of_work(self) -> UnitOfWork: ...


def customer_segment(
    app: LookupContext, customerId: str, method: str | None, runId: int | None
) -> list[CustomerSegment]:
    return services.get_customer_segment(
        customerId, mapping.method_or_none(method), runId, app.unit_of_work()
    )


def value_scores(
    app: LookupContext,
    customerIds: t.CustomerIdBatch | None,
    horizonMonths: int | None,
    annualDiscountRate: float | None,
    asOfDate: date | None,
) -> ValueScores:
    return services.score_customer_value(
        mapping.customer_ids(customerIds),
        horizonMonths,
        annualDiscountRate,
        asOfDate,
        app.unit_of_work(),
        churn=app.churn,
    )


def segment_members(
    app: LookupContext,
    segmentCode: str,
    runId: int | None,
    method: str | None,
    pageSize: int | None,
    pageToken: str | None,
) -> MemberPage:
    return services.list_segment_members(
        segmentCode,
        runId,
        mapping.method_or_none(method),
        pageSize,
        pageToken,
        app.unit_of_work(),
    )
