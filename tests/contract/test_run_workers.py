"""Runs executed by real run workers (huey consumers) beside a live server, SQLite and PostgreSQL.

The server here is started with ``--no-worker`` where the test controls the
workers itself (``segmentation-service worker`` processes); otherwise ``serve``'s
own worker executes the runs. Every message is validated against the XSD.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil
import pytest
import sqlalchemy as sa
from zeep.exceptions import Fault

from segmentation_service.store.database import Store
from tests import factories
from tests.contract.conftest import (
    ANALYST,
    LiveServer,
    XsdValidator,
    service_for,
    start_server,
    stop_server,
)

CUSTOMERS = 400
# The workers cut runs into 4 partitions, executed on their local process pools.
PARTITION_SIZE = str(CUSTOMERS // 4)
NEEDS = {"method": "NeedsBased", "needsBased": {"segmentCount": 4, "randomSeed": 1}}


def load(database_url: str) -> None:
    store = Store(database_url)
    store.create_schema()
    factories.load_demo(store, CUSTOMERS)
    store.dispose()


def start_worker(server: LiveServer, log: Path, concurrency: int = 1) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGMENTATION_")}
    command = [
        sys.executable,
        "-m",
        "segmentation_service.cli",
        "--database-url",
        server.database_url,
        "worker",
        "--concurrency",
        str(concurrency),
    ]
    with log.open("ab") as output:
        return subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={
                **env,
                "SEGMENTATION_LOG_LEVEL": "INFO",
                "SEGMENTATION_PARTITION_SIZE": PARTITION_SIZE,
            },
            cwd=log.parent,
            start_new_session=True,
        )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(30)


def until(predicate: Callable[[], Any], timeout: float, poll: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(poll)
    raise AssertionError(f"not within {timeout} s")


def run_row(database_url: str, run_id: int) -> Any:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT status, runner, attempts, assigned_count, customer_count "
                    "FROM segmentation_runs WHERE run_id = :id"
                ),
                {"id": run_id},
            ).one()
    finally:
        engine.dispose()


def assignment_rows(database_url: str, run_id: int) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT count(*) FROM assignments WHERE run_id = :id"), {"id": run_id}
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.fixture
def server_without_worker(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    load(database_url)
    server = start_server(tmp_path, database_url, settings={"SEGMENTATION_RUN_WORKER": "off"})
    yield server
    stop_server(server)


@pytest.fixture
def soap_for(validator: XsdValidator) -> Callable[[LiveServer], Any]:
    return lambda server: service_for(server, validator, ANALYST)


def test_a_run_submitted_with_no_worker_up_completes_once_one_starts(
    server_without_worker: LiveServer, soap_for: Callable[[LiveServer], Any], tmp_path: Path
) -> None:
    soap = soap_for(server_without_worker)
    started = time.monotonic()
    queued = soap.SubmitSegmentation(**NEEDS)
    answered_in = time.monotonic() - started

    assert queued.status == "Queued" and queued.queuedAt is not None and answered_in < 1.0
    time.sleep(1.5)
    assert soap.GetSegmentationRun(runId=queued.runId).status == "Queued"

    worker = start_worker(server_without_worker, tmp_path / "worker.log")
    try:
        seen: list[tuple[str, float]] = []

        def finished() -> Any:
            run = soap.GetSegmentationRun(runId=queued.runId)
            seen.append((run.status, run.progress))
            return run if run.status in ("Completed", "Failed", "Cancelled") else None

        done = until(finished, 120, poll=0.02)
    finally:
        stop_worker(worker)

    assert done.status == "Completed" and done.progress == 1.0 and done.phase == "Done"
    assert done.customerCount == CUSTOMERS and 0 < done.assignedCount <= CUSTOMERS
    progress = [p for status, p in seen if status == "Running"]
    assert progress == sorted(progress)  # it only rises
    assert {status for status, _ in seen} <= {"Queued", "Running", "Completed"}


def test_cancelling_queued_and_running_runs_writes_nothing(
    server_without_worker: LiveServer, soap_for: Callable[[LiveServer], Any], tmp_path: Path
) -> None:
    soap = soap_for(server_without_worker)
    running, waiting = soap.SubmitSegmentation(**NEEDS), soap.SubmitSegmentation(**NEEDS)
    worker = start_worker(server_without_worker, tmp_path / "worker.log")  # one run at a time
    try:
        until(lambda: soap.GetSegmentationRun(runId=running.runId).status == "Running", 120, 0.01)
        answered = soap.CancelSegmentationRun(runId=running.runId)
        assert answered.status == "Running"  # as it stood: it stops at its next checkpoint
        assert soap.CancelSegmentationRun(runId=waiting.runId).status == "Cancelled"

        final = until(
            lambda: (r := soap.GetSegmentationRun(runId=running.runId)).status != "Running" and r,
            30,
        )
    finally:
        stop_worker(worker)

    assert final.status == "Cancelled" and final.finishedAt is not None
    url = server_without_worker.database_url
    for run_id in (running.runId, waiting.runId):
        assert assignment_rows(url, run_id) == 0
        assert soap.GetSegmentationRun(runId=run_id).segments is None
    with pytest.raises(Fault) as refused:
        soap.CancelSegmentationRun(runId=running.runId)
    assert refused.value.code.endswith("Client.InvalidRequest")


def test_a_run_whose_worker_is_killed_is_retried_and_leaves_no_partial_rows(
    server_without_worker: LiveServer, soap_for: Callable[[LiveServer], Any], tmp_path: Path
) -> None:
    soap = soap_for(server_without_worker)
    url = server_without_worker.database_url
    worker = start_worker(server_without_worker, tmp_path / "worker.log")
    try:
        submitted = soap.SubmitSegmentation(**NEEDS)
        # Killed once some of its partitions have committed their rows.
        until(lambda: assignment_rows(url, submitted.runId) > 0, 120, 0.01)
        assert run_row(url, submitted.runId).status == "Running"
        runner = int(run_row(url, submitted.runId).runner.rpartition(":")[2])
        # Run processes yield the CPU to SOAP workers on the same machine (worker --nice 10).
        assert os.getpriority(os.PRIO_PROCESS, runner) == min(19, os.nice(0) + 10)
        # Its partitions execute on its local pool: a fork server and a process per core.
        pool = psutil.Process(runner).children(recursive=True)
        assert pool, "the run's partitions executed in the run worker's own process"
        os.kill(runner, signal.SIGKILL)  # the process executing it
        # The kernel takes its pool down with it: nothing is left running the dead run.
        gone, alive = psutil.wait_procs(pool, timeout=10)
        assert not alive

        # The consumer replaces its dead process; the minutely maintenance finds the
        # orphan (its process is gone) and queues it again: a second attempt completes it.
        row = until(
            lambda: (r := run_row(url, submitted.runId)).status in ("Completed", "Failed") and r,
            150,
            poll=0.5,
        )
    finally:
        stop_worker(worker)

    assert (row.status, row.attempts) == ("Completed", 2)
    assert assignment_rows(url, submitted.runId) == row.customer_count == CUSTOMERS


def test_a_schedule_due_every_minute_submits_one_run_per_minute_with_two_workers(
    server_without_worker: LiveServer, soap_for: Callable[[LiveServer], Any], tmp_path: Path
) -> None:
    soap = soap_for(server_without_worker)
    workers = [start_worker(server_without_worker, tmp_path / f"w{i}.log") for i in (1, 2)]
    try:
        created = soap.CreateSegmentationSchedule(
            name="every minute",
            cron="* * * * *",
            request={"method": "APriori", "aPriori": {"groupBy": {"attribute": ["customerType"]}}},
        )
        first_due = created.nextRunAt
        # Wait past the first due minute and well into the second one.
        time.sleep(max(0.0, (first_due - datetime.now(timezone.utc)).total_seconds()) + 75)
    finally:
        for worker in workers:
            stop_worker(worker)

    runs = soap.ListSegmentationRuns(
        limit=100, statuses={"status": ["Queued", "Running", "Completed", "Failed"]}
    )
    labelled = [run for run in runs or [] if run.label == "every minute"]
    minutes = {run.queuedAt.replace(second=0, microsecond=0) for run in labelled}
    assert len(labelled) == len(minutes) == 2, [(r.runId, r.queuedAt) for r in labelled]
    (listed,) = soap.ListSegmentationSchedules()
    assert listed.lastRunId == max(run.runId for run in labelled)
    soap.DeleteSegmentationSchedule(scheduleId=created.scheduleId)
