"""Turning zeep Faults into typed, printable service faults.

The contract's typed details are CustomerNotFoundFault{customerId},
RunNotFoundFault{runId}, SegmentNotFoundFault{runId, segmentCode} and
InvalidRequestFault{field, reason}; server errors carry no detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .connection import TARGET_NAMESPACE

EXIT_CLIENT_FAULT = 2
EXIT_OTHER_FAULT = 1


def _blames_client(code: str | None) -> bool:
    # SOAP 1.1 faultcodes arrive prefixed and maybe refined: "soap:Client", "s:Client.Input".
    return code is not None and "Client" in code


@dataclass(frozen=True)
class ServiceFault:
    """A SOAP fault: its detail element's name and fields, message and faultcode."""

    name: str
    message: str
    code: str | None = None
    detail: dict[str, str] = field(default_factory=dict)

    @property
    def is_client_fault(self) -> bool:
        """True when the service blames the request (faultcode Client or Client.*)."""
        return _blames_client(self.code)

    @property
    def exit_status(self) -> int:
        return EXIT_CLIENT_FAULT if self.is_client_fault else EXIT_OTHER_FAULT

    def as_json(self) -> dict[str, Any]:
        return {
            "fault": self.name,
            "code": self.code,
            "message": self.message,
            "detail": dict(self.detail),
        }


def _split_tag(element: Any) -> tuple[str, str]:
    """(namespace, local name) of an lxml element's "{namespace}local" tag."""
    namespace, _, local_name = element.tag.rpartition("}")
    return namespace.lstrip("{"), local_name


def _child_elements(element: Any) -> list[Any]:
    # Comments and processing instructions have a non-string tag.
    return [child for child in element if isinstance(child.tag, str)]


def _detail_entry(detail: Any) -> Any | None:
    """The element inside SOAP `detail`, preferring one in the target namespace."""
    # zeep passes an lxml element, or the raw reply bytes when it held no Fault at all.
    if detail is None or isinstance(detail, (bytes, str)) or not hasattr(detail, "tag"):
        return None
    children = _child_elements(detail)
    for child in children:
        if _split_tag(child)[0] == TARGET_NAMESPACE:
            return child
    return children[0] if children else None


def _untyped_fault_name(code: str | None) -> str:
    return "ClientFault" if _blames_client(code) else "ServerFault"


def is_soap_fault(fault: Any) -> bool:
    """False when zeep raised Fault for a reply that held no SOAP Fault at all.

    zeep turns any non-200 XML reply into Fault("Unknown fault occured") and puts
    the raw document (bytes) in `detail`, e.g. for a proxy's XHTML error page.
    """
    return not isinstance(getattr(fault, "detail", None), (bytes, str))


def parse_fault(fault: Any) -> ServiceFault:
    """Read a zeep.exceptions.Fault (or anything with message, code, detail)."""
    code = getattr(fault, "code", None)
    message = getattr(fault, "message", None) or str(fault) or "SOAP fault"
    entry = _detail_entry(getattr(fault, "detail", None))
    if entry is None:
        return ServiceFault(name=_untyped_fault_name(code), message=message, code=code)
    detail = {_split_tag(child)[1]: (child.text or "").strip() for child in _child_elements(entry)}
    return ServiceFault(name=_split_tag(entry)[1], message=message, code=code, detail=detail)
