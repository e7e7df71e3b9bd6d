"""Runs whose process died: a heartbeat while a run works, a sweep that retries or fails them.

A run writes its results in one transaction at its end, so a process that
dies mid-run leaves no partial results — only a run record stuck at
Running. The run's thread bumps ``heartbeat_at`` every ``HEARTBEAT_SECONDS``;
a Running run whose heartbeat is older than ``STALE_AFTER``, or whose process
on this host no longer exists, is an orphan. ``recover_interrupted_runs`` (every
run worker, every minute) queues an orphan again for another worker if it has
been tried fewer than ``MAX_ATTEMPTS`` times, else marks it Failed;
``fail_interrupted_runs`` (at server start, no queue at hand) marks them Failed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from segmentation_service.services.clock import Clock, utc_now
from segmentation_service.services.queue import RunQueue
from segmentation_service.store.uow import UnitOfWork

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
STALE_AFTER = timedelta(seconds=6 * HEARTBEAT_SECONDS)
INTERRUPTED = "interrupted: the process running it stopped before it completed"
MAX_ATTEMPTS = 2  # a run whose worker died is retried once


def this_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def heartbeat(uow: UnitOfWork, run_id: int, now: Clock = utc_now) -> Iterator[None]:
    """Bump the run's heartbeat from a background thread while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                with uow:
                    uow.runs.beat(run_id, now())
                    uow.commit()
            except Exception:  # a missed beat is harmless; the next one may work
                logger.warning("could not record the heartbeat of run %s", run_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def fail_interrupted_runs(uow: UnitOfWork, now: Clock = utc_now) -> list[int]:
    """Mark Failed every Running run whose process is gone; returns their ids."""
    return recover_interrupted_runs(uow, None, now)[1]


def recover_interrupted_runs(
    uow: UnitOfWork, queue: RunQueue | None, now: Clock = utc_now
) -> tuple[list[int], list[int]]:
    """(requeued, failed): orphans queued again (with a queue, while tries remain) or Failed.

    Either way the assignment rows the orphan's partitions committed are deleted.
    """
    moment = now()
    host = socket.gethostname()
    requeued: list[int] = []
    failed: list[int] = []
    with uow:
        for run_id, runner, beat_at in uow.runs.running():
            if not _is_orphan(runner, beat_at, moment, host):
                continue
            # Partitions it committed stay invisible (the run never completed); remove them.
            uow.assignments.discard(run_id)
            if queue is not None and uow.run_states.attempts(run_id) < MAX_ATTEMPTS:
                uow.run_states.requeue(run_id)
                requeued.append(run_id)
            else:
                uow.runs.fail(run_id, INTERRUPTED, moment, "interrupted")
                failed.append(run_id)
        uow.commit()
    for run_id in requeued:
        assert queue is not None
        queue.enqueue(run_id)
        logger.warning("segmentation run %s was interrupted; queued again", run_id)
    for run_id in failed:
        logger.warning("segmentation run %s was interrupted; marked Failed", run_id)
    return requeued, failed


def _is_orphan(runner: str | None, beat_at: datetime | None, now: datetime, host: str) -> bool:
    if beat_at is None or now - beat_at > STALE_AFTER:
        return True
    runner_host, _, pid = (runner or "").rpartition(":")
    return runner_host == host and pid.isdigit() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
