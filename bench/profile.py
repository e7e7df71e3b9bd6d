"""Where the service's time goes: cProfile of its WSGI app and use cases, in process.

    python -m bench.profile [--size 10000] [--store sqlite|postgresql] [--what lookups,segment]

Fills a store by the bulk path (cached SQLite file under bench/.cache; a
throwaway PostgreSQL database), runs the three segmentations through the
service layer, then profiles N calls of each lookup through ``create_app``'s
WSGI application (the gunicorn worker's code path, minus HTTP) and one
SegmentCustomers per method. Prints the top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import time
from typing import Any

from bench import envelopes
from bench.bulkload import analyze, bulk_load, create_schema
from bench.datasets import CACHE, KINDS, ensure_dataset
from bench.envelopes import Request
from bench.stores import open_databases
from segmentation_service import services
from segmentation_service.config import Settings
from segmentation_service.domain.model import SegmentationMethod, SegmentationRequest
from segmentation_service.soap.app import create_app
from segmentation_service.store.database import Store


def _wsgi_call(app: Any, request: Request) -> bytes:
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/soap",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "text/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(request.body)),
        "HTTP_SOAPACTION": request.soap_action,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    if not status or not status[0].startswith("200"):
        raise RuntimeError(f"{request.operation}: {status} {body[:500]!r}")
    return body


def _top(profile: cProfile.Profile, limit: int, sort: str = "cumulative") -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(limit)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--store", default="sqlite")
    parser.add_argument("--what", default="lookups,segment")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--sort",
        default="cumulative",
        help="pstats order of the lookups' tables: cumulative|tottime",
    )
    parser.add_argument(
        "--spyne-gc-interval",
        type=float,
        default=None,
        help="set spyne.const.MIN_GC_INTERVAL (spyne runs gc.collect() at most this often; "
        "stock 1.0 s); e.g. 1e9 to switch it off",
    )
    parser.add_argument(
        "--timing", action="store_true", help="time the lookups without the profiler too"
    )
    args = parser.parse_args()
    dataset = ensure_dataset(args.size)
    databases = open_databases(args.store, CACHE / "profile")
    try:
        url = databases.fresh(f"bench_profile_{args.size}")
        create_schema(url)
        for kind in KINDS:
            bulk_load(url, kind, dataset.csv(kind))
        analyze(url)
        store = Store(url)
        run_ids = {}
        for method in SegmentationMethod:
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            run = services.segment_customers(
                SegmentationRequest(method=method, label="profile"), store.unit_of_work()
            )
            profile.disable()
            run_ids[method] = run.run_id
            print(f"### SegmentCustomers {method.value}: {time.perf_counter() - started:.2f} s")
            if "segment" in args.what:
                print(_top(profile, args.top))
        # Authentication off, as in the benchmark's servers (bench/auth.py measures it).
        settings = Settings.from_env(
            {"SEGMENTATION_AUTH": "off"}, database_url=url, log_level="WARNING"
        )
        app = create_app(settings, store)
        ids = dataset.customer_ids()
        rng = random.Random(1)
        value_run = run_ids[SegmentationMethod.VALUE_BASED]
        batches = {
            "GetCustomerSegment": [
                envelopes.get_customer_segment(rng.choice(ids)) for _ in range(args.calls)
            ],
            "ScoreCustomerValue": [
                envelopes.score_customer_value(rng.sample(ids, 100))
                for _ in range(max(args.calls // 10, 5))
            ],
            "ListSegmentMembers": [
                envelopes.list_segment_members(value_run, "V1", 100) for _ in range(args.calls)
            ],
        }
        import spyne.const

        intervals = [spyne.const.MIN_GC_INTERVAL]
        if args.spyne_gc_interval is not None:
            intervals.append(args.spyne_gc_interval)
        for interval in intervals if args.timing else intervals[-1:]:
            spyne.const.MIN_GC_INTERVAL = interval
            for operation, requests in batches.items() if args.timing else ():
                times = []
                for request in requests:
                    started = time.perf_counter()
                    _wsgi_call(app, request)
                    times.append((time.perf_counter() - started) * 1000)
                times.sort()
                print(
                    f"### {operation} unprofiled, spyne gc interval {interval:g} s: "
                    f"mean {sum(times) / len(times):.2f} ms, "
                    f"p50 {times[len(times) // 2]:.2f} ms, max {times[-1]:.2f} ms"
                )
        if "lookups" in args.what:
            for operation, requests in batches.items():
                _wsgi_call(app, requests[0])
                profile = cProfile.Profile()
                started = time.perf_counter()
                profile.enable()
                for request in requests:
                    _wsgi_call(app, request)
                profile.disable()
                per_call = (time.perf_counter() - started) / len(requests) * 1000
                print(f"### {operation}: {per_call:.2f} ms per call (profiled)")
                print(_top(profile, args.top, args.sort))
        store.dispose()
    finally:
        databases.drop(f"bench_profile_{args.size}")
        databases.close()


if __name__ == "__main__":
    main()
