"""Issue 12's targets for runs in partitions: bare pipelines, the floor, memory, scale, Dask.

    python -m bench.partitions [--sizes 1000000[,10000000]] [--stores sqlite,postgresql]
                               [--methods APriori,NeedsBased,ValueBased]
                               [--partition-size 25000] [--dask] [--repeats 1]
                               [--chunk 1000000] [--skip bare,floor]
                               [--out bench/results/partitions]

Per size and store: a fresh store filled from the cached data set by the bulk
path (bench.run's ``fill_store``: ``store.bulk.insert_rows``, then VACUUM
ANALYZE on PostgreSQL); then per method, with default options:

1. Run: ``services.segment_customers(request, uow, layout=RunLayout(
   --partition-size, local_executor))`` in a child process of its own, timed by
   the child around the call. Before it, the child and its pool are as a run
   worker's after its first runs (shown apart): the pool's processes started,
   each with the partition code imported and the store opened. Peak memory: the
   PSS summed over the child and all its descendants (the pool's processes, its
   fork server, any helper processes), sampled every 100 ms: shared pages counted
   once, as the processes occupy them (the pool's processes share the fork
   server's preloaded libraries); beside it, the RSS sum (every 50 ms), which
   counts a shared page in every process, and the largest single process. The run must
   be Completed with every customer counted. Its phases come from its
   checkpoints (``RunStateRepository.advance``, timed in the child).
2. Bare: bench.bare's pipeline for the method, in a child process too; with
   --repeats > 1 the two alternate which goes first; medians. Run ≤ 1.2 × bare.
3. Floor: the sum of the fastest single steps, each timed in a child process
   on a fresh Store (its connection opened first): the store's per-customer
   aggregate over all customers (``TransactionRepository.aggregates`` for
   ValueBased, ``.totals`` otherwise); for NeedsBased also one read of the
   answers (``NeedRepository.responses``) and one scikit-learn KMeans (k = the
   run's ``needs.k``, the engine's n_init) on min(eligible, FIT_SAMPLE_SIZE)
   standardised respondents; one bulk write of the run's assignment rows into
   a scratch table (``BareStore.write``, as bench.bare: COPY on PostgreSQL,
   driver executemany on SQLite). Run ≤ 2 × floor.
4. Memory: peak ≤ 1.0 GB at 1M customers, ≤ 1.5 GB at 10M.
5. Scale: with several sizes, the log–log slope of run time between
   consecutive sizes, per store and method ≤ 1.05.
6. --dask: a scheduler and 2 ``dask worker --nworkers 1 --nthreads 1`` on this
   machine; the same runs with ``DaskExecutor`` (the child connects its own
   client), next to the local pool's time. No target: on 2 cores no speed-up is
   expected; it shows the distributed path works at size and what it costs.

Writes latest.json and latest.md (one table) under --out.

10M customers (``--sizes 10000000 --stores postgresql --skip bare,floor``): the
data set is drawn in blocks of --chunk customers (bench.datasets). Estimates,
not measured: the 1M figures of this machine (2026-12, load average 2–4 from
other work) × 10, as if everything scaled linearly:

- disk, ~50 GB on the one file system (this machine had 67 GB free): the CSV
  files ~10 GB under bench/.cache (1M: 0.96 GB); PostgreSQL's data directory
  (under /tmp) ~28 GB after the load (1M: 2.83 GB, tables and indexes), plus
  ~3.5 GB of assignment rows per run (~350 bytes a row: 0.35 GB per 1M-customer
  run), ~39 GB after one run of each method, and up to max_wal_size (1 GB) of WAL;
- time, ~3–4 h: drawing the data set ~15–20 min (1M: ~100 s); the bulk load
  ~75 min (1M: 455 s, transactions at ~30k rows/s) and VACUUM ANALYZE a few
  minutes (1M: 2 s, all in the page cache; 28 GB is not); the runs ~10–30 min
  each (1M: 63–164 s).
- memory: the runs stay in partitions, but bench.bare and the floor hold every
  row in one process (1M: NeedsBased bare 2.5 GB, its floor 2.8 GB, ValueBased
  bare 1.5–2.4 GB): ~15–29 GB at 10M, beyond this machine's 23.6 GB. Hence
  ``--skip bare,floor`` at 10M (or a larger machine).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil  # type: ignore[import-untyped, unused-ignore]

from bench import partition_report
from bench.datasets import CACHE, KINDS, ensure_dataset
from bench.machine import describe, load_average
from bench.memory import PeakRss
from bench.paths import child_pythonpath, service_revision
from bench.stores import PostgresDatabases, open_databases
from segmentation_service.domain.model import Partition
from segmentation_service.services.executors import DEFAULT_PARTITION_SIZE

METHODS = ("APriori", "NeedsBased", "ValueBased")
CHILD_TIMEOUT_S = 4 * 3600.0
GB = partition_report.GB
# What a partition task imports beyond the pool's preload, by method and stage.
WARM_MODULES = (
    "segmentation_service.engines.a_priori_partitions",
    "segmentation_service.engines.needs_partitions",
    "segmentation_service.engines.value_partitions",
    "segmentation_service.store.assignments",
)
# A partition of no customer (the ids are C0000001...): reading it opens what a read of a
# partition opens (a connection; on SQLite, the process's DuckDB helper).
NOBODY = Partition(0, after="~")
# A child of this benchmark runs a function of this module and prints its result as JSON.
CHILD = "import sys; from bench.partitions import child_main; sys.exit(child_main(sys.argv[1:]))"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.partitions", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--sizes", default="1000000", help="customers, comma-separated")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--partition-size", type=int, default=DEFAULT_PARTITION_SIZE)
    parser.add_argument("--dask", action="store_true", help="also run on a local Dask cluster")
    parser.add_argument("--repeats", type=int, default=1, help="runs and bare pipelines each")
    parser.add_argument(
        "--chunk", type=int, default=None, help="draw larger data sets in blocks of this many"
    )
    parser.add_argument(
        "--skip", default="", help="baselines to skip: bare,floor (at 10M they need ~25 GB)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results" / "partitions"
    )
    args = parser.parse_args(argv)
    args.sizes = sorted(int(s) for s in args.sizes.split(","))
    args.stores = args.stores.split(",")
    args.methods = args.methods.split(",")
    args.skip = set(filter(None, args.skip.split(",")))
    if args.skip - {"bare", "floor"}:
        parser.error(f"--skip takes bare and floor, not {sorted(args.skip - {'bare', 'floor'})}")
    unknown = set(args.methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}: {', '.join(METHODS)}")
    return args


# --------------------------------------------------------- child processes


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (none when it has gone)."""
    try:
        return [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
    except psutil.Error:
        return []


class PeakPss:
    """``with PeakPss(pids):`` the largest PSS summed over the pids, sampled every interval."""

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.2) -> None:
        self._pids, self._interval = pids, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.peak_total = 0

    def _sample(self) -> None:
        while True:
            total = 0
            for pid in self._pids():
                try:
                    total += psutil.Process(pid).memory_full_info().pss
                except (psutil.Error, AttributeError):
                    continue
            self.peak_total = max(self.peak_total, total)
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> PeakPss:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def run_child(
    kind: str, params: dict[str, Any], others: Callable[[], list[int]] | None = None
) -> dict[str, Any]:
    """``child_main(kind, params)`` in a fresh process: its result, with its peak memory.

    ``peak_rss_gb``/``peak_pss_gb``: the child and its descendants; ``others_rss_gb``:
    the processes ``others`` names, sampled alike (a Dask cluster's).
    """
    command = [sys.executable, "-c", CHILD, kind, json.dumps(params)]
    env = {**os.environ, "SEGMENTATION_LOG_LEVEL": "WARNING", "PYTHONPATH": child_pythonpath()}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    tree = functools.partial(process_tree, process.pid)
    with PeakRss(tree) as rss, PeakPss(tree, 0.1) as pss, PeakRss(others or list) as other:
        try:
            stdout, stderr = process.communicate(timeout=CHILD_TIMEOUT_S)
        except BaseException:
            process.kill()
            process.communicate()
            raise
    if process.returncode != 0:
        raise RuntimeError(f"{kind} child exited {process.returncode}: {stderr[-3000:]}")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_gb"] = rss.peak_total / GB
    result["peak_process_gb"] = rss.peak_process / GB
    result["peak_pss_gb"] = pss.peak_total / GB
    result["others_rss_gb"] = other.peak_total / GB
    result["rss_samples"] = rss.samples
    return result


