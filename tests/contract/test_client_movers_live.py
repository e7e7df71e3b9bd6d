"""`segmentation-client movers` and `export-movers` against the live server (contract 1.5).

The CSV files are checked against what zeep lists through ListSegmentMovers, and
against the cells and the entered/left counts of CompareSegmentationRuns.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from segmentation_client.cli import main
from zeep.helpers import serialize_object

from tests.contract.conftest import ANALYST, LiveServer, XsdValidator, service_for

TIERS = {"valueMetric": "Revenue", "tierCount": 4}
HEADER = [
    "customer_id",
    "name",
    "from_segment_code",
    "to_segment_code",
    "value_before",
    "value_after",
]


@dataclass(frozen=True)
class Runs:
    soap: Any
    then: int  # value tiers as of 2025-06-30
    now: int  # the same tiers as of today


@pytest.fixture(scope="module")
def runs(live_server: LiveServer, schema: etree.XMLSchema) -> Runs:
    soap = service_for(live_server, XsdValidator(schema), ANALYST)
    then = soap.SegmentCustomers(
        method="ValueBased", valueBased={**TIERS, "asOfDate": date(2025, 6, 30)}
    )
    now = soap.SegmentCustomers(method="ValueBased", valueBased=TIERS)
    return Runs(soap, then.runId, now.runId)


@pytest.fixture
def cli(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run the client in-process against the live WSDL as the analyst: (status, stdout, stderr)."""
    credentials = ["--username", ANALYST.username, "--password", ANALYST.password]

    def run(*argv: str) -> tuple[int, str, str]:
        status = main(["--wsdl", live_server.wsdl_url, *credentials, *argv])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def listed_by_zeep(soap: Any, **request: Any) -> list[dict[str, Any]]:
    """Every mover of a listing, page by page, as plain dicts."""
    movers: list[dict[str, Any]] = []
    token = None
    while True:
        page = serialize_object(soap.ListSegmentMovers(pageToken=token, **request), dict)
        movers.extend(page["movers"]["mover"] if page["movers"] else [])
        token = page["nextPageToken"]
        if token is None:
            return movers


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    assert header == HEADER
    return rows


def export(cli: Any, runs: Runs, out: Path, *options: str) -> list[list[str]]:
    status, printed, err = cli(
        "export-movers", str(runs.then), str(runs.now), *options, "-o", str(out)
    )
    assert (status, err) == (0, ""), printed
    rows = read_csv(out)
    assert printed.startswith(f"wrote {len(rows):,} mover")
    return rows


def as_cells(mover: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        mover["customerId"],
        mover["name"],
        mover["fromSegmentCode"] or "",
        mover["toSegmentCode"] or "",
    )


def assert_value(cell: str, value: float | None) -> None:
    if value is None:
        assert cell == ""
    else:
        assert float(cell) == pytest.approx(value, rel=1e-14)


@pytest.fixture(scope="module")
def comparison(runs: Runs) -> dict[str, Any]:
    compared = runs.soap.CompareSegmentationRuns(fromRunId=runs.then, toRunId=runs.now)
    return dict(serialize_object(compared, dict))


@pytest.fixture
def everyone(cli: Any, runs: Runs, tmp_path: Path) -> Iterator[list[list[str]]]:
    yield export(cli, runs, tmp_path / "movers.csv")


def test_export_movers_writes_exactly_the_movers_zeep_lists(
    runs: Runs, everyone: list[list[str]], cli: Any, tmp_path: Path
) -> None:
    expected = listed_by_zeep(runs.soap, fromRunId=runs.then, toRunId=runs.now, pageSize=1000)
    assert len(expected) > 20

    assert [tuple(row[:4]) for row in everyone] == [as_cells(m) for m in expected]
    for row, mover in zip(everyone, expected, strict=True):
        assert_value(row[4], mover["valueBefore"])
        assert_value(row[5], mover["valueAfter"])

    # Small pages write the same file as pages of 1000.
    assert export(cli, runs, tmp_path / "small-pages.csv", "--page-size", "7") == everyone


