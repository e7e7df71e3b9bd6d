"""Subcommands for runs in the background (contract 1.3): submit, wait, cancel, schedule."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .options import add_segment_request_options, common_options, positive_seconds
from .polling import (
    DEFAULT_MAX_POLL_SECONDS,
    EXIT_RUN_FAILED,
    EXIT_STILL_RUNNING,
    FIRST_POLL_SECONDS,
)
from .request_builders import RULES_FILE_FORMAT

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

IDEMPOTENCY_KEY_LENGTH = (1, 100)
CRON_FIELDS = 5

WAIT_EXIT_STATUSES = f"""\
exit status:
  0    the run Completed
  {EXIT_RUN_FAILED}    the run Failed or was Cancelled (its failureReason on stderr), or the
       service could not be reached
  2    usage error, or a fault blaming the request (e.g. RunNotFoundFault)
  {EXIT_STILL_RUNNING}    --max-wait ran out first; the run goes on (wait for it again)
  130  interrupted (Ctrl-C); the run goes on"""


def _idempotency_key(text: str) -> str:
    shortest, longest = IDEMPOTENCY_KEY_LENGTH
    if not shortest <= len(text) <= longest:
        raise argparse.ArgumentTypeError(f"{shortest}..{longest} characters, not {len(text)}")
    return text


def _cron(text: str) -> str:
    fields = text.split()
    if len(fields) != CRON_FIELDS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give 5 fields (minute hour day-of-month month day-of-week), "
            'e.g. "0 2 * * *"'
        )
    return " ".join(fields)


def _add_polling_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("polling")
    group.add_argument(
        "--poll-seconds",
        type=positive_seconds,
        default=DEFAULT_MAX_POLL_SECONDS,
        metavar="SECONDS",
        help=f"poll GetSegmentationRun after {FIRST_POLL_SECONDS:g} s, then at doubling "
        "intervals up to this many seconds (default: %(default)g)",
    )
    group.add_argument(
        "--max-wait",
        type=positive_seconds,
        metavar="SECONDS",
        help=f"stop waiting after this long and exit {EXIT_STILL_RUNNING} (default: wait until "
        "the run ends); not the global --timeout, which bounds each HTTP request",
    )


def _add_submit_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "submit",
        parents=[common_options()],
        help="queue a segmentation run and answer at once (SubmitSegmentation)",
        description="Submit the request `segment` sends; a run worker executes it.\n"
        "Prints the Queued run (follow it with `wait RUN_ID`), or with --wait polls it\n"
        "like `wait` and prints it as `segment` does.",
        epilog=f"{WAIT_EXIT_STATUSES}\n(with --wait; without, 0 once the run is queued)\n\n"
        f"{RULES_FILE_FORMAT}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_segment_request_options(parser)
    parser.add_argument(
        "--idempotency-key",
        type=_idempotency_key,
        metavar="KEY",
        help="1..100 characters; submitting the same key again (as the same user) answers "
        "with the run it first submitted instead of queuing another",
    )
    parser.add_argument(
        "--wait", action="store_true", help="poll the run until it ends, with a progress bar"
    )
    _add_polling_options(parser)
    return parser


def _add_wait_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "wait",
        parents=[common_options()],
        help="poll a run until it ends, with a progress bar (GetSegmentationRun)",
        description="Poll a run with a back-off until it is Completed, Failed or Cancelled;\n"
        "a progress bar with its phase shows on a terminal. Prints the run as `segment` does.",
        epilog=WAIT_EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_id", type=int, metavar="RUN_ID")
    _add_polling_options(parser)


def _add_cancel_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "cancel",
        parents=[common_options()],
        help="cancel a queued or running run (CancelSegmentationRun)",
        description="A queued run never starts; a running run stops at its next checkpoint, "
        "writes nothing and ends Cancelled within seconds. Prints the run as it stands. A run "
        "that has already ended is an InvalidRequestFault naming runId (exit status 2).",
    )
    parser.add_argument("run_id", type=int, metavar="RUN_ID")


def _add_schedule_parsers(subparsers: Subparsers) -> argparse.ArgumentParser:
    schedule = subparsers.add_parser(
        "schedule",
        help="runs submitted at cron times (Create/List/DeleteSegmentationSchedule)",
        description="A schedule submits its segmentation request at every due time of its "
        "cron expression (UTC), once, labelled with its name.",
    )
    actions = schedule.add_subparsers(dest="schedule_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        parents=[common_options()],
        help="create a schedule (CreateSegmentationSchedule)",
        description="Create a schedule of the request `segment` would send; prints it with\n"
        "its next due time.",
        epilog=RULES_FILE_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("--name", required=True, metavar="NAME", help="unique, 1..200 characters")
    add.add_argument(
        "--cron",
        required=True,
        type=_cron,
        metavar="EXPR",
        help='5-field crontab expression in UTC, e.g. "0 2 * * *" (02:00 every day)',
    )
    add.add_argument(
        "--disabled", action="store_true", help="create it switched off (it submits nothing)"
    )
    add_segment_request_options(add)
    actions.add_parser(
        "list",
        parents=[common_options()],
        help="every schedule (ListSegmentationSchedules)",
        description="One line per schedule: its cron, next due time and the last run it submitted.",
    )
    remove = actions.add_parser(
        "remove",
        parents=[common_options()],
        help="delete a schedule (DeleteSegmentationSchedule)",
        description="Delete a schedule and print it as it was; the runs it submitted stay.",
    )
    remove.add_argument("schedule_id", type=int, metavar="SCHEDULE_ID")
    return add


def add_background_parsers(subparsers: Subparsers) -> dict[str, argparse.ArgumentParser]:
    """Add submit, wait, cancel and schedule; returns the parsers whose request needs checks."""
    submit = _add_submit_parser(subparsers)
    _add_wait_parser(subparsers)
    _add_cancel_parser(subparsers)
    schedule_add = _add_schedule_parsers(subparsers)
    return {"submit": submit, "schedule add": schedule_add}
