"""Settings from defaults, a TOML file, ``SEGMENTATION_*`` variables and flags; stdlib only.

Later sources win: a default, then the TOML file (``--config FILE`` or
``SEGMENTATION_CONFIG``), then the environment, then command-line flags.
The file's keys are the setting names below; an unknown key is an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomllib

DEFAULT_DATABASE_URL = "sqlite:///var/segmentation.db"
# Where the generated secret key lives when SEGMENTATION_SECRET_KEY is not set.
DEFAULT_SECRET_KEY_FILE = "var/secret.key"
CONFIG_ENV = "SEGMENTATION_CONFIG"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
SECRET = "********"
SECRET_SETTINGS = frozenset({"secret_key"})
_URL_PASSWORD = re.compile(r"(?P<head>://[^:/@\s]*:)[^@\s]*@")


class ConfigError(ValueError):
    """A setting that cannot be used, named with where it came from."""


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


def share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(f"must be between 0 and 1, got {value}")
    return value


def positive_number(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"must be above 0, got {value}")
    return value


def port_number(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"must be a port number (0..65535), got {value}")
    return value


def log_level(text: str) -> str:
    value = text.strip().upper()
    if value not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {text!r}")
    return value


def log_format(text: str) -> str:
    value = text.strip().lower()
    if value not in LOG_FORMATS:
        raise ValueError(f"expected one of {', '.join(LOG_FORMATS)}, got {text!r}")
    return value


EXECUTORS = ("local", "dask")


def executor_kind(text: str) -> str:
    value = text.strip().lower()
    if value not in EXECUTORS:
        raise ValueError(f"expected one of {', '.join(EXECUTORS)}, got {text!r}")
    return value


def dask_address(text: str) -> str:
    value = text.strip()
    if not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://\S+", value):
        raise ValueError(f"expected a Dask scheduler address such as tcp://HOST:8786, got {text!r}")
    return value


def non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


# Each setting: how to read its text, and what a TOML value must be.
PARSERS: dict[str, tuple[Callable[[str], Any], type]] = {
    "database_url": (non_empty, str),
    "host": (str, str),
    "port": (port_number, int),
    "public_url": (non_empty, str),
    "workers": (positive_int, int),
    "keepalive_seconds": (positive_int, int),
    "max_request_bytes": (positive_int, int),
    "log_level": (log_level, str),
    "log_format": (log_format, str),
    "auth": (on_off, bool),
    "secret_key": (non_empty, str),
    "auth_window_seconds": (positive_int, int),
    "queue_url": (non_empty, str),
    "run_worker": (on_off, bool),
    "partition_size": (positive_int, int),
    "executor": (executor_kind, str),
    "dask_scheduler": (dask_address, str),
    "treatment_new_days": (positive_int, int),
    "treatment_active_days": (positive_int, int),
    "treatment_new_share": (share, float),
    "treatment_active_share": (share, float),
    "treatment_slipping_alive": (share, float),
    "treatment_moved_down_share": (share, float),
    "treatment_valuable_ratio": (positive_number, float),
    "treatment_develop_ratio": (positive_number, float),
    "churn_high_below": (share, float),
    "churn_low_from": (share, float),
}


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its surroundings.

    ``public_url`` is the address written into the served WSDL's
    ``soap:address``; it is never taken from a request's Host header.

    ``auth`` is on unless ``SEGMENTATION_AUTH=off``. ``secret_key`` (a Fernet
    key) encrypts the passwords PasswordDigest needs; without it a key is
    generated into ``var/secret.key`` on first use. A PasswordDigest token's
    Created time may be ``auth_window_seconds`` away from now, either way.

    ``keepalive_seconds`` is how long a SOAP worker keeps an idle HTTP connection open
    for the client's next request: longer than the idle timeout of any load balancer
    or client pool in front (60 s is common), so the server never closes a connection
    a client is already sending its next request on.

    ``log_format`` is ``text`` (one line per record) or ``json`` (JSON lines).

    ``queue_url`` is where queued runs wait (default: beside the store; ``immediate``
    runs each in the submitting process); ``serve`` starts one run worker beside
    its SOAP workers unless ``run_worker`` is off.

    A run reads, assigns and writes its customers in partitions of ``partition_size``
    (by customer_id), on the ``executor``: ``local`` (a process pool in the run
    worker, sized to its cores) or ``dask`` (tasks on the Dask cluster whose
    scheduler is ``dask_scheduler``).

    ``churn_high_below`` and ``churn_low_from`` cut ScoreCustomerValue's churn risk by the
    probability of being alive: High below the first, Low from the second on.

    ``treatment_*`` are the thresholds of the treatment decision table
    (``engines.treatments``): who is new and who active (days), and the shares and
    ratios each strategy is decided by.
    """

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    workers: int = 2
    keepalive_seconds: int = 75
    max_request_bytes: int = 4 * 1024 * 1024
    log_level: str = "INFO"
    auth: bool = True
    secret_key: str | None = field(default=None, repr=False)
    auth_window_seconds: int = 300
    log_format: str = "text"
    queue_url: str | None = None
    run_worker: bool = True
    partition_size: int = 25_000
    executor: str = "local"
    dask_scheduler: str | None = None
    treatment_new_days: int = 180
    treatment_active_days: int = 180
    treatment_new_share: float = 0.5
    treatment_active_share: float = 0.5
    treatment_slipping_alive: float = 0.5
    treatment_moved_down_share: float = 0.25
    treatment_valuable_ratio: float = 1.0
    treatment_develop_ratio: float = 1.2
    churn_high_below: float = 0.3
    churn_low_from: float = 0.7

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, the file in ``SEGMENTATION_CONFIG``, ``SEGMENTATION_*``, then overrides.

        Keyword overrides that are not None win.
        """
        return load_settings(environ, **overrides).settings

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


@dataclass(frozen=True)
class Source:
    """Where a setting's value came from: ``default``, ``file``, ``env`` or ``flag``."""

    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.detail}".strip()


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    sources: dict[str, Source]
    config_file: Path | None

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, value with secrets masked, source) for every setting, in field order."""
        return [
            (name, masked(name, getattr(self.settings, name)), str(self.sources[name]))
            for name in setting_names()
        ]


def setting_names() -> list[str]:
    return [item.name for item in fields(Settings)]


def env_name(setting: str) -> str:
    return f"SEGMENTATION_{setting.upper()}"


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: Path | str | None = None,
    **flags: Any,
) -> LoadedSettings:
    """Resolve every setting and remember where each came from.

    ``config_file`` (the ``--config`` flag) wins over ``SEGMENTATION_CONFIG``;
    ``flags`` that are None are ignored.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources = {name: Source("default") for name in setting_names()}
    path = Path(config_file) if config_file else None
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    if path is not None:
        for name, value in read_config_file(path).items():
            values[name], sources[name] = value, Source("file", str(path))
    for name, (parse, _) in PARSERS.items():
        raw = env.get(env_name(name))
        if raw:
            values[name] = _parse(parse, raw, env_name(name))
            sources[name] = Source("env", env_name(name))
    for name, value in flags.items():
        if value is not None:
            values[name], sources[name] = value, Source("flag", f"--{name.replace('_', '-')}")
    settings = replace(Settings(), **values)
    _check_consistent(settings, sources)
    return LoadedSettings(settings, sources, path)


