"""Spinners and progress bars on stderr, for people watching a terminal.

Shown only when both stdout and stderr are terminals and --quiet was not
given: piped or redirected output means a program is reading, and it gets
nothing but the result.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


def is_interactive() -> bool:
    """True when a person is watching: stdout and stderr are both terminals."""
    return sys.stdout.isatty() and sys.stderr.isatty()


def progress_console() -> Console:
    return Console(stderr=True, highlight=False)


class RateColumn(ProgressColumn):
    """The rate from rich's moving speed estimate, e.g. "1,234 members/s"."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text(f"- {self.unit}/s", style="progress.data.speed")
        return Text(f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


@dataclass
class Bar:
    """A started progress bar: advance it, or correct its total."""

    progress: Progress | None
    task: TaskID | None

    def update(
        self, *, completed: float | None = None, total: float | None = None, description: str = ""
    ) -> None:
        if self.progress is None or self.task is None:
            return
        self.progress.update(
            self.task, completed=completed, total=total, description=description or None
        )

    def advance(self, steps: int = 1, description: str = "") -> None:
        if self.progress is None or self.task is None:
            return
        if description:
            self.progress.update(self.task, description=description)
        self.progress.advance(self.task, steps)


class Feedback:
    """Where a command shows progress; silent when `console` is None."""

    def __init__(self, console: Console | None) -> None:
        self.console = console

    @classmethod
    def for_command(cls, quiet: bool) -> Feedback:
        if quiet or not is_interactive():
            return cls(None)
        return cls(progress_console())

    @property
    def enabled(self) -> bool:
        return self.console is not None

    @contextmanager
    def spinner(self, description: str) -> Iterator[None]:
        """A spinner and the time elapsed while the block waits for the service."""
        if self.console is None:
            yield
            return
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=self.console, transient=True) as progress:
            progress.add_task(description, total=None)
            yield

    @contextmanager
    def bar(
        self, description: str, total: int | None, unit: str, *, rate: bool = True
    ) -> Iterator[Bar]:
        """A bar with counts (done/total), the rate in `unit`s per second and times."""
        if self.console is None:
            yield Bar(None, None)
            return
        columns: list[ProgressColumn | str] = [
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit),
        ]
        if rate:
            columns.append(RateColumn(unit))
        columns += [TimeElapsedColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=self.console, transient=True) as progress:
            yield Bar(progress, progress.add_task(description, total=total))

    @contextmanager
    def fraction_bar(self, description: str) -> Iterator[Bar]:
        """A bar from 0 to 1 (a run's progress) with its percentage and the time elapsed."""
        if self.console is None:
            yield Bar(None, None)
            return
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self.console, transient=True) as progress:
            yield Bar(progress, progress.add_task(description, total=1.0))
