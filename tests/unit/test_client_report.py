"""`segmentation-client report`: the HTML page built from a fake service (no browser here).

tests/contract/test_client_report.py renders real reports in headless Chromium.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from PIL import Image
from rich.console import Console
from segmentation_client import progress, report_charts, report_portfolio_charts
from segmentation_client.report import CONTENT_SECURITY_POLICY, render_report
from segmentation_client.responses import get_segmentation_run_response
from zeep.exceptions import Fault

from tests.unit.test_client_cli import (
    FakeService,
    a_history,
    a_portfolio,
    a_treatment,
    an_evaluation,
    new,
    run_cli,
)

TNS = "urn:customer-segmentation:v1"
UTC = timezone.utc
HOSTILE = '<script>alert("x")</script> & <b>bold</b> $x^2$'
NEEDS = {"price": ("6.20", "+1.37"), "quality": ("2.62", "-0.65"), "service": ("4.00", "+0.10")}
BEHAVIOURS = {
    "channel.Online": ("0.82", "+1.20"),
    "category.Hardware": ("0.35", "-0.40"),
    "purchasesPerYear": ("14.20", "+0.85"),
    "averageBasket": ("1234.56", "+2.10"),
}


def segment(
    client: Any,
    code: str,
    name: str,
    size: int,
    profit: float,
    entries: list[tuple[str, str]],
    **extra: Any,
) -> Any:
    return new(
        client,
        "Segment",
        code=code,
        name=name,
        description=f"{name} customers",
        size=size,
        share=size / 100,
        totalValue=size * 10.0,
        averageValue=10.0,
        profile={"entry": [{"attribute": a, "value": v} for a, v in entries]},
        revenue=1000.0 + profit,
        cost=1000.0,
        profit=profit,
        profitable=profit >= 0,
        **extra,
    )


def a_run(client: Any, run_id: int, method: str, segments: list[Any], **extra: Any) -> Any:
    losses = [s.code for s in segments if s.profit < 0]
    values: dict[str, Any] = {
        "runId": run_id,
        "method": method,
        "status": "Completed",
        "startedAt": datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        "finishedAt": datetime(2024, 5, 1, 10, 1, tzinfo=UTC),
        "customerCount": 100,
        "assignedCount": 90,
        "unassignedCount": 10,
        "metrics": {"metric": [{"name": "value.total", "value": 1234.5}]},
        "segments": {"segment": segments},
        "startedBy": "ana",
        "lossMakingSegments": {"segmentCode": losses} if losses else None,
    }
    return new(client, "SegmentationRun", **{**values, **extra})


def value_run(client: Any, run_id: int = 2, **extra: Any) -> Any:
    tiers = [
        ("V1", "Platinum", 20, 500.0, 1085.44, 161548.9),
        ("V2", "Gold", 30, -120.5, 267.93, 1085.34),
        ("V3", "Silver", 40, 33.0, -46.14, 267.9),
    ]
    return a_run(
        client,
        run_id,
        "ValueBased",
        [
            segment(
                client,
                code,
                name,
                size,
                profit,
                [("valueMetric", "Margin"), ("minimum", f"{low:.2f}"), ("maximum", f"{high:.2f}")],
                owner="Key accounts" if code == "V1" else None,
            )
            for code, name, size, profit, low, high in tiers
        ],
        **{"label": HOSTILE, **extra},
    )


def needs_run(client: Any, run_id: int = 1) -> Any:
    def entries(shift: float) -> list[tuple[str, str]]:
        found = []
        for need, (mean, z) in NEEDS.items():
            found += [(need, mean), (f"{need}.zScore", f"{float(z) + shift:+.2f}")]
        return found

    return a_run(
        client,
        run_id,
        "NeedsBased",
        [
            segment(client, "N1", "Price & Speed", 50, 10.0, entries(0)),
            segment(client, "N2", HOSTILE, 40, 5.0, entries(-1)),
        ],
    )


def behavioural_run(client: Any, run_id: int = 5) -> Any:
    """Two segments, each behaviour's mean and z-score; B2 one standard deviation lower."""

    def entries(shift: float) -> list[tuple[str, str]]:
        found = []
        for behaviour, (mean, z) in BEHAVIOURS.items():
            found += [(behaviour, mean), (f"{behaviour}.zScore", f"{float(z) + shift:+.2f}")]
        return found

    metrics = [
        ("behaviour.k", 2.0),
        ("behaviour.silhouette", 0.41),
        ("behaviour.withoutPurchases", 10.0),
    ]
    return a_run(
        client,
        run_id,
        "Behavioural",
        [
            segment(client, "B1", "Online-first, frequent", 50, 10.0, entries(0)),
            segment(client, "B2", "Store-first, large baskets", 40, 5.0, entries(-1)),
        ],
        metrics={"metric": [{"name": name, "value": value} for name, value in metrics]},
    )


