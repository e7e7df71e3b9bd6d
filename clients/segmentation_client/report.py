"""`segmentation-client report --run`: one self-contained HTML page about a run.

The page machinery (policy, CSS, escaping, tables) is in report_page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from . import report_charts, request_builders, responses
from .files import atomic_text_file
from .progress import Feedback
from .render import MISSING, condense_treatment, format_share, format_value
from .report_data import (
    Migration,
    Profile,
    ValueTier,
    holdout_check,
    migration,
    segments_of,
    value_metric,
    value_tiers,
    z_score_profile,
)
from .report_holdout import holdout_section
from .report_page import CONTENT_SECURITY_POLICY as CONTENT_SECURITY_POLICY  # its old home
from .report_page import Page, esc, facts, html_table, open_page, stepper, td


def _label(segment: dict[str, Any]) -> str:
    name = segment.get("name")
    code = str(segment.get("code"))
    return f"{code} {name}" if name and name != code else code


def run_title(run: dict[str, Any]) -> str:
    label = f" “{run['label']}”" if run.get("label") else ""
    return f"run {run.get('runId')} ({run.get('method')}){label}"


def _summary(page: Page, run: dict[str, Any]) -> None:
    pairs = [
        (name, format_value(run.get(name), name))
        for name in (
            "runId",
            "method",
            "label",
            "status",
            "startedAt",
            "finishedAt",
            "startedBy",
            "customerCount",
            "assignedCount",
            "unassignedCount",
        )
    ]
    pairs.append(("segments", str(len(segments_of(run)))))
    page.add('<section id="summary"><h2>Summary</h2>', facts(pairs))
    if run.get("failureReason"):
        page.add(f'<p class="callout">The run failed: {esc(run["failureReason"])}</p>')
    loss_making = run["lossMakingSegments"]["segmentCode"]
    if loss_making:
        page.add(f'<p class="callout">Loss-making segments: {esc(", ".join(loss_making))}</p>')
    page.add("</section>")


def _segments_table(run: dict[str, Any], metric: str) -> str:
    headers = (
        "code",
        "name",
        "size",
        "share",
        f"total {metric.lower()}",
        f"average {metric.lower()}",
        "revenue",
        "cost",
        "profit",
        "owner",
        "treatment",
        "description",
    )
    rows = []
    for segment in segments_of(run):
        profit = segment.get("profit")
        rows.append(
            (
                td(segment.get("code")),
                td(segment.get("name")),
                td(segment.get("size"), numeric=True),
                td(segment.get("share"), "share", numeric=True),
                td(segment.get("totalValue"), "totalValue", numeric=True),
                td(segment.get("averageValue"), "averageValue", numeric=True),
                td(segment.get("revenue"), "revenue", numeric=True),
                td(segment.get("cost"), "cost", numeric=True),
                td(profit, "profit", numeric=True, css="loss" if (profit or 0) < 0 else ""),
                td(segment.get("owner")),
                f"<td>{esc(condense_treatment(segment.get('treatment')))}</td>",
                td(segment.get("description")),
            )
        )
    return html_table(headers, rows, numeric=headers[2:9])


def _segment_charts(
    page: Page, run: dict[str, Any], metric: str, step: Callable[[str], None]
) -> None:
    segments = segments_of(run)
    labels = [_label(segment) for segment in segments]
    step("drawing segment sizes")
    page.chart(
        "sizes",
        report_charts.sizes_chart(
            labels,
            [int(s.get("size") or 0) for s in segments],
            [float(s.get("share") or 0.0) for s in segments],
        ),
        "Bar chart: customers per segment",
        "Customers per segment, with their share of the run's assigned customers.",
    )
    step("drawing segment value")
    page.chart(
        "value",
        report_charts.value_chart(
            labels,
            [float(s.get("totalValue") or 0.0) for s in segments],
            [float(s.get("averageValue") or 0.0) for s in segments],
            metric,
        ),
        f"Bar charts: total and average {metric.lower()} per segment",
        f"Total and average {metric.lower()} per segment.",
    )


def _profit_section(page: Page, run: dict[str, Any], step: Callable[[str], None]) -> None:
    segments = [s for s in segments_of(run) if s.get("profit") is not None]
    page.add('<section id="profit"><h2>Profit and loss</h2>')
    if not segments:
        page.add('<p class="note">The service reported no profit figures for this run.</p>')
        page.add("</section>")
        return
    step("drawing profit and loss")
    page.chart(
        "profit",
        report_charts.profit_chart(
            [_label(s) for s in segments], [float(s["profit"]) for s in segments]
        ),
        "Diverging bar chart: profit or loss per segment",
        "Profit (revenue net of returns − cost of goods − cost to serve) per segment; "
        "losses in orange.",
    )
    page.add("</section>")


def _profile_table(profile: Profile, feature_header: str) -> str:
    """Features (rows) x segments (columns): "mean (z-score)" in each cell."""
    rows = []
    for feature, z_row, mean_row in zip(
        profile.features, profile.z_scores, profile.means, strict=True
    ):
        cells = [td(feature)]
        for z, mean in zip(z_row, mean_row, strict=True):
            text = MISSING if z is None else f"{mean or MISSING} ({z:+.2f})"
            cells.append(f'<td class="num">{esc(text)}</td>')
        rows.append(cells)
    return html_table((feature_header, *profile.segment_codes), rows, numeric=profile.segment_codes)


def _needs_section(page: Page, chart_id: str, run: dict[str, Any], profile: Profile) -> None:
    names = {str(s.get("code")): _label(s) for s in segments_of(run)}
    page.add(f'<section id="{esc(chart_id)}"><h2>Needs profile of {esc(run_title(run))}</h2>')
    page.chart(
        chart_id,
        report_charts.needs_heatmap(
            profile.features,
            [names.get(code, code) for code in profile.segment_codes],
            profile.z_scores,
        ),
        "Heatmap: z-score of each need per segment",
        "Mean score of each need in each segment as a z-score: how many standard deviations "
        "above (red) or below (blue) all respondents' mean.",
    )
    page.add(
        '<p class="note">Mean score (z-score) of each need:</p>',
        _profile_table(profile, "need"),
        "</section>",
    )


def _metric(run: dict[str, Any], name: str) -> float | None:
    for metric in run["metrics"]["metric"]:
        if metric.get("name") == name:
            value: float | None = metric.get("value")
            return value
    return None


def _behaviour_section(page: Page, chart_id: str, run: dict[str, Any], profile: Profile) -> None:
    names = {str(s.get("code")): _label(s) for s in segments_of(run)}
    page.add(f'<section id="{esc(chart_id)}"><h2>Behavioural profile of {esc(run_title(run))}</h2>')
    page.chart(
        chart_id,
        report_charts.behaviour_heatmap(
            [names.get(code, code) for code in profile.segment_codes],
            profile.features,
            # the chart has a row per segment, the profile a row per feature
            [list(row) for row in zip(*profile.z_scores, strict=True)],
            [list(row) for row in zip(*profile.means, strict=True)],
        ),
        "Heatmap: mean of each behaviour per segment, coloured by its z-score",
        "Mean of each behaviour in each segment (in its own unit: a share of purchases or "
        "spend, purchases a year, money, days, years), coloured by its z-score: how many "
        "standard deviations above (red) or below (blue) the mean of all segmented customers.",
    )
    without = _metric(run, "behaviour.withoutPurchases")
    if without:
        page.add(
            f'<p class="note">{esc(format_value(without))} customers without a purchase in the '
            "window have no behaviour to segment on: they are left unassigned.</p>"
        )
    page.add(
        '<p class="note">Mean (z-score) of each behaviour:</p>',
        _profile_table(profile, "behaviour"),
        "</section>",
    )


def _tiers_section(page: Page, chart_id: str, run: dict[str, Any], tiers: list[ValueTier]) -> None:
    metric = next((tier.metric for tier in tiers if tier.metric), "Value")
    page.add(f'<section id="{esc(chart_id)}"><h2>Value tiers of {esc(run_title(run))}</h2>')
    drawable = [t for t in tiers if t.minimum is not None and t.maximum is not None]
    if drawable:
        page.chart(
            chart_id,
            report_charts.tiers_chart(
                [f"{t.code} {t.name}" for t in drawable],
                [float(t.minimum or 0.0) for t in drawable],
                [float(t.maximum or 0.0) for t in drawable],
                metric,
            ),
            f"Range chart: {metric.lower()} from the lowest to the highest customer of each tier",
            f"Each tier spans its customers' {metric.lower()}, lowest to highest.",
        )
    rows = [
        (
            td(t.code),
            td(t.name),
            td(t.minimum, "totalValue", numeric=True),
            td(t.maximum, "totalValue", numeric=True),
            td(t.size, numeric=True),
            td(t.average, "averageValue", numeric=True),
        )
        for t in tiers
    ]
    headers = (
        "code",
        "tier",
        f"lowest {metric.lower()}",
        f"highest {metric.lower()}",
        "size",
        "average",
    )
    page.add(html_table(headers, rows, numeric=headers[2:]), "</section>")


def _method_section(
    page: Page, run: dict[str, Any], chart_prefix: str, step: Callable[[str], None]
) -> None:
    """The needs heatmap of a needs-based run, the behaviour heatmap of a behavioural run,
    the tiers (and the hold-out check of one looking at the past) of a value-based run,
    else nothing."""
    if run.get("method") == "NeedsBased":
        profile = z_score_profile(run)
        if profile is not None:
            step("drawing the needs profile")
            _needs_section(page, f"{chart_prefix}needs", run, profile)
    elif run.get("method") == "Behavioural":
        profile = z_score_profile(run)
        if profile is not None:
            step("drawing the behavioural profile")
            _behaviour_section(page, f"{chart_prefix}behaviour", run, profile)
    elif run.get("method") == "ValueBased":
        tiers = value_tiers(run)
        if tiers:
            step("drawing the value tiers")
            _tiers_section(page, f"{chart_prefix}tiers", run, tiers)
    check = holdout_check(run)
    if check is not None:
        step("drawing the hold-out check")
        holdout_section(page, f"{chart_prefix}holdout", run_title(run), check)


def _comparison_section(
    page: Page, found: Migration, other: dict[str, Any], step: Callable[[str], None]
) -> None:
    from_title = run_title(found.from_run)
    to_title = run_title(found.to_run)
    page.add(
        '<section id="comparison">',
        f"<h2>Migration from {esc(from_title)} to {esc(to_title)}</h2>",
        facts(
            (
                ("customers in both runs", f"{found.customers_in_both:,}"),
                ("stayed in the same segment code", format_share(found.stayed_share)),
                ("adjusted Rand index", format_value(found.adjusted_rand_index)),
                ("entered (only in the later run)", format_value(found.entered_count)),
                ("left (only in the earlier run)", format_value(found.left_count)),
            )
        ),
        '<p class="note">The adjusted Rand index is 1 for the same grouping whatever the codes, '
        "about 0 for chance.</p>",
    )
    if found.customers_in_both:
        names_from = {str(s.get("code")): _label(s) for s in segments_of(found.from_run)}
        names_to = {str(s.get("code")): _label(s) for s in segments_of(found.to_run)}
        step("drawing the migration matrix")
        page.chart(
            "migration",
            report_charts.migration_heatmap(
                [names_from.get(code, code) for code in found.from_codes],
                [names_to.get(code, code) for code in found.to_codes],
                found.counts,
                from_title,
                to_title,
            ),
            "Heatmap: customers by segment in each run",
            f"Customers by segment in {from_title} (rows) and {to_title} (columns).",
        )
        rows = []
        for code, counts in zip(found.from_codes, found.counts, strict=True):
            rows.append(
                (
                    td(code),
                    *(f'<td class="num">{count:,}</td>' for count in counts),
                    f'<td class="num">{sum(counts):,}</td>',
                )
            )
        totals = [sum(row[j] for row in found.counts) for j in range(len(found.to_codes))]
        rows.append(
            (
                "<th>total</th>",
                *(f'<td class="num">{total:,}</td>' for total in totals),
                f'<td class="num">{sum(totals):,}</td>',
            )
        )
        headers = ("from \\ to", *found.to_codes, "total")
        page.add(html_table(headers, rows, numeric=headers[1:]))
    else:
        page.add('<p class="note">No customer is assigned in both runs.</p>')
    page.add(
        f"<h3>Segments of {esc(run_title(other))}</h3>",
        _segments_table(other, value_metric(other)),
        "</section>",
    )
    _method_section(page, other, "other-", step)


def _metrics_section(page: Page, run: dict[str, Any]) -> None:
    metrics = run["metrics"]["metric"]
    if not metrics:
        return
    rows = [(td(metric.get("name")), td(metric.get("value"), numeric=True)) for metric in metrics]
    page.add(
        '<section id="metrics"><h2>Metrics</h2><details><summary>The run\'s metrics '
        f"({len(metrics)})</summary>",
        html_table(("name", "value"), rows, numeric=("value",)),
        "</details></section>",
    )


def chart_steps(run: dict[str, Any], other: dict[str, Any] | None) -> int:
    """How many charts the page will have at most (for the progress bar)."""

    def method_chart(candidate: dict[str, Any]) -> int:
        methods = ("NeedsBased", "ValueBased", "Behavioural")
        return int(candidate.get("method") in methods) + int(holdout_check(candidate) is not None)

    count = 3 + method_chart(run) if segments_of(run) else 0
    if other is not None:
        count += 1 + method_chart(other)
    return count


def render_report(
    run: dict[str, Any],
    *,
    other: dict[str, Any] | None = None,
    comparison: dict[str, Any] | None = None,
    generated_at: datetime | None = None,
    step: Callable[[str], None] = lambda description: None,
) -> tuple[str, list[str]]:
    """The HTML page for `run` (and its comparison with `other`), and its chart ids in order."""
    page = Page()
    open_page(page, f"Segmentation {run_title(run)}", generated_at)
    _summary(page, run)
    metric = value_metric(run)
    page.add('<section id="segments"><h2>Segments</h2>')
    if segments_of(run):
        _segment_charts(page, run, metric, step)
        page.add(_segments_table(run, metric), "</section>")
        _profit_section(page, run, step)
        _method_section(page, run, "", step)
    else:
        page.add(f'<p class="note">This run has no segments (status {esc(run.get("status"))}).</p>')
        page.add("</section>")
    if other is not None and comparison is not None:
        runs_by_id = {run["runId"]: run, other["runId"]: other}
        _comparison_section(page, migration(comparison, runs_by_id), other, step)
    _metrics_section(page, run)
    page.add("</main></body></html>\n")
    return "".join(page.parts), page.charts


# ------------------------------------------------------------------ the command


@dataclass(frozen=True)
class ReportResult:
    path: str
    run_id: int
    compare_run_id: int | None
    charts: list[str]
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "out": self.path,
            "runId": self.run_id,
            "compareRunId": self.compare_run_id,
            "charts": list(self.charts),
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        compared = (
            "" if self.compare_run_id is None else f" compared with run {self.compare_run_id}"
        )
        return (
            f"wrote {self.path}: run {self.run_id}{compared}, {len(self.charts)} charts, "
            f"in {self.seconds:.1f} s"
        )


def _fetch_run(service: Any, run_id: int) -> dict[str, Any]:
    request = request_builders.get_segmentation_run_request(run_id)
    run: dict[str, Any] = responses.get_segmentation_run_response(
        service.GetSegmentationRun(**request)
    )["run"]
    return run


def write_report(
    service: Any,
    run_id: int,
    out: str | Path,
    *,
    compare_run_id: int | None = None,
    feedback: Feedback | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ReportResult:
    """Fetch the run(s) and the comparison, draw the charts and write the page atomically.

    The comparison runs from the older run (smaller id) to the newer one.
    """
    started = clock()
    feedback = feedback or Feedback(None)
    fetches = 1 if compare_run_id is None else 3
    # The file is opened first, so an unwritable destination fails before any request.
    with (
        atomic_text_file(out) as file,
        feedback.bar("Fetching run", fetches, "steps", rate=False) as bar,
    ):
        run = _fetch_run(service, run_id)
        bar.advance()
        other = comparison = None
        if compare_run_id is not None:
            bar.update(description="Fetching the other run")
            other = _fetch_run(service, compare_run_id)
            bar.advance(description="Comparing the runs")
            request = request_builders.compare_segmentation_runs_request(
                min(run_id, compare_run_id), max(run_id, compare_run_id)
            )
            comparison = responses.compare_segmentation_runs_response(
                service.CompareSegmentationRuns(**request)
            )
            bar.advance()
        bar.update(total=fetches + chart_steps(run, other))
        page, charts = render_report(run, other=other, comparison=comparison, step=stepper(bar))
        file.write(page)
    return ReportResult(
        path=str(out),
        run_id=run_id,
        compare_run_id=compare_run_id,
        charts=charts,
        seconds=clock() - started,
    )
