"""Opaque keyset page tokens for ListSegmentMembers and ListSegmentMovers.

A token names the run, the segment and the last customer id served, so the
next page starts right after it whatever was written meanwhile, and a deep
page costs what the first one does. Tokens are not secret: they only move a
cursor the caller could move anyway, and are checked against the request.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from segmentation_service.domain.errors import InvalidRequest

VERSION = 1
MOVERS = "movers"


@dataclass(frozen=True)
class Cursor:
    run_id: int
    segment_code: str
    after: str


def encode(cursor: Cursor) -> str:
    return _encode([VERSION, cursor.run_id, cursor.segment_code, cursor.after])


def decode(token: str) -> Cursor:
    with _issued_by_us():
        version, run_id, segment_code, after = _decode(token)
        if version != VERSION or not isinstance(run_id, int) or not isinstance(after, str):
            raise ValueError("unexpected token content")
        return Cursor(run_id, str(segment_code), after)


@dataclass(frozen=True)
class MoverCursor:
    """Where a page of movers ends, for which filter, and how many there are in all.

    The total rides along: the two runs are completed, so it cannot change, and a
    deep page need not count every mover again.
    """

    filter_key: str
    after: str
    total_count: int


def encode_movers(cursor: MoverCursor) -> str:
    return _encode([VERSION, MOVERS, cursor.filter_key, cursor.after, cursor.total_count])


def decode_movers(token: str) -> MoverCursor:
    with _issued_by_us():
        version, kind, filter_key, after, total = _decode(token)
        if version != VERSION or kind != MOVERS or not isinstance(total, int):
            raise ValueError("unexpected token content")
        if not isinstance(filter_key, str) or not isinstance(after, str):
            raise ValueError("unexpected token content")
        return MoverCursor(filter_key, after, total)


def _encode(content: list[Any]) -> str:
    payload = json.dumps(content, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode(token: str) -> Any:
    padded = token + "=" * (-len(token) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


@contextmanager
def _issued_by_us() -> Iterator[None]:
    """Turns whatever a foreign or damaged token raises into the caller's fault."""
    try:
        yield
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequest("pageToken", "is not a token this service issued") from exc
