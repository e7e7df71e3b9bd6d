"""Operating the live server: /metrics summed over every worker, request ids, request logs.

The module runs its own two-worker server with INFO logs in JSON lines and an
operator-chosen PROMETHEUS_MULTIPROC_DIR, so it can see which workers wrote
metrics and read every log line.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from segmentation_service import services
from segmentation_service.config import Settings
from segmentation_service.observability.logs import JsonFormatter, TextFormatter
from segmentation_service.soap.app import create_app
from segmentation_service.store.database import Store
from tests import factories
from tests.contract.conftest import (
    ANALYST,
    ENVELOPE,
    VIEWER,
    LiveServer,
    User,
    start_server,
    stop_server,
    wsgi_call,
)

LIST_RUNS = "<t:ListSegmentationRuns/>"
HEX_ID = re.compile(r"[0-9a-f]{32}")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Observed:
    def __init__(self, server: LiveServer, metrics_dir: Path, data: Any) -> None:
        self.server = server
        self.metrics_dir = metrics_dir
        self.data = data

    def call(
        self, body: str, user: User | None = ANALYST, request_id: str | None = None
    ) -> requests.Response:
        """One SOAP call on a fresh connection, so calls spread over the workers."""
        headers = {"Content-Type": "text/xml; charset=utf-8", "Connection": "close"}
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        header = user.security_header() if user is not None else ""
        payload = ENVELOPE.format(header=header, body=body).encode()
        return requests.post(self.server.url, data=payload, headers=headers, timeout=120)

    def metrics(self) -> Samples:
        response = requests.get(f"{self.server.base}/metrics", timeout=30)  # no credentials
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    def metrics_once(self, settled: Callable[[Samples], bool]) -> Samples:
        """The metrics once ``settled`` holds: a request is counted as its response closes,
        which may be just after the client has read it."""
        deadline = time.monotonic() + 10
        samples = self.metrics()
        while not settled(samples) and time.monotonic() < deadline:
            time.sleep(0.1)
            samples = self.metrics()
        return samples

    def log_entries(self) -> list[dict[str, Any]]:
        lines = self.server.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def worker_pids_with_counters(self) -> set[str]:
        return {path.stem.split("_")[-1] for path in self.metrics_dir.glob("counter_*.db")}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def growth(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    directory = tmp_path_factory.mktemp("observed")
    metrics_dir = directory / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left over from an earlier run")
    database_url = f"sqlite:///{directory / 'store.db'}"
    store = Store(database_url)
    store.create_schema()
    data = factories.load_demo(store, 120)
    store.dispose()
    server = start_server(
        directory,
        database_url,
        settings={
            "SEGMENTATION_LOG_LEVEL": "INFO",
            "SEGMENTATION_LOG_FORMAT": "json",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        },
    )
    yield Observed(server, metrics_dir, data)
    stop_server(server)


def test_the_metrics_directory_is_emptied_when_the_server_starts(observed: Observed) -> None:
    assert not (observed.metrics_dir / "counter_1.db").exists()


def test_request_counters_are_summed_over_every_worker(observed: Observed) -> None:
    before = observed.metrics()
    sent = 0
    # Fresh connections land on either worker; go on until both have counted some.
    while sent < 300 and (sent < 20 or len(observed.worker_pids_with_counters()) < 2):
        for _ in range(10):
            assert observed.call(LIST_RUNS).status_code == 200
        sent += 10

    assert len(observed.worker_pids_with_counters()) >= 2, "one worker served every request"
    labels = {"operation": "ListSegmentationRuns", "outcome": "ok"}
    requests_total = "segmentation_soap_requests_total"
    after = observed.metrics_once(lambda now: growth(before, now, requests_total, **labels) >= sent)
    assert growth(before, after, requests_total, **labels) == sent
    timed = "segmentation_soap_request_duration_seconds_count"
    assert growth(before, after, timed, operation="ListSegmentationRuns") == sent


def test_faults_are_counted_by_type(observed: Observed) -> None:
    before = observed.metrics()

    missing = observed.call(
        "<t:GetSegmentationRun><t:runId>987654</t:runId></t:GetSegmentationRun>"
    )
    anonymous = observed.call(LIST_RUNS, user=None)
    denied = observed.call(
        "<t:SegmentCustomers><t:method>ValueBased</t:method></t:SegmentCustomers>", user=VIEWER
    )

    assert missing.status_code == anonymous.status_code == denied.status_code == 500
    expected = [
        ("RunNotFoundFault", "GetSegmentationRun"),
        ("AuthenticationFault", "ListSegmentationRuns"),
        ("AccessDeniedFault", "SegmentCustomers"),
    ]
    faults, requests_total = "segmentation_soap_faults_total", "segmentation_soap_requests_total"
    after = observed.metrics_once(
        lambda now: all(growth(before, now, faults, fault=fault) >= 1 for fault, _ in expected)
    )
    for fault, operation in expected:
        assert growth(before, after, faults, fault=fault) == 1
        assert growth(before, after, requests_total, operation=operation, outcome=fault) == 1


def test_a_segmentation_run_records_its_duration_and_size(observed: Observed) -> None:
    before = observed.metrics()

    response = observed.call(
        "<t:SegmentCustomers><t:method>APriori</t:method></t:SegmentCustomers>"
    )

    assert response.status_code == 200, response.text
    found = re.search(r"customerCount>(\d+)<", response.text)
    assert found is not None
    runs = "segmentation_run_duration_seconds_count"
    after = observed.metrics_once(lambda now: growth(before, now, runs, method="APriori") >= 1)
    assert growth(before, after, runs, method="APriori") == 1
    assert growth(before, after, "segmentation_run_duration_seconds_sum", method="APriori") > 0
    assert growth(before, after, "segmentation_run_customers_count", method="APriori") == 1
    customers = growth(before, after, "segmentation_run_customers_sum", method="APriori")
    assert customers == int(found.group(1)) == len(observed.data.customers)


def test_a_sane_request_id_is_kept_and_any_other_replaced(observed: Observed) -> None:
    kept = observed.call(LIST_RUNS, request_id="trace-4711.a:b")
    replaced = observed.call(LIST_RUNS, request_id="two words\tand a tab")
    fresh = observed.call(LIST_RUNS)
    health = requests.get(f"{observed.server.base}/healthz", timeout=30)

    assert kept.headers["X-Request-ID"] == "trace-4711.a:b"
    assert HEX_ID.fullmatch(replaced.headers["X-Request-ID"])
    assert HEX_ID.fullmatch(fresh.headers["X-Request-ID"])
    assert HEX_ID.fullmatch(health.headers["X-Request-ID"])
    assert len({replaced.headers["X-Request-ID"], fresh.headers["X-Request-ID"]}) == 2


def test_each_request_is_logged_once_with_id_operation_outcome_status_duration_and_user(
    observed: Observed,
) -> None:
    observed.call(LIST_RUNS, request_id="log-ok-1")
    observed.call(LIST_RUNS, user=VIEWER, request_id="log-ok-2")
    observed.call(
        "<t:GetSegmentationRun><t:runId>5555</t:runId></t:GetSegmentationRun>",
        request_id="log-fault-1",
    )
    observed.call(LIST_RUNS, user=None, request_id="log-anonymous-1")

    entries = wait_for_entries(observed, {"log-ok-1", "log-ok-2", "log-fault-1", "log-anonymous-1"})

    ok = entries["log-ok-1"]
    assert ok["logger"] == "segmentation_service.access" and ok["level"] == "INFO"
    assert (ok["operation"], ok["outcome"], ok["status"]) == ("ListSegmentationRuns", "ok", 200)
    assert ok["user"] == ANALYST.username and isinstance(ok["duration_ms"], float)
    assert entries["log-ok-2"]["user"] == VIEWER.username
    fault = entries["log-fault-1"]
    assert (fault["operation"], fault["outcome"], fault["status"]) == (
        "GetSegmentationRun",
        "RunNotFoundFault",
        500,
    )
    assert "user" not in entries["log-anonymous-1"]
    assert entries["log-anonymous-1"]["outcome"] == "AuthenticationFault"


def test_no_customer_id_or_name_reaches_the_log(observed: Observed) -> None:
    customers = observed.data.customers.head(3)
    ids = list(customers["customer_id"])
    identifiers = "".join(f"<t:customerId>{customer_id}</t:customerId>" for customer_id in ids)
    observed.call(
        f"<t:ScoreCustomerValue><t:customerIds>{identifiers}</t:customerIds></t:ScoreCustomerValue>",
        request_id="privacy-1",
    )
    observed.call(
        f"<t:GetCustomerSegment><t:customerId>{ids[0]}</t:customerId></t:GetCustomerSegment>",
        request_id="privacy-2",
    )
    observed.call(
        "<t:GetCustomerSegment><t:customerId>NO-SUCH-CUSTOMER-77</t:customerId></t:GetCustomerSegment>",
        request_id="privacy-3",
    )

    entries = wait_for_entries(observed, {"privacy-1", "privacy-2", "privacy-3"})

    assert entries["privacy-3"]["outcome"] == "CustomerNotFoundFault"
    text = observed.server.log.read_text(encoding="utf-8")
    for secret in [*ids, *customers["name"], "NO-SUCH-CUSTOMER-77"]:
        assert secret not in text


def test_gunicorn_logs_in_the_same_json_format(observed: Observed) -> None:
    gunicorn = [entry for entry in observed.log_entries() if entry["logger"] == "gunicorn.error"]

    assert any("Booting worker" in entry["message"] for entry in gunicorn)
    assert all({"time", "level", "pid", "message"} <= entry.keys() for entry in gunicorn)
    assert all(line.startswith("{") for line in observed.server.log.read_text().splitlines())


def wait_for_entries(observed: Observed, request_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The access log entries of these requests (a line is written when the response closes)."""
    deadline = time.monotonic() + 10
    while True:
        entries = {
            entry["request_id"]: entry
            for entry in observed.log_entries()
            if entry["logger"] == "segmentation_service.access"
            and entry.get("request_id") in request_ids
        }
        if set(entries) == request_ids or time.monotonic() > deadline:
            logged = [
                entry.get("request_id")
                for entry in observed.log_entries()
                if entry["logger"] == "segmentation_service.access"
            ]
            assert all(logged.count(request_id) == 1 for request_id in request_ids), logged
            return entries
        time.sleep(0.1)


