"""The subcommand for what sets a segment apart (contract 1.5): insights."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .options import common_options

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

INSIGHTS_EPILOG = """\
A differentiator is a feature in which the segment differs from its baseline,
strongest first, at most 20, only those significant at a 5% false discovery
rate (p-values adjusted by Benjamini-Hochberg). An attribute value such as
region=North is a share of the customers (lift: the ratio of the shares, as
×1.8); a need (need:price) or a figure (revenue, margin, purchases,
annual_revenue, age, ...) is a mean (lift: the difference in the baseline's
standard deviations, as +1.2 sd). An overlap is a segment of the latest
completed run of another method and the customers it shares with this one,
largest first; Jaccard = shared / customers of either segment."""


def add_insights_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "insights",
        parents=[common_options()],
        help="what sets a segment apart, and where its customers are in other methods' runs "
        "(GetSegmentInsights)",
        description="The features that set a segment of a run apart from its baseline, and the "
        "segments of the other methods' latest runs that share its customers.",
        epilog=INSIGHTS_EPILOG,
    )
    parser.add_argument("run_id", type=int, metavar="RUN_ID", help="the run, of any method")
    parser.add_argument("segment_code", metavar="SEGMENT", help="the code of one of its segments")
    parser.add_argument(
        "--baseline",
        metavar="CODE",
        help="compare with this other segment of the run (default: all the run's assigned "
        "customers, the segment included)",
    )
