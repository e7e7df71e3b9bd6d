"""The Command record: one operation, its request builder, response shaper and renderer."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console

Args = argparse.Namespace


@dataclass(frozen=True)
class Command:
    """One request and its answer: `build` makes the operation's keyword arguments from the
    parsed command line, `shape` turns zeep's result into the response element's dict,
    `show` prints that as tables. `spinner`, when set, describes the wait on a terminal."""

    operation: str
    build: Callable[[Args], dict[str, Any]]
    shape: Callable[[Any], dict[str, Any]]
    show: Callable[[Console, dict[str, Any], Args], None]
    spinner: Callable[[Args], str] | None = None
