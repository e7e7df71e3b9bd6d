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
_NAMESPACE = re.compile(r"\{[^}]*\}")
_PREFIX = re.compile(r"^[^:]*:|\[\d+\]$")
_MISSING = re.compile(r"Expected is .*?\(?\s*\{[^}]*\}(\w+)")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


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
            document = etree.fromstring(self._source, _parser(), base_url=self._base_url)
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
            root = etree.fromstring(body, _parser())
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
            name = _NAMESPACE.sub("", str(body.tag))
            raise Fault("Client.UnknownOperation", f"the service has no operation {name!r}")
        schema = self._schema.get()
        if not schema.validate(body):
            raise _invalid_request(schema.error_log.filter_from_errors()[0])


def _invalid_request(error: Any) -> Fault:
    """Name the offending field by its path below the operation element."""
    steps = [_PREFIX.sub("", step) for step in (error.path or "").split("/")[2:]]
    steps = [step for step in steps if step and step != "*"]
    message = str(error.message)
    missing = _MISSING.search(message) if "Missing child" in message else None
    if missing:
        steps.append(missing.group(1))
    reason = _NAMESPACE.sub("", message)
    reason = re.sub(r"^Element '[^']*'(, attribute '[^']*')?: ", "", reason)
    field = ".".join(steps) or "(request)"
    return InvalidRequestFault(f"{field}: {reason}", field=field, reason=reason)
