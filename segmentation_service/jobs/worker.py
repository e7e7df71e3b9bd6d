"""``segmentation-service worker``: a huey consumer whose processes execute queued runs.

Each of ``concurrency`` worker processes executes one run at a time; the
consumer's scheduler queues the maintenance task every minute (orphaned runs
retried or failed, due schedules submitted, lost messages queued again). Run it
on as many machines as you like against one PostgreSQL: each run executes once.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from huey.consumer import Consumer, ProcessEnvironment, Scheduler

from segmentation_service.config import Settings
from segmentation_service.jobs.executors import run_layout
from segmentation_service.jobs.queue import IMMEDIATE, create_queue, queue_location

logger = logging.getLogger(__name__)


def run_worker(settings: Settings, concurrency: int, niceness: int = 10) -> int:
    """Consume the queue; ``niceness`` lowers the CPU priority of this process and its workers.

    A run is CPU-bound for seconds to minutes; lookups answer CRM screens in
    milliseconds. On a machine shared with SOAP workers the kernel then gives the
    lookups the cores first, and the run the rest (on a machine of its own it
    changes nothing).
    """
    location = queue_location(settings)
    if location == IMMEDIATE:
        print(
            "error: the queue is 'immediate' (runs execute where they are submitted); "
            "a worker needs a SQLite or PostgreSQL queue",
            file=sys.stderr,
        )
        return 1
    queue = create_queue(location, settings.database_url, run_layout(settings))
    if niceness:
        os.nice(niceness)  # inherited by the worker processes huey forks
    consumer = _MinuteConsumer(
        queue.huey,
        workers=concurrency,
        worker_type="process",  # runs are CPU-bound: one process (and GIL) each
        periodic=True,
        check_worker_health=True,
        health_check_interval=5,
        # The queue is polled (SQLite and PostgreSQL alike): an idle consumer backs off
        # to one cheap indexed query per worker every max_delay, so a run submitted
        # to an idle worker starts within a quarter of a second.
        max_delay=0.25,
    )
    logger.info("run worker: %d process(es) on queue %s", concurrency, _safe(location))
    consumer.run()
    return 0


class _MinuteScheduler(Scheduler):  # type: ignore[misc]
    """huey's scheduler, with its minutely periodic check on the wall clock's minute.

    huey checks periodic tasks every 60 s counted from the consumer's start, so a
    schedule due at 02:00 would be submitted up to a minute late; aligned, every
    worker's maintenance runs just after the minute turns.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        into_minute = time.time() % 60
        self._next_periodic = time.monotonic() + (60 - into_minute) + 1


class _ParentProcessEnvironment(ProcessEnvironment):  # type: ignore[misc]
    """huey's worker processes, not daemonic: each may start the process pool its runs'
    partitions execute on (a daemonic process may have no children)."""

    def create_process(self, runnable: Any, name: str) -> Any:
        process = super().create_process(runnable, name)
        process.daemon = False
        return process


class _MinuteConsumer(Consumer):  # type: ignore[misc]
    scheduler_class = _MinuteScheduler

    def get_environment(self, worker_type: str) -> Any:
        if worker_type == "process":
            return _ParentProcessEnvironment(self._graceful_sig, self._interrupt_sig)
        return super().get_environment(worker_type)


def start_run_worker(settings: Settings, argv_prefix: Sequence[str]) -> subprocess.Popen[bytes]:
    """``serve``'s own run worker: a child process that ends when its parent does."""
    command = [*argv_prefix, "--database-url", settings.database_url, "worker"]
    return subprocess.Popen(command, preexec_fn=_die_with_parent)  # noqa: PLW1509


def stop_run_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGINT)  # huey: finish the run in hand, then stop
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _die_with_parent() -> None:
    """Linux: have the kernel send SIGTERM when the serving process dies, even by SIGKILL."""
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _safe(location: str) -> str:
    """The queue's location without a password."""
    scheme, _, rest = location.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    return f"{scheme}://{rest}" if rest else location
