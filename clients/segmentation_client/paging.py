"""Following a listing's nextPageToken to the last page (ListSegmentMembers, ListSegmentMovers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .responses import list_segment_members_response, list_segment_movers_response

# Called after each page with (items so far, totalCount of the latest page).
PageListener = Callable[[int, int | None], None]
# The request of the pages after the first: (first request less its pageToken, first page).
FollowUp = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


class PagingError(Exception):
    """The service's pages would make paging loop forever or lose items."""


def _same_request(request: dict[str, Any], first: dict[str, Any]) -> dict[str, Any]:
    return request


def iterate_pages(
    operation: Callable[..., Any],
    request: dict[str, Any],
    shape: Callable[[Any], dict[str, Any]],
    follow_up: FollowUp = _same_request,
) -> Iterator[dict[str, Any]]:
    """Each page of a listing, as `shape` (a `responses` function) makes it.

    `request` is the first page's request; `operation` is the service operation
    (service.ListSegmentMovers, say). Later pages send `follow_up`'s request with
    the previous page's nextPageToken; a token the service repeats is an error
    rather than an endless loop.
    """
    page = shape(operation(**request))
    yield page
    later = follow_up({name: value for name, value in request.items() if name != "pageToken"}, page)
    seen_tokens: set[str] = set()
    token = page["nextPageToken"]
    while token:
        if token in seen_tokens:
            raise PagingError(f"the service returned page token {token!r} twice")
        seen_tokens.add(token)
        page = shape(operation(**later, pageToken=token))
        yield page
        token = page["nextPageToken"]


def _pinned_to_run(request: dict[str, Any], first: dict[str, Any]) -> dict[str, Any]:
    """Later pages name the run the first page resolved to: with a `method`, a run
    finishing mid-way would otherwise switch the "latest run" under our feet."""
    later = {name: value for name, value in request.items() if name != "method"}
    later["runId"] = first["runId"]
    return later


def iterate_member_pages(
    list_segment_members: Callable[..., Any], request: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Each page of a segment's members, as shaped by list_segment_members_response."""
    return iterate_pages(
        list_segment_members, request, list_segment_members_response, _pinned_to_run
    )


def iterate_mover_pages(
    list_segment_movers: Callable[..., Any], request: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Each page of the movers between two runs, as shaped by list_segment_movers_response
    (the runs are named by id: nothing to pin)."""
    return iterate_pages(list_segment_movers, request, list_segment_movers_response)


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
