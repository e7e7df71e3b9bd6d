"""`segmentation-client` and the zeep example script against the live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from segmentation_client.cli import main
from zeep.helpers import serialize_object

from tests.contract.conftest import ANALYST, ROOT, VIEWER, LiveServer, User

EXAMPLE = ROOT / "clients" / "examples" / "segment_and_page.py"


@pytest.fixture(scope="module")
def db(live_server: LiveServer) -> Iterator[sa.Engine]:
    engine = sa.create_engine(live_server.database_url)
    yield engine
    engine.dispose()


def query(db: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with db.connect() as connection:
        return list(connection.execute(sa.text(sql), params))


def members_in_store(db: sa.Engine, run_id: int, code: str) -> list[str]:
    sql = (
        "SELECT customer_id FROM assignments WHERE run_id = :run_id AND segment_code = :code "
        "ORDER BY customer_id"
    )
    return [row.customer_id for row in query(db, sql, run_id=run_id, code=code)]


@pytest.fixture
def cli(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run the client in-process against the live WSDL as the analyst: (status, stdout, stderr)."""
    credentials = ["--username", ANALYST.username, "--password", ANALYST.password]

    def run(*argv: str) -> tuple[int, str, str]:
        status = main(["--wsdl", live_server.wsdl_url, *credentials, *argv])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def run_json(cli: Any, *argv: str) -> Any:
    status, out, err = cli("--json", *argv)
    assert (status, err) == (0, "")
    return json.loads(out)


def test_segment_prints_the_completed_run_as_json_and_as_tables(cli: Any, db: sa.Engine) -> None:
    as_json = run_json(
        cli, "segment", "--method", "ValueBased", "--tier-count", "3", "--label", "cli json"
    )
    status, table, err = cli("segment", "--method", "APriori", "--group-by", "region")

    run = as_json["run"]
    assert (run["method"], run["status"], run["label"]) == ("ValueBased", "Completed", "cli json")
    assert [s["code"] for s in run["segments"]["segment"]] == ["V1", "V2", "V3"]
    assert run["metrics"]["metric"]
    sql = "SELECT method, status, label FROM segmentation_runs WHERE run_id = :run_id"
    assert [tuple(r) for r in query(db, sql, run_id=run["runId"])] == [
        ("ValueBased", "Completed", "cli json")
    ]
    assert (status, err) == (0, "")
    (latest,) = query(db, "SELECT max(run_id) AS run_id FROM segmentation_runs")
    codes = query(db, "SELECT code FROM segments WHERE run_id = :run_id", run_id=latest.run_id)
    assert "Completed" in table and "APriori" in table and "region=" in table
    assert codes and all(row.code in table for row in codes)


def test_customer_segment_lists_the_customer_s_assignments(cli: Any, db: sa.Engine) -> None:
    run = run_json(cli, "segment", "--method", "APriori")["run"]
    customer_id = query(db, "SELECT min(customer_id) AS id FROM customers")[0].id
    sql = "SELECT segment_code FROM assignments WHERE run_id = :run_id AND customer_id = :id"
    expected = query(db, sql, run_id=run["runId"], id=customer_id)[0].segment_code

    found = run_json(cli, "customer-segment", customer_id, "--method", "APriori")
    status, table, _ = cli("customer-segment", customer_id, "--run-id", str(run["runId"]))

    (assignment,) = found["assignments"]["assignment"]
    assert assignment["customerId"] == customer_id
    assert (assignment["method"], assignment["runId"]) == ("APriori", run["runId"])
    assert assignment["segmentCode"] == expected
    assert status == 0
    assert customer_id in table and expected in table


def test_score_prints_value_figures_and_unknown_ids(cli: Any, db: sa.Engine) -> None:
    sql = "SELECT customer_id, count(*) AS n FROM transactions GROUP BY 1 ORDER BY 1 LIMIT 2"
    known = {row.customer_id: row.n for row in query(db, sql)}

    scored = run_json(cli, "score", *known, "NO-SUCH-CUSTOMER")
    status, table, _ = cli("score", ",".join(known), "--horizon-months", "6")

    assert {s["customerId"]: s["transactionCount"] for s in scored["scores"]["score"]} == known
    assert scored["unknownCustomerIds"]["customerId"] == ["NO-SUCH-CUSTOMER"]
    assert status == 0
    assert all(customer_id in table for customer_id in known)


