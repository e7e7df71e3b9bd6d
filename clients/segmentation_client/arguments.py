"""The command line: global options and one subcommand per SOAP operation."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence

from .connection import (
    DEFAULT_TIMEOUT_SECONDS,
    PASSWORD_ENV_VAR,
    USERNAME_ENV_VAR,
    WSDL_ENV_VAR,
    default_wsdl_url,
)
from .request_builders import (
    CUSTOMER_ATTRIBUTES,
    SEGMENTATION_METHODS,
    VALUE_METRICS,
    split_comma_separated,
)

# Which --method each method-specific option of `segment` belongs to.
METHOD_OF_OPTION = {
    "group_by": "APriori",
    "segment_count": "NeedsBased",
    "random_seed": "NeedsBased",
    "value_metric": "ValueBased",
    "tier_count": "ValueBased",
}


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return seconds


def _json_option() -> argparse.ArgumentParser:
    """--json after the subcommand as well; SUPPRESS keeps the global value when absent."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="same as the global --json"
    )
    return parent


def _add_segment_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "segment",
        parents=[_json_option()],
        help="run a segmentation (SegmentCustomers)",
        description="Segment customers by one method; waits until the run has completed.",
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
    parser.add_argument(
        "--group-by",
        action="extend",
        nargs="+",
        metavar="ATTR",
        help=f"APriori: attributes to group by, one of {', '.join(CUSTOMER_ATTRIBUTES)}",
    )
    parser.add_argument("--segment-count", type=int, metavar="N", help="NeedsBased: 2..20")
    parser.add_argument("--random-seed", type=int, metavar="N", help="NeedsBased: >= 0")
    parser.add_argument(
        "--value-metric", choices=VALUE_METRICS, help="ValueBased: what to rank customers by"
    )
    parser.add_argument("--tier-count", type=int, metavar="N", help="ValueBased: 2..10")
    return parser


def _add_customer_segment_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = subparsers.add_parser(
        "customer-segment",
        parents=[_json_option()],
        help="the segments a customer is in (GetCustomerSegment)",
        description="By default one assignment per method, from its latest completed run.",
    )
    parser.add_argument("customer_id", metavar="CUSTOMER_ID")
    parser.add_argument(
        "--method", choices=SEGMENTATION_METHODS, help="only the assignment of this method"
    )
    parser.add_argument("--run-id", type=int, metavar="N", help="only the assignment of this run")


def _add_score_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "score",
        parents=[_json_option()],
        help="economic value of customers (ScoreCustomerValue)",
        description="Transaction aggregates, RFM score, predicted CLV and value tier "
        "of up to 1000 customers.",
    )
    parser.add_argument("customer_ids", nargs="+", metavar="CUSTOMER_ID")
    parser.add_argument("--horizon-months", type=int, metavar="N", help="CLV horizon, 1..120")
    parser.add_argument(
        "--discount-rate", type=float, metavar="R", help="annual discount rate, 0..1"
    )


def _add_members_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "members",
        parents=[_json_option()],
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
    _resolve_credentials(parser, args)
    if args.command == "segment":
        _check_segment_options(segment_parser, args)
    elif args.command == "score":
        args.customer_ids = split_comma_separated(args.customer_ids)
    return args