def comparison(client: Any, moves: list[tuple[str, str, int]] | None = None) -> Any:
    moves = moves or [("N1", "V1", 12), ("N1", "V2", 30), ("N2", "V3", 25), ("N2", "V1", 3)]
    return client.get_element(f"{{{TNS}}}CompareSegmentationRunsResponse")(
        fromRunId=1,
        toRunId=2,
        transitions={
            "transition": [
                {
                    "fromSegmentCode": f,
                    "toSegmentCode": t,
                    "customerCount": n,
                    "valueBefore": 1.0,
                    "valueAfter": 2.0,
                }
                for f, t, n in moves
            ]
        },
        stayedShare=0.0,
        adjustedRandIndex=0.1234,
        enteredCount=4,
        leftCount=6,
    )


def report(
    client: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    service: FakeService,
) -> tuple[Any, dict[str, Any], str]:
    out = tmp_path / "report.html"
    assert run_cli(["--json", "report", *argv, "--out", str(out)], service) == 0
    text = out.read_text(encoding="utf-8")
    return lxml.html.document_fromstring(text), json.loads(capsys.readouterr().out), text


@pytest.fixture(scope="module")
def compared(
    client: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, dict[str, Any], str, FakeService]:
    """Value-based run 2 compared with needs-based run 1, drawn once for the module."""
    service = FakeService(
        GetSegmentationRun=[value_run(client), needs_run(client)],
        CompareSegmentationRuns=[comparison(client)],
    )
    out = tmp_path_factory.mktemp("report") / "report.html"
    printed = io.StringIO()
    argv = ["--json", "report", "--run", "2", "--compare", "1", "--out", str(out)]
    with contextlib.redirect_stdout(printed):
        assert run_cli(argv, service) == 0
    text = out.read_text(encoding="utf-8")
    return lxml.html.document_fromstring(text), json.loads(printed.getvalue()), text, service


def test_report_compares_from_the_older_run_to_the_newer(compared: Any) -> None:
    _, printed, _, service = compared
    assert [call for call in service.calls] == [
        ("GetSegmentationRun", {"runId": 2}),
        ("GetSegmentationRun", {"runId": 1}),
        ("CompareSegmentationRuns", {"fromRunId": 1, "toRunId": 2}),
    ]
    assert printed["runId"] == 2 and printed["compareRunId"] == 1


def test_report_has_each_chart_once_as_a_png_data_uri(compared: Any) -> None:
    page, printed, _, _ = compared
    expected = ["sizes", "value", "profit", "tiers", "migration", "other-needs"]
    assert printed["charts"] == expected
    images = page.xpath("//img")
    assert [img.get("data-chart") for img in images] == expected
    for img in images:
        prefix, _, data = img.get("src").partition(",")
        assert prefix == "data:image/png;base64"
        picture = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
        picture.verify()
        assert picture.format == "PNG" and picture.size[0] > 300 and picture.size[1] > 100
        assert img.get("alt")


