"""`segmentation-client report` against the live server, rendered in headless Chromium.

The report is a static page: its Content-Security-Policy allows no script. To
learn whether every chart really decoded, a copy of the page gets one small
inline script, allowed by its SHA-256 hash (the rest of the policy stays as
it is, so an image from anywhere but a data: URI would still be blocked and
show up as broken). The script runs after `load` and writes each image's
natural size into the DOM, which `chromium --dump-dom` prints.

The tests fail, never skip, when Chromium is missing (Debian: apt-get install
chromium; `make test` installs it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from PIL import Image
from segmentation_client.cli import main
from segmentation_client.report import CONTENT_SECURITY_POLICY
from zeep.helpers import serialize_object

from tests import factories
from tests.contract.conftest import ANALYST, VIEWER, LiveServer, User

CHECK_SCRIPT = """
window.addEventListener("load", () => {
  const images = Array.from(document.images, (image) => ({
    chart: image.dataset.chart || null,
    complete: image.complete,
    width: image.naturalWidth,
    height: image.naturalHeight,
  }));
  const root = document.documentElement;
  root.setAttribute("data-image-check", JSON.stringify(images));
  root.setAttribute("data-page-height", String(root.scrollHeight));
});
"""
CHECK_ATTRIBUTE = "data-image-check"
COMPARED_CHARTS = ["sizes", "value", "profit", "tiers", "migration", "other-needs"]


# ------------------------------------------------------------------ the browser


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "chromium is missing: the report tests render the page in headless Chromium "
            "(Debian: apt-get install chromium; `make test` installs it)"
        )
    return found


def browse(url: str, profile: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        "--headless",
        "--disable-gpu",
        "--no-sandbox",  # tests may run as root, e.g. in CI containers
        "--no-first-run",
        "--disable-extensions",
        "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        *options,
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result


def with_check_script(page: str) -> str:
    """The page plus CHECK_SCRIPT, which its policy allows by hash and nothing else."""
    digest = base64.b64encode(hashlib.sha256(CHECK_SCRIPT.encode()).digest()).decode()
    policy = f'content="{CONTENT_SECURITY_POLICY}"'
    assert page.count(policy) == 1, "the report's Content-Security-Policy has changed"
    allowed = f"content=\"{CONTENT_SECURITY_POLICY}; script-src 'sha256-{digest}'\""
    checked = page.replace(policy, allowed).replace(
        "</head>", f"<script>{CHECK_SCRIPT}</script></head>", 1
    )
    assert checked.count(CHECK_SCRIPT) == 1
    return checked


def images_in_browser(page: Path, work: Path, *, allow_check: bool = True) -> dict[str, Any]:
    """Load `page` (a copy with the check script) in Chromium: what the script found."""
    work.mkdir(parents=True, exist_ok=True)
    text = page.read_text(encoding="utf-8")
    copy = work / "checked.html"
    copy.write_text(
        with_check_script(text)
        if allow_check
        else text.replace("</head>", f"<script>{CHECK_SCRIPT}</script></head>", 1),
        encoding="utf-8",
    )
    dom = browse(copy.as_uri(), work / "profile", "--dump-dom").stdout
    root = lxml.html.document_fromstring(dom)
    found = root.get(CHECK_ATTRIBUTE)
    assert found is not None, "the image check did not run in the browser: no result in the DOM"
    return {"images": json.loads(found), "height": int(root.get("data-page-height", "0"))}


def assert_charts_render(page: Path, work: Path, expected: list[str]) -> None:
    """Every image in `page` decoded in Chromium, and the charts are exactly `expected`."""
    images = images_in_browser(page, work)["images"]
    broken = [
        image
        for image in images
        if not (image["complete"] and image["width"] > 0 and image["height"] > 0)
    ]
    assert not broken, f"broken images: {broken}"
    assert [image["chart"] for image in images] == expected, "missing, extra or misplaced charts"


def screenshot(page: Path, work: Path, out: Path, width: int = 1200) -> None:
    height = images_in_browser(page, work / "measure")["height"]
    browse(
        page.as_uri(),
        work / "profile",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--screenshot={out}",
    )


# ------------------------------------------------------------------ the runs


def client(server: LiveServer, user: User, *argv: str) -> tuple[int, str, str]:
    """segmentation-client in a subprocess, as `user`: (status, stdout, stderr)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "segmentation_client",
            "--wsdl",
            server.wsdl_url,
            "--username",
            user.username,
            "--password",
            user.password,
            *argv,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout, result.stderr


