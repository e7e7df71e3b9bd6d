"""Start and stop the real service and the echo baseline on ephemeral ports.

As the contract tests do: bind 127.0.0.1:0 here, hand the socket to
``segmentation-service serve --socket-fd`` (or ``bench.echo_server``), and
wait for ``/healthz`` and for every worker process to exist.

Since contract 1.3, runs execute in a run worker (a huey consumer), not in the
SOAP workers: ``serve`` starts one beside its SOAP workers (a child process
running ``segmentation-service worker``, whose own children execute the runs)
unless ``run_worker=False``; ``start_run_worker`` starts more, as a deployment
with several worker machines would.
"""

from __future__ import annotations

import os
import signal
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

    def _children(self) -> list[psutil.Process]:
        try:
            children: list[psutil.Process] = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []
        return children

    def soap_worker_pids(self) -> list[int]:
        """The processes answering SOAP calls (gunicorn's workers, or the echo's)."""
        return [child.pid for child in self._children() if not _is_run_worker(child)]

    def run_worker_pids(self) -> list[int]:
        """``serve``'s run worker and the processes it executes runs in."""
        pids = []
        for child in self._children():
            if _is_run_worker(child):
                pids.append(child.pid)
                pids += [grandchild.pid for grandchild in _descendants(child)]
        return pids

    def worker_pids(self) -> list[int]:
        """Every process that may execute a call or a run: SOAP workers and run workers."""
        return self.soap_worker_pids() + self.run_worker_pids()


@dataclass
class RunWorker:
    """A separate ``segmentation-service worker`` process (beside ``serve``'s own)."""

    process: subprocess.Popen[bytes]
    log: Path

    def pids(self) -> list[int]:
        try:
            root = psutil.Process(self.process.pid)
        except psutil.NoSuchProcess:
            return []
        return [root.pid] + [child.pid for child in _descendants(root)]


def _is_run_worker(process: psutil.Process) -> bool:
    """``segmentation-service ... worker``: a child of ``serve`` that is not a SOAP worker."""
    try:
        command = process.cmdline()
    except psutil.Error:
        return False
    return "worker" in command and "serve" not in command


def _descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        descendants: list[psutil.Process] = process.children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return descendants


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
    run_worker: bool = False,
) -> RunningServer:
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}/soap"
    log = workdir / f"{name}.log"
    env = _service_env(auth, run_worker)
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
    _wait_until_ready(server, run_worker)
    return server


def _service_env(auth: bool = False, run_worker: bool = False) -> dict[str, str]:
    env = {
        **os.environ,
        "SEGMENTATION_LOG_LEVEL": "WARNING",
        # Authentication (when it exists) is measured separately; see bench/auth.py.
        "SEGMENTATION_AUTH": "on" if auth else "off",
        "SEGMENTATION_RUN_WORKER": "on" if run_worker else "off",
        "PYTHONPATH": child_pythonpath(),
    }
    # The queue follows the store (a SQLite file beside it, or the same PostgreSQL);
    # an "immediate" queue left in the environment by a test would bypass the workers.
    if env.get("SEGMENTATION_QUEUE_URL") == "immediate":
        del env["SEGMENTATION_QUEUE_URL"]
    return env


def _wait_until_ready(server: RunningServer, run_worker: bool = False) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {server.log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{server.base}/healthz", timeout=30) as reply:
                healthy = reply.status == 200
        except (urllib.error.URLError, OSError):
            healthy = False
        # The run worker is up when its consumer has started the process runs execute in.
        worker_up = not run_worker or len(server.run_worker_pids()) >= 2
        if healthy and len(server.soap_worker_pids()) >= server.workers and worker_up:
            return
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"{server.name} did not come up: {server.log.read_text()[-4000:]}")


def start_service(
    database_url: str,
    workdir: Path,
    workers: int,
    auth: bool = False,
    run_worker: bool = True,
) -> RunningServer:
    """``segmentation-service serve --workers N`` over ``database_url``.

    With ``run_worker`` (the default, as ``serve``'s), ``serve`` starts its one run
    worker beside the SOAP workers; without it (``--no-worker``), queued runs wait
    for a ``start_run_worker``.
    """
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
    if not run_worker:
        command.append("--no-worker")
    return _start("service", command, listener, workdir, workers, auth, run_worker)


def start_run_worker(
    database_url: str,
    workdir: Path,
    concurrency: int = 1,
    nice: int | None = None,
    name: str = "run-worker",
) -> RunWorker:
    """``segmentation-service worker --concurrency N [--nice N]`` (its default niceness: 10)."""
    log = workdir / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "segmentation_service.cli",
        "--database-url",
        database_url,
        "worker",
        "--concurrency",
        str(concurrency),
    ]
    if nice is not None:
        command += ["--nice", str(nice)]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=_service_env(), cwd=workdir
        )
    worker = RunWorker(process, log)
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    # Up when the consumer has started the process(es) runs execute in.
    while len(worker.pids()) < 1 + concurrency:
        if process.poll() is not None or time.monotonic() > deadline:
            stop_run_worker(worker)
            raise RuntimeError(f"{name} did not come up: {log.read_text()[-4000:]}")
        time.sleep(0.2)
    return worker


def stop_run_worker(worker: RunWorker) -> None:
    """SIGINT (huey: finish the run in hand, then stop), then SIGKILL after 30 s."""
    _end(worker.process, worker.pids(), signal.SIGINT)


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
    """Stop the server; ``serve`` stops its run worker, and any process left is killed."""
    _end(server.process, [server.process.pid, *server.worker_pids()], signal.SIGTERM)


def _end(process: subprocess.Popen[bytes], pids: list[int], signum: int) -> None:
    process.send_signal(signum)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    for pid in pids:  # the started process's own children: never another's
        try:
            left = psutil.Process(pid)
            left.wait(timeout=0 if pid == process.pid else 10)
        except psutil.NoSuchProcess:
            continue
        except psutil.TimeoutExpired:
            left.kill()
