"""Settings from the environment (``SEGMENTATION_*``); standard library only."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///var/segmentation.db"
# Where the generated secret key lives when SEGMENTATION_SECRET_KEY is not set.
DEFAULT_SECRET_KEY_FILE = "var/secret.key"


def on_off(text: str) -> bool:
    """``on`` or ``off`` (any case); anything else is an error, never a silent default."""
    value = text.strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"expected 'on' or 'off', got {text!r}")
    return value == "on"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its surroundings.

    ``public_url`` is the address written into the served WSDL's
    ``soap:address``; it is never taken from a request's Host header.

    ``auth`` is on unless ``SEGMENTATION_AUTH=off``. ``secret_key`` (a Fernet
    key) encrypts the passwords PasswordDigest needs; without it a key is
    generated into ``var/secret.key`` on first use. A PasswordDigest token's
    Created time may be ``auth_window_seconds`` away from now, either way.
    """

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    workers: int = 2
    max_request_bytes: int = 4 * 1024 * 1024
    log_level: str = "INFO"
    auth: bool = True
    secret_key: str | None = field(default=None, repr=False)
    auth_window_seconds: int = 300

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``SEGMENTATION_*`` variables; keyword overrides that are not None win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        kind: Callable[[str], Any]
        for name, kind in (
            ("database_url", str),
            ("host", str),
            ("port", int),
            ("public_url", str),
            ("workers", int),
            ("max_request_bytes", int),
            ("log_level", str),
            ("auth", on_off),
            ("secret_key", str),
            ("auth_window_seconds", positive_int),
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
