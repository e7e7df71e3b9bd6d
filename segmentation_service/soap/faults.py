"""Declared SOAP faults with typed details, and the one mapping from domain errors.

Each fault's detail is the element of the same name in wsdl/segmentation.xsd.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree
from spyne import Fault

from segmentation_service.domain.errors import (
    AccessDenied,
    AuthenticationFailed,
    CustomerNotFound,
    InsufficientData,
    InvalidRequest,
    PortfolioNotFound,
    RunNotFound,
    ScheduleNotFound,
    SegmentationError,
    SegmentNotFound,
    StoreUnavailable,
)
from segmentation_service.soap.types import TNS


def detail(name: str, **fields: object) -> etree._Element:
    element = etree.Element(f"{{{TNS}}}{name}", nsmap={"tns": TNS})
    for field, value in fields.items():
        etree.SubElement(element, f"{{{TNS}}}{field}").text = str(value)
    return element


class DeclaredFault(Fault):
    """A fault listed in the WSDL; ``faultcode`` tells client from server errors."""

    __namespace__ = TNS
    faultcode_suffix = "Client"

    def __init__(self, message: str, **fields: object) -> None:
        super().__init__(
            faultcode=self.faultcode_suffix,
            faultstring=message,
            detail=detail(type(self).__name__, **fields),
        )


class CustomerNotFoundFault(DeclaredFault):
    faultcode_suffix = "Client.CustomerNotFound"


class RunNotFoundFault(DeclaredFault):
    faultcode_suffix = "Client.RunNotFound"


class SegmentNotFoundFault(DeclaredFault):
    faultcode_suffix = "Client.SegmentNotFound"


class ScheduleNotFoundFault(DeclaredFault):
    faultcode_suffix = "Client.ScheduleNotFound"


class PortfolioNotFoundFault(DeclaredFault):
    faultcode_suffix = "Client.PortfolioNotFound"


class InvalidRequestFault(DeclaredFault):
    faultcode_suffix = "Client.InvalidRequest"


class AuthenticationFault(DeclaredFault):
    faultcode_suffix = "Client.Authentication"


class AccessDeniedFault(DeclaredFault):
    faultcode_suffix = "Client.AccessDenied"


class ServiceUnavailableFault(DeclaredFault):
    faultcode_suffix = "Server.ServiceUnavailable"


class InternalError(Fault):
    """An unexpected error: no detail, no trace, only a reference to the server log."""

    def __init__(self, reference: str) -> None:
        super().__init__(
            faultcode="Server",
            faultstring=f"internal server error (reference {reference})",
        )


def _customer_not_found(exc: CustomerNotFound) -> Fault:
    return CustomerNotFoundFault(str(exc), customerId=exc.customer_id)


def _run_not_found(exc: RunNotFound) -> Fault:
    return RunNotFoundFault(str(exc), runId=exc.run_id)


def _segment_not_found(exc: SegmentNotFound) -> Fault:
    return SegmentNotFoundFault(str(exc), runId=exc.run_id, segmentCode=exc.segment_code)


def _schedule_not_found(exc: ScheduleNotFound) -> Fault:
    return ScheduleNotFoundFault(str(exc), scheduleId=exc.schedule_id)


def _portfolio_not_found(exc: PortfolioNotFound) -> Fault:
    return PortfolioNotFoundFault(str(exc), portfolioId=exc.portfolio_id)


def _invalid_request(exc: InvalidRequest) -> Fault:
    return InvalidRequestFault(str(exc), field=exc.field, reason=exc.reason)


def _authentication_failed(exc: AuthenticationFailed) -> Fault:
    return AuthenticationFault(str(exc), reason=exc.reason)


def _access_denied(exc: AccessDenied) -> Fault:
    return AccessDeniedFault(str(exc), operation=exc.operation, role=exc.role)


def _store_unavailable(exc: StoreUnavailable) -> Fault:
    return ServiceUnavailableFault(str(exc), reason=exc.reason)


FAULTS: dict[type[SegmentationError], Callable[[SegmentationError], Fault]] = {
    CustomerNotFound: _customer_not_found,  # type: ignore[dict-item]
    RunNotFound: _run_not_found,  # type: ignore[dict-item]
    SegmentNotFound: _segment_not_found,  # type: ignore[dict-item]
    ScheduleNotFound: _schedule_not_found,  # type: ignore[dict-item]
    PortfolioNotFound: _portfolio_not_found,  # type: ignore[dict-item]
    InvalidRequest: _invalid_request,  # type: ignore[dict-item]
    InsufficientData: _invalid_request,  # type: ignore[dict-item]  # a data condition
    AuthenticationFailed: _authentication_failed,  # type: ignore[dict-item]
    AccessDenied: _access_denied,  # type: ignore[dict-item]
    StoreUnavailable: _store_unavailable,  # type: ignore[dict-item]
}

# Every operation may answer with these (besides InternalError).
COMMON_FAULTS: list[type[DeclaredFault]] = [
    AuthenticationFault,
    AccessDeniedFault,
    ServiceUnavailableFault,
]
# Faults each operation may answer with; the WSDL declares the same.
OPERATION_FAULTS: dict[str, list[type[DeclaredFault]]] = {
    name: [*faults, *COMMON_FAULTS]
    for name, faults in {
        "SegmentCustomers": [CustomerNotFoundFault, InvalidRequestFault],
        "GetCustomerSegment": [CustomerNotFoundFault, RunNotFoundFault, InvalidRequestFault],
        "ScoreCustomerValue": [InvalidRequestFault],
        "ListSegmentMembers": [RunNotFoundFault, SegmentNotFoundFault, InvalidRequestFault],
        "SetSegmentOwner": [RunNotFoundFault, SegmentNotFoundFault, InvalidRequestFault],
        "GetSegmentationRun": [RunNotFoundFault, InvalidRequestFault],
        "ListSegmentationRuns": [InvalidRequestFault],
        "CompareSegmentationRuns": [RunNotFoundFault, InvalidRequestFault],
        "ListSegmentMovers": [RunNotFoundFault, SegmentNotFoundFault, InvalidRequestFault],
        "GetSegmentInsights": [RunNotFoundFault, SegmentNotFoundFault, InvalidRequestFault],
        "SubmitSegmentation": [CustomerNotFoundFault, InvalidRequestFault],
        "CancelSegmentationRun": [RunNotFoundFault, InvalidRequestFault],
        "CreateSegmentationSchedule": [CustomerNotFoundFault, InvalidRequestFault],
        "ListSegmentationSchedules": [InvalidRequestFault],
        "DeleteSegmentationSchedule": [ScheduleNotFoundFault, InvalidRequestFault],
        "CreatePortfolio": [InvalidRequestFault],
        "GetPortfolio": [PortfolioNotFoundFault, InvalidRequestFault],
        "GetPortfolioHistory": [PortfolioNotFoundFault, InvalidRequestFault],
        "SetPortfolioCellOwner": [
            PortfolioNotFoundFault,
            SegmentNotFoundFault,
            InvalidRequestFault,
        ],
        "ListPortfolios": [InvalidRequestFault],
        "SetSegmentTreatment": [RunNotFoundFault, SegmentNotFoundFault, InvalidRequestFault],
        "SetPortfolioCellTreatment": [
            PortfolioNotFoundFault,
            SegmentNotFoundFault,
            InvalidRequestFault,
        ],
        "DeletePortfolio": [PortfolioNotFoundFault, InvalidRequestFault],
    }.items()
}


def fault_for(error: SegmentationError) -> Fault:
    """The declared fault for a domain error (the nearest mapped base class wins)."""
    for kind in type(error).__mro__:
        if kind in FAULTS:
            return FAULTS[kind](error)
    raise LookupError(f"no fault is mapped for {type(error).__name__}")