# ----------------------------------------------------------- in process, no sockets


def test_an_internal_error_is_logged_and_answered_with_the_request_id_as_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_schema()

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(services, "list_segmentation_runs", broken)
    app = create_app(Settings(auth=False), store)
    with caplog.at_level(logging.INFO):
        status, headers, content = wsgi_call(app, LIST_RUNS, "incident-42")
    store.dispose()

    assert status.startswith("500") and headers["X-Request-ID"] == "incident-42"
    assert b"internal server error (reference incident-42)" in content
    assert b"disk is on fire" not in content
    (error,) = [
        r for r in caplog.records if r.name == "segmentation_service.soap.app" and r.exc_info
    ]
    assert "reference incident-42" in error.getMessage()
    assert JsonFormatter().format(error).count("incident-42") >= 1
    (access,) = [r for r in caplog.records if r.name == "segmentation_service.access"]
    assert access.fields["outcome"] == "InternalError"  # type: ignore[attr-defined]


def test_log_lines_are_text_or_json_and_carry_the_request_fields() -> None:
    record = logging.LogRecord(
        "segmentation_service.access", logging.INFO, __file__, 1, "request", (), None
    )
    record.fields = {
        "request_id": "r-1",
        "operation": "GetCustomerSegment",
        "outcome": "ok",
        "status": 200,
        "duration_ms": 3.5,
        "user": None,
    }

    text = TextFormatter().format(record)
    entry = json.loads(JsonFormatter().format(record))

    assert text.endswith(
        "segmentation_service.access: request request_id=r-1 operation=GetCustomerSegment "
        "outcome=ok status=200 duration_ms=3.5"
    )
    assert entry["request_id"] == "r-1" and entry["status"] == 200 and "user" not in entry
    assert entry["level"] == "INFO" and entry["message"] == "request"
