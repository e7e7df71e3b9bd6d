"""Where output goes: rich consoles for people, JSON for programs, stderr for errors."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time
from typing import Any, TextIO

from rich.console import Console

from .faults import ServiceFault

# rich falls back to 80 columns when stdout is a pipe or file, which would wrap
# or shorten table cells; piped output is for reading in full, so be generous.
PIPED_WIDTH = 1000


def make_console(file: TextIO | None = None) -> Console:
    """A console for `file` (stdout when None); no colour or width limit when piped."""
    console = Console(file=file, highlight=False)
    if console.is_terminal:
        return console
    return Console(file=file, highlight=False, width=PIPED_WIDTH)


def _json_default(value: Any) -> str:
    # XSD dates and times as ISO 8601 ("2024-05-01T10:00:00+00:00"), anything else as str.
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def to_json(data: Any) -> str:
    return json.dumps(data, default=_json_default, indent=2)


def print_json(data: Any, file: TextIO | None = None) -> None:
    print(to_json(data), file=file or sys.stdout)


def print_error(message: str, file: TextIO | None = None) -> None:
    """One `error: ...` line on stderr."""
    print(f"error: {message}", file=file or sys.stderr)


def report_fault(fault: ServiceFault, *, as_json: bool) -> None:
    """A fault as JSON on stdout, or `error: <message>` and its detail on stderr."""
    if as_json:
        print_json(fault.as_json())
        return
    print_error(fault.message)
    print(f"  fault: {fault.name}" + (f" ({fault.code})" if fault.code else ""), file=sys.stderr)
    for name, value in fault.detail.items():
        print(f"  {name}: {value}", file=sys.stderr)
