"""The subcommands: one table of (operation, request builder, response shaper, renderer).

A subcommand in COMMANDS sends one request and prints its answer, as JSON with
--json or as tables. The few that do more (page, poll, write a file) are in
HANDLERS, which take precedence and reuse the table's entries. The entries of
portfolios and treatments (contract 1.4) are in commands_portfolio.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol

from rich.console import Console
from rich.text import Text

from . import (
    polling,
    render,
    render_background,
    render_insights,
    render_movers,
    request_builders,
    responses,
)
from .command import Args, Command
from .commands_portfolio import PORTFOLIO_COMMANDS
from .export import export_members
from .export_movers import describe_scope, export_movers
from .output import print_error, to_json
from .paging import PageListener, fetch_all_members
from .progress import Bar, Feedback

Handler = Callable[[Args, Any, Console], int]


def feedback(args: Args) -> Feedback:
    return Feedback.for_command(args.quiet)


def _print_json(console: Console, data: Any) -> None:
    print(to_json(data), file=console.file)


def exchange(command: Command, args: Args, service: Any) -> dict[str, Any]:
    """Send the command's request and return the shaped answer."""
    request = command.build(args)
    operation = getattr(service, command.operation)
    if command.spinner is None:
        return command.shape(operation(**request))
    with feedback(args).spinner(command.spinner(args)):
        return command.shape(operation(**request))


def show(command: Command, args: Args, console: Console, response: dict[str, Any]) -> None:
    if args.json:
        _print_json(console, response)
    else:
        command.show(console, response, args)


# ------------------------------------------------------------ request builders


def segment_request(args: Args) -> dict[str, Any]:
    """The SegmentCustomers request of `segment`, `submit` and `schedule add`."""
    return request_builders.segment_customers_request(
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
        features=args.features,
        lookback_months=args.lookback_months,
    )


def _members_request(args: Args) -> dict[str, Any]:
    return request_builders.list_segment_members_request(
        args.segment_code,
        run_id=args.run_id,
        method=args.method,
        page_size=args.page_size,
        page_token=args.page_token,
    )


def _movers_request(args: Args, page_token: str | None = None) -> dict[str, Any]:
    """The (first) ListSegmentMovers request of `movers` and `export-movers`."""
    return request_builders.list_segment_movers_request(
        args.from_run_id,
        args.to_run_id,
        from_segment_code=args.from_segment_code,
        to_segment_code=args.to_segment_code,
        direction=args.direction,
        page_size=args.page_size,
        page_token=page_token,
    )


def _schedule_request(args: Args) -> dict[str, Any]:
    return request_builders.create_segmentation_schedule_request(
        args.name, args.cron, segment_request(args), enabled=False if args.disabled else None
    )


def _run_shown(console: Console, response: dict[str, Any], args: Args) -> None:
    render.render_segment_run(console, response)


