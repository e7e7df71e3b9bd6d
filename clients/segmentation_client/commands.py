"""One function per subcommand: build the request, call the operation, print the answer."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.text import Text

from . import render, request_builders, responses
from .export import export_members
from .output import to_json
from .paging import fetch_all_members
from .progress import Bar, Feedback


def _print_json(console: Console, data: Any) -> None:
    print(to_json(data), file=console.file)


def feedback(args: argparse.Namespace) -> Feedback:
    return Feedback.for_command(args.quiet)


def _page_listener(bar: Bar) -> Callable[[int, int | None], None]:
    def on_page(done: int, total: int | None) -> None:
        bar.update(completed=done, total=total)

    return on_page


def segment(args: argparse.Namespace, service: Any, console: Console) -> None:
    request = request_builders.segment_customers_request(
        args.method,
        label=args.label,
        customer_ids=args.customer_ids,
        group_by=args.group_by,
        rules=args.rules,
        default_segment_code=args.default_segment_code,
        company_size_bands=args.company_size_bands,
        age_bands=args.age_bands,
        minimum_segment_size=args.minimum_segment_size,
        segment_count=args.segment_count,
        random_seed=args.random_seed,
        min_answered_share=args.min_answered_share,
        centre_respondents=args.centre_respondents,
        pca_components=args.pca_components,
        value_metric=args.value_metric,
        tier_count=args.tier_count,
        as_of_date=args.as_of_date,
        horizon_months=args.horizon_months,
        discount_rate=args.discount_rate,
    )
    with feedback(args).spinner(f"Segmenting customers ({args.method})"):
        result = service.SegmentCustomers(**request)
    response = responses.segment_customers_response(result)
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
        args.customer_ids,
        horizon_months=args.horizon_months,
        discount_rate=args.discount_rate,
        as_of_date=args.as_of_date,
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
        with feedback(args).bar(f"Members of {args.segment_code}", None, "members") as bar:
            listing = fetch_all_members(service.ListSegmentMembers, request, _page_listener(bar))
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


def run(args: argparse.Namespace, service: Any, console: Console) -> None:
    request = request_builders.get_segmentation_run_request(args.run_id)
    response = responses.get_segmentation_run_response(service.GetSegmentationRun(**request))
    if args.json:
        _print_json(console, response)
    else:
        render.render_segment_run(console, response)


def runs(args: argparse.Namespace, service: Any, console: Console) -> None:
    request = request_builders.list_segmentation_runs_request(
        method=args.method, limit=args.limit, before=args.before
    )
    response = responses.list_segmentation_runs_response(service.ListSegmentationRuns(**request))
    if args.json:
        _print_json(console, response)
    else:
        render.render_runs(console, response, args.limit)


def compare(args: argparse.Namespace, service: Any, console: Console) -> None:
    request = request_builders.compare_segmentation_runs_request(args.from_run_id, args.to_run_id)
    response = responses.compare_segmentation_runs_response(
        service.CompareSegmentationRuns(**request)
    )
    if args.json:
        _print_json(console, response)
    else:
        render.render_comparison(console, response)


def owner(args: argparse.Namespace, service: Any, console: Console) -> None:
    request = request_builders.set_segment_owner_request(args.run_id, args.segment_code, args.owner)
    response = responses.set_segment_owner_response(service.SetSegmentOwner(**request))
    if args.json:
        _print_json(console, response)
    else:
        render.render_segment(console, response)


def export(args: argparse.Namespace, service: Any, console: Console) -> None:
    request = request_builders.list_segment_members_request(
        args.segment, run_id=args.run_id, method=args.method, page_size=args.page_size
    )
    with feedback(args).bar(f"Exporting {args.segment}", None, "members") as bar:
        result = export_members(
            service.ListSegmentMembers, request, args.out, on_page=_page_listener(bar)
        )
    if args.json:
        _print_json(console, result.as_json())
    else:
        console.print(Text(result.summary()))


def report(args: argparse.Namespace, service: Any, console: Console) -> None:
    # matplotlib takes a while to import: only the report needs it.
    from .report import write_report

    result = write_report(
        service, args.run_id, args.out, compare_run_id=args.compare_run_id, feedback=feedback(args)
    )
    if args.json:
        _print_json(console, result.as_json())
    else:
        console.print(Text(result.summary()))


COMMANDS: dict[str, Callable[[argparse.Namespace, Any, Console], None]] = {
    "segment": segment,
    "customer-segment": customer_segment,
    "score": score,
    "members": members,
    "run": run,
    "runs": runs,
    "compare": compare,
    "owner": owner,
    "export": export,
    "report": report,
}


def run_command(args: argparse.Namespace, service: Any, console: Console) -> None:
    """Run the subcommand named by args.command against `service`."""
    COMMANDS[args.command](args, service, console)
