"""The command line: global options and one subcommand per SOAP operation."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .arguments_background import add_background_parsers
from .arguments_insights import add_insights_parser
from .arguments_movers import add_movers_parsers
from .arguments_portfolio import add_portfolio_parsers
from .connection import (
    DEFAULT_TIMEOUT_SECONDS,
    PASSWORD_ENV_VAR,
    USERNAME_ENV_VAR,
    WSDL_ENV_VAR,
    default_wsdl_url,
)
from .options import (
    EXPORT_PAGE_SIZE,
    add_segment_request_options,
    check_segment_request_options,
    common_options,
    iso_date,
    positive_seconds,
)
from .portfolio_grid import DEFAULT_COLOURING, PORTFOLIO_COLOURINGS
from .request_builders import (
    RULES_FILE_FORMAT,
    RUN_STATUSES,
    SEGMENTATION_METHODS,
    split_comma_separated,
)

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _add_segment_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "segment",
        parents=[common_options()],
        help="run a segmentation (SegmentCustomers)",
        description="Segment customers by one method; waits until the run has completed "
        "(a spinner shows meanwhile on a terminal). Each method takes only its own options. "
        "`submit` sends the same request without holding the connection open.",
        epilog=RULES_FILE_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_segment_request_options(parser)
    return parser


def _add_customer_segment_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "customer-segment",
        parents=[common_options()],
        help="the segments a customer is in (GetCustomerSegment)",
        description="By default one assignment per method, from its latest completed run.",
    )
    parser.add_argument("customer_id", metavar="CUSTOMER_ID")
    parser.add_argument(
        "--method", choices=SEGMENTATION_METHODS, help="only the assignment of this method"
    )
    parser.add_argument("--run-id", type=int, metavar="N", help="only the assignment of this run")


def _add_score_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "score",
        parents=[common_options()],
        help="economic value of customers (ScoreCustomerValue)",
        description="Transaction aggregates, RFM score, predicted CLV, probability of "
        "being active, expected purchases, acquisition cost and value tier of up to "
        "1000 customers.",
    )
    parser.add_argument("customer_ids", nargs="+", metavar="CUSTOMER_ID")
    parser.add_argument("--horizon-months", type=int, metavar="N", help="CLV horizon, 1..120")
    parser.add_argument(
        "--discount-rate", type=float, metavar="R", help="annual discount rate, 0..1"
    )
    parser.add_argument(
        "--as-of-date",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="figures as of the end of this day (default: today); later transactions are "
        "ignored, as in segment --as-of-date",
    )


def _add_members_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "members",
        parents=[common_options()],
        help="the customers in a segment (ListSegmentMembers)",
        description="One page of a segment's members in customer id order, or all with --all.",
    )
    parser.add_argument("segment_code", metavar="SEGMENT_CODE")
    run = parser.add_mutually_exclusive_group(required=True)
    run.add_argument("--run-id", type=int, metavar="N", help="the segment of this run")
    run.add_argument(
        "--method", choices=SEGMENTATION_METHODS, help="the latest completed run of this method"
    )
    parser.add_argument("--page-size", type=int, metavar="N", help="1..1000")
    parser.add_argument("--page-token", metavar="T", help="nextPageToken of the previous page")
    parser.add_argument(
        "--all", action="store_true", help="follow nextPageToken and print every member"
    )


def _add_run_parsers(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        parents=[common_options()],
        help="one run with its segments, whatever its status (GetSegmentationRun)",
        description="A run's summary, metrics and segments; a failed run's failureReason.",
    )
    parser.add_argument("run_id", type=int, metavar="RUN_ID")

    parser = subparsers.add_parser(
        "runs",
        parents=[common_options()],
        help="the latest runs, newest first (ListSegmentationRuns)",
        description="One line per run, newest first; --before pages to older runs.",
    )
    parser.add_argument("--method", choices=SEGMENTATION_METHODS, help="only runs of this method")
    parser.add_argument("--limit", type=int, metavar="N", help="how many, 1..100 (default 20)")
    parser.add_argument(
        "--before", type=int, metavar="RUN_ID", help="only runs older than this one (next page)"
    )
    parser.add_argument(
        "--status",
        dest="statuses",
        action="append",
        choices=RUN_STATUSES,
        help="only runs in this status (repeat for several); default: Running, Completed and "
        "Failed, never Queued or Cancelled",
    )

    parser = subparsers.add_parser(
        "compare",
        parents=[common_options()],
        help="how customers moved between two runs (CompareSegmentationRuns)",
        description="The migration matrix (customers by segment in FROM_RUN x segment in "
        "TO_RUN), the share that stayed in the same segment code, the adjusted Rand index, "
        "and how many customers entered or left. Runs of different methods can be compared.",
    )
    parser.add_argument("from_run_id", type=int, metavar="FROM_RUN")
    parser.add_argument("to_run_id", type=int, metavar="TO_RUN")

    parser = subparsers.add_parser(
        "owner",
        parents=[common_options()],
        help="name who acts on a segment (SetSegmentOwner)",
        description="Set the owner of a segment of a run; prints the updated segment.",
    )
    parser.add_argument("run_id", type=int, metavar="RUN_ID")
    parser.add_argument("segment_code", metavar="SEGMENT_CODE")
    parser.add_argument("owner", metavar="OWNER", help="1..200 characters")


def _add_export_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        parents=[common_options()],
        help="write every member of a segment to a CSV file (campaign export)",
        description="Pages through ListSegmentMembers and writes each member once, in "
        "customer id order, as CSV with the header customer_id,name,value,score (UTF-8). "
        "The file appears only when complete: a failed export leaves none. A progress bar "
        "shows on a terminal; a summary line ends the export.",
    )
    run = parser.add_mutually_exclusive_group(required=True)
    run.add_argument("--run", dest="run_id", type=int, metavar="RUN_ID", help="the run")
    run.add_argument(
        "--method", choices=SEGMENTATION_METHODS, help="or the latest completed run of this method"
    )
    parser.add_argument("--segment", required=True, metavar="CODE", help="the segment code")
    parser.add_argument("--out", required=True, metavar="FILE", help="the CSV file to write")
    parser.add_argument(
        "--page-size",
        type=int,
        default=EXPORT_PAGE_SIZE,
        metavar="N",
        help="members per request, 1..1000 (default: %(default)s)",
    )


def _add_report_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        parents=[common_options()],
        help="write an HTML report of a run (optionally compared with another) or a portfolio",
        description="One self-contained HTML page (charts embedded, no external resources). "
        "Of a run: its summary, segment sizes and value, profit or loss per segment, the needs "
        "profile (needs-based runs), the behavioural profile (behavioural runs) or the value "
        "tiers (value-based runs), and with --compare the migration matrix from the older of "
        "the two runs to the newer. Of a portfolio (evaluated now): the grid as a heat map "
        "with each cell's owner and strategy, its totals, and each cell's customer equity "
        "over the portfolio's evaluations.",
    )
    subject = parser.add_mutually_exclusive_group(required=True)
    subject.add_argument("--run", dest="run_id", type=int, metavar="RUN_ID", help="a run")
    subject.add_argument(
        "--portfolio", dest="portfolio_id", type=int, metavar="PORTFOLIO_ID", help="or a portfolio"
    )
    parser.add_argument(
        "--compare",
        dest="compare_run_id",
        type=int,
        metavar="RUN_ID",
        help="a second run (with --run)",
    )
    parser.add_argument(
        "--colour-by",
        choices=list(PORTFOLIO_COLOURINGS),
        help="what colours the grid (with --portfolio; default: equity, the customer equity)",
    )
    parser.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")


def _build_parsers() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and the subcommands' parsers whose segmentation request needs
    cross-option checks, by command name."""
    parser = argparse.ArgumentParser(
        prog="segmentation-client",
        description="Call the customer segmentation SOAP service (urn:customer-segmentation:v1).",
    )
    parser.add_argument(
        "--wsdl",
        default=default_wsdl_url(),
        metavar="URL",
        help=f"where to load the WSDL from (default: ${WSDL_ENV_VAR}, "
        "else http://127.0.0.1:8000/soap?wsdl)",
    )
    parser.add_argument(
        "--endpoint", metavar="URL", help="post requests here instead of the WSDL's soap:address"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the response as JSON instead of tables"
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no spinners or progress bars (they show only when stdout and stderr are terminals)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="HTTP timeout of each request; segment waits for the whole run in one request "
        "(default: %(default)g)",
    )
    credentials = parser.add_argument_group(
        "credentials", "a WS-Security UsernameToken sent with every request"
    )
    credentials.add_argument(
        "--username", metavar="NAME", help=f"who calls (default: ${USERNAME_ENV_VAR})"
    )
    credentials.add_argument(
        "--password",
        metavar="SECRET",
        help=f"the user's password (default: ${PASSWORD_ENV_VAR}, else a prompt on a "
        "terminal); prefer the variable, a command line is visible to other local users",
    )
    credentials.add_argument(
        "--password-digest",
        action="store_true",
        help="send PasswordDigest (nonce and time, never the password itself) "
        "instead of PasswordText",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    segment_parser = _add_segment_parser(subparsers)
    _add_customer_segment_parser(subparsers)
    _add_score_parser(subparsers)
    _add_members_parser(subparsers)
    _add_run_parsers(subparsers)
    _add_export_parser(subparsers)
    add_movers_parsers(subparsers)
    add_insights_parser(subparsers)
    _add_report_parser(subparsers)
    checked = add_background_parsers(subparsers)
    add_portfolio_parsers(subparsers)
    return parser, {"segment": segment_parser, **checked}


def build_parser() -> argparse.ArgumentParser:
    return _build_parsers()[0]


def _resolve_credentials(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill username and password from the environment, or the password from a prompt."""
    if args.username is None:
        args.username = os.environ.get(USERNAME_ENV_VAR) or None
    if args.username is None:
        if args.password is not None or args.password_digest:
            parser.error(f"--password and --password-digest need --username or ${USERNAME_ENV_VAR}")
        return
    if args.password is None:
        args.password = os.environ.get(PASSWORD_ENV_VAR)
    if args.password is None:
        if not sys.stdin.isatty():
            parser.error(f"--username needs a password: --password or ${PASSWORD_ENV_VAR}")
        args.password = getpass.getpass(f"Password for {args.username}: ")


def _check_report_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.portfolio_id is not None:
        if args.compare_run_id is not None:
            parser.error("report: --compare goes with --run, not --portfolio")
        args.colour_by = args.colour_by or DEFAULT_COLOURING
        return
    if args.colour_by is not None:
        parser.error("report: --colour-by goes with --portfolio, not --run")
    if args.compare_run_id == args.run_id:
        parser.error("report: --compare needs a run other than --run")


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and cross-check the command line; usage errors exit with status 2.

    `command` names the subcommand, with its action for nested ones ("schedule add").
    """
    parser, checked = _build_parsers()
    args = parser.parse_args(argv)
    if args.command == "schedule":
        args.command = f"schedule {args.schedule_command}"
    elif args.command == "portfolio":
        args.command = f"portfolio {args.portfolio_command}"
    if args.command == "report":
        _check_report_options(parser, args)
    if args.command == "portfolio add" and args.rows == args.columns:
        parser.error("portfolio add: --columns needs a method other than --rows")
    _resolve_credentials(parser, args)
    if args.command in checked:
        check_segment_request_options(checked[args.command], args)
    elif args.command == "score":
        args.customer_ids = split_comma_separated(args.customer_ids)
    return args
