"""Around every request: its id, one log line, and the metrics of SOAP calls and runs.

``ObservedApp`` wraps the WSGI application. It takes the request id from a sane
``X-Request-ID`` header (else makes one), returns it in the response's
``X-Request-ID`` and binds it for the thread's log records. spyne's events fill
in the operation, the outcome (``ok`` or the fault's name) and the caller; when
the response is closed, one line is logged and the metrics are updated.

The line holds no request body, no customer name and no customer id: only the
operation, outcome, status, duration and the authenticated username.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from spyne import Fault

from segmentation_service.observability import metrics
from segmentation_service.observability.logs import (
    REQUEST_ID_HEADER,
    bind_request_id,
    request_id_from,
)

access_log = logging.getLogger("segmentation_service.access")
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
# Probed every few seconds: logged at DEBUG so they do not drown the calls.
PROBES = frozenset({"healthz", "metrics"})
OPERATION_UNKNOWN = "unknown"


@dataclass
class Observation:
    """What is known about the request being served."""

    request_id: str
    started: float
    route: str
    status: int = 0
    operation: str | None = None
    outcome: str | None = None
    user: str | None = None
    call_started: float | None = None


_current: ContextVar[Observation | None] = ContextVar("segmentation_observation", default=None)


def current() -> Observation | None:
    return _current.get()


def fault_name(fault: BaseException) -> str:
    """A declared fault's WSDL name (``CustomerNotFoundFault``), else its faultcode."""
    if type(fault) is Fault:
        return str(getattr(fault, "faultcode", None) or "Server")
    return type(fault).__name__


def note_fault(name: str) -> None:
    """Record the outcome of a request answered before it reached spyne."""
    observation = current()
    if observation is not None:
        observation.outcome = name


def instrument(soap: Any) -> None:
    """Listen to a spyne ``WsgiApplication``'s events for operations, outcomes and runs."""
    soap.event_manager.add_listener("wsgi_return", _answered)
    soap.event_manager.add_listener("wsgi_exception", _faulted)
    soap.app.event_manager.add_listener("method_call", _called)
    soap.app.event_manager.add_listener("method_return_object", _returned)


def note_call(operation: str | None, outcome: str, user: str | None) -> None:
    """Record the operation a request called, how it ended and who called it."""
    observation = current()
    if observation is None:
        return
    observation.operation = operation
    observation.outcome = outcome
    observation.user = user


def _note_call(ctx: Any, outcome: str) -> None:
    operation = ctx.descriptor.name if ctx.descriptor is not None else None
    note_call(operation, outcome, getattr(ctx.udc, "username", None))


def _answered(ctx: Any) -> None:
    _note_call(ctx, metrics.OK)


def _faulted(ctx: Any) -> None:
    error = ctx.out_error or ctx.in_error
    _note_call(ctx, fault_name(error) if error is not None else "Server")


def _called(ctx: Any) -> None:
    observation = current()
    if observation is not None:
        observation.call_started = time.perf_counter()


def _returned(ctx: Any) -> None:
    observation = current()
    if observation is None or observation.call_started is None:
        return
    if ctx.descriptor is not None and ctx.descriptor.name == "SegmentCustomers":
        (response,) = ctx.out_object  # bare: the SegmentCustomersResponse itself
        run = response.run
        seconds = time.perf_counter() - observation.call_started
        metrics.observe_run(str(run.method), seconds, int(run.customerCount))


def route_of(method: str, path: str) -> str:
    path = path.rstrip("/") or "/"
    if path == "/soap":
        return "soap" if method == "POST" else "wsdl"
    if path.endswith(".xsd"):
        return "xsd"
    return {"/healthz": "healthz", "/metrics": "metrics"}.get(path, "other")


class ObservedApp:
    """WSGI middleware: request id in and out, one log line and metrics per request."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        observation = Observation(
            request_id=request_id_from(environ.get("HTTP_X_REQUEST_ID")),
            started=time.perf_counter(),
            route=route_of(method, str(environ.get("PATH_INFO", ""))),
        )
        _current.set(observation)
        bind_request_id(observation.request_id)

        def observed_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            observation.status = int(status.split(" ", 1)[0])
            headers = [(k, v) for k, v in headers if k.lower() != REQUEST_ID_HEADER.lower()]
            headers.append((REQUEST_ID_HEADER, observation.request_id))
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        try:
            body = self.app(environ, observed_start_response)
        except Exception:
            observation.status = observation.status or 500
            observation.outcome = observation.outcome or "InternalError"
            self._finish(observation, method, environ)
            raise
        return _ClosingBody(body, lambda: self._finish(observation, method, environ))

    def _finish(self, observation: Observation, method: str, environ: dict[str, Any]) -> None:
        seconds = time.perf_counter() - observation.started
        try:
            operation, outcome = self._classify(observation, seconds)
            level = logging.DEBUG if observation.route in PROBES else logging.INFO
            fields = {
                "method": method,
                "path": _clean(str(environ.get("PATH_INFO", ""))),
                "operation": operation,
                "outcome": outcome,
                "status": observation.status,
                "duration_ms": round(seconds * 1000, 1),
                "user": observation.user,
            }
            access_log.log(level, "request", extra={"fields": fields})
        finally:
            _current.set(None)
            bind_request_id(None)

    @staticmethod
    def _classify(observation: Observation, seconds: float) -> tuple[str, str]:
        status = observation.status
        if observation.route != "soap":
            return observation.route, observation.outcome or ("ok" if status < 400 else "error")
        operation = observation.operation or OPERATION_UNKNOWN
        outcome = observation.outcome or (metrics.OK if status < 400 else f"HTTP{status}")
        metrics.observe_request(operation, outcome, seconds)
        return operation, outcome


def _clean(path: str) -> str:
    """The path, at most 200 characters, with anything unprintable escaped."""
    text = path[:200]
    return text if text.isprintable() and text.isascii() else ascii(text)[1:-1]


class _ClosingBody:
    """The response body; ``close()`` (which every WSGI server calls) ends the observation."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._body = body
        self._on_close = on_close
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()
