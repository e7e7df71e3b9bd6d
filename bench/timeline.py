"""A closed-loop load that runs until stopped, keeping when each request was sent.

Like ``bench.load.run_load`` (N processes, one keep-alive connection each, raw
envelopes posted back to back, round robin from each process's own offset),
but open-ended: started, then stopped whenever the caller is done. Each request
keeps the wall-clock time it was sent and its latency, so one continuous load
can be cut afterwards into phases (before, during and after a segmentation
run) measured in the same run, against the same connections.

With a ``rate``, each process sends on a fixed schedule instead (rate /
concurrency requests per second each, staggered): the load a CRM's screens
make, below capacity. A request's latency is then counted from when it was due,
so a stall that delays the following requests shows in them too (no
coordinated omission).
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any

import numpy as np

from bench.envelopes import Request

READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Phase:
    """The requests sent and answered inside one interval of the load."""

    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Timeline:
    sent: np.ndarray  # wall-clock seconds (time.time()) each answered request was sent
    latency_ms: np.ndarray
    error_sent: np.ndarray  # when each failed request was sent
    first_error: str | None

    def phase(self, intervals: Sequence[tuple[float, float]]) -> Phase:
        """The requests sent and answered inside any of ``intervals`` (wall-clock seconds)."""
        inside = np.zeros(len(self.sent), dtype=bool)
        failed = 0
        seconds = 0.0
        for start, end in intervals:
            if end <= start:
                continue
            seconds += end - start
            done = self.sent + self.latency_ms / 1000
            inside |= (self.sent >= start) & (done <= end)
            failed += int(((self.error_sent >= start) & (self.error_sent <= end)).sum())
        latencies = self.latency_ms[inside]
        count = len(latencies)
        return Phase(
            seconds=seconds,
            requests=count,
            errors=failed,
            rps=count / seconds if seconds else float("nan"),
            p50_ms=float(np.percentile(latencies, 50)) if count else float("nan"),
            p99_ms=float(np.percentile(latencies, 99)) if count else float("nan"),
            max_ms=float(latencies.max()) if count else float("nan"),
        )


def _worker(
    host: str,
    port: int,
    path: str,
    requests: Sequence[Request],
    offset: int,
    interval: float,
    barrier: Any,
    stop: Any,
    results: Any,
) -> None:
    sent: list[float] = []
    latencies: list[float] = []
    error_sent: list[float] = []
    first_error: str | None = None
    connection = http.client.HTTPConnection(host, port, timeout=120)
    headers = [
        {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": request.soap_action}
        for request in requests
    ]
    barrier.wait(READY_TIMEOUT_S)
    i = offset
    due = time.perf_counter() + interval * offset / max(len(requests), 1)
    while not stop.value:
        index = i % len(requests)
        i += 1
        if interval:  # paced: wait for the due time; late requests count from it
            ahead = due - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
            wall, started = time.time() + min(0.0, ahead), due
            due += interval
        else:
            wall, started = time.time(), time.perf_counter()
        try:
            connection.request("POST", path, requests[index].body, headers[index])
            reply = connection.getresponse()
            body = reply.read()
            status = reply.status
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=120)
            status, body = -1, repr(exc).encode()
        elapsed = time.perf_counter() - started
        if status == 200:
            sent.append(wall)
            latencies.append(elapsed * 1000)
        else:
            error_sent.append(wall)
            if first_error is None:
                first_error = f"HTTP {status}: {body[:500]!r}"
    connection.close()
    results.put((sent, latencies, error_sent, first_error))


class ContinuousLoad:
    """``with ContinuousLoad(url, requests, 8) as load: ...; timeline = load.timeline``.

    ``rate`` (requests per second in all): paced; None: closed loop, back to back.
    """

    def __init__(
        self,
        url: str,
        requests: Sequence[Request],
        concurrency: int = 8,
        rate: float | None = None,
    ) -> None:
        host_port, _, path = url.removeprefix("http://").partition("/")
        host, port = host_port.split(":")
        context = mp.get_context("fork")
        self._barrier = context.Barrier(concurrency + 1)
        self._stop = context.RawValue("b", 0)
        self._results = context.Queue()
        self._processes = [
            context.Process(
                target=_worker,
                args=(
                    host,
                    int(port),
                    "/" + path,
                    requests,
                    k * len(requests) // concurrency,
                    concurrency / rate if rate else 0.0,
                    self._barrier,
                    self._stop,
                    self._results,
                ),
                daemon=True,
            )
            for k in range(concurrency)
        ]
        self.started_at = 0.0
        self.timeline: Timeline | None = None

    def __enter__(self) -> ContinuousLoad:
        for process in self._processes:
            process.start()
        self._barrier.wait(READY_TIMEOUT_S)
        self.started_at = time.time()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.value = 1
        collected = [self._results.get(timeout=300) for _ in self._processes]
        for process in self._processes:
            process.join(timeout=30)
        self.timeline = Timeline(
            sent=np.array([x for batch in collected for x in batch[0]], dtype=float),
            latency_ms=np.array([x for batch in collected for x in batch[1]], dtype=float),
            error_sent=np.array([x for batch in collected for x in batch[2]], dtype=float),
            first_error=next((batch[3] for batch in collected if batch[3]), None),
        )