def in_process(
    capsys: pytest.CaptureFixture[str], server: LiveServer, user: User, *argv: str
) -> tuple[int, str, str]:
    credentials = ["--username", user.username, "--password", user.password]
    status = main(["--wsdl", server.wsdl_url, *credentials, *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def runs(live_server: LiveServer) -> dict[str, int]:
    found = {}
    for name, argv in (
        ("value", ["segment", "--method", "ValueBased", "--label", "report <value> & tiers"]),
        ("needs", ["segment", "--method", "NeedsBased", "--segment-count", "4"]),
    ):
        status, out, err = client(live_server, ANALYST, "--json", *argv)
        assert (status, err) == (0, ""), err
        found[name] = json.loads(out)["run"]["runId"]
    return found


@pytest.fixture(scope="module")
def compared_report(
    live_server: LiveServer, runs: dict[str, int], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """Value-based run compared with the needs-based one, made by a viewer (reading is enough)."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    status, printed, err = client(
        live_server,
        VIEWER,
        "--json",
        "report",
        "--run",
        str(runs["value"]),
        "--compare",
        str(runs["needs"]),
        "--out",
        str(out),
    )
    assert (status, err) == (0, ""), err
    return out, json.loads(printed)


# ------------------------------------------------------------------ the tests


def test_compared_report_renders_every_chart_in_chromium(
    compared_report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    page, printed = compared_report
    assert printed["charts"] == COMPARED_CHARTS
    assert_charts_render(page, tmp_path, COMPARED_CHARTS)


def test_compared_report_matches_what_the_service_says(
    compared_report: tuple[Path, dict[str, Any]], runs: dict[str, int], soap: Any
) -> None:
    page, _ = compared_report
    html = lxml.html.document_fromstring(page.read_text(encoding="utf-8"))
    run = serialize_object(soap.GetSegmentationRun(runId=runs["value"]), dict)
    older, newer = sorted(runs.values())  # the report compares the older run to the newer
    comparison = serialize_object(
        soap.CompareSegmentationRuns(fromRunId=older, toRunId=newer), dict
    )

    assert "report <value> & tiers" in html.xpath("string(//h1)")
    (segments,) = html.xpath('//section[@id="segments"]//table')
    codes = [row.xpath("string(td[1])") for row in segments.xpath(".//tbody/tr")]
    assert codes == [segment["code"] for segment in run["segments"]["segment"]]
    loss_making = (run["lossMakingSegments"] or {}).get("segmentCode") or []
    losses = [
        cell.text_content()
        for cell in html.xpath('//section[@id="segments"]//td[@class="num loss"]')
    ]
    assert len(losses) == len(loss_making)

    (matrix,) = html.xpath('//table[.//th[normalize-space(.)="from \\ to"]]')
    cells = {}
    header = [cell.text_content().strip() for cell in matrix.xpath(".//thead//th")]
    for row in matrix.xpath(".//tbody/tr")[:-1]:
        values = [cell.text_content().strip() for cell in row.xpath("th|td")]
        cells.update(
            {
                (values[0], to): int(n.replace(",", ""))
                for to, n in zip(header[1:-1], values[1:-1], strict=True)
            }
        )
    expected = {
        (t["fromSegmentCode"], t["toSegmentCode"]): t["customerCount"]
        for t in comparison["transitions"]["transition"]
    }
    assert {key: n for key, n in cells.items() if n} == expected
    facts = " ".join(html.xpath('//section[@id="comparison"]//table[@class="facts"]//text()'))
    assert f"{comparison['enteredCount']:,}" in facts and f"{comparison['leftCount']:,}" in facts


def test_needs_based_report_has_the_needs_heatmap(
    live_server: LiveServer,
    runs: dict[str, int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "needs.html"
    status, printed, err = in_process(
        capsys, live_server, ANALYST, "report", "--run", str(runs["needs"]), "--out", str(out)
    )
    assert (status, err) == (0, "")
    assert printed.startswith(f"wrote {out}: run {runs['needs']}, 4 charts, in ")
    assert_charts_render(out, tmp_path / "browser", ["sizes", "value", "profit", "needs"])
    html = lxml.html.document_fromstring(out.read_text(encoding="utf-8"))
    needs_table = html.xpath('//section[@id="needs"]//table')[0]
    assert [th.text_content() for th in needs_table.xpath(".//thead//th")] == [
        "need",
        "N1",
        "N2",
        "N3",
        "N4",
    ]


def test_behavioural_report_has_the_behavioural_heatmap(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The demo data ends on factories.END_DATE: the window ends there whatever today is.
    status, printed, err = in_process(
        capsys,
        live_server,
        ANALYST,
        "--json",
        "segment",
        "--method",
        "Behavioural",
        "--segment-count",
        "3",
        "--as-of-date",
        factories.END_DATE.isoformat(),
    )
    assert (status, err) == (0, ""), err
    run = json.loads(printed)["run"]
    out = tmp_path / "behavioural.html"
    status, printed, err = in_process(
        capsys, live_server, ANALYST, "report", "--run", str(run["runId"]), "--out", str(out)
    )
    assert (status, err) == (0, "")
    assert printed.startswith(f"wrote {out}: run {run['runId']}, 4 charts, in ")
    assert_charts_render(out, tmp_path / "browser", ["sizes", "value", "profit", "behaviour"])
    html = lxml.html.document_fromstring(out.read_text(encoding="utf-8"))
    assert html.xpath('string(//section[@id="behaviour"]/h2)').startswith("Behavioural profile")
    table = html.xpath('//section[@id="behaviour"]//table')[0]
    assert [th.text_content() for th in table.xpath(".//thead//th")] == [
        "behaviour",
        "B1",
        "B2",
        "B3",
    ]
    entries = run["segments"]["segment"][0]["profile"]["entry"]
    behaviours = [e["attribute"] for e in entries if not e["attribute"].endswith(".zScore")]
    assert [row.xpath("string(td[1])") for row in table.xpath(".//tbody/tr")] == behaviours


def test_a_value_based_run_looking_at_the_past_has_its_hold_out_check(
    live_server: LiveServer, soap: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The demo data ends on factories.END_DATE, a year after the as-of date: the BG/NBD
    # model fitted up to 2025-06-30 is checked on the year after it.
    as_of = date(2025, 6, 30)
    assert factories.END_DATE > as_of
    started = soap.SegmentCustomers(
        method="ValueBased", valueBased={"valueMetric": "Clv", "asOfDate": as_of}
    )
    run = serialize_object(soap.GetSegmentationRun(runId=started.runId), dict)
    metrics = {metric["name"]: metric["value"] for metric in run["metrics"]["metric"]}
    totals = ("weeks", "customers", "predictedPurchases", "actualPurchases", "error")
    assert {f"holdout.{name}" for name in totals} <= set(metrics), "no hold-out check"

    out = tmp_path / "holdout.html"
    status, printed, err = in_process(
        capsys, live_server, ANALYST, "report", "--run", str(started.runId), "--out", str(out)
    )
    assert (status, err) == (0, "")
    assert printed.startswith(f"wrote {out}: run {started.runId}, 5 charts, in ")
    charts = ["sizes", "value", "profit", "tiers", "holdout"]
    assert_charts_render(out, tmp_path / "browser", charts)

    html = lxml.html.document_fromstring(out.read_text(encoding="utf-8"))
    (section,) = html.xpath('//section[@id="holdout"]')
    assert section.xpath("string(h2)").startswith(f"Hold-out check of run {started.runId}")
    sentence = section.xpath("string(p[1])")
    assert sentence.startswith(f"Predicted {metrics['holdout.predictedPurchases']:,.0f} purchases")
    assert f"for {metrics['holdout.customers']:,.0f} customers;" in sentence
    assert sentence.endswith(
        f"{metrics['holdout.actualPurchases']:,.0f} happened "
        f"(error {metrics['holdout.error']:+.1%})."
    )
    # The table is the service's per-frequency figures, row for row.
    expected = []
    for k in range(8):
        name = f"holdout.byFrequency.{k}"
        if f"{name}.customers" in metrics:
            expected.append(
                [
                    "7+" if k == 7 else str(k),
                    f"{metrics[f'{name}.customers']:,.0f}",
                    f"{metrics[f'{name}.predicted']:,.2f}",
                    f"{metrics[f'{name}.actual']:,.2f}",
                ]
            )
    rows = [
        [cell.text_content().strip() for cell in row.xpath("th|td")]
        for row in section.xpath(".//tbody/tr")
    ]
    assert len(expected) >= 2 and rows[:-1] == expected
    assert rows[-1][:2] == ["all", f"{metrics['holdout.customers']:,.0f}"]


def test_report_of_an_unknown_run_is_a_fault_and_writes_nothing(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    status, _, err = in_process(
        capsys, live_server, ANALYST, "report", "--run", "987654", "--out", str(out)
    )
    assert status == 2
    assert "RunNotFoundFault" in err
    assert list(tmp_path.iterdir()) == []


def test_the_page_renders_to_a_screenshot_that_is_not_blank(
    compared_report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    page, _ = compared_report
    shot = tmp_path / "report.png"
    screenshot(page, tmp_path, shot)
    with Image.open(shot) as picture:
        assert picture.size[0] == 1200 and picture.size[1] > 2000
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 50  # None: more colours than counted


# ----------------------------------------- the check itself: broken pages fail


def broken_copy(page: Path, directory: Path, edit: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / "report.html"
    copy.write_text(edit(page.read_text(encoding="utf-8")), encoding="utf-8")
    return copy


def replace_chart_src(text: str, chart: str, src: str) -> str:
    pattern = re.compile(rf'<img src="[^"]*" data-chart="{chart}"')
    edited, count = pattern.subn(f'<img src="{src}" data-chart="{chart}"', text)
    assert count == 1
    return edited


def test_a_corrupt_chart_is_found_broken(
    compared_report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    page, _ = compared_report
    garbage = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n not really").decode()
    copy = broken_copy(page, tmp_path, lambda text: replace_chart_src(text, "profit", garbage))

    images = {
        image["chart"]: image for image in images_in_browser(copy, tmp_path / "look")["images"]
    }
    assert images["profit"]["width"] == 0
    assert all(image["width"] > 0 for chart, image in images.items() if chart != "profit")
    with pytest.raises(AssertionError, match="broken images.*'profit'"):
        assert_charts_render(copy, tmp_path / "check", COMPARED_CHARTS)


def test_an_image_from_outside_the_page_is_found_broken(
    compared_report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    page, _ = compared_report
    # Blocked by the page's policy (img-src data: only), and nothing listens there anyway.
    copy = broken_copy(
        page,
        tmp_path,
        lambda text: replace_chart_src(text, "migration", "http://127.0.0.1:9/chart.png"),
    )
    with pytest.raises(AssertionError, match="broken images.*'migration'"):
        assert_charts_render(copy, tmp_path / "check", COMPARED_CHARTS)


def test_a_missing_chart_fails_the_check(
    compared_report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    page, _ = compared_report

    def drop_tiers(text: str) -> str:
        edited, count = re.subn(
            r'<figure><img [^>]*data-chart="tiers".*?</figure>', "", text, flags=re.S
        )
        assert count == 1
        return edited

    copy = broken_copy(page, tmp_path, drop_tiers)
    with pytest.raises(AssertionError, match="missing, extra or misplaced charts"):
        assert_charts_render(copy, tmp_path / "check", COMPARED_CHARTS)


def test_the_check_fails_when_its_script_cannot_run(
    compared_report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    page, _ = compared_report
    # Without the hash the page's own policy blocks the script: no result, no pass.
    with pytest.raises(AssertionError, match="the image check did not run"):
        images_in_browser(page, tmp_path, allow_check=False)
