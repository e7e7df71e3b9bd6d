"""SubmitSegmentation, SegmentCustomers and CancelSegmentationRun: runs through the queue.

A submission is checked at once (request rules, known customers) and recorded
as a Queued run that carries its request; a run worker claims and executes it
(``segmentation.execute_run``). SegmentCustomers is a submission its caller
waits for.
"""

from __future__ import annotations

import time

from segmentation_service.domain.errors import (
    CustomerNotFound,
    InsufficientData,
    InvalidRequest,
    RunNotFound,
)
from segmentation_service.domain.model import (
    RunStatus,
    SegmentationRequest,
    SegmentationRun,
)
from segmentation_service.domain.request_codec import encode
from segmentation_service.services.clock import Clock, utc_now
from segmentation_service.services.executors import RunLayout
from segmentation_service.services.queue import RunQueue
from segmentation_service.services.requests import check_request
from segmentation_service.services.segmentation import execute_run
from segmentation_service.store.uow import UnitOfWork

IDEMPOTENCY_KEY_FIELD = "idempotencyKey"


def submit_segmentation(
    request: SegmentationRequest,
    uow: UnitOfWork,
    queue: RunQueue,
    now: Clock = utc_now,
    started_by: str | None = None,
    idempotency_key: str | None = None,
) -> SegmentationRun:
    """Record the run as Queued and hand it to the queue; answers at once.

    The same ``idempotency_key`` from the same caller answers with the run it
    first submitted, whatever its status, and submits nothing.
    """
    run_id, new = record_run(request, uow, now, started_by, idempotency_key)
    if new:
        queue.enqueue(run_id)
    return _get(uow, run_id)


def segment_customers(
    request: SegmentationRequest,
    uow: UnitOfWork,
    now: Clock = utc_now,
    started_by: str | None = None,
    layout: RunLayout | None = None,
) -> SegmentationRun:
    """Record the run and execute it from this process (no queue); raises what the run raised.

    Its partitions execute as ``layout`` says (default: inline, in this process).
    """
    run_id, _ = record_run(request, uow, now, started_by)
    run = execute_run(run_id, uow, now, layout)
    return run if run is not None else _get(uow, run_id)


def record_run(
    request: SegmentationRequest,
    uow: UnitOfWork,
    now: Clock = utc_now,
    started_by: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[int, bool]:
    """(run id, whether it is new): the Queued run, or the one the key already names."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 100:
        raise InvalidRequest(IDEMPOTENCY_KEY_FIELD, "must be 1 to 100 characters")
    queued_at = now()
    options = check_request(request, queued_at.date())
    ids = None if request.customer_ids is None else tuple(dict.fromkeys(request.customer_ids))
    with uow:
        if idempotency_key is not None:
            found = uow.run_states.by_idempotency_key(started_by, idempotency_key)
            if found is not None:
                return found, False
        if ids is not None:
            known = uow.customers.existing_ids(ids)
            for customer_id in ids:
                if customer_id not in known:
                    raise CustomerNotFound(customer_id)
        parameters = {**options.for_method(request.method), "customerIds": len(ids or ()) or None}
        run_id = uow.run_states.queue(
            request.method,
            request.label,
            parameters,
            encode(request),
            queued_at,
            started_by,
            idempotency_key,
        )
        uow.commit()
    return run_id, True


def wait_for_run(run_id: int, uow: UnitOfWork, poll_seconds: float = 0.2) -> SegmentationRun:
    """The run once it has finished; a run that failed raises as SegmentCustomers always has.

    Failed on a data condition or a bad request: the same InvalidRequest
    (InvalidRequestFault); failed on a bug or with its worker gone: RuntimeError,
    a Server fault whose reference is logged.
    """
    while True:
        with uow:
            status = uow.run_states.status(run_id)
            if status is None:
                raise RunNotFound(run_id)
            if status is RunStatus.FAILED:
                kind, field, reason = uow.run_states.failure(run_id)
        if status is RunStatus.FAILED:
            if kind == "request":
                text = reason or "the run failed"
                prefix = f"{field}: " if field else ""
                raise InsufficientData(text.removeprefix(prefix), field or "")
            raise RuntimeError(f"segmentation run {run_id} failed: {reason}")
        if status.finished:
            return _get(uow, run_id)
        time.sleep(poll_seconds)


def cancel_segmentation_run(run_id: int, uow: UnitOfWork, now: Clock = utc_now) -> SegmentationRun:
    """Cancel a Queued run now, or ask a Running one to stop at its next checkpoint."""
    with uow:
        before = uow.run_states.request_cancel(run_id, now())
        if before is None:
            raise RunNotFound(run_id)
        if before.finished:
            raise InvalidRequest(
                "runId", f"segmentation run {run_id} has already finished ({before.value})"
            )
        uow.commit()
    return _get(uow, run_id)


def _get(uow: UnitOfWork, run_id: int) -> SegmentationRun:
    with uow:
        run = uow.runs.get(run_id)
    if run is None:
        raise RunNotFound(run_id)
    return run
