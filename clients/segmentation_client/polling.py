"""Polling a run until it ends, with a back-off, and what its end means for the exit status.

Stdlib only: the argument parser reads the defaults from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# RunStatus values after which a run never changes again.
FINISHED_STATUSES = frozenset({"Completed", "Failed", "Cancelled"})

FIRST_POLL_SECONDS = 0.5
DEFAULT_MAX_POLL_SECONDS = 5.0

EXIT_RUN_FAILED = 1  # Failed or Cancelled
EXIT_STILL_RUNNING = 3  # --max-wait ran out before the run ended

Run = dict[str, Any]


def poll_delays(
    first: float = FIRST_POLL_SECONDS, maximum: float = DEFAULT_MAX_POLL_SECONDS
) -> Iterator[float]:
    """first, twice that, ... capped at maximum: 0.5, 1, 2, 4, 5, 5, ..."""
    delay = min(first, maximum)
    while True:
        yield delay
        delay = min(delay * 2, maximum)


@dataclass(frozen=True)
class WaitOutcome:
    """The run as last seen, and whether it had ended (else the wait ran out)."""

    run: Run
    finished: bool
    waited_seconds: float


def wait_for_run(
    get_run: Callable[[], Run],
    *,
    current: Run | None = None,
    max_poll_seconds: float = DEFAULT_MAX_POLL_SECONDS,
    max_wait: float | None = None,
    on_poll: Callable[[Run], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> WaitOutcome:
    """Call `get_run` until the run it returns has ended or `max_wait` seconds have passed.

    `current` is the run as already known (e.g. SubmitSegmentation's answer): the
    first poll then waits a delay first. `on_poll` sees every run, `current` included.
    """
    start = clock()
    delays = poll_delays(maximum=max_poll_seconds)
    run = current if current is not None else get_run()
    while True:
        if on_poll is not None:
            on_poll(run)
        if run.get("status") in FINISHED_STATUSES:
            return WaitOutcome(run, True, clock() - start)
        delay = next(delays)
        if max_wait is not None:
            remaining = start + max_wait - clock()
            if remaining <= 0:
                return WaitOutcome(run, False, clock() - start)
            delay = min(delay, remaining)
        sleep(delay)
        run = get_run()


def exit_status(outcome: WaitOutcome) -> int:
    if not outcome.finished:
        return EXIT_STILL_RUNNING
    return 0 if outcome.run.get("status") == "Completed" else EXIT_RUN_FAILED


def describe_outcome(outcome: WaitOutcome, max_wait: float | None = None) -> str | None:
    """The line for stderr when the run did not complete, else None."""
    run = outcome.run
    run_id, status = run.get("runId"), run.get("status")
    if not outcome.finished:
        where = ", ".join(
            part
            for part in (
                f"phase {run['phase']}" if run.get("phase") else "",
                f"{run['progress'] * 100:.0f}% done" if run.get("progress") is not None else "",
            )
            if part
        )
        waited = f" after {max_wait:g} s" if max_wait is not None else ""
        return (
            f"run {run_id} is still {status}{f' ({where})' if where else ''}{waited}; it goes "
            f"on: `segmentation-client wait {run_id}` to wait again"
        )
    if status == "Completed":
        return None
    reason = run.get("failureReason")
    return f"run {run_id} {status}" + (f": {reason}" if reason else "")