def test_report_loads_nothing_from_outside_and_runs_no_script(compared: Any) -> None:
    page, _, text, _ = compared
    (policy,) = page.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert policy == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert not page.xpath("//script | //link | //iframe | //object | //embed | //base")
    for element in page.iter():
        for name in ("src", "href", "srcset", "poster", "data", "action", "background"):
            value = element.get(name)
            assert value is None or value.startswith("data:image/png;base64,"), (element.tag, name)
    styles = " ".join(page.xpath("//style/text()"))
    assert "url(" not in styles and "@import" not in styles
    assert not re.search(r"\son\w+=", text)  # no inline event handlers


def test_report_escapes_every_text_from_the_service(compared: Any) -> None:
    page, _, text, _ = compared
    assert "<script>" not in text and "<b>bold</b>" not in text
    assert HOSTILE in page.xpath("string(//h1)")
    assert HOSTILE in page.text_content()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in text


def test_report_tables_hold_the_numbers_behind_the_charts(compared: Any) -> None:
    page, _, _, _ = compared

    def rows_of(table: Any) -> list[list[str]]:
        return [
            [cell.text_content().strip() for cell in row.xpath("th|td")]
            for row in table.xpath(".//tr")
        ]

    def table_after(heading: str) -> list[list[str]]:
        path = f'//*[self::h2 or self::h3][starts-with(normalize-space(.), "{heading}")]'
        (found,) = page.xpath(path)
        return rows_of(found.xpath("following::table[1]")[0])

    (segments_table,) = page.xpath('//section[@id="segments"]//table')
    segments = rows_of(segments_table)
    assert segments[0][:4] == ["code", "name", "size", "share"]
    assert segments[1][:4] == ["V1", "Platinum", "20", "20.0%"]
    assert segments[1][9] == "Key accounts"
    assert segments[2][8] == "-120.50"
    (loss_cell,) = page.xpath('//td[@class="num loss"]')
    assert loss_cell.text_content() == "-120.50"
    assert "Loss-making segments: V2" in page.text_content()

    (facts,) = page.xpath('//section[@id="comparison"]//table[@class="facts"]')
    assert rows_of(facts) == [
        ["customers in both runs", "70"],
        ["stayed in the same segment code", "0.0%"],
        ["adjusted Rand index", "0.1234"],
        ["entered (only in the later run)", "4"],
        ["left (only in the earlier run)", "6"],
    ]
    (matrix,) = page.xpath('//table[.//th[normalize-space(.)="from \\ to"]]')
    assert rows_of(matrix) == [
        ["from \\ to", "V1", "V2", "V3", "total"],
        ["N1", "12", "30", "0", "42"],
        ["N2", "3", "0", "25", "28"],
        ["total", "15", "30", "25", "70"],
    ]
    tiers = table_after("Value tiers of run 2")
    assert tiers[1] == ["V1", "Platinum", "1,085.44", "161,548.90", "20", "10.00"]
    needs = table_after("Needs profile of run 1")
    assert needs[0] == ["need", "N1", "N2"]
    assert needs[1] == ["price", "6.20 (+1.37)", "6.20 (+0.37)"]


