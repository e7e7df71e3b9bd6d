"""Runs in a run worker: lookups while a run executes, and a run's time through the queue.

    python -m bench.background [--customers 1000000] [--stores sqlite postgresql]
                               [--method ValueBased] [--concurrency 8] [--workers 2]
                               [--idle-seconds 20] [--busy-seconds 60] [--repeats 2]
                               [--paced-share 0.25] [--worker-nice N ...]
                               [--out bench/results/background]

Issue 11's two targets, per store, each against a baseline measured in the same run:

(a) GetCustomerSegment at --concurrency (closed loop, raw envelopes, keep-alive)
    through one continuous load: idle for --idle-seconds before a run is
    submitted (SubmitSegmentation), busy while it executes in the run worker
    (from its startedAt). Target: p99 while busy ≤ 1.2 × idle p99. That load
    saturates the machine, and the run worker runs at a lower CPU priority
    (``worker --nice``, 10 by default), so the run gets only what the lookups
    leave: the load stops after --busy-seconds of the run, which then finishes
    unloaded. An extra row repeats (a) with the lookups paced at --paced-share
    of the idle throughput (below capacity, as a CRM's screens are): the run
    gets the rest and is measured whole, with idle time before and after it.
(b) With no other load, the run's wall time through SubmitSegmentation (submit
    → Completed, polled every --poll s) against the same run executed in this
    process (``services.segment_customers`` in a child process of its own:
    recorded and executed, no queue, no SOAP),
    alternating which goes first, medians of --repeats. Target ≤ 1.05×.

The store is filled by the bulk path from the cached data set (bench/.cache, 10
transactions per customer). The server is ``segmentation-service serve --workers
N`` with its own run worker; with --worker-nice N ..., a block per N with
``serve --no-worker`` and a separate ``segmentation-service worker --nice N``.
A warm-up SegmentCustomers run comes first; it also gives the lookups a run to
read. Writes latest.json and latest.md under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import psutil
from lxml import etree

from bench import envelopes, measure, servers
from bench import targets as t
from bench.calls import NS, Connection, SoapCallError
from bench.datasets import CACHE, ensure_dataset
from bench.machine import describe, load_average
from bench.paths import child_pythonpath, service_revision
from bench.report import HEADER, Row, _n, _size
from bench.run import fill_store
from bench.stores import PostgresDatabases, open_databases
from bench.timeline import ContinuousLoad

FINISHED = ("Completed", "Failed", "Cancelled")
POLL_S = 0.25  # (b): how often the submitter polls GetSegmentationRun (--poll)
TRACE_POLL_S = 0.25  # (a): the run's phases during the load
RUN_TIMEOUT_S = 3600.0
LOOKUP_IDS = 2000


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.background", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--method", default="ValueBased", choices=measure.METHODS)
    parser.add_argument("--concurrency", type=int, default=8, help="lookup load processes")
    parser.add_argument("--workers", type=int, default=2, help="SOAP worker processes")
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="idle before and after")
    parser.add_argument("--repeats", type=int, default=2, help="(b): runs of each kind")
    parser.add_argument("--poll", type=float, default=POLL_S, help="(b): seconds between polls")
    parser.add_argument(
        "--paced-share",
        type=float,
        default=0.25,
        help="extra (a) with lookups paced at this share of the idle req/s (0: none)",
    )
    parser.add_argument(
        "--busy-seconds",
        type=float,
        default=60.0,
        help="(a) at --concurrency: stop the load after the run has executed this long",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        nargs="*",
        default=[],
        help="a block per N with `serve --no-worker` and `worker --nice N` "
        "(default: one block, serve's own run worker)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results" / "background"
    )
    return parser.parse_args(argv)


# ------------------------------------------------------------------ the runs


def _run_fields(body: bytes) -> dict[str, Any]:
    run = etree.fromstring(body).find(".//t:run", NS)
    if run is None:
        raise SoapCallError(f"no run in the reply: {body[:2000]!r}")
    fields = ("runId", "status", "phase", "progress", "queuedAt", "startedAt", "finishedAt")
    found = {name: run.findtext(f"t:{name}", namespaces=NS) for name in fields}
    found["failureReason"] = run.findtext("t:failureReason", namespaces=NS)
    for name in ("queuedAt", "startedAt", "finishedAt"):  # as wall-clock seconds
        found[name] = datetime.fromisoformat(found[name]).timestamp() if found[name] else None
    found["runId"] = int(found["runId"])
    return found


def _post(connection: Connection, request: envelopes.Request) -> tuple[dict[str, Any], float]:
    status, body, seconds = connection.post(request)
    if status != 200:
        raise SoapCallError(f"{request.operation}: HTTP {status}: {body[:2000]!r}")
    return _run_fields(body), seconds


def through_queue(
    server: servers.RunningServer,
    method: str,
    label: str,
    poll: float = POLL_S,
    trace: list[tuple[float, str, str]] | None = None,
    running_at_most: float | None = None,
) -> dict[str, Any]:
    """SubmitSegmentation, then GetSegmentationRun every ``poll`` s until it has finished.

    With ``running_at_most``, stops polling once the run has been Running that long
    (the result then has ``finished_at`` None; ``finish`` waits for the rest).
    """
    connection = Connection(server.url, timeout=120)
    try:
        started = time.perf_counter()
        submitted_at = time.time()
        queued, answer_s = _post(connection, envelopes.submit_segmentation(method, label))
        run = queued
        deadline = started + RUN_TIMEOUT_S
        while run["status"] not in FINISHED and time.perf_counter() < deadline:
            if running_at_most is not None and run["status"] == "Running":
                if time.time() - run["startedAt"] >= running_at_most:
                    break
            time.sleep(poll)
            run, _ = _post(connection, envelopes.get_segmentation_run(queued["runId"]))
            if trace is not None:
                trace.append((time.time(), run["status"], run["phase"] or run["status"]))
        seconds = time.perf_counter() - started
    finally:
        connection.close()
    if run["status"] not in ("Completed", "Running"):
        raise SoapCallError(f"run {run['runId']} ended {run['status']}: {run['failureReason']}")
    return {
        "run_id": run["runId"],
        "seconds": seconds,
        "answer_ms": answer_s * 1000,
        "answered_status": queued["status"],
        "submitted_at": submitted_at,
        "started_at": run["startedAt"],
        "finished_at": run["finishedAt"],
        "phase": run["phase"],
        "progress": run["progress"],
        "wait_s": run["startedAt"] - run["queuedAt"],  # until a run worker claimed it
        "execute_s": (run["finishedAt"] or time.time()) - run["startedAt"],
    }


def finish(server: servers.RunningServer, run: dict[str, Any]) -> dict[str, Any]:
    """Wait for a run ``through_queue`` left Running; its record, now finished."""
    connection = Connection(server.url, timeout=120)
    try:
        state = {"status": "Running"}
        deadline = time.perf_counter() + RUN_TIMEOUT_S
        while state["status"] not in FINISHED and time.perf_counter() < deadline:
            time.sleep(1.0)
            state, _ = _post(connection, envelopes.get_segmentation_run(run["run_id"]))
    finally:
        connection.close()
    if state["status"] != "Completed":
        raise SoapCallError(f"run {run['run_id']} ended {state['status']}")
    return {**run, "finished_at": state["finishedAt"], "phase": state["phase"]}


# The run in a process of its own, as a run worker's is, on the same executor, timed around
# the use case only (not the interpreter's start and imports, which a worker has done before
# its first run; the pool's processes start within the timed part, as a fresh worker's do).
IN_PROCESS = """
import json, sys, time
from segmentation_service.config import load_settings
from segmentation_service.domain.model import SegmentationMethod, SegmentationRequest
from segmentation_service.jobs.executors import run_layout
from segmentation_service.services.submission import segment_customers
from segmentation_service.store.database import Store