def test_members_prints_a_page_and_all_pages(cli: Any, db: sa.Engine) -> None:
    run = run_json(cli, "segment", "--method", "ValueBased")["run"]
    code = run["segments"]["segment"][0]["code"]
    expected = members_in_store(db, run["runId"], code)
    assert len(expected) > 30

    page = run_json(cli, "members", code, "--run-id", str(run["runId"]), "--page-size", "10")
    listing = run_json(cli, "members", code, "--method", "ValueBased", "--all", "--page-size", "7")
    status, table, _ = cli("members", code, "--run-id", str(run["runId"]), "--page-size", "3")

    assert [m["customerId"] for m in page["members"]["member"]] == expected[:10]
    assert page["nextPageToken"] and page["totalCount"] == len(expected)
    assert listing["runId"] == run["runId"]
    assert [m["customerId"] for m in listing["members"]] == expected
    assert listing["totalCount"] == len(expected)
    assert status == 0
    assert all(customer_id in table for customer_id in expected[:3])
    assert expected[3] not in table
    assert "nextPageToken" in table


def test_fault_exits_2_and_reports_the_fault_on_stderr(cli: Any) -> None:
    status, out, err = cli("customer-segment", "NO-SUCH-CUSTOMER")

    assert status == 2
    assert out == ""
    assert "CustomerNotFoundFault" in err
    assert "customerId: NO-SUCH-CUSTOMER" in err


def test_fault_with_json_exits_2_and_prints_the_typed_detail(cli: Any) -> None:
    status, out, _ = cli("--json", "members", "V1", "--run-id", "987654321")

    fault = json.loads(out)
    assert status == 2
    assert fault["fault"] == "RunNotFoundFault"
    assert fault["code"].endswith("Client.RunNotFound")
    assert fault["detail"] == {"runId": "987654321"}
    assert "987654321" in fault["message"]


def test_example_script_segments_and_pages_against_the_live_server(
    live_server: LiveServer, db: sa.Engine
) -> None:
    credentials = {
        "SEGMENTATION_USERNAME": ANALYST.username,
        "SEGMENTATION_PASSWORD": ANALYST.password,
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), live_server.wsdl_url],
        env={**os.environ, **credentials},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert "Traceback" not in result.stderr
    if result.returncode == 2:
        # A Clv run may legitimately be refused when the CLV model cannot be fitted.
        assert "Client.InvalidRequest" in result.stderr
        assert "field = valueBased" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    run_id = int(header.split()[1].rstrip(":"))
    assert "Completed" in header
    first_code = lines[0].split()[0]
    printed = [line.split()[0] for line in lines if line.startswith("    ")]
    assert printed == members_in_store(db, run_id, first_code)


# ------------------------------------------------------------ contract 1.1


