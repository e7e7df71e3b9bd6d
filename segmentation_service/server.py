"""The production server: gunicorn with threaded worker processes.

Threaded workers (gthread) keep answering lookups while one thread runs a
long, synchronous SegmentCustomers call, and the arbiter's worker timeout
watches the worker's main loop rather than individual requests.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from segmentation_service.config import Settings

logger = logging.getLogger(__name__)
THREADS_PER_WORKER = 4


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

        return create_app(self._settings)


def serve(settings: Settings, socket_fd: int | None = None) -> None:
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
        "graceful_timeout": 30,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,
        "limit_request_line": 8190,
    }
    _Gunicorn(settings, options).run()
