"""The HTTP face of the service: the canonical WSDL and XSD, the health check, the SOAP endpoint.

The WSDL is the file in wsdl/ with only its soap:address rewritten, once at
start-up, from configuration: never from a request's Host header.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from lxml import etree

WSDL_DIRECTORY = Path(__file__).resolve().parents[2] / "wsdl"
WSDL_FILE = "segmentation.wsdl"
XSD_FILE = "segmentation.xsd"
SOAP_PATH = "/soap"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
XML = "text/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


def published_wsdl(address: str, directory: Path = WSDL_DIRECTORY) -> bytes:
    """The canonical WSDL with its soap:address pointing at ``address``."""
    tree = etree.parse(str(directory / WSDL_FILE), etree.XMLParser(resolve_entities=False))
    namespaces = {"soap": "http://schemas.xmlsoap.org/wsdl/soap/"}
    for element in tree.iterfind(".//soap:address", namespaces):
        element.set("location", address)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


class Router:
    """Routes GET ?wsdl, the XSD, /healthz and POST /soap; everything else is a plain 404."""

    def __init__(
        self,
        soap: WsgiApp,
        address: str,
        health: Callable[[], bool],
        directory: Path = WSDL_DIRECTORY,
    ) -> None:
        self._soap = soap
        self._health = health
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
                return self._soap(environ, start_response)
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
        return _reply(start_response, "404 Not Found", TEXT, b"not found\n")


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
