"""Argument types and the option groups several subcommands share.

The segmentation request's options (method, label, customers and each
method's parameters) belong to `segment`, `submit` and `schedule add` alike.
Stdlib only, like the rest of the parsing: --help answers without rich.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from .request_builders import (
    BEHAVIOUR_FEATURES,
    CUSTOMER_ATTRIBUTES,
    SEGMENTATION_METHODS,
    VALUE_METRICS,
    RequestFileError,
    load_rules_file,
    parse_bands,
    split_comma_separated,
)

# The largest page of ListSegmentMembers and ListSegmentMovers: an export makes as few
# round trips as it can.
EXPORT_PAGE_SIZE = 1000

# Which --method(s) each method-specific option of the segmentation request belongs to.
METHODS_OF_OPTION: dict[str, tuple[str, ...]] = {
    "group_by": ("APriori",),
    "rules_file": ("APriori",),
    "default_segment_code": ("APriori",),
    "minimum_segment_size": ("APriori",),
    "company_size_bands": ("APriori",),
    "age_bands": ("APriori",),
    "segment_count": ("NeedsBased", "Behavioural"),
    "random_seed": ("NeedsBased", "Behavioural"),
    "min_answered_share": ("NeedsBased",),
    "centre_respondents": ("NeedsBased",),
    "pca_components": ("NeedsBased",),
    "value_metric": ("ValueBased",),
    "tier_count": ("ValueBased",),
    "as_of_date": ("ValueBased", "Behavioural"),
    "horizon_months": ("ValueBased",),
    "discount_rate": ("ValueBased",),
    "features": ("Behavioural",),
    "lookback_months": ("Behavioural",),
}


def positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return seconds


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def bands(text: str) -> list[dict[str, Any]]:
    try:
        return parse_bands(text)
    except RequestFileError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def common_options() -> argparse.ArgumentParser:
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
        type=bands,
        metavar="BANDS",
        help='name:upperBound pairs by employees, last without bound, e.g. "Micro:10,Small:50,'
        'Medium:250,Large" (exclusive bounds)',
    )
    group.add_argument(
        "--age-bands",
        type=bands,
        metavar="BANDS",
        help='the same by age in years, e.g. "Young:30,Middle:60,Senior"',
    )


def _add_needs_based_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("NeedsBased options")
    group.add_argument(
        "--segment-count",
        type=int,
        metavar="N",
        help="2..20 (default: chosen); Behavioural too",
    )
    group.add_argument(
        "--random-seed", type=int, metavar="N", help=">= 0 (default 0); Behavioural too"
    )
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
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="count transactions up to this day (default: today), for back-testing; "
        "Behavioural too (the end of its window)",
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


def _add_behavioural_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "Behavioural options",
        "also --segment-count, --random-seed and --as-of-date (the end of the window)",
    )
    group.add_argument(
        "--features",
        action="extend",
        nargs="+",
        metavar="F",
        help="feature families to segment on, space- or comma-separated, of "
        f"{', '.join(BEHAVIOUR_FEATURES)} (default: all)",
    )
    group.add_argument(
        "--lookback-months",
        type=int,
        metavar="N",
        help="the window of transactions before --as-of-date, 1..120 (default 24)",
    )


def add_segment_request_options(parser: argparse.ArgumentParser) -> None:
    """The SegmentCustomers request: --method, --label, --customer-id and each method's options."""
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
    _add_behavioural_options(parser)


def check_segment_request_options(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> None:
    """Cross-check the options of add_segment_request_options; read the rules file."""
    args.customer_ids = split_comma_separated(args.customer_ids)
    args.group_by = split_comma_separated(args.group_by)
    unknown = [name for name in args.group_by if name not in CUSTOMER_ATTRIBUTES]
    if unknown:
        parser.error(
            f"--group-by: unknown attribute {', '.join(unknown)} "
            f"(choose from {', '.join(CUSTOMER_ATTRIBUTES)})"
        )
    args.features = split_comma_separated(args.features)
    unknown = [name for name in args.features if name not in BEHAVIOUR_FEATURES]
    if unknown:
        parser.error(
            f"--features: unknown feature {', '.join(unknown)} "
            f"(choose from {', '.join(BEHAVIOUR_FEATURES)})"
        )
    for option, methods in METHODS_OF_OPTION.items():
        if getattr(args, option) not in (None, []) and args.method not in methods:
            flag = "--" + option.replace("_", "-")
            parser.error(f"{flag} applies only to --method {' or '.join(methods)}")
    if args.group_by and args.rules_file:
        parser.error("--group-by and --rules-file: give one of them, not both")
    args.rules = None
    if args.rules_file is not None:
        try:
            args.rules = load_rules_file(args.rules_file)
        except RequestFileError as error:
            parser.error(f"--rules-file: {error}")
