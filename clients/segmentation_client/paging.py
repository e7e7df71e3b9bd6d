"""Following ListSegmentMembers' nextPageToken to the last page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .responses import list_segment_members_response


class PagingError(Exception):
    """The service's page tokens would make paging loop forever."""


def fetch_all_members(
    list_segment_members: Callable[..., Any], request: dict[str, Any]
) -> dict[str, Any]:
    """Every member of a segment: {runId, segmentCode, totalCount, members: [...]}.

    `request` is the first page's request; `list_segment_members` is the
    service operation (service.ListSegmentMembers).
    """
    first = list_segment_members_response(list_segment_members(**request))
    members: list[Any] = list(first["members"]["member"])
    total_count = first["totalCount"]
    # Later pages name the run the first page resolved to: with --method, a run
    # finishing mid-way would otherwise switch the "latest run" under our feet.
    follow_up = {
        name: value for name, value in request.items() if name not in ("method", "pageToken")
    }
    follow_up["runId"] = first["runId"]
    seen_tokens: set[str] = set()
    token = first["nextPageToken"]
    while token:
        if token in seen_tokens:
            raise PagingError(f"the service returned page token {token!r} twice")
        seen_tokens.add(token)
        page = list_segment_members_response(list_segment_members(**follow_up, pageToken=token))
        members.extend(page["members"]["member"])
        total_count = page["totalCount"]
        token = page["nextPageToken"]
    return {
        "runId": first["runId"],
        "segmentCode": first["segmentCode"],
        "totalCount": total_count,
        "members": members,
    }