COMMANDS: dict[str, Command] = {
    "segment": Command(
        "SegmentCustomers",
        segment_request,
        responses.segment_customers_response,
        _run_shown,
        spinner=lambda args: f"Segmenting customers ({args.method})",
    ),
    "customer-segment": Command(
        "GetCustomerSegment",
        lambda args: request_builders.get_customer_segment_request(
            args.customer_id, method=args.method, run_id=args.run_id
        ),
        responses.get_customer_segment_response,
        lambda console, response, args: render.render_customer_segments(
            console, response, args.customer_id
        ),
    ),
    "score": Command(
        "ScoreCustomerValue",
        lambda args: request_builders.score_customer_value_request(
            args.customer_ids,
            horizon_months=args.horizon_months,
            discount_rate=args.discount_rate,
            as_of_date=args.as_of_date,
        ),
        responses.score_customer_value_response,
        lambda console, response, args: render.render_value_scores(console, response),
    ),
    "members": Command(
        "ListSegmentMembers",
        _members_request,
        responses.list_segment_members_response,
        lambda console, response, args: render.render_member_page(console, response),
    ),
    "movers": Command(
        "ListSegmentMovers",
        lambda args: _movers_request(args, args.page_token),
        responses.list_segment_movers_response,
        lambda console, response, args: render_movers.render_mover_page(
            console, response, args.from_run_id, args.to_run_id
        ),
    ),
    "insights": Command(
        "GetSegmentInsights",
        lambda args: request_builders.get_segment_insights_request(
            args.run_id, args.segment_code, baseline=args.baseline
        ),
        responses.get_segment_insights_response,
        lambda console, response, args: render_insights.render_insights(
            console, response, args.run_id, args.segment_code, args.baseline
        ),
    ),
    "run": Command(
        "GetSegmentationRun",
        lambda args: request_builders.get_segmentation_run_request(args.run_id),
        responses.get_segmentation_run_response,
        _run_shown,
    ),
    "runs": Command(
        "ListSegmentationRuns",
        lambda args: request_builders.list_segmentation_runs_request(
            method=args.method, limit=args.limit, before=args.before, statuses=args.statuses or ()
        ),
        responses.list_segmentation_runs_response,
        lambda console, response, args: render.render_runs(console, response, args.limit),
    ),
    "compare": Command(
        "CompareSegmentationRuns",
        lambda args: request_builders.compare_segmentation_runs_request(
            args.from_run_id, args.to_run_id
        ),
        responses.compare_segmentation_runs_response,
        lambda console, response, args: render.render_comparison(console, response),
    ),
    "owner": Command(
        "SetSegmentOwner",
        lambda args: request_builders.set_segment_owner_request(
            args.run_id, args.segment_code, args.owner
        ),
        responses.set_segment_owner_response,
        lambda console, response, args: render.render_segment(console, response),
    ),
    "submit": Command(
        "SubmitSegmentation",
        lambda args: request_builders.submit_segmentation_request(
            segment_request(args), args.idempotency_key
        ),
        responses.submit_segmentation_response,
        lambda console, response, args: render_background.render_queued_run(console, response),
    ),
    "cancel": Command(
        "CancelSegmentationRun",
        lambda args: request_builders.cancel_segmentation_run_request(args.run_id),
        responses.cancel_segmentation_run_response,
        _run_shown,
    ),
    "schedule add": Command(
        "CreateSegmentationSchedule",
        _schedule_request,
        responses.create_segmentation_schedule_response,
        lambda console, response, args: render_background.render_schedule(console, response),
    ),
    "schedule list": Command(
        "ListSegmentationSchedules",
        lambda args: request_builders.list_segmentation_schedules_request(),
        responses.list_segmentation_schedules_response,
        lambda console, response, args: render_background.render_schedules(console, response),
    ),
    "schedule remove": Command(
        "DeleteSegmentationSchedule",
        lambda args: request_builders.delete_segmentation_schedule_request(args.schedule_id),
        responses.delete_segmentation_schedule_response,
        lambda console, response, args: render_background.render_schedule(console, response),
    ),
    **PORTFOLIO_COMMANDS,
}


# ------------------------------------------------- more than one request each


def _page_listener(bar: Bar) -> Callable[[int, int | None], None]:
    def on_page(done: int, total: int | None) -> None:
        bar.update(completed=done, total=total)

    return on_page


def members(args: Args, service: Any, console: Console) -> int:
    """One page, or every page with --all."""
    if not args.all:
        show(COMMANDS["members"], args, console, exchange(COMMANDS["members"], args, service))
        return 0
    with feedback(args).bar(f"Members of {args.segment_code}", None, "members") as bar:
        listing = fetch_all_members(
            service.ListSegmentMembers, _members_request(args), _page_listener(bar)
        )
    if args.json:
        _print_json(console, listing)
    else:
        render.render_all_members(console, listing)
    return 0


def _progress_listener(bar: Bar, run_id: int) -> Callable[[dict[str, Any]], None]:
    def on_poll(run: dict[str, Any]) -> None:
        step = run.get("phase") or run.get("status")
        done = run.get("progress")
        if done is None:  # a service before 1.3 sends no progress
            done = 1.0 if run.get("status") == "Completed" else 0.0
        bar.update(completed=done, description=f"Run {run_id} ({run.get('method')}): {step}")

    return on_poll


