"""One function per subcommand: build the request, call the operation, print the answer."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console

from . import render, request_builders, responses
from .output import to_json
from .paging import fetch_all_members


def _print_json(console: Console, data: Any) -> None:
    print(to_json(data), file=console.file)


def segment(args: argparse.Namespace, service: Any, console: Console) -> None:
    request = request_builders.segment_customers_request(
        args.method,
        label=args.label,
        customer_ids=args.customer_ids,
        group_by=args.group_by,
        segment_count=args.segment_count,
        random_seed=args.random_seed,
        value_metric=args.value_metric,
        tier_count=args.tier_count,
    )
    response = responses.segment_customers_response(service.SegmentCustomers(**request))
    if args.json:
        _print_json(console, response)
    else:
        render.render_segment_run(console, response)


def customer_segment(args: argparse.Namespace, service: Any, console: Console) -> None:
    request = request_builders.get_customer_segment_request(
        args.customer_id, method=args.method, run_id=args.run_id
    )
    response = responses.get_customer_segment_response(service.GetCustomerSegment(**request))
    if args.json:
        _print_json(console, response)
    else:
        render.render_customer_segments(console, response, args.customer_id)


def score(args: argparse.Namespace, service: Any, console: Console) -> None:
    request = request_builders.score_customer_value_request(
        args.customer_ids, horizon_months=args.horizon_months, discount_rate=args.discount_rate
    )
    response = responses.score_customer_value_response(service.ScoreCustomerValue(**request))
    if args.json:
        _print_json(console, response)
    else:
        render.render_value_scores(console, response)


def members(args: argparse.Namespace, service: Any, console: Console) -> None:
    request = request_builders.list_segment_members_request(
        args.segment_code,
        run_id=args.run_id,
        method=args.method,
        page_size=args.page_size,
        page_token=args.page_token,
    )
    if args.all:
        listing = fetch_all_members(service.ListSegmentMembers, request)
        if args.json:
            _print_json(console, listing)
        else:
            render.render_all_members(console, listing)
        return
    page = responses.list_segment_members_response(service.ListSegmentMembers(**request))
    if args.json:
        _print_json(console, page)
    else:
        render.render_member_page(console, page)


COMMANDS: dict[str, Callable[[argparse.Namespace, Any, Console], None]] = {
    "segment": segment,
    "customer-segment": customer_segment,
    "score": score,
    "members": members,
}


def run_command(args: argparse.Namespace, service: Any, console: Console) -> None:
    """Run the subcommand named by args.command against `service`."""
    COMMANDS[args.command](args, service, console)
