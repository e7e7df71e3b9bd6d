"""Following ListSegmentMembers' nextPageToken to the last page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .responses import list_segment_members_response

# Called after each page with (members so far, totalCount of the latest page).
PageListener = Callable[[int, int | None], None]


class PagingError(Exception):
    """The service's pages would make paging loop forever or lose members."""


def iterate_member_pages(
    list_segment_members: Callable[..., Any], request: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Each page of a segment's members, as shaped by list_segment_members_response.

    `request` is the first page's request; `list_segment_members` is the
    service operation (service.ListSegmentMembers). Later pages name the run
    the first page resolved to: with a `method`, a run finishing mid-way would
    otherwise switch the "latest run" under our feet.
    """
    page = list_segment_members_response(list_segment_members(**request))
    yield page
    follow_up = {
        name: value for name, value in request.items() if name not in ("method", "pageToken")
    }
    follow_up["runId"] = page["runId"]
    seen_tokens: set[str] = set()
    token = page["nextPageToken"]
    while token:
        if token in seen_tokens:
            raise PagingError(f"the service returned page token {token!r} twice")
        seen_tokens.add(token)
        page = list_segment_members_response(list_segment_members(**follow_up, pageToken=token))
        yield page
        token = page["nextPageToken"]


def fetch_all_members(
    list_segment_members: Callable[..., Any],
    request: dict[str, Any],
    on_page: PageListener | None = None,
) -> dict[str, Any]:
    """Every member of a segment: {runId, segmentCode, totalCount, members: [...]}."""
    members: list[Any] = []
    first: dict[str, Any] | None = None
    total_count = None
    for page in iterate_member_pages(list_segment_members, request):
        first = first or page
        members.extend(page["members"]["member"])
        total_count = page["totalCount"]
        if on_page is not None:
            on_page(len(members), total_count)
    assert first is not None  # the generator always yields the first page
    return {
        "runId": first["runId"],
        "segmentCode": first["segmentCode"],
        "totalCount": total_count,
        "members": members,
    }
