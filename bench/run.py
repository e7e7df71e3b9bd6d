"""Benchmark the segmentation service against bare baselines measured in the same run.

    python -m bench.run [--sizes 10000,100000,1000000] [--stores sqlite,postgresql]
                        [--out bench/results] [--quick]

For each size and store: fill a fresh store by the bulk path; import
throughput (`segmentation-service import` vs the bulk path); SegmentCustomers
per method vs a bare pipeline, with the server worker's peak RSS; lookups
through `segmentation-service serve` vs a bare spyne echo service; page
depth; and, at the largest size, lookups during a long run. Writes
latest.json, latest.md (one table) and timing.png under --out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from bench import auth, measure, report, servers
from bench.bulkload import analyze, bulk_load, create_schema
from bench.datasets import CACHE, KINDS, ensure_dataset
from bench.imports import measure_import
from bench.machine import describe, load_average
from bench.paths import service_revision
from bench.stores import Databases, PostgresDatabases, open_databases

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
DEFAULT_STORES = ("sqlite", "postgresql")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", help="customers per data set, comma-separated")
    parser.add_argument("--stores", help="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--quick", action="store_true", help="10k customers only, short loads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load test")
    parser.add_argument(
        "--import-limit",
        type=int,
        default=1_000_000,
        help="rows per file for the import comparison (default 1,000,000; 0: all)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other sizes/stores of --out's latest.json (runs done separately)",
    )
    parser.add_argument(
        "--skip", default="", help="parts to skip: import,lookups,auth,paging,contention"
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or ("10000" if args.quick else ",".join(map(str, DEFAULT_SIZES)))
    args.sizes = sorted(int(s) for s in sizes.split(","))
    args.stores = (args.stores or ",".join(DEFAULT_STORES)).split(",")
    if args.quick:
        args.duration = min(args.duration, 3.0)
    args.skip = set(filter(None, args.skip.split(",")))
    return args


def fill_store(databases: Databases, tag: str, dataset: Any) -> tuple[str, dict[str, Any]]:
    """A fresh store filled by the bulk path; returns its URL and the load figures."""
    url = databases.fresh(f"bench_{tag}")
    create_schema(url)
    loaded: dict[str, Any] = {}
    for kind in KINDS:
        rows, seconds = bulk_load(url, kind, dataset.csv(kind))
        loaded[kind] = {"rows": rows, "seconds": seconds, "rps": rows / seconds}
    started = time.perf_counter()
    analyze(url)
    loaded["analyze_s"] = time.perf_counter() - started
    return url, loaded


def _block(
    args: argparse.Namespace,
    databases: Databases,
    size: int,
    echo: servers.RunningServer,
    work: Path,
    largest: bool,
) -> dict[str, Any]:
    store = databases.kind
    tag = f"{store}_{size}"
    print(f"== {size:,} customers, {store} (load average {load_average()})", flush=True)
    dataset = ensure_dataset(size, args.seed)
    block: dict[str, Any] = {"size": size, "store": store, "rows": dataset.rows}
    if "import" not in args.skip:
        block["import"] = measure_import(dataset, databases, tag, args.import_limit or None)
    url, block["store_load"] = fill_store(databases, tag, dataset)
    print(f"    store filled: {block['store_load']}", flush=True)
    server = servers.start_service(url, work, args.workers)
    try:
        as_of = datetime.now(timezone.utc).date()
        block["segmentation"] = measure.segmentation(server, url, as_of)
        value_run = block["segmentation"]["ValueBased"]["service"]
        block["stray_codes"] = {
            method: measure.stray_codes(url, entry["service"])
            for method, entry in block["segmentation"].items()
        }
        if any(block["stray_codes"].values()):
            print(f"    assignment codes that are no segment: {block['stray_codes']}", flush=True)
        requests = measure.lookup_requests(dataset.customer_ids(), url, value_run)
        if "lookups" not in args.skip:
            block["lookups"] = measure.lookups(
                server, echo, requests, args.concurrency, args.duration
            )
        if "auth" not in args.skip:
            plain = requests["GetCustomerSegment"]
            block["auth"] = auth.measure(
                url, work, plain, args.workers, args.concurrency, args.duration
            )
        if "paging" not in args.skip:
            block["paging"] = measure.paging_depth(server, url)
            print(f"    paging: {block['paging'].get('median_ms')}", flush=True)
        if largest and "contention" not in args.skip:
            slowest = max(
                ("ValueBased", "NeedsBased"),
                key=lambda m: block["segmentation"][m]["service"]["seconds"],
            )
            block["contention"] = measure.contention(
                server, requests["GetCustomerSegment"], slowest, args.concurrency
            )
            print(
                f"    contention: p50 {block['contention']['p50_ms']:.1f} ms, "
                f"p99 {block['contention']['p99_ms']:.1f} ms",
                flush=True,
            )
    finally:
        servers.stop(server)
        databases.drop(f"bench_{tag}")
    return block


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=CACHE))
    result: dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": {
            "sizes": args.sizes,
            "stores": args.stores,
            "seed": args.seed,
            "workers": args.workers,
            "concurrency": args.concurrency,
            "duration": args.duration,
            "import_limit": args.import_limit,
            "today": date.today().isoformat(),
            "service": service_revision(),
        },
        "blocks": [],
    }
    previous = args.out / "latest.json"
    if args.merge and previous.exists():
        measured = {(size, store) for size in args.sizes for store in args.stores}
        kept = json.loads(previous.read_text())["blocks"]
        result["blocks"] = [b for b in kept if (b["size"], b["store"]) not in measured]
        result["merged_from"] = json.loads(previous.read_text()).get("started")
    result["machine"] = describe(None)
    echo = servers.start_echo(work, args.workers)
    try:
        for store in args.stores:
            databases = open_databases(store, work)
            try:
                if isinstance(databases, PostgresDatabases):
                    result["machine"]["postgresql"] = databases.version()
                    result["config"]["postgresql_settings"] = databases.settings()
                for size in args.sizes:
                    largest = size == args.sizes[-1]
                    result["blocks"].append(_block(args, databases, size, echo, work, largest))
                    result["blocks"].sort(key=lambda b: (b["store"], b["size"]))
                    report.write(result, args.out)
            finally:
                databases.close()
    finally:
        servers.stop(echo)
        shutil.rmtree(work, ignore_errors=True)
    result["machine"]["load_average_end"] = load_average()
    result["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(report.write(result, args.out))
    print(f"wrote {args.out / 'latest.md'}, latest.json and timing.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
