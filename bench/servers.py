"""Start and stop the real service and the echo baseline on ephemeral ports.

As the contract tests do: bind 127.0.0.1:0 here, hand the socket to
``segmentation-service serve --socket-fd`` (or ``bench.echo_server``), and
wait for ``/healthz`` and for every worker process to exist.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.paths import child_pythonpath

BOOT_TIMEOUT_S = 120.0


@dataclass
class RunningServer:
    name: str
    url: str  # the SOAP endpoint
    process: subprocess.Popen[bytes]
    log: Path
    workers: int

    @property
    def base(self) -> str:
        return self.url.rsplit("/", 1)[0]

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.base.removeprefix("http://").split(":")
        return host, int(port)

    def worker_pids(self) -> list[int]:
        try:
            return [child.pid for child in psutil.Process(self.process.pid).children()]
        except psutil.NoSuchProcess:
            return []


def _bound_socket() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    return listener


def _start(
    name: str,
    command: list[str],
    listener: socket.socket,
    workdir: Path,
    workers: int,
    auth: bool = False,
) -> RunningServer:
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}/soap"
    log = workdir / f"{name}.log"
    env = {
        **os.environ,
        "SEGMENTATION_LOG_LEVEL": "WARNING",
        # Authentication (when it exists) is measured separately; see bench/auth.py.
        "SEGMENTATION_AUTH": "on" if auth else "off",
        "PYTHONPATH": child_pythonpath(),
    }
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            pass_fds=[listener.fileno()],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
    listener.close()
    server = RunningServer(name, url, process, log, workers)
    _wait_until_ready(server)
    return server


def _wait_until_ready(server: RunningServer) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {server.log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{server.base}/healthz", timeout=30) as reply:
                healthy = reply.status == 200
        except (urllib.error.URLError, OSError):
            healthy = False
        if healthy and len(server.worker_pids()) >= server.workers:
            return
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"{server.name} did not come up: {server.log.read_text()[-4000:]}")


def start_service(
    database_url: str, workdir: Path, workers: int, auth: bool = False
) -> RunningServer:
    """``segmentation-service serve --workers N`` over ``database_url``."""
    listener = _bound_socket()
    port = listener.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "segmentation_service.cli",
        "--database-url",
        database_url,
        "serve",
        "--workers",
        str(workers),
        "--socket-fd",
        str(listener.fileno()),
        "--public-url",
        f"http://127.0.0.1:{port}/soap",
    ]
    return _start("service", command, listener, workdir, workers, auth)


def start_echo(workdir: Path, workers: int) -> RunningServer:
    """The bare spyne echo service under the same gunicorn settings."""
    listener = _bound_socket()
    command = [
        sys.executable,
        "-m",
        "bench.echo_server",
        "--socket-fd",
        str(listener.fileno()),
        "--workers",
        str(workers),
    ]
    return _start("echo", command, listener, workdir, workers)


def stop(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=30)
