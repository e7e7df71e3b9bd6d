"""GetCustomerSegment and ListSegmentMembers: reads a CRM makes on every customer screen."""

from __future__ import annotations

from segmentation_service.domain.errors import (
    CustomerNotFound,
    InvalidRequest,
    RunNotFound,
    SegmentNotFound,
)
from segmentation_service.domain.model import (
    CONTRACT_1_3_METHODS,
    CustomerSegment,
    MemberPage,
    RunStatus,
    SegmentationMethod,
)
from segmentation_service.services import paging
from segmentation_service.store.reads import LookupReads
from segmentation_service.store.uow import UnitOfWork

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def get_customer_segment(
    customer_id: str,
    method: SegmentationMethod | None,
    run_id: int | None,
    uow: UnitOfWork,
) -> list[CustomerSegment]:
    """The customer's segment per method, from the newest completed run that covered it.

    With ``run_id``, its segment in that run only. A run that left the
    customer unassigned contributes nothing; that is not an error. Without a
    method, the methods of contract 1.3 (a behavioural segment when asked for).
    """

    def lookup(reads: LookupReads) -> list[CustomerSegment]:
        methods = [method] if method is not None else list(CONTRACT_1_3_METHODS)
        if run_id is not None:
            run_method, _status = _run(reads, run_id)
            if method is not None and method is not run_method:
                raise InvalidRequest("method", f"run {run_id} is a {run_method.value} run")
            methods = [run_method]
        found = reads.latest_by_method(customer_id, methods, run_id)
        # An assignment proves the customer exists; only an empty answer needs the check.
        if not found and not reads.existing_ids([customer_id]):
            raise CustomerNotFound(customer_id)
        return [found[m] for m in methods if m in found]

    return uow.read(lookup)


def list_segment_members(
    segment_code: str,
    run_id: int | None,
    method: SegmentationMethod | None,
    page_size: int | None,
    page_token: str | None,
    uow: UnitOfWork,
) -> MemberPage:
    """One page of a segment's members in customer id order, with the token of the next."""
    if (run_id is None) == (method is None):
        raise InvalidRequest("runId", "give either runId or method (one of them)")
    size = page_size_or_default(page_size)
    cursor = paging.decode(page_token) if page_token is not None else None

    def lookup(reads: LookupReads) -> MemberPage:
        page_run = run_id
        if page_run is None:
            assert method is not None
            # A token pins the run it started on, so paging survives a newer run.
            page_run = cursor.run_id if cursor else reads.latest_completed(method)
            if page_run is None:
                raise InvalidRequest("method", f"there is no completed {method.value} run yet")
        after = cursor.after if cursor else None
        found = reads.segment_page(page_run, segment_code, after, size + 1)
        if found is None:
            raise RunNotFound(page_run)
        if run_id is None and cursor and found.method is not method:
            raise InvalidRequest("pageToken", "belongs to a run of another method")
        if found.status is not RunStatus.COMPLETED:
            raise RunNotFound(page_run, f"has no results (status {found.status.value})")
        if cursor and (cursor.run_id, cursor.segment_code) != (page_run, segment_code):
            raise InvalidRequest("pageToken", "belongs to another run or segment")
        if found.size is None:
            raise SegmentNotFound(page_run, segment_code)
        rows, total = found.members, found.size
        next_token = None
        if len(rows) > size:
            rows = rows[:size]
            next_token = paging.encode(paging.Cursor(page_run, segment_code, rows[-1].customer_id))
        return MemberPage(page_run, segment_code, total, tuple(rows), next_token)

    return uow.read(lookup)


def page_size_or_default(page_size: int | None) -> int:
    size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidRequest("pageSize", f"must be between 1 and {MAX_PAGE_SIZE}, got {size}")
    return size


def _run(reads: LookupReads, run_id: int) -> tuple[SegmentationMethod, RunStatus]:
    found = reads.run_method_and_status(run_id)
    if found is None:
        raise RunNotFound(run_id)
    return found
