"""Log records as text or JSON lines, each tagged with the id of the request it belongs to.

A request's id comes from its ``X-Request-ID`` header when that is a sane token,
else it is generated; the WSGI middleware keeps it in a context variable for the
thread serving the request, so every record logged meanwhile carries it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, TextIO

REQUEST_ID_HEADER = "X-Request-ID"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
# Letters, digits and a few separators, at most 128 characters: what proxies send
# (nginx's $request_id, UUIDs), and nothing that could forge a log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}")
_PLAIN_VALUE = re.compile(r"[\w.:/+=@,-]+")
_request_id: ContextVar[str | None] = ContextVar("segmentation_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(header: str | None) -> str:
    """The incoming ``X-Request-ID`` when it is sane, else a new id."""
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return new_request_id()


def current_request_id() -> str | None:
    """The id of the request this thread is serving, if any."""
    return _request_id.get()


def incident_reference() -> str:
    """The reference an unexpected error is answered and logged with.

    Within a request it is the request's id, which every record logged for the
    request carries; elsewhere a new short id.
    """
    return current_request_id() or uuid.uuid4().hex[:12]


def bind_request_id(request_id: str | None) -> Token[str | None]:
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's structured fields (``extra={"fields": {...}}``) and its request id."""
    fields: dict[str, Any] = dict(getattr(record, "fields", None) or {})
    request_id = getattr(record, "request_id", None) or current_request_id()
    if request_id and "request_id" not in fields:
        fields = {"request_id": request_id, **fields}
    return {key: value for key, value in fields.items() if value is not None}


def _text_value(value: Any) -> str:
    text = str(value)
    return text if _PLAIN_VALUE.fullmatch(text) else json.dumps(text)


class TextFormatter(logging.Formatter):
    """``time LEVEL [pid] logger: message key=value ...``."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        line = super().formatMessage(record)
        pairs = [f"{key}={_text_value(value)}" for key, value in record_fields(record).items()]
        return " ".join([line, *pairs])


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, pid, message, then the fields."""

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
            **record_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(level: str, log_format: str, stream: TextIO | None = None) -> None:
    """Send every logger's records to ``stream`` (stderr) in ``log_format``.

    Like ``logging.basicConfig``, it leaves alone a root logger that someone else
    (a test runner, an embedding program) has already given handlers; called
    again, it replaces its own handler.
    """
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if getattr(handler, "_segmentation", False)]
    if len(ours) < len(root.handlers):
        return
    for handler in ours:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._segmentation = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level.upper())
