"""The huey instance of a store, its tasks, and the RunQueue the services submit through.

Storage follows the store, so no other server is needed: PostgreSQL stores the
queue in its own database (huey's PostgresHuey: ``FOR UPDATE SKIP LOCKED``,
LISTEN/NOTIFY), a SQLite store gets a SQLite queue file beside it. The setting
``queue_url`` overrides that; ``immediate`` executes each task in the calling
process (huey's immediate mode: for tests and one-process tools).

huey delivers a message at most once (a dequeue deletes it); the run row in the
store is the truth: a worker claims a run with a conditional UPDATE, and the
maintenance task queues a run again whose worker died, or whose message was lost.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from huey import Huey, MemoryHuey, PostgresHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from sqlalchemy.engine import make_url

from segmentation_service.config import Settings
from segmentation_service.domain.errors import SegmentationError
from segmentation_service.jobs.executors import run_layout
from segmentation_service.services.clock import Clock, utc_now
from segmentation_service.services.executors import RunLayout
from segmentation_service.services.liveness import recover_interrupted_runs
from segmentation_service.services.schedules import submit_due_schedules
from segmentation_service.services.segmentation import execute_run
from segmentation_service.store.database import Store, process_store

logger = logging.getLogger(__name__)

QUEUE_NAME = "segmentation-runs"
INLINE = RunLayout()  # partitions execute in the process executing the run
IMMEDIATE = "immediate"
# A Queued run older than this while the queue holds nothing is queued again (a lost message).
LOST_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class SettingsRunQueue:
    """The RunQueue of a service's settings, made on its first submission.

    So that building the SOAP application opens no queue storage until a run is
    submitted (and then once per process).
    """

    settings: Settings

    def enqueue(self, run_id: int) -> None:
        location = queue_location(self.settings)
        create_queue(location, self.settings.database_url, run_layout(self.settings)).enqueue(
            run_id
        )


@dataclass(frozen=True)
class HueyRunQueue:
    """The services' RunQueue on huey: a message per run for the run workers."""

    huey: Huey
    execute: TaskWrapper  # calling it enqueues (in immediate mode: executes) the task

    def enqueue(self, run_id: int) -> None:
        self.execute(run_id)


def queue_location(settings: Settings) -> str:
    """``immediate``, or the URL of the queue's storage (derived from the store's URL)."""
    if settings.queue_url:
        return settings.queue_url
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            return IMMEDIATE  # an in-memory store has no other process to share a queue with
        path = Path(database)
        return f"sqlite:///{path.with_name(path.stem + '-queue' + (path.suffix or '.db'))}"
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def run_queue(settings: Settings) -> SettingsRunQueue:
    return SettingsRunQueue(settings)


@functools.cache
def create_queue(location: str, database_url: str, layout: RunLayout = INLINE) -> HueyRunQueue:
    """The huey instance for a queue location with the run tasks registered (once per process).

    ``layout``: how the runs this process executes are partitioned, and where.
    """
    if location == IMMEDIATE:
        huey: Huey = MemoryHuey(QUEUE_NAME, immediate=True, results=False)
    elif location.startswith("sqlite:///"):
        huey = SqliteHuey(QUEUE_NAME, filename=location.removeprefix("sqlite:///"), results=False)
    else:
        huey = PostgresHuey(QUEUE_NAME, dsn=location, results=False)
    return _register(huey, database_url, layout)


def _register(huey: Huey, database_url: str, layout: RunLayout) -> HueyRunQueue:
    def execute(run_id: int) -> None:
        store = process_store(database_url)
        try:
            execute_run(run_id, store.unit_of_work(), layout=layout)
        except SegmentationError as error:  # recorded on the run: the caller's to act on
            logger.info("segmentation run %s failed: %s", run_id, error)
        except Exception:  # recorded on the run, traceback logged under its reference
            pass

    queue = HueyRunQueue(huey, huey.task(name="execute_run")(execute))

    def maintain() -> None:
        """Every minute in every worker: orphans retried or failed, schedules, lost messages."""
        store = process_store(database_url)
        recover_interrupted_runs(store.unit_of_work(), queue)
        submit_due_schedules(store.unit_of_work(), queue)
        _requeue_lost(store, queue)

    huey.periodic_task(crontab(minute="*"), name="maintain")(maintain)
    return queue


def _requeue_lost(store: Store, queue: HueyRunQueue, now: Clock = utc_now) -> None:
    """Queue again the runs Queued for a while although the queue holds no message."""
    if queue.huey.pending_count():
        return
    uow = store.unit_of_work()
    with uow:
        waiting = uow.run_states.waiting(now() - LOST_AFTER)
    for run_id in waiting:
        logger.warning("segmentation run %s was queued but never started; queued again", run_id)
        queue.enqueue(run_id)
