"""Serve the echo app with exactly the service's gunicorn settings.

``segmentation_service.server.serve`` builds the gunicorn options (gthread
workers, threads per worker, timeouts) and runs its ``_Gunicorn``
application; here the same ``serve`` runs with a ``_Gunicorn`` whose
``load`` returns the echo app instead of the service, so the two servers
can differ only in the WSGI application.

    python -m bench.echo_server --socket-fd N --workers 2
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from segmentation_service import server as service_server
from segmentation_service.config import Settings


class _EchoGunicorn(service_server._Gunicorn):
    def load(self) -> Any:
        from bench.echo_app import create_echo_app

        return create_echo_app()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.echo_server")
    parser.add_argument("--socket-fd", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = Settings(workers=args.workers, log_level="WARNING")
    service_server._Gunicorn = _EchoGunicorn  # type: ignore[misc]
    service_server.serve(settings, socket_fd=args.socket_fd)


if __name__ == "__main__":
    main()
