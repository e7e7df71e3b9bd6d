"""`segmentation-client` and the zeep example script against the live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from segmentation_client.cli import main

from tests.contract.conftest import ANALYST, ROOT, LiveServer

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
