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
    with uow:
        methods = [method] if method is not None else list(CONTRACT_1_3_METHODS)
        if run_id is not None:
            run_method, _status = _run(uow, run_id)
            if method is not None and method is not run_method:
                raise InvalidRequest("method", f"run {run_id} is a {run_method.value} run")
            methods = [run_method]
        found = uow.assignments.latest_by_method(customer_id, methods, run_id)
        # An assignment proves the customer exists; only an empty answer needs the check.
        if not found and not uow.customers.existing_ids([customer_id]):
            raise CustomerNotFound(customer_id)
        return [found[m] for m in methods if m in found]


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
    with uow:
        if run_id is None:
            assert method is not None
            # A token pins the run it started on, so paging survives a newer run.
            run_id = cursor.run_id if cursor else uow.runs.latest_completed(method)
            if run_id is None:
                raise InvalidRequest("method", f"there is no completed {method.value} run yet")
            if cursor and _run(uow, run_id)[0] is not method:
                raise InvalidRequest("pageToken", "belongs to a run of another method")
        status = _run(uow, run_id)[1]
        if status is not RunStatus.COMPLETED:
            raise RunNotFound(run_id, f"has no results (status {status.value})")
        if cursor and (cursor.run_id, cursor.segment_code) != (run_id, segment_code):
            raise InvalidRequest("pageToken", "belongs to another run or segment")
        segment = uow.runs.segment(run_id, segment_code)
        if segment is None:
            raise SegmentNotFound(run_id, segment_code)
        rows = uow.assignments.page(
            run_id, segment_code, cursor.after if cursor else None, size + 1
        )
    next_token = None
    if len(rows) > size:
        rows = rows[:size]
        next_token = paging.encode(paging.Cursor(run_id, segment_code, rows[-1].customer_id))
    return MemberPage(run_id, segment_code, segment.size, tuple(rows), next_token)


def page_size_or_default(page_size: int | None) -> int:
    size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidRequest("pageSize", f"must be between 1 and {MAX_PAGE_SIZE}, got {size}")
    return size


def _run(uow: UnitOfWork, run_id: int) -> tuple[SegmentationMethod, RunStatus]:
    found = uow.runs.method_of(run_id)
    if found is None:
        raise RunNotFound(run_id)
    return found
