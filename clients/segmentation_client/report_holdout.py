"""The report's "Hold-out check" section: how a value-based run looking at the past did.

A value-based run whose asOfDate lies in the past carries `holdout.*` metrics: what its
BG/NBD model predicted for the weeks after the as-of date against what happened
(report_data.holdout_check). The section puts that in a sentence, draws the calibration
plot (mean predicted and mean actual hold-out purchases per number of repeat purchases
in calibration) and lists its numbers.
"""

from __future__ import annotations

from . import report_charts
from .report_data import HoldoutCheck
from .report_page import Page, esc, html_table

HEADERS = ("repeat purchases in calibration", "customers", "mean predicted", "mean actual")


def _period(weeks: float) -> str:
    """ "the 39 weeks", "the 52.1 weeks (365 days)": the run's metrics have no dates."""
    days = round(weeks * 7)
    if abs(weeks - round(weeks)) < 1e-9:
        return f"the {round(weeks):,} weeks"
    return f"the {weeks:,.1f} weeks ({days:,} days)"


def holdout_sentence(check: HoldoutCheck) -> str:
    """ "Predicted 1,899 purchases over the 52.1 weeks (365 days) after the as-of date for
    237 customers; 1,755 happened (error +8.2%)." """
    happened = (
        "none happened"
        if check.actual == 0
        else f"{check.actual:,.0f} happened"
        + ("" if check.error is None else f" (error {check.error:+.1%})")
    )
    return (
        f"Predicted {check.predicted:,.0f} purchases over {_period(check.weeks)} after the "
        f"as-of date for {check.customers:,.0f} customers; {happened}."
    )


def _table(check: HoldoutCheck) -> str:
    rows = [
        (
            f"<td>{esc(row.label)}</td>",
            f'<td class="num">{row.customers:,.0f}</td>',
            f'<td class="num">{row.predicted:,.2f}</td>',
            f'<td class="num">{row.actual:,.2f}</td>',
        )
        for row in check.rows
    ]
    if check.customers:
        rows.append(
            (
                "<th>all</th>",
                f'<td class="num">{check.customers:,.0f}</td>',
                f'<td class="num">{check.predicted / check.customers:,.2f}</td>',
                f'<td class="num">{check.actual / check.customers:,.2f}</td>',
            )
        )
    return html_table(HEADERS, rows, numeric=HEADERS[1:])


def holdout_section(page: Page, chart_id: str, title: str, check: HoldoutCheck) -> None:
    """The section `chart_id` about the run called `title`: sentence, chart, table."""
    page.add(
        f'<section id="{esc(chart_id)}"><h2>Hold-out check of {esc(title)}</h2>',
        f'<p class="holdout-summary">{esc(holdout_sentence(check))}</p>',
    )
    mean_absolute_error = (
        ""
        if check.mean_absolute_error is None
        else f" Mean absolute error: {check.mean_absolute_error:,.2f} purchases a customer."
    )
    page.add(
        '<p class="note">Purchases are purchase occasions (days with a purchase), the BG/NBD '
        "model's unit, of the customers who bought on or before the as-of date; the model "
        f"saw nothing after it.{esc(mean_absolute_error)}</p>"
    )
    if check.rows:
        page.chart(
            chart_id,
            report_charts.calibration_chart(
                [row.label for row in check.rows],
                [row.predicted for row in check.rows],
                [row.actual for row in check.rows],
            ),
            "Line chart: mean predicted and mean actual hold-out purchases by repeat "
            "purchases in calibration",
            "Mean predicted (blue) and mean actual (orange) purchases after the as-of date of "
            "the customers with 0, 1, 2, … (7+: seven or more) repeat purchases up to it.",
        )
    page.add(_table(check), "</section>")