def child_main(argv: list[str]) -> int:
    """In a child process: run ``argv[0]`` with the JSON keywords ``argv[1]``; print JSON."""
    kind, params = argv[0], json.loads(argv[1])
    works: dict[str, Callable[..., dict[str, Any]]] = {
        "run": _run_here,
        "bare": _bare_here,
        "floor": _floor_here,
    }
    work = works[kind]
    print(json.dumps(work(**params), default=str), flush=True)
    return 0


def _run_here(url: str, method: str, partition_size: int, scheduler: str | None) -> dict[str, Any]:
    """One run through ``segment_customers``, timed around the call, with its checkpoints."""
    from segmentation_service.domain.model import SegmentationMethod, SegmentationRequest
    from segmentation_service.services.executors import PartitionExecutor, RunLayout
    from segmentation_service.services.submission import segment_customers
    from segmentation_service.store.database import Store
    from segmentation_service.store.run_states import RunStateRepository
    from segmentation_service.store.uow import UnitOfWork

    # As in a run worker after its first run: the pool's processes started, each with its
    # connection to the store (and DuckDB helper on SQLite); the Dask workers alike.
    warming = time.perf_counter()
    client: Any = None
    if scheduler is None:
        from segmentation_service.jobs.executors import _pool, local_executor

        pool = _pool()  # the run worker's pool: one per process, kept for its life
        # Each submit while no process is idle starts one; each task keeps its process
        # busy long enough for the next task to go to another.
        tasks = [pool.submit(warm_process, url, 0.3) for _ in range(os.cpu_count() or 1)]
        warmed = {task.result() for task in tasks}
        executor: Callable[[UnitOfWork], PartitionExecutor] = local_executor
    else:
        from segmentation_service.jobs.executors import DaskExecutor, dask_client

        client = dask_client(scheduler)
        warmed = set(client.run(warm_process, url, 0.0).values())

        def on_dask(uow: UnitOfWork) -> PartitionExecutor:
            return DaskExecutor(client)

        executor = on_dask
    pool_start_s = time.perf_counter() - warming

    for module in WARM_MODULES:  # and here, as in a run worker that has run each method
        importlib.import_module(module)

    # The run's checkpoints (phase, progress), timed: where its time goes.
    trace: list[tuple[float, str, float | None]] = []
    advance = RunStateRepository.advance
    started = time.perf_counter()

    def traced(self: RunStateRepository, run_id: int, phase: Any, progress: Any = None) -> bool:
        trace.append((time.perf_counter() - started, phase.value, progress))
        return advance(self, run_id, phase, progress)

    setattr(RunStateRepository, "advance", traced)  # noqa: B010
    store = Store(url)
    request = SegmentationRequest(SegmentationMethod(method), label=f"bench partitions {method}")
    layout = RunLayout(partition_size, executor)
    started = time.perf_counter()
    run = segment_customers(request, store.unit_of_work(), layout=layout)
    seconds = time.perf_counter() - started
    store.dispose()
    if client is not None:
        client.close()
    return {
        "seconds": seconds,
        "pool_start_s": pool_start_s,
        "warmed_processes": len(warmed),
        "run_id": run.run_id,
        "status": run.status.value,
        "customers": run.customer_count,
        "assigned": run.assigned_count,
        "metrics": {metric.name: metric.value for metric in run.metrics},
        "trace": trace,
    }


