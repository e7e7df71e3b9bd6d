"""The HTTP face of the service: the WSDL and XSD, health check, metrics, the SOAP endpoint.

The WSDL is the file in wsdl/ with only its soap:address rewritten, once at
start-up, from configuration: never from a request's Host header.

The contract is package data, ``segmentation_service/wsdl/``: in a checkout (and an
editable install) a symlink to the top-level ``wsdl/``, the one copy people edit; in
the sdist and the wheel, the files themselves.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree

from segmentation_service.soap.observability import note_fault


def contract_directory() -> Path:
    """The directory holding the canonical WSDL and XSD, inside the installed package."""
    directory = resources.files("segmentation_service") / "wsdl"
    if not isinstance(directory, Path):  # a zip import: pip always unpacks wheels
        raise RuntimeError(f"the contract must be on the file system, not in {directory}")
    return directory


WSDL_DIRECTORY = contract_directory()
WSDL_FILE = "segmentation.wsdl"
XSD_FILE = "segmentation.xsd"
SOAP_PATH = "/soap"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
XML = "text/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
Metrics = Callable[[], tuple[bytes, str]]
# Answers a POST's body itself, or returns None to leave it to the SOAP application.
HotPath = Callable[[dict[str, Any], bytes, StartResponse], Iterable[bytes] | None]


def published_wsdl(address: str, directory: Path = WSDL_DIRECTORY) -> bytes:
    """The canonical WSDL with its soap:address pointing at ``address``."""
    tree = etree.parse(str(directory / WSDL_FILE), etree.XMLParser(resolve_entities=False))
    namespaces = {"soap": "http://schemas.xmlsoap.org/wsdl/soap/"}
    for element in tree.iterfind(".//soap:address", namespaces):
        element.set("location", address)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


class Router:
    """Routes GET ?wsdl, the XSD, /healthz, /metrics and POST /soap; anything else is a 404.

    ``/metrics`` (Prometheus text format) needs no credentials: it holds counts and
    durations by operation, outcome and method, never customer data.
    """

    def __init__(
        self,
        soap: WsgiApp,
        address: str,
        health: Callable[[], bool],
        max_request_bytes: int,
        directory: Path = WSDL_DIRECTORY,
        *,
        metrics: Metrics | None = None,
        hot_path: HotPath | None = None,
    ) -> None:
        self._soap = soap
        self._hot_path = hot_path
        self._health = health
        self._metrics = metrics
        self._max_request_bytes = max_request_bytes
        self._documents = {
            "wsdl": published_wsdl(address, directory),
            XSD_FILE: (directory / XSD_FILE).read_bytes(),
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = environ.get("QUERY_STRING", "").lower()
        if path.rstrip("/") == SOAP_PATH:
            if method == "POST":
                return self._post(environ, start_response)
            if method in ("GET", "HEAD") and query in ("wsdl", "wsdl="):
                return _reply(start_response, "200 OK", XML, self._documents["wsdl"])
            return _reply(
                start_response,
                "405 Method Not Allowed",
                TEXT,
                b"POST SOAP 1.1 requests here; GET ?wsdl for the contract\n",
                [("Allow", "GET, POST")],
            )
        if method in ("GET", "HEAD") and path in (f"/{XSD_FILE}", f"{SOAP_PATH}/{XSD_FILE}"):
            return _reply(start_response, "200 OK", XML, self._documents[XSD_FILE])
        if method in ("GET", "HEAD") and path == "/healthz":
            healthy = self._health()
            status = "200 OK" if healthy else "503 Service Unavailable"
            body = {"status": "ok" if healthy else "unavailable", "store": healthy}
            return _reply(start_response, status, "application/json", json.dumps(body).encode())
        if method in ("GET", "HEAD") and path == "/metrics" and self._metrics is not None:
            exposition, content_type = self._metrics()
            return _reply(start_response, "200 OK", content_type, exposition)
        return _reply(start_response, "404 Not Found", TEXT, b"not found\n")

    def _post(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            body = _read_bounded(environ, self._max_request_bytes)
        except ValueError:
            fault = _soap_fault("Client.BadRequest", "the Content-Length header is not a number")
            note_fault("Client.BadRequest")
            return _reply(start_response, "400 Bad Request", XML, fault)
        if body is None:
            message = f"the request is larger than {self._max_request_bytes} bytes"
            fault = _soap_fault("Client.RequestTooLong", message)
            note_fault("Client.RequestTooLong")
            return _reply(start_response, "413 Content Too Large", XML, fault)
        if self._hot_path is not None:
            answer = self._hot_path(environ, body, start_response)
            if answer is not None:
                return answer
        bounded = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        return self._soap(bounded, start_response)


def _read_bounded(environ: dict[str, Any], limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes.

    A declared Content-Length over the limit is refused before reading; a
    chunked body is read only up to one byte past the limit.
    """
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared.strip():
        length = int(declared)
        if length > limit:
            return None
        return bytes(stream.read(length))
    parts, size = [], 0
    while size <= limit:
        part = stream.read(min(64 * 1024, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return None if size > limit else b"".join(parts)


def _soap_fault(code: str, message: str) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap:{code}"
    etree.SubElement(fault, "faultstring").text = message
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def _reply(
    start_response: StartResponse,
    status: str,
    content_type: str,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    start_response(
        status,
        [("Content-Type", content_type), ("Content-Length", str(len(body))), *(headers or [])],
    )
    return [body]
