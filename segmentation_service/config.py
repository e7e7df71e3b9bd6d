"""Settings from the environment (``SEGMENTATION_*``); standard library only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///var/segmentation.db"


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its surroundings.

    ``public_url`` is the address written into the served WSDL's
    ``soap:address``; it is never taken from a request's Host header.
    """

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    workers: int = 2
    max_request_bytes: int = 4 * 1024 * 1024
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``SEGMENTATION_*`` variables; keyword overrides that are not None win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, kind in (
            ("database_url", str),
            ("host", str),
            ("port", int),
            ("public_url", str),
            ("workers", int),
            ("max_request_bytes", int),
            ("log_level", str),
        ):
            raw = env.get(f"SEGMENTATION_{name.upper()}")
            if raw:
                try:
                    values[name] = kind(raw)
                except ValueError as exc:
                    raise ValueError(f"SEGMENTATION_{name.upper()}: {exc}") from exc
        values.update({key: value for key, value in overrides.items() if value is not None})
        return replace(cls(), **values)

    @property
    def soap_address(self) -> str:
        """The endpoint clients are told to call."""
        if self.public_url:
            return self.public_url
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}/soap"

    def ensure_sqlite_directory(self) -> None:
        """Create the directory of a file-based SQLite database on first use."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            path = self.database_url[len(prefix) :].split("?", 1)[0]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
