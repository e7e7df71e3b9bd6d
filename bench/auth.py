"""The cost of WS-Security authentication, when the service has it.

Measured only when `segmentation-service users add` exists: a second server
with authentication on, a user added with that command, and GetCustomerSegment
envelopes carrying a UsernameToken with PasswordDigest built here (a fresh
nonce per envelope, since the service refuses replayed nonces).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import servers
from bench.envelopes import Request
from bench.load import run_load
from bench.paths import SERVICE_ROOT, child_pythonpath

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
USER, PASSWORD = "bench", "bench-password-1"


def _cli(
    database_url: str, *arguments: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "segmentation_service.cli", "--database-url", database_url]
    return subprocess.run(
        [*command, *arguments],
        cwd=SERVICE_ROOT, capture_output=True, text=True, input=stdin, check=False,
        env={
            **os.environ,
            "SEGMENTATION_LOG_LEVEL": "WARNING",
            "PYTHONPATH": child_pythonpath(),
        },
    )  # fmt: skip


def available(database_url: str) -> bool:
    return _cli(database_url, "users", "add", "--help").returncode == 0


def security_header(username: str, password: str) -> str:
    nonce = os.urandom(16)
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest())
    return (
        f'<soap:Header><wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" '
        'soap:mustUnderstand="1"><wsse:UsernameToken>'
        f"<wsse:Username>{username}</wsse:Username>"
        f'<wsse:Password Type="{TOKEN_PROFILE}#PasswordDigest">{digest.decode()}</wsse:Password>'
        f'<wsse:Nonce EncodingType="{TOKEN_PROFILE[:-34]}soap-message-security-1.0#Base64Binary">'
        f"{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></soap:Header>"
    )


def with_header(request: Request, header: str) -> Request:
    body = request.body.replace(b"<soap:Body>", header.encode() + b"<soap:Body>", 1)
    return Request(request.operation, body)


def measure_auth(
    database_url: str, work: Path, args: argparse.Namespace, plain: list[Request]
) -> dict[str, Any] | None:
    if not available(database_url):
        return None
    added = _cli(
        database_url, "users", "add", USER, "--role", "reader", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    if added.returncode != 0:
        return {"error": f"users add failed: {added.stderr[-500:]}"}
    count = int(args.duration * 3000) + 5000
    requests = [
        with_header(plain[i % len(plain)], security_header(USER, PASSWORD)) for i in range(count)
    ]
    server = servers.start_service(database_url, work, args.workers, auth=True)
    try:
        result = run_load(server.url, requests, args.concurrency, args.duration).to_dict()
    finally:
        servers.stop(server)
    print(f"    auth on: {result['rps']:,.0f} req/s, p99 {result['p99_ms']:.1f} ms", flush=True)
    return result
