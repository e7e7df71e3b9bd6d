"""`segmentation-client report --portfolio`: one self-contained HTML page about a portfolio.

GetPortfolio evaluates it now (the evaluation joins its history), then
GetPortfolioHistory gives every evaluation. The page: a summary, the grid as a
heat map coloured by customer equity (or profit) with each cell's owner and
strategy, the grid's figures as a table with totals and the customers outside
it, and each cell's customer equity over the evaluations as a line chart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from . import report_portfolio_charts, request_builders, responses
from .files import atomic_text_file
from .portfolio_grid import DEFAULT_COLOURING, CellHistory, cell_history, grid_of
from .progress import Feedback
from .render import format_value
from .report_page import Page, facts, html_table, open_page, stepper, td
from .report_portfolio_grid import GRID_CSS, grid_section


def portfolio_title(portfolio: dict[str, Any]) -> str:
    return (
        f"portfolio {portfolio.get('portfolioId')} “{portfolio.get('name')}”: "
        f"{portfolio.get('rows')} × {portfolio.get('columns')}"
    )


def _summary(page: Page, portfolio: dict[str, Any], evaluation: dict[str, Any]) -> None:
    grid = grid_of(evaluation)
    in_grid = sum(int(total.get("customers") or 0) for total in grid.row_totals.values())
    outside = grid.outside or {}
    pairs = [
        (name, format_value(portfolio.get(name), name))
        for name in ("portfolioId", "name", "rows", "columns", "owner", "objective", "createdBy")
    ]
    pairs += [
        ("evaluated at", format_value(evaluation.get("evaluatedAt"))),
        ("rows run", format_value(evaluation.get("rowsRunId"))),
        ("columns run", format_value(evaluation.get("columnsRunId"))),
        ("value run", format_value(evaluation.get("valueRunId"))),
        ("customer equity", format_value(evaluation.get("customerEquity"), "customerEquity")),
        ("customers in the grid", f"{in_grid:,}"),
        ("customers outside the grid", f"{int(outside.get('customers') or 0):,}"),
    ]
    page.add('<section id="summary"><h2>Summary</h2>', facts(pairs))
    if evaluation.get("valueRunId") is None:
        page.add(
            '<p class="note">No value-based run with a CLV fit: customer equity is the profit '
            "so far less the acquisition cost, without predicted CLV.</p>"
        )
    page.add("</section>")


def _evaluation_label(evaluation: dict[str, Any]) -> str:
    when = evaluation.get("evaluatedAt")
    shown = when.strftime("%Y-%m-%d %H:%M") if isinstance(when, datetime) else format_value(when)
    return f"#{evaluation.get('evaluationId')} {shown}"


def _history_section(page: Page, history: CellHistory, step: Callable[[str], None]) -> None:
    page.add('<section id="history"><h2>Customer equity over time</h2>')
    if not history.evaluations:
        page.add('<p class="note">The portfolio has no evaluations.</p></section>')
        return
    labels = [_evaluation_label(evaluation) for evaluation in history.evaluations]
    step("drawing customer equity over time")
    page.chart(
        "equity-history",
        report_portfolio_charts.equity_history_chart(labels, history.cells, history.equity),
        "Line chart: customer equity of each cell at each evaluation",
        f"Customer equity of each cell (row × column segment names) at each of the "
        f"{len(labels)} evaluations, oldest first.",
    )
    runs = [
        (
            td(_evaluation_label(evaluation)),
            *(
                td(evaluation.get(name), numeric=True)
                for name in ("rowsRunId", "columnsRunId", "valueRunId")
            ),
            td(evaluation.get("customerEquity"), "customerEquity", numeric=True),
        )
        for evaluation in history.evaluations
    ]
    headers = ("evaluation", "rows run", "columns run", "value run", "customer equity")
    page.add(html_table(headers, runs, numeric=headers[1:]))
    rows = [
        (
            td(name),
            *(td(equity, "customerEquity", numeric=True) for equity in history.equity[index]),
        )
        for index, name in enumerate(history.cells)
    ]
    page.add(
        '<p class="note">Customer equity of each cell at each evaluation:</p>',
        html_table(("cell", *labels), rows, numeric=labels),
        "</section>",
    )


def render_portfolio_report(
    portfolio: dict[str, Any],
    evaluations: list[dict[str, Any]],
    *,
    colour_by: str = DEFAULT_COLOURING,
    generated_at: datetime | None = None,
    step: Callable[[str], None] = lambda description: None,
) -> tuple[str, list[str]]:
    """The HTML page of `portfolio` (with its evaluation made now) and its `evaluations`
    (oldest first), and its chart ids in order."""
    page = Page()
    open_page(page, f"Segmentation {portfolio_title(portfolio)}", generated_at, GRID_CSS)
    evaluation = portfolio.get("evaluation")
    if evaluation is None:
        page.add('<p class="note">The service sent no evaluation.</p>')
    else:
        _summary(page, portfolio, evaluation)
        grid_section(page, portfolio, evaluation, colour_by, step)
    _history_section(page, cell_history(evaluations), step)
    page.add("</main></body></html>\n")
    return "".join(page.parts), page.charts


# ------------------------------------------------------------------ the command


@dataclass(frozen=True)
class PortfolioReportResult:
    path: str
    portfolio_id: int
    colour_by: str
    charts: list[str]
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "out": self.path,
            "portfolioId": self.portfolio_id,
            "colourBy": self.colour_by,
            "charts": list(self.charts),
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        return (
            f"wrote {self.path}: portfolio {self.portfolio_id}, {len(self.charts)} charts, "
            f"in {self.seconds:.1f} s"
        )


def write_portfolio_report(
    service: Any,
    portfolio_id: int,
    out: str | Path,
    *,
    colour_by: str = DEFAULT_COLOURING,
    feedback: Feedback | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> PortfolioReportResult:
    """Evaluate the portfolio, fetch its history, draw the charts and write the page
    atomically (an unwritable destination fails before any request)."""
    started = clock()
    feedback = feedback or Feedback(None)
    request = request_builders.portfolio_id_request(portfolio_id)
    with (
        atomic_text_file(out) as file,
        feedback.bar("Evaluating the portfolio", 2, "steps", rate=False) as bar,
    ):
        portfolio = responses.portfolio_response(service.GetPortfolio(**request))["portfolio"]
        bar.advance(description="Fetching its history")
        history = responses.get_portfolio_history_response(service.GetPortfolioHistory(**request))
        evaluations = history["evaluations"]["evaluation"]
        bar.advance()
        charts = int(bool((portfolio.get("evaluation") or {}).get("cells", {}).get("cell")))
        bar.update(total=2 + charts + int(bool(evaluations)))
        page, drawn = render_portfolio_report(
            portfolio, evaluations, colour_by=colour_by, step=stepper(bar)
        )
        file.write(page)
    return PortfolioReportResult(
        path=str(out),
        portfolio_id=portfolio_id,
        colour_by=colour_by,
        charts=drawn,
        seconds=clock() - started,
    )
