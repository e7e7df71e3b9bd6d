"""Subcommands for the customers who moved between two runs (contract 1.5): movers,
export-movers."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .options import EXPORT_PAGE_SIZE, common_options
from .request_builders import MOVE_DIRECTIONS

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

MOVERS_EPILOG = """\
A mover is a customer whose segment differs between the two runs, in customer id
order: "(entered)" (an empty from_segment_code in a CSV) means assigned only in
TO_RUN, "(left)" (an empty to_segment_code) assigned only in FROM_RUN. --from
and --to narrow the listing to a row, a column or a cell of `compare FROM_RUN
TO_RUN`; the same code twice lists that segment's stayers (a diagonal cell)."""


def direction(text: str) -> str:
    """up or down, in any case, as the contract spells it (Up, Down)."""
    for value in MOVE_DIRECTIONS:
        if text.lower() == value.lower():
            return value
    raise argparse.ArgumentTypeError(f"choose up or down, not {text!r}")


def _add_listing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("from_run_id", type=int, metavar="FROM_RUN", help="the earlier run")
    parser.add_argument("to_run_id", type=int, metavar="TO_RUN", help="the later run")
    parser.add_argument(
        "--from",
        dest="from_segment_code",
        metavar="CODE",
        help="only customers in this segment of FROM_RUN",
    )
    parser.add_argument(
        "--to",
        dest="to_segment_code",
        metavar="CODE",
        help="only customers in this segment of TO_RUN",
    )
    parser.add_argument(
        "--direction",
        type=direction,
        metavar="up|down",
        help="only movers to a better (up) or a worse (down) value tier; both runs value-based",
    )


def add_movers_parsers(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "movers",
        parents=[common_options()],
        help="the customers who moved between two runs (ListSegmentMovers)",
        description="One page of the customers behind `compare`'s counts: each with its "
        "segment and value in both runs.",
        epilog=MOVERS_EPILOG,
    )
    _add_listing_options(parser)
    parser.add_argument("--page-size", type=int, metavar="N", help="1..1000")
    parser.add_argument("--page-token", metavar="T", help="nextPageToken of the previous page")

    parser = subparsers.add_parser(
        "export-movers",
        parents=[common_options()],
        help="write every customer who moved between two runs to a CSV file",
        description="Pages through ListSegmentMovers and writes each mover once, in customer "
        "id order, as CSV with the header customer_id,name,from_segment_code,to_segment_code,"
        "value_before,value_after (UTF-8; empty cells for what the service left out). The "
        "file appears only when complete: a failed export leaves none. A progress bar shows "
        "on a terminal; a summary line ends the export.",
        epilog=MOVERS_EPILOG,
    )
    _add_listing_options(parser)
    parser.add_argument("-o", "--out", required=True, metavar="FILE", help="the CSV file to write")
    parser.add_argument(
        "--page-size",
        type=int,
        default=EXPORT_PAGE_SIZE,
        metavar="N",
        help="movers per request, 1..1000 (default: %(default)s)",
    )
