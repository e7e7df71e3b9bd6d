"""The hot lookups served without spyne's per-request machinery.

GetCustomerSegment, ListSegmentMembers and ScoreCustomerValue are called from
every CRM screen and campaign page. Through spyne, a call builds a method
context, passes generic deserialization and dispatch layers, fires events and
maps its result into spyne objects before writing them: for a single
GetCustomerSegment most of the time went there (bench/profile.py).

``HotPath`` does for these three what the spyne path does, with the same parts:
the hardened parser, the envelope checks, XSD validation of the operation
element, spyne's own conversion of each argument, the UsernameToken check and
role, the use case (soap/lookups.py), and a response written from the domain
objects (soap/serializer.py). A request it does not take as a well-formed,
valid call of one of them (any fault before authentication: not XML, a DTD, not
SOAP 1.1, an unknown operation, an invalid field) goes to spyne untouched,
which answers it as it always did. Faults after that (authentication, access,
the use case's) are written by spyne's own error handler. Either way the bytes
on the wire are spyne's: tests/contract/test_hot_path.py compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree
from spyne import Fault
from spyne.server.wsgi import WsgiApplication, WsgiMethodContext

from segmentation_service.services.auth import Caller
from segmentation_service.soap import lookups
from segmentation_service.soap.observability import note_call
from segmentation_service.soap.protocol import (
    SOAP11_ENV,
    SOAP11_MEDIA_TYPE,
    CanonicalSchema,
    hardened_parser,
)
from segmentation_service.soap.serializer import ResponseWriter
from segmentation_service.soap.types import TNS

StartResponse = Callable[..., Any]
Lookup = Callable[..., Any]

LOOKUPS: dict[str, Lookup] = {
    "GetCustomerSegment": lookups.customer_segment,
    "ListSegmentMembers": lookups.segment_members,
    "ScoreCustomerValue": lookups.value_scores,
}
_ENVELOPE = f"{{{SOAP11_ENV}}}Envelope"
_HEADER = f"{{{SOAP11_ENV}}}Header"
_BODY = f"{{{SOAP11_ENV}}}Body"


class HotApplication(lookups.LookupContext, Protocol):
    """What the hot path needs of the spyne application (soap/app.py)."""

    def authenticated(self, operation: str, header: Sequence[Any] | None) -> Caller | None: ...

    def authorized(self, caller: Caller | None, operation: str) -> None: ...

    def fault_of(self, error: Exception, operation: str) -> Fault: ...


@dataclass(frozen=True)
class _Call:
    """A well-formed, schema-valid call of a hot lookup, its arguments converted."""

    operation: str
    header: list[Any]
    arguments: dict[str, Any]


class HotPath:
    """Answers valid calls of the hot lookups; returns None for spyne to answer the rest."""

    operations: frozenset[str] = frozenset(LOOKUPS)  # the parity test empties it

    def __init__(self, soap: WsgiApplication, schema: CanonicalSchema) -> None:
        self._soap = soap
        self._app: HotApplication = soap.app
        self._schema = schema
        self._writer = ResponseWriter(soap.app.out_protocol)
        methods = soap.app.interface.service_method_map
        self._descriptors = {name: methods[f"{{{TNS}}}{name}"][0] for name in LOOKUPS}
        self._by_tag = {f"{{{TNS}}}{name}": name for name in LOOKUPS}
        self._in_protocol = soap.app.in_protocol
        self._mime_type = soap.app.out_protocol.mime_type  # text/xml; charset=utf-8

    def __call__(
        self, environ: dict[str, Any], body: bytes, start_response: StartResponse
    ) -> Iterable[bytes] | None:
        call = self._accepted(environ, body)
        if call is None:
            return None
        operation = call.operation
        caller: Caller | None = None
        try:
            caller = self._app.authenticated(operation, call.header)
            self._app.authorized(caller, operation)
            # GetCustomerSegment's list is its response's one field (see ResponseWriter).
            result = LOOKUPS[operation](self._app, **call.arguments)
            response_class = self._descriptors[operation].out_message
            document = self._writer.envelope(response_class, result)
        except Exception as exc:
            fault = self._app.fault_of(exc, operation)
            return self._fault(environ, operation, caller, fault, start_response)
        note_call(operation, "ok", caller.username if caller is not None else None)
        start_response(
            "200 OK", [("Content-Type", self._mime_type), ("Content-Length", str(len(document)))]
        )
        return [document]

    def _accepted(self, environ: dict[str, Any], body: bytes) -> _Call | None:
        """The call, when it is one this path answers exactly as spyne would."""
        media_type = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if media_type != SOAP11_MEDIA_TYPE:
            return None
        try:
            root = etree.fromstring(body, hardened_parser())
        except etree.XMLSyntaxError:
            return None
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None or root.tag != _ENVELOPE:
            return None
        parts = list(root)
        header = parts.pop(0) if len(parts) == 2 and parts[0].tag == _HEADER else None
        if len(parts) != 1 or parts[0].tag != _BODY or len(parts[0]) != 1:
            return None
        element = parts[0][0]
        operation = self._by_tag.get(element.tag) if isinstance(element.tag, str) else None
        if operation is None or operation not in self.operations:
            return None
        if not self._schema.get().validate(element):
            return None
        arguments = self._arguments(operation, element)
        if arguments is None:
            return None
        return _Call(operation, list(header) if header is not None else [], arguments)

    def _arguments(self, operation: str, element: etree._Element) -> dict[str, Any] | None:
        """Each field as spyne's deserializer makes it; None where only spyne should judge.

        Attributes (xsi:nil, xsi:type) and unresolved entity references are left
        to spyne, as is anything its conversion refuses.
        """
        type_info = self._descriptors[operation].in_message._type_info
        arguments: dict[str, Any] = dict.fromkeys(type_info)
        protocol = self._in_protocol
        for child in element:
            if child.attrib or any(True for _ in child.iter(etree.Entity)):
                return None
            name = etree.QName(child).localname
            try:
                arguments[name] = protocol.from_element(None, type_info[name], child)
            except Exception:
                return None
        return arguments

    def _fault(
        self,
        environ: dict[str, Any],
        operation: str,
        caller: Caller | None,
        fault: Fault,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        """The fault as spyne's error handler writes it (and reports it to the request log)."""
        ctx = WsgiMethodContext(self._soap, environ, self._mime_type)
        ctx.descriptor = self._descriptors[operation]
        ctx.udc = caller
        ctx.out_error = fault
        answer: Iterable[bytes] = self._soap.handle_error(ctx, [], fault, start_response)
        return answer
