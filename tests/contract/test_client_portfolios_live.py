"""`segmentation-client portfolio`, `treat` and `report --portfolio` against the live server.

The runs, the portfolio, its cell owner and treatment are all made through the
client; the report is rendered in headless Chromium as in test_client_report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from segmentation_client.cli import main
from zeep.helpers import serialize_object

from tests.contract.conftest import ANALYST, VIEWER, LiveServer, User
from tests.contract.test_client_report import assert_charts_render

PORTFOLIO_CHARTS = ["grid", "equity-history"]


def cli(
    capsys: pytest.CaptureFixture[str], server: LiveServer, user: User, *argv: str
) -> tuple[int, str, str]:
    """The client in-process against the live WSDL: (status, stdout, stderr)."""
    credentials = ["--username", user.username, "--password", user.password]
    status = main(["--wsdl", server.wsdl_url, *credentials, *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def as_json(capsys: pytest.CaptureFixture[str], server: LiveServer, *argv: str) -> Any:
    status, out, err = cli(capsys, server, ANALYST, "--json", *argv)
    assert (status, err) == (0, ""), err
    return json.loads(out)


def cells_by_codes(portfolio: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (cell["rowSegmentCode"], cell["columnSegmentCode"]): cell
        for cell in portfolio["evaluation"]["cells"]["cell"]
    }


@pytest.fixture
def portfolio(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """Fresh value (CLV) and needs runs, and a portfolio crossing them: (id, value, needs)."""
    value = as_json(
        capsys, live_server, "segment", "--method", "ValueBased", "--value-metric", "Clv"
    )["run"]
    needs = as_json(
        capsys, live_server, "segment", "--method", "NeedsBased", "--segment-count", "3"
    )["run"]
    created = as_json(
        capsys,
        live_server,
        "portfolio",
        "add",
        "--name",
        f"client: value x needs after run {needs['runId']}",
        "--rows",
        "ValueBased",
        "--columns",
        "NeedsBased",
        "--owner",
        "Ana",
        "--objective",
        "grow <equity> & keep it",
    )["portfolio"]
    assert (created["rows"], created["columns"], created["evaluation"]) == (
        "ValueBased",
        "NeedsBased",
        None,
    )
    return int(created["portfolioId"]), value, needs


def test_a_portfolio_made_owned_treated_and_reported_through_the_client(
    live_server: LiveServer,
    capsys: pytest.CaptureFixture[str],
    portfolio: tuple[int, dict[str, Any], dict[str, Any]],
    soap: Any,
    tmp_path: Path,
) -> None:
    portfolio_id, value, needs = portfolio
    shown = as_json(capsys, live_server, "portfolio", "show", str(portfolio_id))["portfolio"]
    evaluation = shown["evaluation"]
    assert (evaluation["rowsRunId"], evaluation["columnsRunId"]) == (
        value["runId"],
        needs["runId"],
    )
    cells = cells_by_codes(shown)
    value_codes = [s["code"] for s in value["segments"]["segment"]]
    needs_codes = [s["code"] for s in needs["segments"]["segment"]]
    assert set(cells) == {(v, n) for v in value_codes for n in needs_codes}
    row, column = max(cells, key=lambda codes: cells[codes]["customers"])

    status, out, err = cli(
        capsys,
        live_server,
        ANALYST,
        "portfolio",
        "owner",
        str(portfolio_id),
        "--row",
        row,
        "--column",
        column,
        "--owner",
        "Bea [EMEA]",
    )
    assert (status, err) == (0, "")
    assert "Bea [EMEA]" in out and cells[(row, column)]["rowSegmentName"] in out
    treated = as_json(
        capsys,
        live_server,
        "portfolio",
        "treat",
        str(portfolio_id),
        "--row",
        row,
        "--column",
        column,
        "--strategy",
        "WinBack",
        "--channel",
        "Phone",
        "--message",
        "call them",
    )["cellTreatment"]
    assert treated["treatment"] | {"reason": None} == {
        "strategy": "WinBack",
        "channel": "Phone",
        "message": "call them",
        "reason": None,
        "overridden": True,
    }

    # The table of `portfolio show` (a second evaluation) has the owner and the override.
    status, out, err = cli(capsys, live_server, ANALYST, "portfolio", "show", str(portfolio_id))
    assert (status, err) == (0, "")
    assert "WinBack*" in out and "Bea [EMEA]" in out
    assert "WinBack via Phone: call them (overridden)" in out
    assert "outside the grid: " in out

    status, out, err = cli(capsys, live_server, ANALYST, "portfolio", "history", str(portfolio_id))
    assert (status, err) == (0, "")
    assert out.count("Evaluation ") == 2
    assert f"rows run {value['runId']}, columns run {needs['runId']}" in out

    # The report, made by a viewer (reading is enough), evaluates once more.
    out_file = tmp_path / "portfolio.html"
    status, printed, err = cli(
        capsys,
        live_server,
        VIEWER,
        "--json",
        "report",
        "--portfolio",
        str(portfolio_id),
        "--out",
        str(out_file),
    )
    assert (status, err) == (0, ""), err
    assert json.loads(printed)["charts"] == PORTFOLIO_CHARTS
    assert_charts_render(out_file, tmp_path / "browser", PORTFOLIO_CHARTS)

    page = lxml.html.document_fromstring(out_file.read_text(encoding="utf-8"))
    history = serialize_object(soap.GetPortfolioHistory(portfolioId=portfolio_id), dict)
    evaluations = history["evaluations"]["evaluation"]
    assert len(evaluations) == 3
    latest = {
        (c["rowSegmentCode"], c["columnSegmentCode"]): c for c in evaluations[-1]["cells"]["cell"]
    }
    assert "grow <equity> & keep it" in page.text_content()

    # The grid: a row per value tier, a column per needs segment, in the runs' order.
    (grid,) = page.xpath('//section[@id="grid"]//table')
    header = [th.text_content() for th in grid.xpath(".//thead//th")]
    assert [label.split()[0] for label in header[1:-1]] == needs_codes
    rows = [row.xpath("string(th)") for row in grid.xpath(".//tbody/tr")]
    assert [label.split()[0] for label in rows[:-1]] == value_codes and rows[-1] == "total"
    for (r, c), cell in latest.items():
        (td,) = grid.xpath(f'.//td[@data-row="{r}"][@data-column="{c}"]')
        lines = [div.text_content() for div in td.xpath("div")]
        assert lines[0] == f"{cell['customers']:,} customers"
        assert lines[1] == f"equity {cell['customerEquity']:,.2f}"
        assert lines[3].startswith(cell["treatment"]["strategy"])
    (owned,) = grid.xpath(f'.//td[@data-row="{row}"][@data-column="{column}"]')
    assert [div.text_content() for div in owned.xpath("div")][3:] == [
        "WinBack (overridden)",
        "owner: Bea [EMEA]",
    ]

    # The history: a column per evaluation, a row per cell, equity as the service says.
    (table,) = page.xpath('//section[@id="history"]//table[.//th[.="cell"]]')
    assert len(table.xpath(".//thead//th")) == 1 + len(evaluations)
    by_name = {
        row.xpath("string(td[1])"): [td.text_content() for td in row.xpath("td")[1:]]
        for row in table.xpath(".//tbody/tr")
    }
    cell = latest[(row, column)]
    name = f"{cell['rowSegmentName']} × {cell['columnSegmentName']}"
    assert by_name[name][-1] == f"{cell['customerEquity']:,.2f}"
    assert len(by_name) == len(latest)


def test_a_report_coloured_by_profit_and_the_portfolio_removed(
    live_server: LiveServer,
    capsys: pytest.CaptureFixture[str],
    portfolio: tuple[int, dict[str, Any], dict[str, Any]],
    tmp_path: Path,
) -> None:
    portfolio_id, _, _ = portfolio
    out_file = tmp_path / "profit.html"
    status, printed, err = cli(
        capsys,
        live_server,
        ANALYST,
        "report",
        "--portfolio",
        str(portfolio_id),
        "--colour-by",
        "profit",
        "--out",
        str(out_file),
    )
    assert (status, err) == (0, "")
    assert printed.startswith(f"wrote {out_file}: portfolio {portfolio_id}, 2 charts, in ")
    page = lxml.html.document_fromstring(out_file.read_text(encoding="utf-8"))
    assert page.xpath('string(//section[@id="grid"]//figcaption)').startswith("Each cell's profit")

    listed = as_json(capsys, live_server, "portfolio", "list")["portfolios"]["portfolio"]
    assert portfolio_id in [p["portfolioId"] for p in listed]
    removed = as_json(capsys, live_server, "portfolio", "remove", str(portfolio_id))
    assert removed["portfolio"]["portfolioId"] == portfolio_id
    status, _, err = cli(capsys, live_server, ANALYST, "portfolio", "show", str(portfolio_id))
    assert status == 2
    assert "PortfolioNotFoundFault" in err and f"portfolioId: {portfolio_id}" in err


def test_treat_overrides_a_segment_s_treatment_and_run_shows_it(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    run = as_json(capsys, live_server, "segment", "--method", "ValueBased", "--tier-count", "3")[
        "run"
    ]
    first = run["segments"]["segment"][0]
    assert first["treatment"]["overridden"] is False
    status, out, err = cli(
        capsys,
        live_server,
        ANALYST,
        "treat",
        str(run["runId"]),
        first["code"],
        "--strategy",
        "Develop",
        "--message",
        "premium bundle",
    )
    assert (status, err) == (0, "")
    assert "(overridden)" in out and "set by analyst" in out

    status, out, err = cli(capsys, live_server, ANALYST, "run", str(run["runId"]))
    assert (status, err) == (0, "")
    channel = first["treatment"].get("channel")
    via = f" via {channel}" if channel else ""
    assert f"Develop{via}: premium bundle (overridden)" in out
    others = run["segments"]["segment"][1:]
    for segment in others:
        assert segment["treatment"]["strategy"] in out
