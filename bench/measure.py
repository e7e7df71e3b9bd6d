"""The measurements against a running service: segmentation, lookups, paging, contention."""

from __future__ import annotations

import random
import statistics
import threading
import time
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa

from bench import envelopes
from bench.bare import run_bare
from bench.bare_sql import BareStore
from bench.calls import Connection, SoapCallError, call, parse_run
from bench.echo_app import echo_envelope
from bench.envelopes import Request
from bench.load import run_load
from bench.memory import PeakRss
from bench.servers import RunningServer

METHODS = ("APriori", "NeedsBased", "ValueBased")
SEGMENT_TIMEOUT_S = 3600.0
GB = 1e9


def segment(server: RunningServer, method: str, options_xml: str = "") -> dict[str, Any]:
    """One SegmentCustomers call, timed, with the peak RSS of the worker processes."""
    request = envelopes.segment_customers(method, f"bench {method}", options_xml)
    with PeakRss(server.worker_pids) as memory:
        body, seconds = call(server.url, request, timeout=SEGMENT_TIMEOUT_S)
    run = parse_run(body)
    return {
        "seconds": seconds,
        "run_id": run.run_id,
        "status": run.status,
        "customers": run.customer_count,
        "assigned": run.assigned_count,
        "segments": run.segments,
        "peak_rss_worker_gb": memory.peak_process / GB,
        "peak_rss_workers_gb": memory.peak_total / GB,
    }


def segmentation(server: RunningServer, database_url: str, as_of: date) -> dict[str, Any]:
    """Per method: the service's SegmentCustomers, then the bare pipeline on the same store."""
    results: dict[str, Any] = {}
    store = BareStore(database_url)
    try:
        for method in METHODS:
            service = segment(server, method)
            with PeakRss(lambda: [_own_pid()]) as memory:
                bare = run_bare(store, method, as_of).to_dict()
            bare["peak_rss_gb"] = memory.peak_process / GB
            results[method] = {
                "service": service,
                "bare": bare,
                "ratio": service["seconds"] / bare["seconds"],
            }
            print(
                f"    {method}: service {service['seconds']:.2f} s "
                f"(worker peak {service['peak_rss_worker_gb']:.2f} GB), "
                f"bare {bare['seconds']:.2f} s (read {bare['read_s']:.2f}, "
                f"compute {bare['compute_s']:.2f}, write {bare['write_s']:.2f})",
                flush=True,
            )
    finally:
        store.close()
    return results


def _own_pid() -> int:
    import os

    return os.getpid()


