"""One mapping from domain errors to declared faults, and one error for data conditions."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from segmentation_service.domain.errors import (
    InsufficientData,
    InvalidRequest,
    SegmentationError,
)
from segmentation_service.soap.faults import FAULTS, InternalError, InvalidRequestFault, fault_for

PACKAGE = Path(__file__).resolve().parents[2] / "segmentation_service"


def every_subclass(kind: type) -> set[type]:
    found: set[type] = set(kind.__subclasses__())
    for sub in list(found):
        found |= every_subclass(sub)
    return found


def test_faults_maps_every_segmentation_error_itself() -> None:
    assert set(FAULTS) == every_subclass(SegmentationError)


def test_insufficient_data_is_a_client_invalid_request_fault_with_the_reason() -> None:
    error = InsufficientData("2 customers have purchases; 4 tiers need at least 4", "valueBased")

    fault = fault_for(error)

    assert isinstance(fault, InvalidRequestFault)
    assert fault.faultcode == "Client.InvalidRequest"
    assert fault.faultstring == "valueBased: 2 customers have purchases; 4 tiers need at least 4"
    fields = {etree.QName(child).localname: child.text for child in fault.detail}
    assert fields == {
        "field": "valueBased",
        "reason": "2 customers have purchases; 4 tiers need at least 4",
    }


def test_insufficient_data_raised_by_an_engine_has_no_field_until_the_service_names_it() -> None:
    error = InsufficientData("no needs were answered")

    assert str(error) == "no needs were answered" and error.field == ""
    assert isinstance(error, InvalidRequest)
    assert isinstance(error, ValueError)  # scikit-learn's convention for fit on unusable data


def test_insufficient_data_is_the_only_class_for_a_data_condition() -> None:
    defined = [
        (path.relative_to(PACKAGE).as_posix(), name)
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in re.findall(r"^class (\w*Insufficient\w*)", path.read_text(), re.MULTILINE)
    ]

    assert defined == [("domain/errors.py", "InsufficientData")]


def test_an_internal_error_says_only_where_to_look() -> None:
    fault = InternalError("incident-7")

    assert fault.faultcode == "Server"
    assert fault.faultstring == "internal server error (reference incident-7)"
    assert fault.detail is None
