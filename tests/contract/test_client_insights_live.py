"""`segmentation-client insights` against the live server (contract 1.5).

The tables are read back and checked against what zeep gets from GetSegmentInsights for
the same request: every row, in order, each number as it rounds; --json is zeep's answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from lxml import etree
from segmentation_client.cli import main
from zeep.helpers import serialize_object

from tests.contract.conftest import ANALYST, LiveServer, XsdValidator, service_for

NUMBER = re.compile(r"[-+]?[\d,]+(?:\.(\d+))?(?:e([-+]\d+))?")


@dataclass(frozen=True)
class Runs:
    soap: Any
    a_priori: int
    needs: int
    largest: str  # the needs run's largest segment
    other: str  # another segment of the needs run


@pytest.fixture(scope="module")
def runs(live_server: LiveServer, schema: etree.XMLSchema) -> Runs:
    soap = service_for(live_server, XsdValidator(schema), ANALYST)
    a_priori = soap.SegmentCustomers(
        method="APriori", aPriori={"groupBy": {"attribute": ["customerType"]}}
    )
    needs = soap.SegmentCustomers(
        method="NeedsBased", needsBased={"segmentCount": 3, "randomSeed": 1}
    )
    by_size = sorted(needs.segments.segment, key=lambda segment: segment.size, reverse=True)
    return Runs(soap, a_priori.runId, needs.runId, by_size[0].code, by_size[1].code)


@pytest.fixture
def cli(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run the client in-process against the live WSDL as the analyst: (status, stdout, stderr)."""
    credentials = ["--username", ANALYST.username, "--password", ANALYST.password]

    def run(*argv: str) -> tuple[int, str, str]:
        status = main(["--wsdl", live_server.wsdl_url, *credentials, *argv])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def zeep_answer(runs: Runs, baseline: str | None) -> dict[str, Any]:
    """GetSegmentInsights of the largest segment as plain dicts, every list present."""
    found = runs.soap.GetSegmentInsights(
        runId=runs.needs, segmentCode=runs.largest, baseline=baseline
    )
    answer = serialize_object(found, dict)
    return {
        "differentiators": answer["differentiators"] or {"differentiator": []},
        "overlaps": answer["overlaps"] or {"overlap": []},
    }


def table_rows(out: str, header: str) -> list[list[str]]:
    """The cells of the table whose header line starts with `header`: rich puts two or more
    spaces between columns, and the cells hold single spaces at most."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [header])
    rows = []
    for line in lines[start + 2 :]:  # past the header and its rule
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def assert_shown(cell: str, value: float, scale: float = 1.0) -> None:
    """The cell shows `value` (times `scale`) rounded to the digits it has."""
    match = NUMBER.search(cell)
    assert match is not None, cell
    decimals, exponent = match.group(1) or "", match.group(2) or "0"
    shown = float(match.group(0).replace(",", ""))
    half_unit = 0.5 * 10.0 ** (int(exponent) - len(decimals))
    assert abs(shown - value * scale) <= half_unit * (1 + 1e-9), (cell, value)


@pytest.mark.parametrize("against", ["run", "segment"])
def test_the_tables_show_every_differentiator_and_overlap_zeep_gets(
    runs: Runs, cli: Any, against: str
) -> None:
    baseline = runs.other if against == "segment" else None
    expected = zeep_answer(runs, baseline)
    argv = ["insights", str(runs.needs), runs.largest]
    status, out, err = cli(*argv, *(["--baseline", baseline] if baseline else []))
    assert (status, err) == (0, "")
    assert out.splitlines()[1].split() == ["segmentCode", runs.largest]
    assert out.splitlines()[2].split()[1:] == (
        [baseline] if baseline else "all assigned customers of the run".split()
    )

    differentiators = expected["differentiators"]["differentiator"]
    assert any(d["feature"].startswith("need:") for d in differentiators)
    rows = table_rows(out, "feature")
    assert [row[0] for row in rows] == [d["feature"] for d in differentiators]
    for (feature, segment, base, lift, p_value), d in zip(rows, differentiators, strict=True):
        share = "=" in feature
        scale = 100.0 if share else 1.0
        assert segment.endswith("%") is share and base.endswith("%") is share
        assert_shown(segment, d["segmentValue"], scale)
        assert_shown(base, d["baselineValue"], scale)
        assert lift.startswith("×") if share else lift.endswith(" sd")
        assert_shown(lift, d["lift"])
        assert_shown(p_value, d["pValue"])
        assert ("e-" in p_value) is (d["pValue"] < 0.001)

    overlaps = expected["overlaps"]["overlap"]
    assert ("APriori", runs.a_priori) in {(o["method"], o["runId"]) for o in overlaps}
    rows = table_rows(out, "method")
    assert [row[:5] for row in rows] == [
        [
            o["method"],
            str(o["runId"]),
            o["segmentCode"],
            o["segmentName"],
            f"{o['sharedCustomers']:,}",
        ]
        for o in overlaps
    ]
    for row, o in zip(rows, overlaps, strict=True):
        assert_shown(row[5], o["shareOfThisSegment"], 100.0)
        assert_shown(row[6], o["jaccard"])


def test_insights_json_is_zeeps_answer(runs: Runs, cli: Any) -> None:
    status, out, err = cli("--json", "insights", str(runs.needs), runs.largest)
    assert (status, err) == (0, "")
    assert json.loads(out) == zeep_answer(runs, None)


def test_the_segment_as_its_own_baseline_is_an_invalid_request_and_exit_2(
    runs: Runs, cli: Any
) -> None:
    argv = ("insights", str(runs.needs), runs.largest, "--baseline", runs.largest)
    status, out, err = cli(*argv)
    assert (status, out) == (2, "")
    assert "InvalidRequestFault" in err and "  field: baseline" in err.splitlines()

    status, out, err = cli("--json", *argv)
    assert (status, err) == (2, "")
    fault = json.loads(out)
    assert (fault["fault"], fault["detail"]["field"]) == ("InvalidRequestFault", "baseline")