def test_each_cell_of_the_comparison_exports_exactly_its_count_of_customers(
    runs: Runs, comparison: dict[str, Any], cli: Any, tmp_path: Path
) -> None:
    cells = comparison["transitions"]["transition"]
    assert any(cell["fromSegmentCode"] == cell["toSegmentCode"] for cell in cells)
    assert any(cell["fromSegmentCode"] != cell["toSegmentCode"] for cell in cells)
    for number, cell in enumerate(cells):
        start, end = cell["fromSegmentCode"], cell["toSegmentCode"]
        rows = export(cli, runs, tmp_path / f"cell-{number}.csv", "--from", start, "--to", end)
        assert len(rows) == cell["customerCount"], (start, end)
        assert {(row[2], row[3]) for row in rows} == ({(start, end)} if rows else set())


def test_entered_and_left_rows_are_the_comparison_s_entered_and_left_counts(
    comparison: dict[str, Any], everyone: list[list[str]]
) -> None:
    entered = [row for row in everyone if row[2] == ""]
    left = [row for row in everyone if row[3] == ""]
    assert comparison["enteredCount"] + comparison["leftCount"] > 0
    assert (len(entered), len(left)) == (comparison["enteredCount"], comparison["leftCount"])
    moved = sum(
        cell["customerCount"]
        for cell in comparison["transitions"]["transition"]
        if cell["fromSegmentCode"] != cell["toSegmentCode"]
    )
    assert len(everyone) == len(entered) + len(left) + moved


def test_up_and_down_split_the_movers_between_tiers(
    runs: Runs, everyone: list[list[str]], cli: Any, tmp_path: Path
) -> None:
    up = export(cli, runs, tmp_path / "up.csv", "--direction", "up")
    down = export(cli, runs, tmp_path / "down.csv", "--direction", "down")
    assert up and down
    assert all(int(row[3][1:]) < int(row[2][1:]) for row in up)  # V1 is the best tier
    assert all(int(row[3][1:]) > int(row[2][1:]) for row in down)
    between_tiers = [row for row in everyone if row[2] and row[3]]
    assert sorted(up + down) == sorted(between_tiers)


def test_export_movers_json_summary_counts_the_rows(
    runs: Runs, everyone: list[list[str]], cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "movers.json.csv"
    status, printed, err = cli(
        "--json", "export-movers", str(runs.then), str(runs.now), "--out", str(out)
    )
    assert (status, err) == (0, "")
    summary = json.loads(printed)
    assert (summary["fromRunId"], summary["toRunId"]) == (runs.then, runs.now)
    assert summary["written"] == len(everyone) == len(read_csv(out))


def test_movers_prints_a_page_and_the_token_of_the_next(
    runs: Runs, everyone: list[list[str]], cli: Any
) -> None:
    pair = (str(runs.then), str(runs.now))
    first = json.loads(cli("--json", "movers", *pair, "--page-size", "5")[1])
    status, table, err = cli(
        "movers", *pair, "--page-size", "5", "--page-token", first["nextPageToken"]
    )

    assert first["totalCount"] == len(everyone)
    assert [m["customerId"] for m in first["movers"]["mover"]] == [row[0] for row in everyone[:5]]
    assert (status, err) == (0, "")
    assert f"totalCount  {len(everyone)}" in table
    for customer_id, name, start, end, _, _ in everyone[5:10]:
        line = next(line for line in table.splitlines() if line.split()[:1] == [customer_id])
        assert f"{start or '(entered)'} → {end or '(left)'}" in line and name in line
    assert everyone[4][0] not in table and everyone[10][0] not in table
    assert "nextPageToken: " in table


def test_a_direction_between_runs_that_are_not_both_value_based_is_a_client_fault(
    runs: Runs, cli: Any
) -> None:
    a_priori = runs.soap.SegmentCustomers(method="APriori")
    status, out, err = cli("movers", str(a_priori.runId), str(runs.now), "--direction", "up")
    assert status == 2 and out == ""
    assert "InvalidRequestFault" in err and "field: direction" in err
