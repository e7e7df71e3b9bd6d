"""Subcommands for portfolios and treatments (contract 1.4): portfolio, treat."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .options import common_options
from .request_builders import SEGMENTATION_METHODS, STRATEGIES

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

TREATMENT_EPILOG = """\
strategies (the treatment decision table):
  Retain             valuable and active: loyalty, thank and reward
  Develop            active, CLV ahead of past profit: up-sell, cross-sell
  WinBack            valuable but slipping: reactivation
  Acquire            mostly new customers: onboarding, conquest
  ReduceCostToServe  loses money: self-service, cheaper channels
  Maintain           the rest: keep in touch
The service keeps the override, shows it with overridden = true, and keeps the
recommendation's channel and message where --channel or --message is left out."""


def _add_treatment_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strategy", required=True, choices=STRATEGIES)
    parser.add_argument(
        "--channel", metavar="NAME", help="1..200 characters (default: the recommendation's)"
    )
    parser.add_argument(
        "--message", metavar="TEXT", help="1..2000 characters (default: the recommendation's)"
    )


def _add_cell_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("portfolio_id", type=int, metavar="PORTFOLIO_ID")
    parser.add_argument(
        "--row",
        dest="row_segment_code",
        required=True,
        metavar="CODE",
        help="the row segment's code in the latest completed run of the rows' method",
    )
    parser.add_argument(
        "--column",
        dest="column_segment_code",
        required=True,
        metavar="CODE",
        help="the column segment's code in the latest completed run of the columns' method",
    )


def _add_treat_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "treat",
        parents=[common_options()],
        help="set what to do with a segment of a run (SetSegmentTreatment)",
        description="Override the recommended treatment of a segment; prints the segment\n"
        "with its treatment as it is now.",
        epilog=TREATMENT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_id", type=int, metavar="RUN_ID")
    parser.add_argument("segment_code", metavar="SEGMENT_CODE")
    _add_treatment_options(parser)


def _add_portfolio_parsers(subparsers: Subparsers) -> None:
    portfolio = subparsers.add_parser(
        "portfolio",
        help="segments of two methods crossed in a grid (Create/Get/List/DeletePortfolio...)",
        description="A portfolio crosses the segments of the latest completed runs of two "
        "methods (rows x columns); each cell has its customers, profit, customer equity, "
        "owner and treatment. A cell is identified by its two segments' names, so owners "
        "and treatments follow it when a later run renumbers its codes.",
    )
    actions = portfolio.add_subparsers(dest="portfolio_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        parents=[common_options()],
        help="create a portfolio (CreatePortfolio)",
        description="Create a portfolio; `portfolio show` evaluates it.",
    )
    add.add_argument("--name", required=True, metavar="NAME", help="unique, 1..200 characters")
    add.add_argument("--rows", required=True, choices=SEGMENTATION_METHODS, help="the rows' method")
    add.add_argument(
        "--columns",
        required=True,
        choices=SEGMENTATION_METHODS,
        help="the columns' method, another than --rows",
    )
    add.add_argument("--owner", metavar="NAME", help="who answers for it, 1..200 characters")
    add.add_argument("--objective", metavar="TEXT", help="what it is for, up to 2000 characters")
    actions.add_parser(
        "list",
        parents=[common_options()],
        help="every portfolio (ListPortfolios)",
        description="One line per portfolio, without evaluations.",
    )
    show = actions.add_parser(
        "show",
        parents=[common_options()],
        help="evaluate a portfolio now and print its grid (GetPortfolio)",
        description="Evaluate the portfolio on the latest completed runs (the evaluation is "
        "kept in its history) and print the grid: per cell customers, customer equity, "
        "strategy (* overridden) and owner; the row and column totals; the customers outside "
        "the grid; then each cell's figures and treatment.",
    )
    show.add_argument("portfolio_id", type=int, metavar="PORTFOLIO_ID")
    history = actions.add_parser(
        "history",
        parents=[common_options()],
        help="every evaluation of a portfolio, oldest first (GetPortfolioHistory)",
        description="Each evaluation: when, the runs it used, and each cell's customer equity "
        "and its change since the previous evaluation.",
    )
    history.add_argument("portfolio_id", type=int, metavar="PORTFOLIO_ID")
    owner = actions.add_parser(
        "owner",
        parents=[common_options()],
        help="name who acts on a cell (SetPortfolioCellOwner)",
        description="Set the owner of a cell, named by its row and column segment codes.",
    )
    _add_cell_options(owner)
    owner.add_argument("--owner", required=True, metavar="NAME", help="1..200 characters")
    treat = actions.add_parser(
        "treat",
        parents=[common_options()],
        help="set what to do with a cell (SetPortfolioCellTreatment)",
        description="Override the recommended treatment of a cell, named by its row and\n"
        "column segment codes; prints the cell's treatment as it is now.",
        epilog=TREATMENT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_cell_options(treat)
    _add_treatment_options(treat)
    remove = actions.add_parser(
        "remove",
        parents=[common_options()],
        help="delete a portfolio and its history (DeletePortfolio)",
        description="Delete a portfolio with its history and print it as it was.",
    )
    remove.add_argument("portfolio_id", type=int, metavar="PORTFOLIO_ID")


def add_portfolio_parsers(subparsers: Subparsers) -> None:
    """Add `treat` and `portfolio` with its actions."""
    _add_treat_parser(subparsers)
    _add_portfolio_parsers(subparsers)