def test_needs_based_report_has_the_needs_heatmap_and_no_tiers(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page, printed, _ = report(
        client,
        tmp_path,
        capsys,
        "--run",
        "1",
        service=FakeService(GetSegmentationRun=[needs_run(client)]),
    )
    assert printed["charts"] == ["sizes", "value", "profit", "needs"]
    assert printed["compareRunId"] is None
    assert not page.xpath('//*[@id="comparison"]')


def test_behavioural_report_has_the_behavioural_heatmap_and_its_table(
    client: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[tuple[Any, ...]] = []
    draw = report_charts.behaviour_heatmap

    def spy(*args: Any) -> bytes:
        drawn.append(args)
        return draw(*args)

    monkeypatch.setattr(report_charts, "behaviour_heatmap", spy)
    page, printed, _ = report(
        client,
        tmp_path,
        capsys,
        "--run",
        "5",
        service=FakeService(GetSegmentationRun=[behavioural_run(client)]),
    )
    assert printed["charts"] == ["sizes", "value", "profit", "behaviour"]
    assert not page.xpath('//*[@id="needs" or @id="tiers" or @id="comparison"]')
    (section,) = page.xpath('//section[@id="behaviour"]')
    heading = section.xpath("string(h2)")
    assert heading == "Behavioural profile of run 5 (Behavioural)"
    (img,) = section.xpath(".//img")
    assert img.get("data-chart") == "behaviour" and img.get("alt")
    picture = Image.open(io.BytesIO(base64.b64decode(img.get("src").partition(",")[2])))
    picture.verify()
    assert picture.format == "PNG" and picture.size[0] > 300 and picture.size[1] > 100

    # The heat map: a row per segment, a column per behaviour, coloured by z-score and
    # labelled with the means.
    [(segment_labels, features, z_scores, means)] = drawn
    assert segment_labels == ["B1 Online-first, frequent", "B2 Store-first, large baskets"]
    assert features == list(BEHAVIOURS)
    assert z_scores == [[1.2, -0.4, 0.85, 2.1], [0.2, -1.4, -0.15, 1.1]]
    assert means == [[mean for mean, _ in BEHAVIOURS.values()]] * 2

    rows = [
        [cell.text_content().strip() for cell in row.xpath("th|td")]
        for row in section.xpath(".//table//tr")
    ]
    assert rows[0] == ["behaviour", "B1", "B2"]
    assert rows[1] == ["channel.Online", "0.82 (+1.20)", "0.82 (+0.20)"]
    assert rows[4] == ["averageBasket", "1234.56 (+2.10)", "1234.56 (+1.10)"]
    assert "10 customers without a purchase in the window" in section.text_content()
    metrics = page.xpath('string(//section[@id="metrics"])')
    assert "behaviour.silhouette" in metrics and "behaviour.withoutPurchases" in metrics


def test_a_report_compared_with_a_behavioural_run_has_its_heatmap_too(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moves = [("B1", "V1", 20), ("B2", "V3", 30)]
    service = FakeService(
        GetSegmentationRun=[value_run(client), behavioural_run(client, run_id=1)],
        CompareSegmentationRuns=[comparison(client, moves)],
    )
    page, printed, _ = report(
        client, tmp_path, capsys, "--run", "2", "--compare", "1", service=service
    )
    expected = ["sizes", "value", "profit", "tiers", "migration", "other-behaviour"]
    assert printed["charts"] == expected
    assert [img.get("data-chart") for img in page.xpath("//img")] == expected
    assert page.xpath('string(//section[@id="other-behaviour"]/h2)') == (
        "Behavioural profile of run 1 (Behavioural)"
    )


def test_a_priori_report_has_the_three_segment_charts(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = a_run(
        client,
        3,
        "APriori",
        [segment(client, "B2B", "Business", 60, 5.0, [("customerType", "B2B")])],
    )
    _, printed, _ = report(
        client, tmp_path, capsys, "--run", "3", service=FakeService(GetSegmentationRun=[run])
    )
    assert printed["charts"] == ["sizes", "value", "profit"]


def test_failed_run_report_shows_the_reason_and_no_charts(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = a_run(client, 4, "ValueBased", [], status="Failed", failureReason="BG/NBD <failed>")
    page, printed, text = report(
        client, tmp_path, capsys, "--run", "4", service=FakeService(GetSegmentationRun=[failed])
    )
    assert printed["charts"] == []
    assert "The run failed: BG/NBD <failed>" in page.text_content()
    assert "This run has no segments (status Failed)." in page.text_content()
    assert "BG/NBD &lt;failed&gt;" in text


def test_a_fault_while_fetching_leaves_no_file(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    fault = Fault("Run 9 not found", code="soap:Client.RunNotFound")
    service = FakeService(GetSegmentationRun=[value_run(client), fault])
    assert run_cli(["report", "--run", "2", "--compare", "9", "--out", str(out)], service) == 2
    assert list(tmp_path.iterdir()) == []


def test_render_report_is_deterministic_for_a_given_time(client: Any) -> None:
    run = get_segmentation_run_response(value_run(client))["run"]
    when = datetime(2024, 5, 2, tzinfo=UTC)
    first, charts = render_report(run, generated_at=when)
    second, _ = render_report(run, generated_at=when)
    assert first == second
    assert charts == ["sizes", "value", "profit", "tiers"]
    assert "Generated 2024-05-02T00:00:00+00:00" in first


def test_an_unwritable_destination_fails_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing" / "report.html"
    service = FakeService(GetSegmentationRun=[])
    assert run_cli(["report", "--run", "2", "--out", str(out)], service) == 1
    assert capsys.readouterr().err == f"error: {out}: cannot write: No such file or directory\n"
    assert service.calls == []


@pytest.mark.parametrize(
    ("make_run", "step", "steps"),
    [
        (needs_run, "drawing the needs profile", 5),  # one fetch, four charts
        (behavioural_run, "drawing the behavioural profile", 5),
        (lambda client, run_id: holdout_run(client, run_id), "drawing the hold-out check", 6),
    ],
    ids=["needs-based", "behavioural", "hold-out check"],
)
def test_report_shows_its_steps_on_a_terminal(
    client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_run: Callable[[Any, int], Any],
    step: str,
    steps: int,
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(progress, "is_interactive", lambda: True)
    monkeypatch.setattr(
        progress,
        "progress_console",
        lambda: Console(file=screen, force_terminal=True, width=120, color_system=None),
    )
    service = FakeService(GetSegmentationRun=[make_run(client, 1)])
    assert run_cli(["report", "--run", "1", "--out", str(tmp_path / "r.html")], service) == 0
    shown = screen.getvalue()
    assert step in shown
    assert f"{steps}/{steps} steps" in shown
    assert "steps/s" not in shown


# ------------------------------------------------------------ portfolios (1.4)


def test_run_report_shows_each_segment_s_treatment(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = value_run(client)
    run.segments.segment[0].treatment = a_treatment("Develop", overridden=True, message="bundle")
    page, _, _ = report(
        client, tmp_path, capsys, "--run", "2", service=FakeService(GetSegmentationRun=[run])
    )
    (table,) = page.xpath('//section[@id="segments"]//table')
    header = [th.text_content() for th in table.xpath(".//thead//th")]
    first = [td.text_content() for td in table.xpath(".//tbody/tr[1]/td")]
    assert first[header.index("treatment")] == "Develop via Email: bundle (overridden)"
    second = [td.text_content() for td in table.xpath(".//tbody/tr[2]/td")]
    assert second[header.index("treatment")] == "-"


class ChartSpy:
    """Records the arguments of one chart function and still draws it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.drawn: list[tuple[Any, ...]] = []
        draw = getattr(module, name)

        def spy(*args: Any) -> bytes:
            self.drawn.append(args)
            png: bytes = draw(*args)
            return png

        monkeypatch.setattr(module, name, spy)


def portfolio_service(client: Any, *history: dict[str, Any], hostile: bool = False) -> FakeService:
    """GetPortfolio answers with the last of `history` (the evaluation made now)."""
    portfolio = a_portfolio(client, history[-1])
    if hostile:
        portfolio.name = HOSTILE
    return FakeService(GetPortfolio=[portfolio], GetPortfolioHistory=[a_history(client, *history)])


def grid_cell(page: Any, row: str, column: str) -> list[str]:
    (cell,) = page.xpath(f'//section[@id="grid"]//td[@data-row="{row}"][@data-column="{column}"]')
    return [line.text_content() for line in cell.xpath("div")]


def test_portfolio_report_has_the_grid_heat_map_and_each_cell_s_equity_over_time(
    client: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heatmap = ChartSpy(monkeypatch, report_portfolio_charts, "portfolio_heatmap")
    lines = ChartSpy(monkeypatch, report_portfolio_charts, "equity_history_chart")
    later = an_evaluation(10, shift=100.0, V1N1=100.0, V1N2=100.0, V2N1=100.0, V2N2=100.0)
    service = portfolio_service(client, an_evaluation(9), later, hostile=True)
    page, printed, text = report(client, tmp_path, capsys, "--portfolio", "4", service=service)

    # Evaluated now, then the whole history.
    assert service.calls == [
        ("GetPortfolio", {"portfolioId": 4}),
        ("GetPortfolioHistory", {"portfolioId": 4}),
    ]
    assert (printed["portfolioId"], printed["colourBy"]) == (4, "equity")
    assert printed["charts"] == ["grid", "equity-history"]
    images = page.xpath("//img")
    assert [img.get("data-chart") for img in images] == ["grid", "equity-history"]
    for img in images:
        picture = Image.open(io.BytesIO(base64.b64decode(img.get("src").partition(",")[2])))
        picture.verify()
        assert picture.format == "PNG" and picture.size[0] > 300 and picture.size[1] > 200
        assert img.get("alt")

    # The heat map: rows x columns coloured by customer equity, with strategy and owner.
    [(rows, columns, values, texts, figure, axes)] = heatmap.drawn
    assert rows == ["V1 Platinum", "V2 Gold"]
    assert columns == ["N1 Speed & Price", "N2 Brand & Quality"]
    assert values == [[5100.0, 1300.5], [-150.75, 900.0]]
    assert texts[0] == ["5,100\nRetain\nBea", "1,300\nDevelop*\n-"]
    assert texts[1][0] == "-151\nReduceCostToServe\n-"
    assert figure == "customer equity"
    assert axes == ("ValueBased run 1", "NeedsBased run 2")

    # The same grid as a table, with totals and the customers outside it.
    assert grid_cell(page, "V1", "N1") == [
        "12 customers",
        "equity 5,100.00",
        "profit 72.00",
        "Retain",
        "owner: Bea",
    ]
    assert grid_cell(page, "V1", "N2")[3:] == ["Develop (overridden)", "owner: -"]
    (loss,) = page.xpath('//td[@data-row="V2"][@data-column="N1"]/div[@class="figure loss"]')
    assert loss.text_content() == "equity -150.75"
    (grid_table,) = page.xpath('//section[@id="grid"]//table')
    total = [c.text_content() for c in grid_table.xpath(".//tbody/tr[last()]/*")]
    assert total[0] == "total"
    assert total[-1].startswith("40 customersequity 7,149.75")
    assert "Outside the grid (not in both runs' segments): 7 customers" in page.text_content()
    cells = page.xpath('//section[@id="cells"]//tbody/tr')
    assert [c.text_content() for c in cells[1].xpath("td")][-2:] == [
        "Develop via Email: premium bundle (overridden)",
        "Develop: the figures behind it",
    ]

    # Each cell's equity over the evaluations, as a line chart and a table.
    [(evaluations, names, equity)] = lines.drawn
    assert evaluations == ["#9 2024-05-01 10:09", "#10 2024-05-01 10:10"]
    assert names == [
        "Platinum × Speed & Price",
        "Platinum × Brand & Quality",
        "Gold × Speed & Price",
        "Gold × Brand & Quality",
    ]
    assert equity == [[5000.0, 5100.0], [1200.5, 1300.5], [-250.75, -150.75], [800.0, 900.0]]
    (history,) = page.xpath('//section[@id="history"]//table[.//th[.="cell"]]')
    assert [[c.text_content() for c in row.xpath("td")] for row in history.xpath(".//tbody/tr")][
        0
    ] == ["Platinum × Speed & Price", "5,000.00", "5,100.00"]

    # Every text from the service escaped; nothing loaded from outside.
    assert "<script>" not in text and HOSTILE in page.xpath("string(//h1)")
    (policy,) = page.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert policy == CONTENT_SECURITY_POLICY
    assert not page.xpath("//script | //link | //iframe | //object | //embed | //base")


def test_portfolio_report_coloured_by_profit(
    client: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heatmap = ChartSpy(monkeypatch, report_portfolio_charts, "portfolio_heatmap")
    service = portfolio_service(client, an_evaluation(9))
    page, printed, _ = report(
        client, tmp_path, capsys, "--portfolio", "4", "--colour-by", "profit", service=service
    )
    assert printed["colourBy"] == "profit"
    [(_, _, values, texts, figure, _)] = heatmap.drawn
    assert values == [[72.0, 18.0], [120.0, 30.0]]  # 6.0 a customer
    assert texts[0][0] == "72\nRetain\nBea"
    assert figure == "profit"
    assert "profit" in page.xpath('string(//section[@id="grid"]//figcaption)')


def test_a_cell_renamed_between_evaluations_is_a_new_line(
    client: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = ChartSpy(monkeypatch, report_portfolio_charts, "equity_history_chart")
    older = an_evaluation(9)
    older["cells"]["cell"][3]["columnSegmentName"] = "Value seekers"
    service = portfolio_service(client, older, an_evaluation(10, shift=1.0))
    report(client, tmp_path, capsys, "--portfolio", "4", service=service)
    [(_, names, equity)] = lines.drawn
    assert names[3:] == ["Gold × Brand & Quality", "Gold × Value seekers"]
    assert equity[3:] == [[None, 801.0], [800.0, None]]


def test_portfolio_report_of_an_unknown_portfolio_is_the_fault_and_leaves_no_file(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    fault = Fault("Portfolio 9 not found", code="soap:Client.PortfolioNotFound")
    service = FakeService(GetPortfolio=[fault])
    assert run_cli(["report", "--portfolio", "9", "--out", str(out)], service) == 2
    assert "Portfolio 9 not found" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_portfolio_report_shows_its_steps_on_a_terminal(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(progress, "is_interactive", lambda: True)
    monkeypatch.setattr(
        progress,
        "progress_console",
        lambda: Console(file=screen, force_terminal=True, width=120, color_system=None),
    )
    service = portfolio_service(client, an_evaluation(9))
    assert run_cli(["report", "--portfolio", "4", "--out", str(tmp_path / "p.html")], service) == 0
    shown = screen.getvalue()
    assert "drawing customer equity over time" in shown
    assert "4/4 steps" in shown  # two fetches, two charts


# ------------------------------------------------------------ the hold-out check

# A value-based run looking at the past: 200 calibration buyers, rows 2, 4, 5 and 6 empty.
BY_FREQUENCY = {0: (80, 1.5, 1.25), 1: (40, 4.0, 4.5), 3: (30, 9.0, 9.0), 7: (50, 14.0, 13.0)}
HOLDOUT = {
    "holdout.weeks": 39.0,
    "holdout.customers": 200.0,
    "holdout.predictedPurchases": 1250.0,
    "holdout.actualPurchases": 1200.0,
    "holdout.meanAbsoluteError": 2.5,
    "holdout.error": 50.0 / 1200.0,
    **{
        f"holdout.byFrequency.{k}.{part}": value
        for k, row in BY_FREQUENCY.items()
        for part, value in zip(("customers", "predicted", "actual"), row, strict=True)
    },
}


def holdout_run(client: Any, run_id: int = 2, holdout: dict[str, float] | None = None) -> Any:
    metrics = {"value.total": 1234.5, "bgnbd.r": 0.97, **(HOLDOUT if holdout is None else holdout)}
    return value_run(
        client,
        run_id,
        label="back-test",
        metrics={"metric": [{"name": name, "value": value} for name, value in metrics.items()]},
    )


def table_rows(section: Any) -> list[list[str]]:
    return [
        [cell.text_content().strip() for cell in row.xpath("th|td")]
        for row in section.xpath(".//table//tr")
    ]


def test_a_run_looking_at_the_past_has_its_hold_out_check(
    client: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chart = ChartSpy(monkeypatch, report_charts, "calibration_chart")
    page, printed, _ = report(
        client,
        tmp_path,
        capsys,
        "--run",
        "2",
        service=FakeService(GetSegmentationRun=[holdout_run(client)]),
    )
    assert printed["charts"] == ["sizes", "value", "profit", "tiers", "holdout"]
    (section,) = page.xpath('//section[@id="holdout"]')
    assert section.xpath("string(h2)") == "Hold-out check of run 2 (ValueBased) “back-test”"
    assert section.xpath("string(p[1])") == (
        "Predicted 1,250 purchases over the 39 weeks after the as-of date for 200 customers; "
        "1,200 happened (error +4.2%)."
    )
    assert "Mean absolute error: 2.50 purchases a customer." in section.text_content()

    # The calibration plot: a point per frequency with customers, the last one "7+".
    (img,) = section.xpath(".//img")
    assert img.get("data-chart") == "holdout" and img.get("alt")
    picture = Image.open(io.BytesIO(base64.b64decode(img.get("src").partition(",")[2])))
    picture.verify()
    assert picture.format == "PNG" and picture.size[0] > 300 and picture.size[1] > 200
    [(labels, predicted, actual)] = chart.drawn
    assert labels == ["0", "1", "3", "7+"]
    assert predicted == [1.5, 4.0, 9.0, 14.0]
    assert actual == [1.25, 4.5, 9.0, 13.0]

    # The numbers behind it, and the whole calibration as the last row.
    assert table_rows(section) == [
        ["repeat purchases in calibration", "customers", "mean predicted", "mean actual"],
        ["0", "80", "1.50", "1.25"],
        ["1", "40", "4.00", "4.50"],
        ["3", "30", "9.00", "9.00"],
        ["7+", "50", "14.00", "13.00"],
        ["all", "200", "6.25", "6.00"],
    ]
    # The section comes after the tiers, and the metrics still list every figure.
    sections = [s.get("id") for s in page.xpath("//section")]
    assert sections.index("holdout") == sections.index("tiers") + 1
    assert "holdout.byFrequency.7.actual" in page.xpath('string(//section[@id="metrics"])')


def test_a_run_without_the_hold_out_metrics_has_no_hold_out_check(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    chart = ChartSpy(monkeypatch, report_charts, "calibration_chart")
    page, printed, _ = report(
        client,
        tmp_path,
        capsys,
        "--run",
        "2",
        service=FakeService(GetSegmentationRun=[value_run(client)]),
    )
    assert printed["charts"] == ["sizes", "value", "profit", "tiers"]
    assert not page.xpath('//*[@id="holdout"]')
    assert "Hold-out check" not in page.text_content()
    assert chart.drawn == []
    # Half a check (a metric lost on the way) is no check either.
    partial = {k: v for k, v in HOLDOUT.items() if k != "holdout.actualPurchases"}
    html, charts = render_report(
        get_segmentation_run_response(holdout_run(client, 2, partial))["run"]
    )
    assert charts == ["sizes", "value", "profit", "tiers"] and "Hold-out check" not in html


def test_a_hold_out_with_no_purchases_has_no_error_and_fractional_weeks_show_days(
    client: Any,
) -> None:
    quiet = {
        **{k: v for k, v in HOLDOUT.items() if k != "holdout.error"},
        "holdout.weeks": 365 / 7,
        "holdout.actualPurchases": 0.0,
    }
    run = get_segmentation_run_response(holdout_run(client, 2, quiet))["run"]
    html = lxml.html.document_fromstring(render_report(run)[0])
    assert html.xpath('string(//section[@id="holdout"]/p[1])') == (
        "Predicted 1,250 purchases over the 52.1 weeks (365 days) after the as-of date for "
        "200 customers; none happened."
    )


def test_the_compared_run_s_hold_out_check_is_drawn_too(
    client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(
        GetSegmentationRun=[needs_run(client), holdout_run(client)],
        CompareSegmentationRuns=[comparison(client)],
    )
    page, printed, _ = report(
        client, tmp_path, capsys, "--run", "1", "--compare", "2", service=service
    )
    expected = ["sizes", "value", "profit", "needs", "migration", "other-tiers", "other-holdout"]
    assert printed["charts"] == expected
    assert [img.get("data-chart") for img in page.xpath("//img")] == expected
    (section,) = page.xpath('//section[@id="other-holdout"]')
    assert section.xpath("string(h2)").startswith("Hold-out check of run 2 (ValueBased)")
    assert table_rows(section)[-1] == ["all", "200", "6.25", "6.00"]
