"""Prometheus metrics of the SOAP service, summed over every worker process.

``serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers fork (and before
prometheus_client is imported): each worker then writes its samples to files
there, and ``/metrics``, whichever worker answers it, adds up every worker's.
Without the variable (a server embedded in one process) the process's own
registry is exposed.

Labels hold operation, outcome, fault and method names only: never a customer,
a user or a request.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_DIRECTORY_ENV = "PROMETHEUS_MULTIPROC_DIR"
OK = "ok"

REQUESTS = Counter(
    "segmentation_soap_requests",
    "SOAP requests answered, by operation and outcome (ok or the fault's name).",
    ["operation", "outcome"],
)
FAULTS = Counter(
    "segmentation_soap_faults",
    "SOAP faults answered, by fault name.",
    ["fault"],
)
REQUEST_SECONDS = Histogram(
    "segmentation_soap_request_duration_seconds",
    "Time from receiving a SOAP request to the end of its response, by operation.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
RUN_SECONDS = Histogram(
    "segmentation_run_duration_seconds",
    "Duration of completed SegmentCustomers runs, by segmentation method.",
    ["method"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
RUN_CUSTOMERS = Histogram(
    "segmentation_run_customers",
    "Customers in each completed SegmentCustomers run, by segmentation method.",
    ["method"],
    buckets=(10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000),
)


def observe_request(operation: str, outcome: str, seconds: float) -> None:
    REQUESTS.labels(operation=operation, outcome=outcome).inc()
    REQUEST_SECONDS.labels(operation=operation).observe(seconds)
    if outcome != OK:
        FAULTS.labels(fault=outcome).inc()


def observe_run(method: str, seconds: float, customers: int) -> None:
    RUN_SECONDS.labels(method=method).observe(seconds)
    RUN_CUSTOMERS.labels(method=method).observe(customers)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    directory = os.environ.get(MULTIPROCESS_DIRECTORY_ENV)
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
