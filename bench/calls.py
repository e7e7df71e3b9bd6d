"""Single SOAP calls over HTTP (a long segmentation, one timed page) and their replies."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass, field

from lxml import etree

from bench.envelopes import TNS, Request

NS = {"t": TNS}


class SoapCallError(RuntimeError):
    pass


class Connection:
    """One keep-alive HTTP connection to the SOAP endpoint."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        host_port, _, path = url.removeprefix("http://").partition("/")
        host, port = host_port.split(":")
        self._path = "/" + path
        self._connection = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def post(self, request: Request) -> tuple[int, bytes, float]:
        """Status, body and seconds taken."""
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": request.soap_action,
        }
        started = time.perf_counter()
        self._connection.request("POST", self._path, request.body, headers)
        reply = self._connection.getresponse()
        body = reply.read()
        return reply.status, body, time.perf_counter() - started

    def close(self) -> None:
        self._connection.close()


def call(url: str, request: Request, timeout: float = 60.0) -> tuple[bytes, float]:
    """Post one request on a fresh connection; SoapCallError unless HTTP 200."""
    connection = Connection(url, timeout)
    try:
        status, body, seconds = connection.post(request)
    finally:
        connection.close()
    if status != 200:
        raise SoapCallError(f"{request.operation}: HTTP {status}: {body[:2000]!r}")
    return body, seconds


@dataclass
class RunReply:
    run_id: int
    status: str
    customer_count: int
    assigned_count: int
    segments: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


def parse_run(body: bytes) -> RunReply:
    root = etree.fromstring(body)
    run = root.find(".//t:run", NS)
    if run is None:
        raise SoapCallError(f"no run in the reply: {body[:2000]!r}")

    def text(path: str) -> str:
        return run.findtext(path, default="", namespaces=NS)

    segments = {
        segment.findtext("t:code", namespaces=NS) or "": int(
            segment.findtext("t:size", default="0", namespaces=NS)
        )
        for segment in run.iterfind("t:segments/t:segment", NS)
    }
    metrics = {
        metric.findtext("t:name", namespaces=NS) or "": float(
            metric.findtext("t:value", default="nan", namespaces=NS)
        )
        for metric in run.iterfind("t:metrics/t:metric", NS)
    }
    return RunReply(
        run_id=int(text("t:runId")),
        status=text("t:status"),
        customer_count=int(text("t:customerCount") or 0),
        assigned_count=int(text("t:assignedCount") or 0),
        segments=segments,
        metrics=metrics,
    )
