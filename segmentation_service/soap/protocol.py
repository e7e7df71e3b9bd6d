"""SOAP 1.1 input that refuses hostile XML and validates against the canonical XSD.

spyne's own parsing drops entity references silently, accepts DTDs and logs
whole request bodies on syntax errors; this protocol parses with entities,
DTDs and network access off, answers a DTD with a Client fault, refuses
SOAP 1.2 with VersionMismatch, and validates the Body's child against
wsdl/segmentation.xsd so a bad field gets an InvalidRequestFault naming it.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from lxml import etree
from spyne import Fault
from spyne.protocol.soap import Soap11
from spyne.server.http import HttpTransportContext

from segmentation_service.soap.faults import InvalidRequestFault
from segmentation_service.soap.types import TNS

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_MEDIA_TYPE = "text/xml"
SOAP12_MEDIA_TYPE = "application/soap+xml"
# Namespace names in libxml2 messages, e.g. {urn:customer-segmentation:v1}; not value sets.
_NAMESPACE = re.compile(r"\{(?:urn|https?):[^}]*\}")
_SINGLE_EXPECTED = re.compile(r"Expected is \( (\w+) \)")


def hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


_COMPILING = threading.Lock()


class CanonicalSchema:
    """The contract's XSD, one compiled copy per thread.

    An lxml XMLSchema keeps its error log on the object; sharing one between
    threads mixes up the messages of concurrent requests.
    """

    def __init__(self, path: Path) -> None:
        self._source = path.read_bytes()
        self._base_url = str(path)
        self._local = threading.local()

    def get(self) -> etree.XMLSchema:
        schema: etree.XMLSchema | None = getattr(self._local, "schema", None)
        if schema is None:
            # One compilation at a time: libxml2's schema compiler is not safe in
            # concurrent threads (seen when 8 connections reached a fresh gthread
            # worker at once: "xmlSchemaPValAttrNodeValue, the given type is not a
            # built-in type" and "Document is not valid XML Schema", as 500s).
            with _COMPILING:
                document = etree.fromstring(
                    self._source, hardened_parser(), base_url=self._base_url
                )
                schema = self._local.schema = etree.XMLSchema(document)
        return schema


class HardenedSoap11(Soap11):
    def __init__(self, schema: CanonicalSchema, operations: frozenset[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._schema = schema
        self._operation_tags = frozenset(f"{{{TNS}}}{name}" for name in operations)

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        if isinstance(ctx.transport, HttpTransportContext):
            self._check_http(ctx)
        body = b"".join(
            chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in ctx.in_string
        )
        try:
            root = etree.fromstring(body, hardened_parser())
        except etree.XMLSyntaxError as exc:
            message = f"the request is not well-formed XML: {exc.msg}"
            raise Fault("Client.XMLSyntaxError", message) from None
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise Fault("Client.DTDNotAllowed", "SOAP messages must not contain a DTD")
        ctx.in_document = (root, {})

    @staticmethod
    def _check_http(ctx: Any) -> None:
        if ctx.transport.get_request_method() != "POST":
            raise Fault("Client.MethodNotAllowed", "SOAP requests must be HTTP POSTs")
        content_type = (ctx.transport.get_request_content_type() or "").split(";")[0]
        media_type = content_type.strip().lower()
        if media_type == SOAP12_MEDIA_TYPE:
            raise Fault("VersionMismatch", "this service speaks SOAP 1.1 (text/xml) only")
        if media_type != SOAP11_MEDIA_TYPE:
            ctx.transport.resp_code = "415 Unsupported Media Type"
            raise Fault("Client.UnsupportedMediaType", "send SOAP 1.1 requests as text/xml")

    def decompose_incoming_envelope(self, ctx: Any, message: Any = Soap11.REQUEST) -> None:
        root = ctx.in_document[0]
        if root.tag == f"{{{SOAP12_ENV}}}Envelope":
            raise Fault("VersionMismatch", "this service speaks SOAP 1.1 only")
        if root.tag != f"{{{SOAP11_ENV}}}Envelope":
            raise Fault("Client.NotSoap", "the request is not a SOAP 1.1 envelope")
        bodies = root.findall(f"{{{SOAP11_ENV}}}Body")
        if len(bodies) != 1 or len(bodies[0]) != 1:
            raise Fault("Client.NotSoap", "the envelope needs one Body with one operation element")
        super().decompose_incoming_envelope(ctx, message)

    def validate_body(self, ctx: Any, message: Any) -> None:
        body = ctx.in_body_doc
        if body.tag not in self._operation_tags:
            name = etree.QName(body).localname
            raise Fault("Client.UnknownOperation", f"the service has no operation {name!r}")
        schema = self._schema.get()
        if not schema.validate(body):
            raise _invalid_request(body, schema.error_log.filter_from_errors()[0])


def _invalid_request(body: etree._Element, error: Any) -> Fault:
    """An InvalidRequestFault naming the field by its dotted path below the operation element."""
    message = _NAMESPACE.sub("", str(error.message))
    reason = re.sub(r"^Element '[^']*'(, attribute '[^']*')?: ", "", message)
    element = _find(body, error.path or "")
    field = _dotted(body, element) if element is not None else "(request)"
    expected = _SINGLE_EXPECTED.search(message)
    if element is not None and "Missing child element" in message and expected:
        field = _join(field, expected.group(1))
        reason = f"the required element {expected.group(1)} is missing"
    elif element is not None and "This element is not expected" in message:
        parent = element.getparent()
        siblings = (
            {etree.QName(child).localname for child in parent} if parent is not None else set()
        )
        name = etree.QName(element).localname
        if expected and expected.group(1) not in siblings:
            field = _join(_dotted(body, parent), expected.group(1))
            reason = f"the required element {expected.group(1)} is missing (found {name})"
        elif (
            not expected
            and element.getprevious() is not None
            and (etree.QName(element.getprevious()).localname == name)
        ):
            reason = f"more {name} elements than the contract allows"
    return InvalidRequestFault(f"{field}: {reason}", field=field, reason=reason)


def _find(body: etree._Element, path: str) -> etree._Element | None:
    """The element an XSD error path (absolute from ``body``) points at."""
    steps = path.split("/")[2:]
    namespaces = {prefix: uri for prefix, uri in body.nsmap.items() if prefix}
    try:
        found = body.xpath("/".join([".", *steps]), namespaces=namespaces) if steps else [body]
    except etree.XPathError:
        return None
    return found[0] if found and isinstance(found[0], etree._Element) else None


def _dotted(body: etree._Element, element: etree._Element | None) -> str:
    names: list[str] = []
    while element is not None and element is not body:
        names.append(etree.QName(element).localname)
        element = element.getparent()
    return ".".join(reversed(names))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
