"""The command line: global options and one subcommand per SOAP operation."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from .connection import (
    DEFAULT_TIMEOUT_SECONDS,
    PASSWORD_ENV_VAR,
    USERNAME_ENV_VAR,
    WSDL_ENV_VAR,
    default_wsdl_url,
)
from .request_builders import (
    CUSTOMER_ATTRIBUTES,
    RULES_FILE_FORMAT,
    SEGMENTATION_METHODS,
    VALUE_METRICS,
    RequestFileError,
    load_rules_file,
    parse_bands,
    split_comma_separated,
)

# Which --method each method-specific option of `segment` belongs to.
METHOD_OF_OPTION = {
    "group_by": "APriori",
    "rules_file": "APriori",
    "default_segment_code": "APriori",
    "minimum_segment_size": "APriori",
    "company_size_bands": "APriori",
    "age_bands": "APriori",
    "segment_count": "NeedsBased",
    "random_seed": "NeedsBased",
    "min_answered_share": "NeedsBased",
    "centre_respondents": "NeedsBased",
    "pca_components": "NeedsBased",
    "value_metric": "ValueBased",
    "tier_count": "ValueBased",
    "as_of_date": "ValueBased",
    "horizon_months": "ValueBased",
    "discount_rate": "ValueBased",
}

# ListSegmentMembers' largest page: an export makes as few round trips as it can.
EXPORT_PAGE_SIZE = 1000

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return seconds


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _bands(text: str) -> list[dict[str, Any]]:
    try:
        return parse_bands(text)
    except RequestFileError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _common_options() -> argparse.ArgumentParser:
    """--json and --quiet after the subcommand as well; SUPPRESS keeps the global value."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="same as the global --json"
    )
    parent.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="same as the global --quiet"
    )
    return parent


def _add_a_priori_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("APriori options")
    group.add_argument(
        "--group-by",
        action="extend",
        nargs="+",
        metavar="ATTR",
        help=f"attributes to group by, one of {', '.join(CUSTOMER_ATTRIBUTES)}",
    )
    group.add_argument(
        "--rules-file",
        metavar="FILE",
        help="assign segments by the rules in this JSON file instead (format below)",
    )
    group.add_argument(
        "--default-segment-code",
        metavar="CODE",
        help="with rules: the segment of customers no rule matches (service default OTHER)",
    )
    group.add_argument(
        "--minimum-segment-size",
        type=int,
        metavar="N",
        help="grouping: merge smaller groups into OTHER (default 1%% of the customers)",
    )
    group.add_argument(
        "--company-size-bands",
        type=_bands,
        metavar="BANDS",
        help='name:upperBound pairs by employees, last without bound, e.g. "Micro:10,Small:50,'
        'Medium:250,Large" (exclusive bounds)',
    )
    group.add_argument(
        "--age-bands",
        type=_bands,
        metavar="BANDS",
        help='the same by age in years, e.g. "Young:30,Middle:60,Senior"',
    )


def _add_needs_based_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("NeedsBased options")
    group.add_argument("--segment-count", type=int, metavar="N", help="2..20 (default: chosen)")
    group.add_argument("--random-seed", type=int, metavar="N", help=">= 0 (default 0)")
    group.add_argument(
        "--min-answered-share",
        type=float,
        metavar="F",
        help="leave out respondents who answered less than this share of the needs, 0..1 "
        "(default 0.5)",
    )
    group.add_argument(
        "--centre-respondents",
        action=argparse.BooleanOptionalAction,
        help="subtract each respondent's mean answer first (removes scale-use bias)",
    )
    group.add_argument(
        "--pca-components", type=int, metavar="N", help="reduce the needs by PCA first, 1..50"
    )


def _add_value_based_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ValueBased options")
    group.add_argument("--value-metric", choices=VALUE_METRICS, help="what to rank customers by")
    group.add_argument("--tier-count", type=int, metavar="N", help="2..10 (default 4)")
    group.add_argument(
        "--as-of-date",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="count transactions up to this day (default: today), for back-testing",
    )
    group.add_argument(
        "--horizon-months", type=int, metavar="N", help="CLV horizon, 1..120 (default 12)"
    )
    group.add_argument(
        "--discount-rate",
        type=float,
        metavar="R",
        help="CLV annual discount rate, 0..1 (default 0.10)",
    )


def _add_segment_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "segment",
        parents=[_common_options()],
        help="run a segmentation (SegmentCustomers)",
        description="Segment customers by one method; waits until the run has completed "
        "(a spinner shows meanwhile on a terminal). Each method takes only its own options.",
        epilog=RULES_FILE_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--method", required=True, choices=SEGMENTATION_METHODS)
    parser.add_argument(
        "--label", metavar="TEXT", help="free text stored with the run (max 200 characters)"
    )
    parser.add_argument(
        "--customer-id",
        dest="customer_ids",
        action="append",
        metavar="ID",
        help="only these customers (repeat, or comma-separate); default: all customers",
    )
    _add_a_priori_options(parser)
    _add_needs_based_options(parser)
    _add_value_based_options(parser)
    return parser