def _check_consistent(settings: Settings, sources: dict[str, Source]) -> None:
    """Settings that are each valid but not together: a ConfigError naming both."""

    def named(name: str) -> str:
        return f"{name} ({sources[name]})"

    if settings.executor == "dask" and not settings.dask_scheduler:
        raise ConfigError(
            f"{named('executor')} is 'dask': set dask_scheduler "
            f"({env_name('dask_scheduler')}), e.g. tcp://scheduler.internal:8786"
        )
    if settings.churn_high_below > settings.churn_low_from:
        raise ConfigError(
            f"{named('churn_high_below')} = {settings.churn_high_below} is above "
            f"{named('churn_low_from')} = {settings.churn_low_from}: High risk must end "
            "where Medium begins"
        )


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in a TOML file, checked; unknown keys and wrong types are errors."""
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    values: dict[str, Any] = {}
    for key, value in document.items():
        if key not in PARSERS:
            known = ", ".join(PARSERS)
            raise ConfigError(f"{path}: unknown setting {key!r} (known settings: {known})")
        parse, kind = PARSERS[key]
        where = f"{path}: {key}"
        if kind is bool and isinstance(value, bool):
            values[key] = value
        elif isinstance(value, kind) and not isinstance(value, bool):
            values[key] = _parse(parse, str(value), where)
        elif kind is bool and isinstance(value, str):
            values[key] = _parse(parse, value, where)
        else:
            expected = {str: "a string", int: "an integer", bool: "true or false"}[kind]
            raise ConfigError(f"{where}: expected {expected}, got {value!r}")
    return values


def _parse(parse: Callable[[str], Any], raw: str, where: str) -> Any:
    try:
        return parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def masked(name: str, value: Any) -> str:
    """A setting's value for display: secrets hidden, a password in a URL replaced."""
    if value is None:
        return "-"
    if name in SECRET_SETTINGS:
        return SECRET
    if isinstance(value, bool):
        return "on" if value else "off"
    return mask_url_password(str(value))


def mask_url_password(url: str) -> str:
    """``scheme://user:password@host`` becomes ``scheme://user:********@host``."""
    return _URL_PASSWORD.sub(lambda match: f"{match['head']}{SECRET}@", url)