def warm_process(url: str, pause: float) -> int:
    """In a pool process or Dask worker: what an earlier run leaves there; its pid.

    The modules a task imports (each method's plan, the assignments' store) and
    this process's store, opened as a task opens it (and DuckDB's helper on SQLite).
    """
    from segmentation_service.store.database import process_store

    for module in WARM_MODULES:
        importlib.import_module(module)
    uow = process_store(url).unit_of_work()
    with uow:
        uow.transactions.totals(date.today(), NOBODY)
    time.sleep(pause)
    return os.getpid()


def _bare_here(url: str, method: str, as_of: str) -> dict[str, Any]:
    from bench.bare import run_bare
    from bench.bare_sql import BareStore

    store = BareStore(url)
    try:
        return run_bare(store, method, date.fromisoformat(as_of)).to_dict()
    finally:
        store.clear()
        store.close()


def _floor_here(url: str, method: str, as_of: str, run_id: int, k: int) -> dict[str, Any]:
    """The floor's steps for ``method``, each timed alone (see the module docstring)."""
    from segmentation_service.store.database import Store

    day = date.fromisoformat(as_of)
    store = Store(url)
    uow = store.unit_of_work()
    floor: dict[str, Any] = {}
    with uow:
        # A read of nobody first: the connection, and DuckDB's helper process on SQLite.
        uow.transactions.totals(day, NOBODY)
        started = time.perf_counter()
        if method == "ValueBased":
            aggregates = uow.transactions.aggregates(day)
        else:
            aggregates = uow.transactions.totals(day)
        floor["aggregate_s"] = time.perf_counter() - started
        floor["aggregate_rows"] = len(aggregates)
        del aggregates
        if method == "NeedsBased":
            started = time.perf_counter()
            responses = uow.needs.responses()
            floor["needs_read_s"] = time.perf_counter() - started
    store.dispose()
    if method == "NeedsBased":
        floor["kmeans_s"], floor["kmeans_rows"] = _kmeans_floor(responses, k)
        del responses
    floor["write_s"], floor["write_rows"] = _write_floor(url, run_id)
    return floor


