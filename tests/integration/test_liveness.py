"""Runs survive their process dying: stuck runs are failed, results are never partial."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest

from segmentation_service import services
from segmentation_service.domain.model import (
    RunStatus,
    SegmentationMethod,
    SegmentationRequest,
    ValueBasedOptions,
    ValueMetric,
)
from segmentation_service.services.liveness import (
    INTERRUPTED,
    STALE_AFTER,
    fail_interrupted_runs,
    this_runner,
)
from segmentation_service.store.database import Store
from tests import factories

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)


def start_run(store: Store, runner: str, heartbeat_at: datetime) -> int:
    with store.unit_of_work() as uow:
        run_id = uow.runs.start(SegmentationMethod.A_PRIORI, None, {}, heartbeat_at, None, runner)
        uow.commit()
    return run_id


def status(store: Store, run_id: int) -> tuple[RunStatus, str | None]:
    with store.unit_of_work() as uow:
        run = uow.runs.get(run_id)
    assert run is not None
    return run.status, run.failure_reason


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_whose_process_is_gone_is_marked_failed(store: Store) -> None:
    orphan = start_run(store, f"{socket.gethostname()}:{dead_pid()}", NOW)
    alive = start_run(store, this_runner(), NOW)
    elsewhere = start_run(store, "other-host:1", NOW)  # another server's run, still beating

    failed = fail_interrupted_runs(store.unit_of_work(), now=lambda: NOW + timedelta(seconds=5))

    assert failed == [orphan]
    assert status(store, orphan) == (RunStatus.FAILED, INTERRUPTED)
    assert status(store, alive)[0] is RunStatus.RUNNING
    assert status(store, elsewhere)[0] is RunStatus.RUNNING


def test_a_run_whose_heartbeat_stopped_is_marked_failed_on_any_host(store: Store) -> None:
    stale = start_run(store, "other-host:1", NOW)
    later = NOW + STALE_AFTER + timedelta(seconds=1)
    assert fail_interrupted_runs(store.unit_of_work(), now=lambda: later) == [stale]


def test_two_runs_started_at_once_both_complete_without_mixing(store: Store) -> None:
    data = factories.load_demo(store, 200)
    requests = [
        SegmentationRequest(SegmentationMethod.VALUE_BASED, label="first"),
        SegmentationRequest(
            SegmentationMethod.VALUE_BASED,
            label="second",
            value_based=ValueBasedOptions(ValueMetric.REVENUE, tier_count=3),
        ),
        SegmentationRequest(SegmentationMethod.A_PRIORI, label="third"),
    ]
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def run(request: SegmentationRequest) -> None:
        try:
            results[request.label or ""] = services.segment_customers(request, store.unit_of_work())
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with store.unit_of_work() as uow:
        for label, expected_codes in (("first", 4), ("second", 3)):
            run_ = results[label]
            frame = uow.assignments.of_run(run_.run_id)  # type: ignore[attr-defined]
            assert frame["segment_code"].nunique() == expected_codes
            assert frame["customer_id"].is_unique
        third = uow.assignments.of_run(results["third"].run_id)  # type: ignore[attr-defined]
    assert len(third) == len(data.customers)
    assert all(r.status is RunStatus.COMPLETED for r in results.values())


@pytest.mark.parametrize("method", list(SegmentationMethod))
def test_runs_record_their_runner_while_they_work(store: Store, method: SegmentationMethod) -> None:
    factories.load_demo(store, 100)
    run = services.segment_customers(SegmentationRequest(method), store.unit_of_work())
    with store.unit_of_work() as uow:
        assert uow.runs.running() == []
    assert run.status is RunStatus.COMPLETED
