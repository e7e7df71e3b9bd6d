"""Runs through the queue, at the service level, over a real store (SQLite and PostgreSQL).

The queue here is the RunQueue seam itself: a list of the run ids handed to it,
which the test then executes as a run worker would (``execute_run``). The real
huey workers are driven in tests/contract/test_run_workers.py.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from segmentation_service import services
from segmentation_service.domain.errors import (
    CustomerNotFound,
    InsufficientData,
    InvalidRequest,
    RunNotFound,
    ScheduleNotFound,
)
from segmentation_service.domain.model import (
    APrioriOptions,
    NeedsBasedOptions,
    RunStatus,
    SegmentationMethod,
    SegmentationRequest,
    ValueBasedOptions,
)
from segmentation_service.engines.a_priori_partitions import APrioriPartitionPlan
from segmentation_service.services import liveness
from segmentation_service.services.schedules import next_due, submit_due_schedules
from segmentation_service.services.segmentation import execute_run
from segmentation_service.store.database import Store
from tests import factories

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)
BY_TYPE = SegmentationRequest(
    SegmentationMethod.A_PRIORI, label="by type", a_priori=APrioriOptions(("customerType",))
)


class ListQueue:
    """The RunQueue protocol, keeping what it was handed."""

    def __init__(self) -> None:
        self.run_ids: list[int] = []

    def enqueue(self, run_id: int) -> None:
        self.run_ids.append(run_id)


def clock() -> datetime:
    return NOW


def submit(store: Store, queue: ListQueue, request: SegmentationRequest = BY_TYPE, **kw: Any):  # type: ignore[no-untyped-def]
    return services.submit_segmentation(request, store.unit_of_work(), queue, now=clock, **kw)


def test_a_submission_is_queued_at_once_and_a_worker_completes_it(store: Store) -> None:
    factories.load_demo(store, 120)
    queue = ListQueue()

    queued = submit(store, queue, started_by="ana")

    assert (queued.status, queued.phase, queued.progress) == (RunStatus.QUEUED, "Queued", 0.0)
    assert queued.queued_at == queued.started_at == NOW
    assert queue.run_ids == [queued.run_id]
    done = execute_run(queued.run_id, store.unit_of_work(), now=clock)
    assert done is not None
    assert (done.status, done.phase, done.progress) == (RunStatus.COMPLETED, "Done", 1.0)
    assert done.assigned_count == done.customer_count == 120
    assert done.queued_at == NOW and done.started_by == "ana"
    # A second delivery of the same message executes nothing.
    assert execute_run(queued.run_id, store.unit_of_work(), now=clock) is None


def test_the_same_idempotency_key_answers_with_the_first_run_for_the_same_user_only(
    store: Store,
) -> None:
    factories.load_demo(store, 60)
    queue = ListQueue()

    first = submit(store, queue, started_by="ana", idempotency_key="nightly-2026-07-01")
    again = submit(store, queue, started_by="ana", idempotency_key="nightly-2026-07-01")
    other = submit(store, queue, started_by="bob", idempotency_key="nightly-2026-07-01")

    assert again.run_id == first.run_id != other.run_id
    assert queue.run_ids == [first.run_id, other.run_id]
    with pytest.raises(InvalidRequest) as refused:
        submit(store, queue, started_by="ana", idempotency_key="x" * 101)
    assert refused.value.field == "idempotencyKey"


def test_a_submission_is_checked_before_it_is_queued(store: Store) -> None:
    factories.load_demo(store, 30)
    queue = ListQueue()
    with pytest.raises(CustomerNotFound):
        submit(
            store, queue, SegmentationRequest(SegmentationMethod.A_PRIORI, customer_ids=("NOPE",))
        )
    with pytest.raises(InvalidRequest) as refused:
        submit(
            store,
            queue,
            SegmentationRequest(SegmentationMethod.A_PRIORI, value_based=ValueBasedOptions()),
        )
    assert refused.value.field == "valueBased"
    assert queue.run_ids == []


def test_a_cancelled_queued_run_never_starts(store: Store) -> None:
    factories.load_demo(store, 40)
    queue = ListQueue()
    queued = submit(store, queue)

    cancelled = services.cancel_segmentation_run(queued.run_id, store.unit_of_work(), now=clock)

    assert cancelled.status is RunStatus.CANCELLED and cancelled.finished_at == NOW
    assert execute_run(queued.run_id, store.unit_of_work(), now=clock) is None
    assert services.get_segmentation_run(queued.run_id, store.unit_of_work()).assigned_count == 0
    with pytest.raises(InvalidRequest) as again:
        services.cancel_segmentation_run(queued.run_id, store.unit_of_work())
    assert again.value.field == "runId"
    with pytest.raises(RunNotFound):
        services.cancel_segmentation_run(999_999, store.unit_of_work())


def test_a_running_run_stops_at_its_next_checkpoint_and_writes_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories.load_demo(store, 80)
    queue = ListQueue()
    queued = submit(store, queue)
    fitting, release = threading.Event(), threading.Event()
    real_fit = APrioriPartitionPlan.fit

    def slow_fit(*args: Any) -> Any:
        fitting.set()
        assert release.wait(30)
        return real_fit(*args)

    monkeypatch.setattr(APrioriPartitionPlan, "fit", slow_fit)
    outcome: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: outcome.update(run=execute_run(queued.run_id, store.unit_of_work()))
    )
    worker.start()
    assert fitting.wait(30)

    asked = services.cancel_segmentation_run(queued.run_id, store.unit_of_work())
    release.set()
    worker.join(30)

    assert asked.status is RunStatus.RUNNING  # answered at once, as it stood
    final = outcome["run"]
    assert final.status is RunStatus.CANCELLED and final.segments == ()
    with store.unit_of_work() as uow:
        assert uow.runs.segments(queued.run_id) == []
        assert uow.runs.latest_completed(SegmentationMethod.A_PRIORI) is None


def test_waiting_for_a_run_that_failed_on_the_data_raises_what_segment_customers_raised(
    store: Store,
) -> None:
    factories.load_demo(store, 5)
    queue = ListQueue()
    request = SegmentationRequest(
        SegmentationMethod.NEEDS_BASED, needs_based=NeedsBasedOptions(segment_count=20)
    )
    queued = submit(store, queue, request)
    with pytest.raises(InsufficientData):
        execute_run(queued.run_id, store.unit_of_work())

    with pytest.raises(InsufficientData) as waited:
        services.wait_for_run(queued.run_id, store.unit_of_work())

    assert waited.value.field == "needsBased"
    failed = services.get_segmentation_run(queued.run_id, store.unit_of_work())
    assert failed.failure_reason == str(waited.value)


def test_listing_runs_shows_queued_and_cancelled_runs_only_when_asked(store: Store) -> None:
    factories.load_demo(store, 30)
    queue = ListQueue()
    done = submit(store, queue)
    execute_run(done.run_id, store.unit_of_work())
    waiting = submit(store, queue)
    cancelled = submit(store, queue)
    services.cancel_segmentation_run(cancelled.run_id, store.unit_of_work())

    default = services.list_segmentation_runs(None, None, None, store.unit_of_work())
    asked = services.list_segmentation_runs(
        None, None, None, store.unit_of_work(), statuses=[RunStatus.QUEUED, RunStatus.CANCELLED]
    )

    assert [run.run_id for run in default] == [done.run_id]
    assert [run.run_id for run in asked] == [cancelled.run_id, waiting.run_id]


def test_an_orphaned_run_is_queued_again_once_then_failed(store: Store) -> None:
    factories.load_demo(store, 30)
    queue = ListQueue()
    queued = submit(store, queue)
    later = NOW + liveness.STALE_AFTER + timedelta(seconds=1)
    for attempt in (1, 2):
        with store.unit_of_work() as uow:
            assert uow.run_states.claim(queued.run_id, "gone-host:1", NOW) is not None
            uow.commit()
        requeued, failed = liveness.recover_interrupted_runs(
            store.unit_of_work(), queue, now=lambda: later
        )
        if attempt == 1:
            assert (requeued, failed) == ([queued.run_id], [])
            run = services.get_segmentation_run(queued.run_id, store.unit_of_work())
            assert run.status is RunStatus.QUEUED
        else:
            assert (requeued, failed) == ([], [queued.run_id])
    assert queue.run_ids == [queued.run_id, queued.run_id]
    run = services.get_segmentation_run(queued.run_id, store.unit_of_work())
    assert run.status is RunStatus.FAILED and run.failure_reason == liveness.INTERRUPTED


def test_a_due_schedule_submits_one_run_however_many_workers_look(store: Store) -> None:
    factories.load_demo(store, 30)
    created = services.create_schedule(
        "nightly", "0 2 * * *", BY_TYPE, None, store.unit_of_work(), now=clock, created_by="ana"
    )
    assert created.next_run_at == datetime(2026, 7, 2, 2, 0, tzinfo=timezone.utc)
    assert created.enabled and created.request == BY_TYPE
    due = lambda: datetime(2026, 7, 2, 2, 0, 30, tzinfo=timezone.utc)  # noqa: E731
    queues = [ListQueue(), ListQueue()]

    submitted = [submit_due_schedules(store.unit_of_work(), q, now=due) for q in queues]

    assert sorted(map(len, submitted)) == [0, 1]
    (run_id,) = submitted[0] or submitted[1]
    run = services.get_segmentation_run(run_id, store.unit_of_work())
    assert (run.label, run.status, run.started_by) == ("nightly", RunStatus.QUEUED, "ana")
    (listed,) = services.list_schedules(store.unit_of_work())
    assert listed.last_run_id == run_id
    assert listed.next_run_at == datetime(2026, 7, 3, 2, 0, tzinfo=timezone.utc)


def test_schedules_refuse_bad_cron_and_duplicate_names_and_delete_answers_the_schedule(
    store: Store,
) -> None:
    uow = store.unit_of_work()
    for bad in ("* * *", "61 * * * *", "every day"):
        with pytest.raises(InvalidRequest) as refused:
            services.create_schedule("s", bad, BY_TYPE, True, uow, now=clock)
        assert refused.value.field == "cron"
    first = services.create_schedule("s", "*/15 * * * *", BY_TYPE, False, uow, now=clock)
    with pytest.raises(InvalidRequest) as duplicate:
        services.create_schedule("s", "0 * * * *", BY_TYPE, True, uow, now=clock)
    assert duplicate.value.field == "name"

    deleted = services.delete_schedule(first.schedule_id, uow)

    assert deleted == first and not deleted.enabled
    assert services.list_schedules(uow) == []
    with pytest.raises(ScheduleNotFound):
        services.delete_schedule(first.schedule_id, uow)


def test_a_disabled_schedule_moves_on_without_submitting(store: Store) -> None:
    services.create_schedule("off", "* * * * *", BY_TYPE, False, store.unit_of_work(), now=clock)
    queue = ListQueue()
    assert (
        submit_due_schedules(store.unit_of_work(), queue, now=lambda: NOW + timedelta(minutes=1))
        == []
    )
    (schedule,) = services.list_schedules(store.unit_of_work())
    assert schedule.next_run_at == NOW + timedelta(minutes=2) and queue.run_ids == []


def test_next_due_is_strictly_after_the_moment_in_utc() -> None:
    assert next_due("0 2 * * *", NOW) == datetime(2026, 7, 2, 2, 0, tzinfo=timezone.utc)
    assert next_due("* * * * *", NOW) == NOW + timedelta(minutes=1)
    assert next_due("0 9 * * *", NOW.replace(minute=0, second=5)) == datetime(
        2026, 7, 2, 9, 0, tzinfo=timezone.utc
    )


def test_a_queued_run_whose_message_was_lost_is_queued_again_when_the_queue_is_empty(
    store: Store, database_url: str
) -> None:
    from segmentation_service.jobs import queue as jobs

    factories.load_demo(store, 40)
    lost = submit(store, ListQueue())  # recorded as Queued; its message went nowhere
    # huey in immediate mode: an empty queue that executes what it is handed, here.
    immediate = jobs.create_queue(jobs.IMMEDIATE, database_url)

    jobs._requeue_lost(store, immediate, now=lambda: NOW + timedelta(minutes=1))
    assert services.get_segmentation_run(lost.run_id, store.unit_of_work()).status is (
        RunStatus.QUEUED
    )  # not yet: it may still be on its way
    jobs._requeue_lost(store, immediate, now=lambda: NOW + jobs.LOST_AFTER + timedelta(seconds=1))

    run = services.get_segmentation_run(lost.run_id, store.unit_of_work())
    assert run.status is RunStatus.COMPLETED and run.assigned_count == 40