def _kmeans_floor(responses: Any, k: int) -> tuple[float, int]:
    """One KMeans(k, the engine's n_init) on the run's fit sample, standardised: seconds, rows."""
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    from segmentation_service.engines.clustering import thread_limit
    from segmentation_service.engines.needs_based import NeedsBasedSegmenter, needs_matrix
    from segmentation_service.engines.needs_partitions import FIT_SAMPLE_SIZE
    from segmentation_service.engines.partitions import sample_keys

    engine = NeedsBasedSegmenter()
    matrix = needs_matrix(responses, pd.Index(sorted(responses["customer_id"].unique())))
    data = matrix.to_numpy(dtype=float)
    eligible = (~np.isnan(data)).sum(axis=1) >= engine.required_answers(data.shape[1])
    keys = sample_keys(matrix.index[eligible], engine.random_state)
    sample = data[eligible][np.sort(np.argsort(keys, kind="stable")[:FIT_SAMPLE_SIZE])]
    filled = np.where(np.isnan(sample), np.nanmean(sample, axis=0), sample)
    space = StandardScaler().fit_transform(filled)
    with thread_limit(len(space)):
        started = time.perf_counter()
        KMeans(k, n_init=engine.n_init, random_state=0).fit(space)
        return time.perf_counter() - started, len(space)


def _write_floor(url: str, run_id: int) -> tuple[float, int]:
    """The run's assignment rows written once more by bench.bare's bulk write: seconds, rows."""
    from bench.bare_sql import BareStore

    store = BareStore(url)
    try:
        rows = [
            (run_id, *row)
            for row in store.fetch(
                "SELECT customer_id, segment_code, score, value, reason FROM assignments "
                f"WHERE run_id = {int(run_id)}"
            )
        ]
        store.clear()
        seconds = store.write(rows)
        store.clear()
    finally:
        store.close()
    return seconds, len(rows)