url, method, label = sys.argv[1:4]
store = Store(url)
request = SegmentationRequest(SegmentationMethod(method), label=label)
# The partitions run as a run worker runs them: the settings' executor and partition size.
layout = run_layout(load_settings(database_url=url).settings)
started = time.perf_counter()
run = segment_customers(request, store.unit_of_work(), layout=layout)
seconds = time.perf_counter() - started
print(json.dumps({"run_id": run.run_id, "status": run.status.value, "seconds": seconds}))
"""


def in_process(database_url: str, method: str, label: str) -> dict[str, Any]:
    """The same run recorded and executed by ``services.segment_customers`` (no queue, no SOAP).

    In a fresh child process: this one holds the benchmark's own data (a million
    customer ids), which would weigh on the run's garbage collections.
    """
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, database_url, method, label],
        capture_output=True,
        text=True,
        env={**os.environ, "SEGMENTATION_LOG_LEVEL": "WARNING", "PYTHONPATH": child_pythonpath()},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"in-process run failed: {done.stderr[-2000:]}")
    run: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if run["status"] != "Completed":
        raise RuntimeError(f"in-process run {run['run_id']} ended {run['status']}")
    return run


def queue_vs_in_process(
    server: servers.RunningServer, url: str, method: str, repeats: int, poll: float = POLL_S
) -> dict[str, Any]:
    """(b): alternating which goes first (ABBA...), so a drift weighs on both alike."""
    queued: list[dict[str, Any]] = []
    local: list[dict[str, Any]] = []
    for i in range(repeats):
        order = ("local", "queued") if i % 2 == 0 else ("queued", "local")
        for kind in order:
            if kind == "local":
                local.append(in_process(url, method, f"bench in-process {i}"))
            else:
                queued.append(through_queue(server, method, f"bench queued {i}", poll))
        print(
            f"    (b) {i + 1}/{repeats}: queued {queued[-1]['seconds']:.2f} s "
            f"(waited {queued[-1]['wait_s']:.2f} s), in-process {local[-1]['seconds']:.2f} s",
            flush=True,
        )
    queued_s = statistics.median(r["seconds"] for r in queued)
    local_s = statistics.median(r["seconds"] for r in local)
    return {
        "poll": poll,
        "queued": queued,
        "in_process": local,
        "queued_s": queued_s,
        "in_process_s": local_s,
        "wait_s": statistics.median(r["wait_s"] for r in queued),
        "server_s": statistics.median(r["finished_at"] - r["submitted_at"] for r in queued),
        "answer_ms": max(r["answer_ms"] for r in queued),
        "ratio": queued_s / local_s,
    }


def lookups_during_run(
    server: servers.RunningServer,
    requests: list[envelopes.Request],
    method: str,
    concurrency: int,
    idle_seconds: float,
    rate: float | None = None,
    busy_at_most: float | None = None,
) -> dict[str, Any]:
    """(a): one continuous load; idle before (and after) the run, busy while it executes.

    With ``busy_at_most``, the load stops once the run has executed that long (a run
    at a low CPU priority all but waits while the lookups saturate the machine); the
    run then finishes unloaded and only the idle time before it is the baseline.
    """
    trace: list[tuple[float, str, str]] = []
    with ContinuousLoad(server.url, requests, concurrency, rate) as load:
        time.sleep(idle_seconds)
        run = through_queue(server, method, "bench busy", TRACE_POLL_S, trace, busy_at_most)
        if run["finished_at"] is not None:
            time.sleep(idle_seconds)
        ended = time.time()
    timeline = load.timeline
    assert timeline is not None
    busy_until = run["finished_at"] or ended
    warm = load.started_at + 2.0  # connections and worker caches warming up
    idle_spans = [(warm, run["submitted_at"])]
    if run["finished_at"] is not None:
        idle_spans.append((run["finished_at"] + 0.5, ended))
    idle = timeline.phase(idle_spans)
    busy = timeline.phase([(run["started_at"], busy_until)])
    phases: dict[str, list[tuple[float, float]]] = {}
    previous = run["started_at"]
    for moment, status, phase in trace:  # a poll ends the interval of the phase it reports
        if previous < moment and status == "Running":
            phases.setdefault(phase, []).append((previous, min(moment, busy_until)))
        previous = moment
    stopped = None
    if run["finished_at"] is None:  # the load stopped mid-run: how far it was
        stopped = {"phase": run["phase"], "progress": run["progress"]}
        run = finish(server, run)
        run["execute_s"] = run["finished_at"] - run["started_at"]
    return {
        "rate": rate,
        "run": run,
        "stopped_at": stopped,
        "idle": idle.to_dict(),
        "busy": busy.to_dict(),
        "phases": {name: timeline.phase(spans).to_dict() for name, spans in phases.items()},
        "ratio_p99": busy.p99_ms / idle.p99_ms,
        "first_error": timeline.first_error,
    }


# ----------------------------------------------------------------- a block


def _serve(url: str, work: Path, workers: int, nice: int | None) -> tuple[Any, Any]:
    """``serve`` with its own run worker, or with ``--no-worker`` and ``worker --nice N``."""
    if nice is None:
        return servers.start_service(url, work, workers), None
    server = servers.start_service(url, work, workers, run_worker=False)
    try:
        return server, servers.start_run_worker(url, work, nice=nice)
    except BaseException:
        servers.stop(server)
        raise


def _niceness(server: servers.RunningServer, worker: servers.RunWorker | None) -> int:
    """The CPU priority the runs execute at (the run worker's processes)."""
    pids = worker.pids() if worker is not None else server.run_worker_pids()
    return max((psutil.Process(pid).nice() for pid in pids), default=0)


def measure_block(
    args: argparse.Namespace, url: str, work: Path, ids: list[str], nice: int | None
) -> dict[str, Any]:
    server, worker = _serve(url, work, args.workers, nice)
    try:
        niceness = _niceness(server, worker)
        warm_up = measure.segment(server, args.method)
        print(f"    warm-up SegmentCustomers: {warm_up['seconds']:.2f} s", flush=True)
        rng = random.Random(args.seed + 1)
        requests = [envelopes.get_customer_segment(i) for i in rng.sample(ids, LOOKUP_IDS)]
        timing = queue_vs_in_process(server, url, args.method, args.repeats, args.poll)
        lookups = lookups_during_run(
            server,
            requests,
            args.method,
            args.concurrency,
            args.idle_seconds,
            busy_at_most=args.busy_seconds,
        )
        idle, busy = lookups["idle"], lookups["busy"]
        print(
            f"    (a) p99 idle {idle['p99_ms']:.1f} ms, busy {busy['p99_ms']:.1f} ms "
            f"({lookups['ratio_p99']:.2f}×) over {busy['seconds']:.0f} s of the run; "
            f"stopped at {lookups['stopped_at']}; run {lookups['run']['execute_s']:.1f} s",
            flush=True,
        )
        paced = None
        if args.paced_share > 0:
            rate = idle["rps"] * args.paced_share
            paced = lookups_during_run(
                server, requests, args.method, args.concurrency, args.idle_seconds, rate
            )
            print(
                f"    (a, paced {rate:.0f} req/s) p99 idle {paced['idle']['p99_ms']:.1f} ms, "
                f"busy {paced['busy']['p99_ms']:.1f} ms ({paced['ratio_p99']:.2f}×); "
                f"run {paced['run']['execute_s']:.1f} s under load",
                flush=True,
            )
    finally:
        if worker is not None:
            servers.stop_run_worker(worker)
        servers.stop(server)
    return {
        "niceness": niceness,
        "warm_up": warm_up,
        "timing": timing,
        "lookups": lookups,
        "paced": paced,
    }


# ------------------------------------------------------------------ the table


def rows(result: dict[str, Any]) -> list[Row]:
    config = result["config"]
    return [
        row
        for block in result["blocks"]
        for row in _block_rows(block, config["method"], config["concurrency"])
    ]


def _block_rows(block: dict[str, Any], method: str, concurrency: int) -> list[Row]:
    out: list[Row] = []
    size, store = _size(block["size"]), block["store"]
    where = "serve's run worker" if block["nice"] is None else "a separate run worker"
    where += f" (nice {block['niceness']})"
    lookups, timing = block["lookups"], block["timing"]

    def add(label: str, figure: str, baseline: str, ratio: str, check: t.Check) -> None:
        out.append((size, store, label, figure, baseline, ratio, check.target, check.verdict))

    for key in ("lookups", "paced"):
        load = block.get(key)
        if not load:
            continue
        idle, busy = load["idle"], load["busy"]
        how = (
            f"c={concurrency}"
            if key == "lookups"
            else f"paced at {_n(load['rate'])} req/s (extra row: below capacity)"
        )
        stopped = load.get("stopped_at")
        span = (
            f"its first {_n(busy['seconds'], 0)} s, to {stopped['phase']} "
            f"{_n(100 * float(stopped['progress'] or 0), 0)}%"
            if stopped
            else f"{_n(busy['seconds'], 0)} s"
        )
        add(
            f"GetCustomerSegment p99, {how}, while a {method} run executes in {where} ({span})",
            f"{_n(busy['p99_ms'], 1)} ms; p50 {_n(busy['p50_ms'], 1)} ms; "
            f"{_n(busy['rps'])} req/s" + (f"; {busy['errors']} errors" if busy["errors"] else ""),
            f"idle p99 {_n(idle['p99_ms'], 1)} ms; p50 {_n(idle['p50_ms'], 1)} ms; "
            f"{_n(idle['rps'])} req/s",
            f"{load['ratio_p99']:.2f}",
            t.at_most(load["ratio_p99"], t.BUSY_P99_VS_IDLE, "× idle p99"),
        )
        phases = "; ".join(
            f"{name} {_n(p['p99_ms'], 1)} ms ({_n(p['seconds'], 1)} s)"
            for name, p in load["phases"].items()
        )
        add("… its p99 by run phase", phases, "", "", t.Check("", "info"))
        unloaded = statistics.median(r["execute_s"] for r in timing["queued"])
        add(
            "… the run's time under that load (startedAt → finishedAt)"
            if not stopped
            else f"… the run's time, the load stopped after its first {_n(busy['seconds'], 0)} s",
            f"{_n(load['run']['execute_s'], 1)} s",
            f"unloaded {_n(unloaded, 1)} s",
            f"{load['run']['execute_s'] / unloaded:.2f}",
            t.Check("", "info"),
        )
    add(
        f"{method} run through SubmitSegmentation (submit → seen Completed, polled every "
        f"{timing['poll']:g} s), median of {len(timing['queued'])}",
        f"{_n(timing['queued_s'], 2)} s (submit → finishedAt {_n(timing['server_s'], 2)} s; "
        f"waited {_n(timing['wait_s'], 2)} s for a worker)",
        f"in-process {_n(timing['in_process_s'], 2)} s",
        f"{timing['ratio']:.3f}",
        t.at_most(timing["ratio"], t.QUEUED_VS_IN_PROCESS, "× in-process"),
    )
    answers = [*timing["queued"], lookups["run"]]
    slowest = max(r["answer_ms"] for r in answers)
    add(
        f"SubmitSegmentation answer, slowest of {len(answers)} (one under the lookup load)",
        f"{_n(slowest, 1)} ms (" + ", ".join(sorted({r["answered_status"] for r in answers})) + ")",
        "",
        "",
        t.at_most(slowest, t.SUBMIT_ANSWER_MS, "answer", " ms"),
    )
    return out


def markdown(result: dict[str, Any]) -> str:
    machine, config = result["machine"], result["config"]
    lines = [
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM; "
        f"Python {machine['python']}; SQLite {machine['sqlite']}; {machine['postgresql'] or '—'}; "
        f"load average {machine['load_average_start']} at start, "
        f"{machine.get('load_average_end')} at end.",
        "",
        f"Server: `segmentation-service serve --workers {config['workers']}` and its run worker; "
        f"{config['customers']:,} customers × ~10 transactions; {config['method']} runs; "
        f"load {config['concurrency']} processes × 1 keep-alive connection, "
        f"{config['idle_seconds']:g} s idle before and after. Service: {config['service']}.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for row in rows(result):
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def write(result: dict[str, Any], directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "latest.json").write_text(json.dumps(result, indent=2, default=str))
    text = markdown(result)
    (directory / "latest.md").write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="background-", dir=CACHE))
    result: dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": {
            **{k: v for k, v in vars(args).items() if k != "out"},
            "today": date.today().isoformat(),
            "service": service_revision(),
        },
        "machine": describe(None),
        "blocks": [],
    }
    dataset = ensure_dataset(args.customers, args.seed)
    ids = dataset.customer_ids()
    try:
        for store in args.stores:
            databases = open_databases(store, work)
            try:
                if isinstance(databases, PostgresDatabases):
                    result["machine"]["postgresql"] = databases.version()
                tag = f"background_{store}_{args.customers}"
                print(f"== {args.customers:,} customers, {store}: filling", flush=True)
                url, loaded = fill_store(databases, tag, dataset)
                for nice in args.worker_nice or [None]:
                    worker = "serve's run worker" if nice is None else f"worker --nice {nice}"
                    print(f"  {worker} (load {load_average()})", flush=True)
                    block = measure_block(args, url, work, ids, nice)
                    block.update(size=args.customers, store=store, nice=nice, store_load=loaded)
                    result["blocks"].append(block)
                    write(result, args.out)
                databases.drop(tag)
            finally:
                databases.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["machine"]["load_average_end"] = load_average()
    result["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(write(result, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