def _assignments(database_url: str, run_id: int) -> dict[str, list[str]]:
    """Members of each segment of a run, in customer id order (the paging order)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT segment_code, customer_id FROM assignments "
                    "WHERE run_id = :run AND segment_code IS NOT NULL"
                ),
                {"run": run_id},
            ).all()
    finally:
        engine.dispose()
    members: dict[str, list[str]] = {}
    for code, customer in rows:
        members.setdefault(code, []).append(customer)
    return {code: sorted(ids) for code, ids in members.items()}


def stray_codes(database_url: str, run: dict[str, Any]) -> dict[str, int]:
    """Assignment codes of a run that are none of its segments (e.g. 'nan'), with counts."""
    members = _assignments(database_url, run["run_id"])
    return {code: len(ids) for code, ids in members.items() if code not in run["segments"]}


def lookup_requests(
    customer_ids: list[str], database_url: str, value_run: dict[str, Any], seed: int = 1
) -> dict[str, list[Request]]:
    rng = random.Random(seed)
    ids = rng.sample(customer_ids, min(2000, len(customer_ids)))
    batches = [rng.sample(customer_ids, 100) for _ in range(100)]
    pages = []
    value_run_id = value_run["run_id"]
    for code, members in sorted(_assignments(database_url, value_run_id).items()):
        if code not in value_run["segments"]:
            continue
        for _ in range(50):
            position = rng.randrange(len(members))
            token = (
                envelopes.page_token(value_run_id, code, members[position - 1])
                if position
                else None
            )
            pages.append(envelopes.list_segment_members(value_run_id, code, 100, token))
    rng.shuffle(pages)
    return {
        "GetCustomerSegment": [envelopes.get_customer_segment(i) for i in ids],
        "ScoreCustomerValue": [envelopes.score_customer_value(batch) for batch in batches],
        "ListSegmentMembers": pages,
    }


def echo_requests() -> list[Request]:
    return [Request("Echo", echo_envelope(f"C{n:07d}")) for n in range(1, 101)]


def lookups(
    server: RunningServer,
    echo: RunningServer,
    requests: dict[str, list[Request]],
    concurrency: int,
    duration: float,
) -> dict[str, Any]:
    """Echo first, then each lookup, at the same concurrency and duration."""
    results = {"Echo": run_load(echo.url, echo_requests(), concurrency, duration).to_dict()}
    for operation, batch in requests.items():
        results[operation] = run_load(server.url, batch, concurrency, duration).to_dict()
    for operation, result in results.items():
        print(
            f"    {operation}: {result['rps']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']}",
            flush=True,
        )
        if result["first_error"]:
            print(f"      first error: {result['first_error'][:300]}", flush=True)
    return results


def paging_depth(server: RunningServer, database_url: str, repeats: int = 30) -> dict[str, Any]:
    """A page of 100 at 0%, 50% and 99% of a one-segment (everybody) a priori run."""
    try:
        run = segment(server, "APriori", envelopes.ONE_SEGMENT_OPTIONS)
        how = "aPriori rules: one rule nobody matches, defaultSegmentCode ALL"
    except SoapCallError as exc:
        print(f"    one-segment rules refused ({str(exc)[:200]}); grouping by industry", flush=True)
        run = segment(server, "APriori", envelopes.LARGEST_GROUP_OPTIONS)
        how = "aPriori groupBy industry (B2C customers have none: Unknown)"
    segments = _assignments(database_url, run["run_id"])
    code = max(run["segments"], key=lambda c: len(segments.get(c, [])))
    members = segments[code]
    positions = {"0%": 0, "50%": len(members) // 2, "99%": int(len(members) * 0.99)}
    requests = {
        label: envelopes.list_segment_members(
            run["run_id"],
            code,
            100,
            envelopes.page_token(run["run_id"], code, members[p - 1]) if p else None,
        )
        for label, p in positions.items()
    }
    timings: dict[str, list[float]] = {label: [] for label in requests}
    connection = Connection(server.url)
    try:
        for i in range(repeats + 3):
            for label, request in requests.items():
                status, body, seconds = connection.post(request)
                if status != 200:
                    raise RuntimeError(f"page {label}: HTTP {status}: {body[:500]!r}")
                if i >= 3:
                    timings[label].append(seconds * 1000)
    finally:
        connection.close()
    return {
        "run": run,
        "members": len(members),
        "segment": code,
        "share": len(members) / max(run["customers"], 1),
        "how": how,
        "median_ms": {label: statistics.median(t) for label, t in timings.items()},
        "p99_ms": {label: float(np.percentile(t, 99)) for label, t in timings.items()},
    }


def contention(
    server: RunningServer,
    requests: list[Request],
    method: str,
    concurrency: int,
    window: float = 3.0,
) -> dict[str, Any]:
    """GetCustomerSegment under load while a SegmentCustomers run is in progress."""
    outcome: dict[str, Any] = {}

    def run_segmentation() -> None:
        outcome["segmentation"] = segment(server, method)

    thread = threading.Thread(target=run_segmentation, daemon=True)
    thread.start()
    time.sleep(0.5)
    windows = []
    while thread.is_alive():
        windows.append(run_load(server.url, requests, concurrency, window, warmup=0.2))
    thread.join()
    done = sum(w.requests for w in windows)
    # Weighted by requests, an approximation of the pooled percentiles.
    weights = [w.requests for w in windows]
    return {
        "method": method,
        "windows": len(windows),
        "requests": done,
        "errors": sum(w.errors for w in windows),
        "rps": done / (window * len(windows)) if windows else 0.0,
        "p50_ms": float(np.average([w.p50_ms for w in windows], weights=weights)) if done else 0,
        "p99_ms": max((w.p99_ms for w in windows), default=0.0),
        "segmentation": outcome.get("segmentation"),
    }