# ---------------------------------------------------------------- Dask


class DaskCluster:
    """``with DaskCluster(work):`` a scheduler and 2 single-threaded workers on this machine."""

    def __init__(self, work: Path, workers: int = 2) -> None:
        self._work, self._workers = work, workers
        self._processes: list[subprocess.Popen[bytes]] = []
        self.address = ""
        self.start_s = 0.0

    def __enter__(self) -> DaskCluster:
        from distributed import Client

        started = time.perf_counter()
        dask = str(Path(sys.executable).parent / "dask")
        env = {**os.environ, "SEGMENTATION_LOG_LEVEL": "WARNING", "PYTHONPATH": child_pythonpath()}
        scheduler_file = self._work / "dask-scheduler.json"
        scheduler_file.unlink(missing_ok=True)
        log = (self._work / "dask.log").open("ab")
        common = ["--host", "127.0.0.1", "--no-dashboard"]
        self._start([dask, "scheduler", "--port", "0", "--scheduler-file", str(scheduler_file)]
                    + common, env, log)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not scheduler_file.exists():
                if time.monotonic() > deadline or self._processes[0].poll() is not None:
                    raise RuntimeError(f"no Dask scheduler: see {self._work / 'dask.log'}")
                time.sleep(0.2)
            time.sleep(0.2)  # the file is written whole, but give it a moment
            self.address = json.loads(scheduler_file.read_text())["address"]
            for _ in range(self._workers):
                command = [dask, "worker", self.address, "--nworkers", "1", "--nthreads", "1"]
                self._start(command + common, env, log)
            with Client(self.address, timeout="30s") as client:  # type: ignore[no-untyped-call]
                client.wait_for_workers(self._workers, timeout=180)
        except BaseException:
            self.stop()
            raise
        self.start_s = time.perf_counter() - started
        return self

    def _start(self, command: list[str], env: dict[str, str], log: Any) -> None:
        self._processes.append(subprocess.Popen(command, stdout=log, stderr=log, env=env))

    def pids(self) -> list[int]:
        return [pid for process in self._processes for pid in process_tree(process.pid)]

    def stop(self) -> None:
        """Workers first (their nannies stop their worker processes), then the scheduler."""
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    for pid in reversed(process_tree(process.pid)):
                        try:
                            psutil.Process(pid).kill()
                        except psutil.Error:
                            pass
                    process.wait(timeout=10)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


# ---------------------------------------------------------------- a block


def _run(
    url: str, method: str, size: int, partition_size: int, cluster: DaskCluster | None = None
) -> dict[str, Any]:
    """One run in a child process; its problems: not Completed, customers not counted."""
    params = {
        "url": url,
        "method": method,
        "partition_size": partition_size,
        "scheduler": cluster.address if cluster else None,
    }
    run = run_child("run", params, cluster.pids if cluster else None)
    run["cluster_rss_gb"] = run.pop("others_rss_gb")
    run["problems"] = []
    if run["status"] != "Completed":
        run["problems"].append(f"run {run['run_id']} ended {run['status']}")
    if run["customers"] != size:
        run["problems"].append(f"run {run['run_id']} counted {run['customers']:,} of {size:,}")
    return run


