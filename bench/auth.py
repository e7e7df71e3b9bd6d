"""The cost of WS-Security authentication, measured when the service has it.

Needs `segmentation-service users add --role ROLE USERNAME` (password on
standard input). On one store, GetCustomerSegment under load with
authentication off, then with it on, with envelopes carrying a
UsernameToken with PasswordDigest built here (a fresh nonce per envelope,
since the service refuses replayed nonces; Created is the build time, so
envelopes are built just before the run).

    python -m bench.auth [--size 10000] [--store sqlite] [--out bench/results]

writes --out/auth.json. `python -m bench.run` measures the same for each size and store
(its "GetCustomerSegment with UsernameToken PasswordDigest" rows, target: adds ≤ 15%).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench import envelopes, servers
from bench.bulkload import analyze, bulk_load, create_schema
from bench.datasets import CACHE, KINDS, ensure_dataset
from bench.envelopes import Request, digest_header
from bench.load import run_load
from bench.paths import run_service_cli, service_revision
from bench.stores import open_databases

USER, PASSWORD, ROLE = "bench", "bench-password-1", "viewer"


def _cli(
    database_url: str, work: Path, key: str, *arguments: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"SEGMENTATION_SECRET_KEY": key}
    return run_service_cli(database_url, work, *arguments, stdin=stdin, env=env)


def available(database_url: str, work: Path) -> bool:
    return _cli(database_url, work, "", "users", "add", "--help").returncode == 0


def with_header(request: Request, header: str) -> Request:
    body = request.body.replace(b"<soap:Body>", header.encode() + b"<soap:Body>", 1)
    return Request(request.operation, body)


def measure(
    database_url: str,
    work: Path,
    plain: list[Request],
    workers: int,
    concurrency: int,
    duration: float,
) -> dict[str, Any]:
    """GetCustomerSegment load with authentication off, then on (PasswordDigest)."""
    if not available(database_url, work):
        return {"error": "this service has no `users add` command"}
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    added = _cli(
        database_url, work, key, "users", "add", "--role", ROLE, USER, stdin=PASSWORD + "\n"
    )
    if added.returncode != 0:
        return {"error": f"users add failed: {added.stderr[-500:]}"}
    server = servers.start_service(database_url, work, workers)
    try:
        off = run_load(server.url, plain, concurrency, duration).to_dict()
    finally:
        servers.stop(server)
    os.environ["SEGMENTATION_SECRET_KEY"] = key
    try:
        server = servers.start_service(database_url, work, workers, auth=True)
    finally:
        del os.environ["SEGMENTATION_SECRET_KEY"]
    try:
        # Each client process sends its own slice of the envelopes (bench.load) and goes on
        # into the next one's when it runs out, replaying its nonces: so every slice holds
        # more than one client can send (1,000 calls a second; a fast client of 8 sent
        # ~3,750 in 11 s at 100k customers and met its neighbour's nonces).
        count = concurrency * int((duration + 1.0) * 1000)
        signed = [
            with_header(plain[i % len(plain)], digest_header(USER, PASSWORD)) for i in range(count)
        ]
        on = run_load(server.url, signed, concurrency, duration).to_dict()
    finally:
        servers.stop(server)
    print(
        f"auth off {off['rps']:,.0f} req/s p99 {off['p99_ms']:.1f} ms; "
        f"on {on['rps']:,.0f} req/s p99 {on['p99_ms']:.1f} ms ({on['errors']} errors)"
    )
    return {"off": off, "on": on, "role": ROLE, "service": service_revision()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.auth")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--store", default="sqlite")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="auth-", dir=CACHE))
    databases = open_databases(args.store, work)
    try:
        dataset = ensure_dataset(args.size)
        url = databases.fresh(f"bench_auth_{args.size}")
        create_schema(url)
        for kind in KINDS:
            bulk_load(url, kind, dataset.csv(kind))
        analyze(url)
        ids = random.Random(1).sample(dataset.customer_ids(), min(2000, args.size))
        plain = [envelopes.get_customer_segment(i) for i in ids]
        result = measure(url, work, plain, args.workers, args.concurrency, args.duration)
        result.update({"size": args.size, "store": args.store})
    finally:
        databases.close()
        shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "auth.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
