"""Progress of long command-line work: a bar with counts and rate on a terminal, else nothing.

Drawn with rich on standard error, and only when that is a terminal and the
user did not ask for quiet: piped or redirected output stays clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Rows per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed  # rich's, from recent samples
        if speed is None and task.elapsed:
            speed = task.completed / task.elapsed  # too few samples yet: the average
        return Text("" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed")


class RowProgress:
    """One bar per kind of row; a no-op unless ``enabled``.

    ``start(kind, total)`` adds a bar (``total`` None while unknown),
    ``advance(kind, rows)`` moves it, ``finish(kind)`` ends it at the count reached
    (rejected rows never advance it).
    """

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self._tasks: dict[str, TaskID] = {}
        self._progress: Progress | None = None
        if enabled:
            console = Console(file=stream, force_terminal=True)
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description:<14}"),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(),
                TimeElapsedColumn(),
                console=console,
            )

    @classmethod
    def for_stream(cls, stream: TextIO, quiet: bool) -> RowProgress:
        """Enabled when ``stream`` is a terminal and not ``quiet``."""
        return cls(stream, enabled=not quiet and stream.isatty())

    @property
    def enabled(self) -> bool:
        return self._progress is not None

    def __enter__(self) -> RowProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, kind: str, total: int | None = None) -> None:
        if self._progress is not None and kind not in self._tasks:
            self._tasks[kind] = self._progress.add_task(kind, total=total)

    def advance(self, kind: str, rows: int) -> None:
        if self._progress is None:
            return
        self.start(kind)
        self._progress.advance(self._tasks[kind], rows)

    def finish(self, kind: str) -> None:
        if self._progress is not None and kind in self._tasks:
            task = self._tasks[kind]
            done = next(t.completed for t in self._progress.tasks if t.id == task)
            self._progress.update(task, total=done, completed=done)
            self._progress.stop_task(task)

    @contextmanager
    def phase(self, description: str) -> Iterator[None]:
        """A spinner for work without counts, removed when it is done."""
        if self._progress is None:
            yield
            return
        task = self._progress.add_task(description, total=None)
        try:
            yield
        finally:
            self._progress.remove_task(task)
