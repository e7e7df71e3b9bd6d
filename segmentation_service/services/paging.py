"""Opaque keyset page tokens for ListSegmentMembers.

A token names the run, the segment and the last customer id served, so the
next page starts right after it whatever was written meanwhile, and a deep
page costs what the first one does. Tokens are not secret: they only move a
cursor the caller could move anyway, and are checked against the request.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from segmentation_service.domain.errors import InvalidRequest

VERSION = 1


@dataclass(frozen=True)
class Cursor:
    run_id: int
    segment_code: str
    after: str


def encode(cursor: Cursor) -> str:
    payload = json.dumps(
        [VERSION, cursor.run_id, cursor.segment_code, cursor.after], separators=(",", ":")
    )
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(token: str) -> Cursor:
    try:
        padded = token + "=" * (-len(token) % 4)
        version, run_id, segment_code, after = json.loads(base64.urlsafe_b64decode(padded))
        if version != VERSION or not isinstance(run_id, int) or not isinstance(after, str):
            raise ValueError("unexpected token content")
        return Cursor(run_id, str(segment_code), after)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequest("pageToken", "is not a token this service issued") from exc