def _method(
    args: argparse.Namespace, url: str, method: str, size: int, cluster: DaskCluster | None
) -> dict[str, Any]:
    as_of = datetime.now(timezone.utc).date().isoformat()  # runs are as of today
    runs: list[dict[str, Any]] = []
    bares: list[dict[str, Any]] = []
    for i in range(args.repeats):
        for kind in ("run", "bare") if i % 2 == 0 else ("bare", "run"):
            if kind == "run":
                runs.append(_run(url, method, size, args.partition_size))
            elif "bare" not in args.skip:
                bares.append(run_child("bare", {"url": url, "method": method, "as_of": as_of}))
        bare = f", bare {bares[-1]['seconds']:.2f} s" if bares else ""
        print(
            f"    {method} {i + 1}/{args.repeats}: run {runs[-1]['seconds']:.2f} s "
            f"(peak RSS {runs[-1]['peak_rss_gb']:.2f} GB, PSS {runs[-1]['peak_pss_gb']:.2f} GB; "
            f"{runs[-1]['status']}){bare}",
            flush=True,
        )
    floor = None
    if "floor" not in args.skip:
        last = runs[-1]
        params = {"url": url, "method": method, "as_of": as_of, "run_id": last["run_id"]}
        floor = run_child("floor", {**params, "k": int(last["metrics"].get("needs.k", 0))})
        print(
            f"    {method} floor: {partition_report.floor_seconds(floor):.2f} s {floor}", flush=True
        )
    dask = None
    if cluster is not None:
        dask = _run(url, method, size, args.partition_size, cluster)
        print(f"    {method} on Dask: {dask['seconds']:.2f} s ({dask['status']})", flush=True)
    return partition_report.method_entry(runs, bares, floor, dask)


def store_bytes(url: str) -> int:
    """The store's size on disk: a SQLite file (and its WAL), or a PostgreSQL database."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        files = (Path(f"{parsed.database}{suffix}") for suffix in ("", "-wal"))
        return sum(path.stat().st_size for path in files if path.exists())
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            query = sa.text("SELECT pg_database_size(current_database())")
            return int(connection.execute(query).scalar() or 0)
    finally:
        engine.dispose()


def _block(
    args: argparse.Namespace, databases: Any, size: int, cluster: DaskCluster | None
) -> dict[str, Any]:
    from bench.run import fill_store

    store = databases.kind
    print(f"== {size:,} customers, {store} (load average {load_average()})", flush=True)
    dataset = ensure_dataset(size, args.seed, args.chunk)
    tag = f"partitions_{store}_{size}"
    url, loaded = fill_store(databases, tag, dataset)
    block: dict[str, Any] = {
        "size": size,
        "store": store,
        "rows": dataset.rows,
        "dataset_bytes": sum(dataset.csv(kind).stat().st_size for kind in KINDS),
        "store_load": loaded,
        "store_bytes": store_bytes(url),
        "load_average_start": load_average(),
        "methods": {},
    }
    print(f"    store filled: {loaded}; {block['store_bytes'] / GB:.2f} GB", flush=True)
    try:
        for method in args.methods:
            try:
                block["methods"][method] = _method(args, url, method, size, cluster)
            except RuntimeError as exc:  # a failed child: recorded, the others still run
                print(f"    {method} failed: {exc}", flush=True)
                block["methods"][method] = {"error": str(exc)}
        block["store_bytes_end"] = store_bytes(url)  # with the runs' assignments
    finally:
        databases.drop(tag)
    block["load_average_end"] = load_average()
    return block


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="partitions-", dir=CACHE))
    command = "python -m bench.partitions " + " ".join(sys.argv[1:] if argv is None else argv)
    result: dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command.strip(),
        "config": {
            **{k: v for k, v in vars(args).items() if k != "out"},
            "today": date.today().isoformat(),
            "service": service_revision(),
        },
        "machine": describe(None),
        "blocks": [],
    }
    print(f"{result['command']}\nload average before: {load_average()}", flush=True)
    cluster = DaskCluster(work) if args.dask else None
    try:
        if cluster is not None:
            cluster.__enter__()
            result["dask"] = {"address": cluster.address, "start_s": cluster.start_s}
            print(f"Dask cluster at {cluster.address} in {cluster.start_s:.1f} s", flush=True)
        for store in args.stores:
            databases = open_databases(store, work)
            try:
                if isinstance(databases, PostgresDatabases):
                    result["machine"]["postgresql"] = databases.version()
                for size in args.sizes:
                    result["blocks"].append(_block(args, databases, size, cluster))
                    partition_report.write(result, args.out)
            finally:
                databases.close()
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    result["machine"]["load_average_end"] = load_average()
    result["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(partition_report.write(result, args.out))
    print(f"wrote {args.out / 'latest.md'} and latest.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
