"""The production server: gunicorn with threaded worker processes.

Threaded workers (gthread) keep answering lookups while one thread runs a
long, synchronous SegmentCustomers call, and the arbiter's worker timeout
watches the worker's main loop rather than individual requests.

Metrics are kept per worker in files under ``PROMETHEUS_MULTIPROC_DIR``, which
``serve`` prepares before any worker forks (and before prometheus_client is
imported), so ``/metrics`` on any worker reports the sum over all of them.
gunicorn's own log records go through the service's log format.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from segmentation_service.config import Settings

logger = logging.getLogger(__name__)
THREADS_PER_WORKER = 4
METRICS_DIRECTORY_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after the fork: each gets its own connection pool.
        from segmentation_service.soap.app import create_app

        app = create_app(self._settings)
        # The libraries loaded by now (pandas, scikit-learn, SciPy, spyne) are hundreds of
        # thousands of long-lived objects; frozen, the cyclic collector no longer walks them
        # on every full collection, which otherwise stalls a request for ~100-200 ms.
        gc.freeze()
        return app


class ServiceLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's logger, handing its records to the root logger's handler and format."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                if getattr(handler, "_gunicorn", False):
                    log.removeHandler(handler)
            log.propagate = True


def prepare_metrics_directory() -> tuple[Path, bool]:
    """This server's directory for worker metrics, empty; True when it was created here.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is used (its ``*.db`` files from a
    previous run removed); otherwise a fresh temporary directory is made and the
    variable set, so the workers inherit it.
    """
    given = os.environ.get(METRICS_DIRECTORY_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return directory, False
    directory = Path(tempfile.mkdtemp(prefix="segmentation-metrics-"))
    os.environ[METRICS_DIRECTORY_ENV] = str(directory)
    return directory, True


def _child_exit(_arbiter: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def serve(settings: Settings, socket_fd: int | None = None) -> None:
    if "prometheus_client" in sys.modules:
        logger.warning("prometheus_client was imported before serve(): metrics stay per worker")
    metrics_directory, created = prepare_metrics_directory()
    master = os.getpid()
    bind = f"fd://{socket_fd}" if socket_fd is not None else f"{settings.host}:{settings.port}"
    logger.info(
        "serving %s with %d workers; WSDL at %s?wsdl",
        bind,
        settings.workers,
        settings.soap_address,
    )
    options = {
        "bind": [bind],
        "workers": settings.workers,
        "worker_class": "gthread",
        "threads": THREADS_PER_WORKER,
        "timeout": 60,
        # gunicorn's default (2 s) closes kept-alive connections on a busy machine while
        # the client is already sending on them: it sees a broken pipe (HTTP's idle race).
        "keepalive": settings.keepalive_seconds,
        "graceful_timeout": 30,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,  # the service logs one line per request itself
        "logger_class": ServiceLogger,
        "limit_request_line": 8190,
        "child_exit": _child_exit,
    }
    try:
        _Gunicorn(settings, options).run()
    finally:  # workers leave through here too (SystemExit), and must not remove it
        if created and os.getpid() == master:
            shutil.rmtree(metrics_directory, ignore_errors=True)