def wait_for(
    args: Args, service: Any, console: Console, run_id: int, current: dict[str, Any] | None
) -> int:
    """Poll the run until it ends or --max-wait runs out; print it; exit 0, 1 or 3."""
    get_run = COMMANDS["run"]

    def poll() -> dict[str, Any]:
        request = request_builders.get_segmentation_run_request(run_id)
        return dict(get_run.shape(service.GetSegmentationRun(**request))["run"])

    try:
        with feedback(args).fraction_bar(f"Run {run_id}") as bar:
            outcome = polling.wait_for_run(
                poll,
                current=current,
                max_poll_seconds=args.poll_seconds,
                max_wait=args.max_wait,
                on_poll=_progress_listener(bar, run_id),
            )
    except KeyboardInterrupt:
        print(
            f"stopped waiting; run {run_id} goes on (segmentation-client wait {run_id})",
            file=sys.stderr,
        )
        raise
    show(get_run, args, console, {"run": outcome.run})
    message = polling.describe_outcome(outcome, args.max_wait)
    if message is not None and not args.json:
        print_error(message)
    return polling.exit_status(outcome)


def wait(args: Args, service: Any, console: Console) -> int:
    return wait_for(args, service, console, args.run_id, None)


def submit(args: Args, service: Any, console: Console) -> int:
    """The Queued run, or with --wait the run once it has ended."""
    response = exchange(COMMANDS["submit"], args, service)
    if not args.wait:
        show(COMMANDS["submit"], args, console, response)
        return 0
    run = response["run"]
    return wait_for(args, service, console, int(run["runId"]), dict(run))


class WrittenFile(Protocol):
    """What an export returns: export.ExportResult, export_movers.MoversExportResult."""

    def as_json(self) -> dict[str, Any]: ...
    def summary(self) -> str: ...


def _export(
    args: Args,
    console: Console,
    description: str,
    unit: str,
    write: Callable[[PageListener], WrittenFile],
) -> int:
    """Write a file page by page under a progress bar, then print its summary (or JSON)."""
    with feedback(args).bar(description, None, unit) as bar:
        result = write(_page_listener(bar))
    if args.json:
        _print_json(console, result.as_json())
    else:
        console.print(Text(result.summary()))
    return 0


def export(args: Args, service: Any, console: Console) -> int:
    request = request_builders.list_segment_members_request(
        args.segment, run_id=args.run_id, method=args.method, page_size=args.page_size
    )
    return _export(
        args,
        console,
        f"Exporting {args.segment}",
        "members",
        lambda on_page: export_members(
            service.ListSegmentMembers, request, args.out, on_page=on_page
        ),
    )


def export_movers_of(args: Args, service: Any, console: Console) -> int:
    scope = describe_scope(args.from_segment_code, args.to_segment_code, args.direction)
    return _export(
        args,
        console,
        f"Exporting movers {args.from_run_id} → {args.to_run_id}"
        + (f" ({scope})" if scope else ""),
        "movers",
        lambda on_page: export_movers(
            service.ListSegmentMovers, _movers_request(args), args.out, on_page=on_page
        ),
    )


def report(args: Args, service: Any, console: Console) -> int:
    # matplotlib takes a while to import: only the report needs it.
    from .report import ReportResult, write_report
    from .report_portfolio import PortfolioReportResult, write_portfolio_report

    result: ReportResult | PortfolioReportResult
    if args.portfolio_id is not None:
        result = write_portfolio_report(
            service, args.portfolio_id, args.out, colour_by=args.colour_by, feedback=feedback(args)
        )
    else:
        result = write_report(
            service,
            args.run_id,
            args.out,
            compare_run_id=args.compare_run_id,
            feedback=feedback(args),
        )
    if args.json:
        _print_json(console, result.as_json())
    else:
        console.print(Text(result.summary()))
    return 0


HANDLERS: dict[str, Handler] = {
    "members": members,
    "wait": wait,
    "submit": submit,
    "export": export,
    "export-movers": export_movers_of,
    "report": report,
}


def run_command(args: Args, service: Any, console: Console) -> int:
    """Run the subcommand named by args.command against `service`; its exit status."""
    handler = HANDLERS.get(args.command)
    if handler is not None:
        return handler(args, service, console)
    command = COMMANDS[args.command]
    show(command, args, console, exchange(command, args, service))
    return 0
