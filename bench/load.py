"""A closed-loop load generator: N processes, one keep-alive connection each, raw envelopes.

Each process posts pre-built envelopes back to back (round robin, starting at
its own offset) for a warm-up and then a fixed duration; only replies that
complete inside the measured window count. Throughput is those replies over
the window; latencies are per request, client side.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bench.envelopes import Request

READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LoadResult:
    operation: str
    concurrency: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    first_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _worker(
    host: str,
    port: int,
    path: str,
    requests: Sequence[Request],
    offset: int,
    barrier: Any,
    go: Any,
    start_at: Any,
    warmup: float,
    duration: float,
    results: Any,
) -> None:
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None
    connection = http.client.HTTPConnection(host, port, timeout=120)
    headers = [
        {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": request.soap_action}
        for request in requests
    ]
    barrier.wait(READY_TIMEOUT_S)
    go.wait(READY_TIMEOUT_S)
    begin = start_at.value
    measure_from, end = begin + warmup, begin + warmup + duration
    while time.monotonic() < begin:
        time.sleep(0.001)
    i = offset
    while True:
        index = i % len(requests)
        i += 1
        sent = time.monotonic()
        if sent >= end:
            break
        try:
            connection.request("POST", path, requests[index].body, headers[index])
            reply = connection.getresponse()
            body = reply.read()
            status = reply.status
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=120)
            status, body = -1, repr(exc).encode()
        done = time.monotonic()
        if sent >= measure_from and done <= end:
            if status == 200:
                latencies.append(done - sent)
            else:
                errors += 1
                if first_error is None:
                    first_error = f"HTTP {status}: {body[:500]!r}"
    connection.close()
    results.put((latencies, errors, first_error))


def run_load(
    url: str,
    requests: Sequence[Request],
    concurrency: int = 8,
    duration: float = 10.0,
    warmup: float = 1.0,
) -> LoadResult:
    """Drive ``url`` with ``concurrency`` processes for ``warmup`` + ``duration`` seconds."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, port = host_port.split(":")
    context = mp.get_context("fork")
    barrier = context.Barrier(concurrency + 1)
    go = context.Event()
    start_at = context.Value("d", 0.0)
    results = context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(
                host,
                int(port),
                "/" + path,
                requests,
                k * len(requests) // concurrency,
                barrier,
                go,
                start_at,
                warmup,
                duration,
                results,
            ),
            daemon=True,
        )
        for k in range(concurrency)
    ]
    for process in processes:
        process.start()
    barrier.wait(READY_TIMEOUT_S)
    start_at.value = time.monotonic() + 0.05
    go.set()
    collected = [results.get(timeout=warmup + duration + 300) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    latencies = np.array([x for batch, _, _ in collected for x in batch], dtype=float) * 1000
    errors = sum(count for _, count, _ in collected)
    first_error = next((error for _, _, error in collected if error), None)
    done = len(latencies)
    return LoadResult(
        operation=requests[0].operation,
        concurrency=concurrency,
        seconds=duration,
        requests=done,
        errors=errors,
        rps=done / duration,
        p50_ms=float(np.percentile(latencies, 50)) if done else float("nan"),
        p99_ms=float(np.percentile(latencies, 99)) if done else float("nan"),
        mean_ms=float(latencies.mean()) if done else float("nan"),
        first_error=first_error,
    )
