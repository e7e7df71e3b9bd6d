"""The live server when things break: the database goes away; a worker dies mid-run."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
import zeep

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
from tests.postgres import PostgresServer, running_postgres

TNS = "urn:customer-segmentation:v1"


@pytest.fixture(scope="module")
def postgres_live(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, PostgresServer]]:
    """A live server over a PostgreSQL server of its own, which the tests stop and start."""
    with running_postgres() as database:
        url = database.create_database()
        store = Store(url)
        store.create_schema()
        factories.load_demo(store, 100)
        store.dispose()
        server = start_server(tmp_path_factory.mktemp("pg-live"), url)
        try:
            yield server, database
        finally:
            stop_server(server)


@pytest.mark.postgres
def test_while_the_database_is_down_calls_fail_fast_and_the_service_recovers_by_itself(
    postgres_live: tuple[LiveServer, PostgresServer], validator: XsdValidator
) -> None:
    server, database = postgres_live
    soap = service_for(server, validator, ANALYST)
    assert soap.GetCustomerSegment(customerId="C0000001") is None  # no runs yet: an empty list

    database.stop()
    try:
        started = time.monotonic()
        assert requests.get(f"{server.base}/healthz", timeout=10).status_code == 503
        with pytest.raises(zeep.exceptions.Fault) as raised:
            soap.GetCustomerSegment(customerId="C0000001")
        assert time.monotonic() - started < 10
    finally:
        database.start()
    fault = raised.value
    assert fault.code.endswith("Server.ServiceUnavailable")
    (detail,) = list(fault.detail)
    assert detail.tag == f"{{{TNS}}}ServiceUnavailableFault"
    assert "retry" in (detail.findtext(f"{{{TNS}}}reason") or "")

    deadline = time.monotonic() + 30
    while requests.get(f"{server.base}/healthz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "the service did not recover"
        time.sleep(0.5)
    run = soap.SegmentCustomers(method="APriori")
    assert run.status == "Completed"


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server over a store large enough that a run takes a few seconds."""
    directory: Path = tmp_path_factory.mktemp("big")
    url = f"sqlite:///{directory / 'store.db'}"
    store = Store(url)
    store.create_schema()
    factories.load_demo(store, 10_000)
    store.dispose()
    server = start_server(directory, url)
    yield server
    stop_server(server)


def test_a_run_worker_killed_mid_run_is_retried_and_segment_customers_still_answers(
    big_server: LiveServer, validator: XsdValidator
) -> None:
    """The run executes in serve's run worker; killing that process loses nothing.

    The caller of SegmentCustomers keeps waiting (its SOAP worker is untouched); the
    run's results were never partly written; the next maintenance round (each minute)
    queues the orphan again and the restarted worker process completes it.
    """
    soap = service_for(big_server, validator, ANALYST)
    engine = sa.create_engine(big_server.database_url)
    outcome: dict[str, Any] = {}

    def segment() -> None:
        try:
            outcome["run"] = soap.SegmentCustomers(method="NeedsBased", label="to be killed")
        except Exception as exc:
            outcome["error"] = exc

    caller = threading.Thread(target=segment)
    caller.start()
    running = None
    deadline = time.monotonic() + 60
    while running is None and time.monotonic() < deadline:
        with engine.connect() as connection:
            running = connection.execute(
                sa.text("SELECT run_id, runner FROM segmentation_runs WHERE status = 'Running'")
            ).first()
        time.sleep(0.05)
    assert running is not None, "the run never started"
    os.kill(int(running.runner.rpartition(":")[2]), signal.SIGKILL)
    assert requests.get(f"{big_server.base}/healthz", timeout=30).status_code == 200
    assert soap.GetCustomerSegment(customerId="C0000001") is None  # still answering
    caller.join(timeout=180)

    assert "error" not in outcome, outcome
    run = outcome["run"]
    assert (run.runId, run.status, run.label) == (running.run_id, "Completed", "to be killed")
    with engine.connect() as connection:
        attempts, assigned = connection.execute(
            sa.text(
                "SELECT attempts, (SELECT COUNT(*) FROM assignments a WHERE a.run_id = r.run_id)"
                " FROM segmentation_runs r WHERE run_id = :run"
            ),
            {"run": running.run_id},
        ).one()
    engine.dispose()
    assert attempts == 2 and assigned == run.customerCount  # each customer written once