@pytest.fixture
def cli_as(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run the client in-process as another user: cli_as(user, *argv) -> (status, out, err)."""

    def run(user: User, *argv: str) -> tuple[int, str, str]:
        credentials = ["--username", user.username, "--password", user.password]
        status = main(["--wsdl", live_server.wsdl_url, *credentials, *argv])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def test_segment_with_a_rules_file_assigns_the_rule_segments(
    cli: Any, db: sa.Engine, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps(
            [
                {
                    "segmentCode": "LARGE",
                    "segmentName": "Large companies",
                    "conditions": [
                        {
                            "attribute": "employeeCount",
                            "operator": "GreaterOrEqual",
                            "values": [250],
                        }
                    ],
                },
                {
                    "segmentCode": "B2B",
                    "segmentName": "Other businesses",
                    "conditions": [
                        {"attribute": "customerType", "operator": "Equals", "values": ["B2B"]}
                    ],
                },
            ]
        )
    )
    run = run_json(
        cli,
        "segment",
        "--method",
        "APriori",
        "--rules-file",
        str(rules),
        "--default-segment-code",
        "REST",
    )["run"]

    assert {segment["code"] for segment in run["segments"]["segment"]} <= {"LARGE", "B2B", "REST"}
    assert run["startedBy"] == ANALYST.username
    sql = (
        "SELECT count(*) AS n FROM assignments a JOIN customers c USING (customer_id) "
        "WHERE a.run_id = :run_id AND a.segment_code = 'LARGE' AND c.employee_count < 250"
    )
    assert query(db, sql, run_id=run["runId"])[0].n == 0
    large = query(db, "SELECT count(*) AS n FROM customers WHERE employee_count >= 250")[0].n
    sizes = {segment["code"]: segment["size"] for segment in run["segments"]["segment"]}
    assert sizes.get("LARGE", 0) == large


def test_segment_with_bands_groups_by_the_bands_given(cli: Any) -> None:
    run = run_json(
        cli,
        "segment",
        "--method",
        "APriori",
        "--group-by",
        "companySize",
        "--company-size-bands",
        "Tiny:5,Big",
        "--minimum-segment-size",
        "1",
    )["run"]
    names = {segment["name"] for segment in run["segments"]["segment"]}
    assert names <= {"Tiny", "Big", "Unknown"} and {"Tiny", "Big"} <= names


def test_segment_passes_the_needs_based_options(cli: Any) -> None:
    run = run_json(
        cli,
        "segment",
        "--method",
        "NeedsBased",
        "--segment-count",
        "3",
        "--centre-respondents",
        "--pca-components",
        "2",
        "--min-answered-share",
        "0.6",
    )["run"]
    metrics = {metric["name"]: metric["value"] for metric in run["metrics"]["metric"]}
    assert metrics["needs.k"] == 3
    assert metrics["needs.centred"] == 1
    assert "needs.pcaExplainedVariance" in metrics


def test_segment_passes_the_value_based_options_and_shows_profit(cli: Any) -> None:
    status, table, err = cli(
        "segment",
        "--method",
        "ValueBased",
        "--tier-count",
        "3",
        "--as-of-date",
        "2024-12-31",
        "--horizon-months",
        "6",
        "--discount-rate",
        "0.05",
    )
    assert (status, err) == (0, "")
    header = next(line for line in table.splitlines() if line.split()[:2] == ["code", "name"])
    assert header.split()[6:10] == ["revenue", "cost", "profit", "owner"]
    assert ["startedBy", ANALYST.username] in [line.split() for line in table.splitlines()]


def test_run_runs_compare_and_owner(cli: Any, cli_as: Any, soap: Any) -> None:
    first = run_json(cli, "segment", "--method", "ValueBased", "--label", "before")["run"]
    second = run_json(cli, "segment", "--method", "ValueBased", "--label", "after")["run"]
    older, newer = first["runId"], second["runId"]

    shown = run_json(cli, "run", str(older))["run"]
    assert (shown["runId"], shown["label"], shown["status"]) == (older, "before", "Completed")
    assert shown["segments"] == first["segments"]

    listed = run_json(cli, "runs", "--method", "ValueBased", "--limit", "2")["runs"]["run"]
    assert [run["runId"] for run in listed] == [newer, older]
    earlier = run_json(cli, "runs", "--before", str(older), "--limit", "100")["runs"]["run"]
    assert all(run["runId"] < older for run in earlier)
    status, table, _ = cli("runs", "--limit", "2")
    assert status == 0 and "older runs: --before" in table and "before" in table

    compared = run_json(cli, "compare", str(older), str(newer))
    expected = serialize_object(soap.CompareSegmentationRuns(fromRunId=older, toRunId=newer), dict)
    assert compared["transitions"]["transition"] == expected["transitions"]["transition"]
    assert compared["adjustedRandIndex"] == pytest.approx(1.0)
    assert compared["stayedShare"] == pytest.approx(1.0)
    status, matrix, _ = cli("compare", str(older), str(newer))
    total = sum(t["customerCount"] for t in expected["transitions"]["transition"])
    assert status == 0 and matrix.splitlines()[-2].split()[-1] == f"{total:,}"

    code = first["segments"]["segment"][0]["code"]
    owned = run_json(cli, "owner", str(older), code, "Key accounts <EMEA>")["segment"]
    assert (owned["code"], owned["owner"]) == (code, "Key accounts <EMEA>")
    again = run_json(cli, "run", str(older))["run"]["segments"]["segment"][0]
    assert again["owner"] == "Key accounts <EMEA>"

    status, out, err = cli_as(VIEWER, "owner", str(older), code, "Someone else")
    assert status == 2 and out == ""
    assert "AccessDeniedFault" in err and "role: viewer" in err


def test_score_shows_the_clv_details_after_a_value_based_run(cli: Any, db: sa.Engine) -> None:
    run_json(cli, "segment", "--method", "ValueBased")
    sql = "SELECT customer_id FROM transactions GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    customer_id = query(db, sql)[0].customer_id
    (score,) = run_json(cli, "score", customer_id)["scores"]["score"]
    assert 0 <= score["probabilityAlive"] <= 1
    assert score["expectedPurchases"] >= 0
    assert score["churnRisk"] in {"Low", "Medium", "High"}
    assert score["expectedPurchasesLow"] <= score["expectedPurchasesHigh"]
    status, table, _ = cli("score", customer_id)
    assert status == 0 and "probabilityAlive" in table and "acquisitionCost" in table
    assert "Predictions (80% intervals)" in table and score["churnRisk"] in table