def _add_customer_segment_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "customer-segment",
        parents=[_common_options()],
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
        parents=[_common_options()],
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
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="figures as of the end of this day (default: today); later transactions are "
        "ignored, as in segment --as-of-date",
    )


def _add_members_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "members",
        parents=[_common_options()],
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
        parents=[_common_options()],
        help="one run with its segments, whatever its status (GetSegmentationRun)",
        description="A run's summary, metrics and segments; a failed run's failureReason.",
    )
    parser.add_argument("run_id", type=int, metavar="RUN_ID")

    parser = subparsers.add_parser(
        "runs",
        parents=[_common_options()],
        help="the latest runs, newest first (ListSegmentationRuns)",
        description="One line per run, newest first; --before pages to older runs.",
    )
    parser.add_argument("--method", choices=SEGMENTATION_METHODS, help="only runs of this method")
    parser.add_argument("--limit", type=int, metavar="N", help="how many, 1..100 (default 20)")
    parser.add_argument(
        "--before", type=int, metavar="RUN_ID", help="only runs older than this one (next page)"
    )

    parser = subparsers.add_parser(
        "compare",
        parents=[_common_options()],
        help="how customers moved between two runs (CompareSegmentationRuns)",
        description="The migration matrix (customers by segment in FROM_RUN x segment in "
        "TO_RUN), the share that stayed in the same segment code, the adjusted Rand index, "
        "and how many customers entered or left. Runs of different methods can be compared.",
    )
    parser.add_argument("from_run_id", type=int, metavar="FROM_RUN")
    parser.add_argument("to_run_id", type=int, metavar="TO_RUN")

    parser = subparsers.add_parser(
        "owner",
        parents=[_common_options()],
        help="name who acts on a segment (SetSegmentOwner)",
        description="Set the owner of a segment of a run; prints the updated segment.",
    )
    parser.add_argument("run_id", type=int, metavar="RUN_ID")
    parser.add_argument("segment_code", metavar="SEGMENT_CODE")
    parser.add_argument("owner", metavar="OWNER", help="1..200 characters")


def _add_export_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        parents=[_common_options()],
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
        parents=[_common_options()],
        help="write an HTML report of a run, optionally compared with another",
        description="One self-contained HTML page (charts embedded, no external resources): "
        "the run's summary, segment sizes and value, profit or loss per segment, the needs "
        "profile (needs-based runs) or the value tiers (value-based runs), and with --compare "
        "the migration matrix from the older of the two runs to the newer.",
    )
    parser.add_argument("--run", dest="run_id", type=int, required=True, metavar="RUN_ID")
    parser.add_argument(
        "--compare", dest="compare_run_id", type=int, metavar="RUN_ID", help="a second run"
    )
    parser.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")


def _build_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The top-level parser and the `segment` one (for its cross-option errors)."""
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
        type=_positive_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="HTTP timeout; segment waits for the whole run (default: %(default)g)",
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
    _add_report_parser(subparsers)
    return parser, segment_parser


def build_parser() -> argparse.ArgumentParser:
    return _build_parsers()[0]


def _check_segment_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    args.customer_ids = split_comma_separated(args.customer_ids)
    args.group_by = split_comma_separated(args.group_by)
    unknown = [name for name in args.group_by if name not in CUSTOMER_ATTRIBUTES]
    if unknown:
        parser.error(
            f"--group-by: unknown attribute {', '.join(unknown)} "
            f"(choose from {', '.join(CUSTOMER_ATTRIBUTES)})"
        )
    for option, method in METHOD_OF_OPTION.items():
        if getattr(args, option) not in (None, []) and args.method != method:
            flag = "--" + option.replace("_", "-")
            parser.error(f"{flag} applies only to --method {method}")
    if args.group_by and args.rules_file:
        parser.error("--group-by and --rules-file: give one of them, not both")
    args.rules = None
    if args.rules_file is not None:
        try:
            args.rules = load_rules_file(args.rules_file)
        except RequestFileError as error:
            parser.error(f"--rules-file: {error}")


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


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and cross-check the command line; usage errors exit with status 2."""
    parser, segment_parser = _build_parsers()
    args = parser.parse_args(argv)
    if args.command == "report" and args.compare_run_id == args.run_id:
        parser.error("report: --compare needs a run other than --run")
    _resolve_credentials(parser, args)
    if args.command == "segment":
        _check_segment_options(segment_parser, args)
    elif args.command == "score":
        args.customer_ids = split_comma_separated(args.customer_ids)
    return args
