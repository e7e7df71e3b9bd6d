"""PHP's SoapClient, node-soap, JAX-WS and Mono's ASMX proxy drive the live server from its
served WSDL, as zeep does.

Each stack runs its driver (clients/php/scenario.php, clients/node/scenario.js,
clients/java/Scenario.java on a client plain wsimport generated, clients/dotnet/Scenario.cs
on the proxy Mono's wsdl generated) once:
it calls every operation, pages through a segment with nextPageToken, provokes the
declared faults, and prints what it decoded as JSON, asserted on here. Since contract 1.3
each driver also follows the async pattern: SubmitSegmentation (twice, one idempotency
key), GetSegmentationRun polled with a back-off until Completed, CancelSegmentationRun of
the finished run (a fault), and a schedule created, listed and deleted. Since contract 1.4
each driver runs ValueBased and NeedsBased segmentations, crosses them in a portfolio
(CreatePortfolio), evaluates it (GetPortfolio), gives its largest cell an owner
(SetPortfolioCellOwner) and a treatment of its own (SetPortfolioCellTreatment), evaluates it
again, reads its history, lists and deletes it, and asks for it once more
(PortfolioNotFoundFault); before that, it reads the recommended treatment of the ValueBased
run's first segment and sets its own (SetSegmentTreatment). Since contract 1.5 each driver
runs the same value tiers a year back (asOfDate 2025-06-30) before that ValueBased run, so
the portfolio still takes the latter, and lists the customers whose tier changed between
the two (ListSegmentMovers): every page with nextPageToken, then those who fell a tier
(direction Down); and it asks what sets the NeedsBased run's largest segment apart
(GetSegmentInsights): against all the run's customers, against the next largest segment
(baseline), and against itself (InvalidRequestFault, field baseline). The examples beside
the drivers run too.
CI installs the stacks (`.ci/run`: php-cli php-soap, and `npm ci` in clients/node); a
missing stack fails these tests rather than skipping them.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.contract.conftest import ANALYST, VIEWER, WSDL, XSD, LiveServer
from tests.contract.dotnet_stack import dotnet_command
from tests.contract.java_stack import java_command

ROOT = Path(__file__).resolve().parents[2]
PHP_DIR = ROOT / "clients" / "php"
NODE_DIR = ROOT / "clients" / "node"
PAGE_SIZE = 7
TIMEOUT = 60
WSDL_NS = {"wsdl": "http://schemas.xmlsoap.org/wsdl/"}
XS_NS = {"xs": "http://www.w3.org/2001/XMLSchema"}


def credentials_env() -> dict[str, str]:
    """The one place the drivers get credentials: conftest's analyst, and its viewer."""
    return {
        "SEGMENTATION_USERNAME": ANALYST.username,
        "SEGMENTATION_PASSWORD": ANALYST.password,
        "SEGMENTATION_VIEWER_USERNAME": VIEWER.username,
        "SEGMENTATION_VIEWER_PASSWORD": VIEWER.password,
    }


def php_command(script: str, wsdl_url: str) -> list[str]:
    php = shutil.which("php")
    probe = [php, "-r", 'exit(extension_loaded("soap") ? 0 : 1);'] if php else None
    if probe is None or subprocess.run(probe, check=False, timeout=TIMEOUT).returncode:
        pytest.fail("PHP with the soap extension is needed: apt-get install php-cli php-soap")
    return [str(php), str(PHP_DIR / f"{script}.php")]


def node_command(script: str, wsdl_url: str) -> list[str]:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "soap").is_dir():
        pytest.fail("node-soap is needed: install Node.js, then run `npm ci` in clients/node")
    return [node, str(NODE_DIR / f"{script}.js")]


# How to run a driver script of each stack against the served WSDL (a stack whose
# client is generated from that WSDL generates and compiles it first), or a failure
# saying what to install.
STACK_COMMANDS: dict[str, Callable[[str, str], list[str]]] = {
    "php": php_command,
    "node": node_command,
    "java": java_command,
    "dotnet": dotnet_command,
}
STACKS = tuple(STACK_COMMANDS)


def run_client(stack: str, script: str, wsdl_url: str, *args: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SEGMENTATION_")}
    done = subprocess.run(
        [*STACK_COMMANDS[stack](script, wsdl_url), wsdl_url, *args],
        capture_output=True,
        text=True,
        env={**environment, **credentials_env()},
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{stack} {script} failed:\n{done.stderr}\n{done.stdout}"
    return done.stdout


def wsdl_operations() -> list[str]:
    port_type = etree.parse(str(WSDL)).find("wsdl:portType", WSDL_NS)
    return [operation.get("name") for operation in port_type.iterfind("wsdl:operation", WSDL_NS)]


def strategies() -> set[str]:
    """The values of the canonical XSD's Strategy enumeration."""
    strategy = etree.parse(str(XSD)).find("xs:simpleType[@name='Strategy']", XS_NS)
    return {value.get("value") for value in strategy.iterfind(".//xs:enumeration", XS_NS)}


def local(code: str) -> str:
    return code.rpartition(":")[2]


@pytest.fixture(scope="module", params=STACKS)
def scenario(request: pytest.FixtureRequest, live_server: LiveServer) -> dict[str, Any]:
    """The driver's JSON report for one stack (each driver runs once per session)."""
    result: dict[str, Any] = json.loads(
        run_client(request.param, "scenario", live_server.wsdl_url, str(PAGE_SIZE))
    )
    result["stack"] = request.param
    return result


def test_every_operation_of_the_served_wsdl_is_seen_and_called(scenario: dict[str, Any]) -> None:
    assert sorted(scenario["wsdlOperations"]) == sorted(wsdl_operations())
    assert sorted(scenario["called"]) == sorted(wsdl_operations())


def test_paging_yields_each_member_once_and_matches_zeep(
    scenario: dict[str, Any], soap: Any
) -> None:
    paging = scenario["paging"]
    members, pages, total = paging["members"], paging["pages"], paging["totalCount"]

    assert len(members) == len(set(members)) == total > PAGE_SIZE
    assert len(pages) == math.ceil(total / PAGE_SIZE)
    assert all(size == PAGE_SIZE for size in pages[:-1]) and 0 < pages[-1] <= PAGE_SIZE
    sizes = {segment["code"]: segment["size"] for segment in scenario["run"]["segments"]}
    assert total == sizes[paging["segmentCode"]] == max(sizes.values())
    whole = soap.ListSegmentMembers(
        segmentCode=paging["segmentCode"], runId=paging["runId"], pageSize=1000
    )
    assert whole.nextPageToken is None
    assert members == [member.customerId for member in whole.members.member]


def test_runs_read_back_through_the_other_operations(scenario: dict[str, Any], soap: Any) -> None:
    run, second = scenario["run"], scenario["secondRun"]
    assert (run["method"], run["status"], run["startedBy"]) == (
        "APriori",
        "Completed",
        ANALYST.username,
    )
    assert run["assignedCount"] == run["customerCount"] == sum(s["size"] for s in run["segments"])
    assert scenario["getSegmentationRun"] == run
    assert [s["code"] for s in second["segments"]] == ["B2B", "B2C"]  # grouped by customerType
    assert scenario["listSegmentationRuns"] == [second["runId"], run["runId"]]

    customer = scenario["paging"]["members"][0]
    assert scenario["getCustomerSegment"] == [
        {
            "customerId": customer,
            "runId": run["runId"],
            "segmentCode": scenario["paging"]["segmentCode"],
        }
    ]
    assert scenario["scoreCustomerValue"] == {"scored": [customer], "unknown": ["NO-SUCH-CUSTOMER"]}

    owned = scenario["setSegmentOwner"]
    assert owned["code"] == scenario["paging"]["segmentCode"]
    stored = soap.GetSegmentationRun(runId=run["runId"])
    assert {s.code: s.owner for s in stored.segments.segment}[owned["code"]] == owned["owner"]

    compared = scenario["compareSegmentationRuns"]
    expected = soap.CompareSegmentationRuns(fromRunId=run["runId"], toRunId=second["runId"])
    assert (compared["fromRunId"], compared["toRunId"]) == (run["runId"], second["runId"])
    assert compared["transitions"] == len(expected.transitions.transition)
    assert compared["stayedShare"] == pytest.approx(expected.stayedShare)
    assert (compared["enteredCount"], compared["leftCount"]) == (
        expected.enteredCount,
        expected.leftCount,
    )


def test_declared_faults_arrive_with_their_typed_details(scenario: dict[str, Any]) -> None:
    faults = scenario["faults"]
    run_id = str(scenario["run"]["runId"])  # both stacks decode fault details untyped
    expected = {
        "CustomerNotFoundFault": ("Client.CustomerNotFound", {"customerId": "NO-SUCH-CUSTOMER"}),
        "RunNotFoundFault": ("Client.RunNotFound", {"runId": "999999999"}),
        "SegmentNotFoundFault": (
            "Client.SegmentNotFound",
            {"runId": run_id, "segmentCode": "NO-SUCH-SEGMENT"},
        ),
        "InvalidRequestFault": (
            "Client.InvalidRequest",
            {"field": "valueBased", "reason": faults["InvalidRequestFault"]["detail"]["reason"]},
        ),
        "AuthenticationFault": (
            "Client.Authentication",
            {"reason": faults["AuthenticationFault"]["detail"]["reason"]},
        ),
        "AccessDeniedFault": (
            "Client.AccessDenied",
            {"operation": "SegmentCustomers", "role": VIEWER.role},
        ),
        "PortfolioNotFoundFault": (  # GetPortfolio of the portfolio the driver deleted
            "Client.PortfolioNotFound",
            {"portfolioId": str(scenario["portfolio"]["created"]["portfolioId"])},
        ),
        "CancelFinishedRun": (  # CancelSegmentationRun of the completed background run
            "Client.InvalidRequest",
            {"field": "runId", "reason": faults["CancelFinishedRun"]["detail"]["reason"]},
        ),
    }
    elements = {"CancelFinishedRun": "InvalidRequestFault"}  # the other keys name their element
    assert set(faults) == set(expected)
    for name, (code, detail) in expected.items():
        fault = faults[name]
        assert local(fault["faultcode"]) == code, name
        assert fault["faultstring"], name
        assert (fault["element"], fault["detail"]) == (elements.get(name, name), detail)
    assert faults["InvalidRequestFault"]["detail"]["reason"]
    assert faults["AuthenticationFault"]["detail"]["reason"]


def test_a_submitted_run_is_polled_to_completion_and_a_schedule_comes_and_goes(
    scenario: dict[str, Any], soap: Any
) -> None:
    background = scenario["background"]
    first, again = background["submitted"]
    assert again["runId"] == first["runId"]  # the same idempotency key: the same run
    assert first["status"] in {"Queued", "Running", "Completed"}  # answered at once: Queued
    polled = background["polledStatuses"]
    assert polled and polled[-1] == "Completed", polled
    assert set(polled) <= {"Queued", "Running", "Completed"}, polled

    run = background["run"]
    assert (run["runId"], run["method"], run["status"], run["startedBy"]) == (
        first["runId"],
        "APriori",
        "Completed",
        ANALYST.username,
    )
    assert [s["code"] for s in run["segments"]] == ["B2B", "B2C"]  # grouped by customerType
    assert run["assignedCount"] == run["customerCount"] == sum(s["size"] for s in run["segments"])
    assert background["progress"] is None or float(background["progress"]) == 1.0
    assert soap.GetSegmentationRun(runId=first["runId"]).status == "Completed"

    cancelled = scenario["faults"]["CancelFinishedRun"]
    assert local(cancelled["faultcode"]) == "Client.InvalidRequest"
    assert (cancelled["element"], cancelled["detail"]["field"]) == ("InvalidRequestFault", "runId")

    schedule, name = background["schedule"], f"nightly-{scenario['stack']}"
    assert (schedule["name"], schedule["cron"], schedule["requestMethod"]) == (
        name,
        "0 2 * * *",
        "APriori",
    )
    assert schedule["enabled"] is True  # enabled unless told otherwise
    assert name in background["listedSchedules"]
    assert background["deletedScheduleId"] == schedule["scheduleId"]
    remaining = soap.ListSegmentationSchedules() or []  # zeep: the schedules, None when none
    assert schedule["scheduleId"] not in [s.scheduleId for s in remaining]
    assert name not in [s.name for s in remaining]


def test_a_portfolio_is_evaluated_given_a_cell_owner_kept_in_its_history_and_deleted(
    scenario: dict[str, Any], soap: Any
) -> None:
    portfolio = scenario["portfolio"]
    rows_run, columns_run = portfolio["rowsRun"], portfolio["columnsRun"]
    assert (rows_run["method"], rows_run["status"]) == ("ValueBased", "Completed")
    assert (columns_run["method"], columns_run["status"]) == ("NeedsBased", "Completed")
    row_count, column_count = len(rows_run["segments"]), len(columns_run["segments"])
    assert column_count == 3  # needsBased segmentCount

    created, name = portfolio["created"], f"value-x-needs-{scenario['stack']}"
    portfolio_id = created["portfolioId"]
    assert (created["name"], created["rows"], created["columns"], created["createdBy"]) == (
        name,
        "ValueBased",
        "NeedsBased",
        ANALYST.username,
    )
    assert created["owner"] and created["objective"]
    assert created["evaluated"] is False  # CreatePortfolio answers without evaluating

    first, again = portfolio["evaluation"], portfolio["reevaluation"]
    for evaluation in (first, again):  # the grid of the runs the driver just made
        assert (evaluation["rowsRunId"], evaluation["columnsRunId"]) == (
            rows_run["runId"],
            columns_run["runId"],
        )
        assert len(evaluation["cellCustomers"]) == row_count * column_count
        assert (evaluation["rowTotals"], evaluation["columnTotals"]) == (row_count, column_count)
        in_grid = sum(evaluation["cellCustomers"])
        assert in_grid + evaluation["outsideCustomers"] == rows_run["customerCount"]
    assert again["cellCustomers"] == first["cellCustomers"]  # the same runs: the same grid
    assert again["customerEquity"] == pytest.approx(first["customerEquity"])

    cell = portfolio["cell"]  # the largest cell of the first evaluation
    assert cell["customers"] == max(first["cellCustomers"]) > 0
    assert cell["owner"] is None and cell["equityChange"] is None  # a new portfolio's first
    owned = portfolio["cellOwner"]
    assert (owned["portfolioId"], owned["rowSegmentName"], owned["columnSegmentName"]) == (
        portfolio_id,
        cell["rowSegmentName"],
        cell["columnSegmentName"],
    )
    assert owned["owner"]
    reevaluated, last = portfolio["cellReevaluated"], portfolio["history"]["lastCell"]
    assert reevaluated["owner"] == last["owner"] == owned["owner"]  # read back, twice
    for later in (reevaluated, last):
        assert (later["rowSegmentCode"], later["columnSegmentCode"]) == (
            cell["rowSegmentCode"],
            cell["columnSegmentCode"],
        )
        assert later["customers"] == cell["customers"]

    history = portfolio["history"]
    assert history["portfolioId"] == portfolio_id
    # Oldest first: one evaluation per GetPortfolio; no newer run of either method came between.
    assert history["evaluationIds"] == [first["evaluationId"], again["evaluationId"]]
    assert last["equityChange"] == pytest.approx(last["customerEquity"] - cell["customerEquity"])

    assert {"portfolioId": portfolio_id, "name": name} in portfolio["listed"]
    assert portfolio["deleted"] == created  # answered as it was
    remaining = soap.ListPortfolios() or []  # zeep: the portfolios, None when none
    assert portfolio_id not in [p.portfolioId for p in remaining]
    assert name not in [p.name for p in remaining]
    missing = scenario["faults"]["PortfolioNotFoundFault"]
    assert local(missing["faultcode"]) == "Client.PortfolioNotFound"
    assert (missing["element"], missing["detail"]) == (
        "PortfolioNotFoundFault",
        {"portfolioId": str(portfolio_id)},
    )


def test_a_segments_recommended_treatment_gives_way_to_the_one_the_driver_sets(
    scenario: dict[str, Any], soap: Any
) -> None:
    treated, rows_run = scenario["segmentTreatment"], scenario["portfolio"]["rowsRun"]
    assert treated["runId"] == rows_run["runId"]  # the ValueBased run of the portfolio steps
    assert treated["segmentCode"] == rows_run["segments"][0]["code"]
    recommended = treated["recommended"]  # as SegmentCustomers answered it
    assert recommended["overridden"] is False
    assert recommended["strategy"] in strategies()
    assert recommended["message"]
    assert recommended["channel"]  # the demo customers buy through channels
    expected = {
        "strategy": "Develop",
        "channel": recommended["channel"],  # none given: the recommended one stays
        "message": f"premium bundle {scenario['stack']}",
        "overridden": True,
    }
    assert treated["answered"] == {"code": treated["segmentCode"], "treatment": expected}
    stored = soap.GetSegmentationRun(runId=treated["runId"])
    kept = {s.code: s.treatment for s in stored.segments.segment}[treated["segmentCode"]]
    assert {
        "strategy": kept.strategy,
        "channel": kept.channel,
        "message": kept.message,
        "overridden": kept.overridden,
    } == expected


def test_a_portfolio_cells_treatment_set_by_the_driver_is_read_back_from_the_next_evaluation(
    scenario: dict[str, Any],
) -> None:
    portfolio = scenario["portfolio"]
    cell, answered = portfolio["cell"], portfolio["cellTreatment"]
    recommended = cell["treatment"]  # the first evaluation's
    assert recommended["overridden"] is False
    assert recommended["strategy"] in strategies()
    assert recommended["message"]
    assert (answered["portfolioId"], answered["rowSegmentName"], answered["columnSegmentName"]) == (
        portfolio["created"]["portfolioId"],
        cell["rowSegmentName"],
        cell["columnSegmentName"],
    )
    expected = {
        "strategy": "WinBack",
        "channel": "Phone",
        "message": recommended["message"],  # none given: the recommended one stays
        "overridden": True,
    }
    assert answered["treatment"] == expected
    assert portfolio["cellReevaluated"]["treatment"] == expected  # the next GetPortfolio
    assert portfolio["history"]["lastCell"]["treatment"] == expected  # the same evaluation, kept


def zeep_movers(soap: Any, **request: Any) -> list[dict[str, Any]]:
    """Every mover of a listing as zeep decodes it, paged as the drivers page, in the drivers'
    shape (an absent segment or value is None)."""
    movers: list[dict[str, Any]] = []
    token = None
    while True:
        page = soap.ListSegmentMovers(pageSize=PAGE_SIZE, pageToken=token, **request)
        movers += [
            {
                "customerId": mover.customerId,
                "fromSegmentCode": mover.fromSegmentCode,
                "toSegmentCode": mover.toSegmentCode,
                "valueBefore": mover.valueBefore,
                "valueAfter": mover.valueAfter,
            }
            for mover in (page.movers.mover if page.movers else [])
        ]
        token = page.nextPageToken
        if token is None:
            return movers


def assert_same_movers(decoded: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """The same movers in the same order; values to within the digits each stack prints."""
    assert [m["customerId"] for m in decoded] == [m["customerId"] for m in expected]
    for mover, wanted in zip(decoded, expected, strict=True):
        assert mover == {
            key: pytest.approx(value, rel=1e-12) if isinstance(value, float) else value
            for key, value in wanted.items()
        }


def test_the_customers_moving_between_two_value_runs_are_paged_as_zeep_lists_them(
    scenario: dict[str, Any], soap: Any
) -> None:
    listing = scenario["movers"]
    runs = {"fromRunId": listing["fromRunId"], "toRunId": listing["toRunId"]}
    assert runs["toRunId"] == scenario["portfolio"]["rowsRun"]["runId"]  # the portfolio's rows
    earlier = soap.GetSegmentationRun(runId=runs["fromRunId"])
    assert (earlier.method, earlier.status) == ("ValueBased", "Completed")
    assert runs["fromRunId"] < runs["toRunId"]  # run first: the portfolio took the later one

    movers, pages, totals = listing["movers"], listing["pages"], listing["totals"]
    ids = [mover["customerId"] for mover in movers]
    assert ids == sorted(ids) and len(ids) == len(set(ids))  # in customer id order, each once
    assert len(ids) > PAGE_SIZE and len(pages) == math.ceil(len(ids) / PAGE_SIZE)
    assert all(size == PAGE_SIZE for size in pages[:-1]) and 0 < pages[-1] <= PAGE_SIZE
    assert totals == [len(ids)] * len(pages)  # every page counts them all
    assert_same_movers(movers, zeep_movers(soap, **runs))
    # Customers without a value a year back entered the tiers: absent elements decode as null.
    entered = [m for m in movers if m["fromSegmentCode"] is None]
    assert entered and all(m["valueBefore"] is None for m in entered)

    down = listing["down"]  # one page of pageSize 1000
    assert down and listing["downTotalCount"] == len(down) and listing["downNextPageToken"] is None
    by_id = {mover["customerId"]: mover for mover in movers}
    for mover in down:  # from a tier to a tier: in the full listing, as it is there
        assert mover["fromSegmentCode"] is not None and mover["toSegmentCode"] is not None
        assert by_id[mover["customerId"]] == mover
    assert_same_movers(down, zeep_movers(soap, direction="Down", **runs))


def zeep_insights(soap: Any, **request: Any) -> dict[str, list[dict[str, Any]]]:
    """GetSegmentInsights as zeep decodes it, in the drivers' shape (an empty list: [])."""
    found = soap.GetSegmentInsights(**request)
    differentiators = found.differentiators.differentiator if found.differentiators else []
    overlaps = found.overlaps.overlap if found.overlaps else []
    return {
        "differentiators": [
            {
                "feature": d.feature,
                "segmentValue": d.segmentValue,
                "baselineValue": d.baselineValue,
                "lift": d.lift,
                "pValue": d.pValue,
            }
            for d in differentiators
        ],
        "overlaps": [
            {
                "method": o.method,
                "runId": o.runId,
                "segmentCode": o.segmentCode,
                "segmentName": o.segmentName,
                "sharedCustomers": o.sharedCustomers,
                "shareOfThisSegment": o.shareOfThisSegment,
                "jaccard": o.jaccard,
            }
            for o in overlaps
        ],
    }


def assert_same_records(decoded: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """The same records in the same order: strings and integers exactly, doubles to within the
    digits each stack prints (relatively only: a pValue may be 1e-40)."""
    assert len(decoded) == len(expected), (decoded, expected)
    for record, wanted in zip(decoded, expected, strict=True):
        assert record == {
            key: pytest.approx(value, rel=1e-12, abs=0.0) if isinstance(value, float) else value
            for key, value in wanted.items()
        }


def test_a_needs_segments_insights_decode_as_zeep_decodes_them(
    scenario: dict[str, Any], soap: Any
) -> None:
    insights, needs_run = scenario["insights"], scenario["portfolio"]["columnsRun"]
    assert insights["runId"] == needs_run["runId"]  # the portfolio's columns
    sizes = {segment["code"]: segment["size"] for segment in needs_run["segments"]}
    segment_code = insights["segmentCode"]
    assert sizes[segment_code] == max(sizes.values())
    request = {"runId": insights["runId"], "segmentCode": segment_code}
    # No run of another method came after the driver's: the overlaps zeep gets are the same.
    expected = zeep_insights(soap, **request)
    assert_same_records(insights["differentiators"], expected["differentiators"])
    assert_same_records(insights["overlaps"], expected["overlaps"])
    # A needs segment differs in its needs, and overlaps the driver's latest value tiers.
    assert any(d["feature"].startswith("need:") for d in insights["differentiators"])
    value_runs = {o["runId"] for o in insights["overlaps"] if o["method"] == "ValueBased"}
    assert value_runs == {scenario["portfolio"]["rowsRun"]["runId"]}
    assert any(o["method"] == "APriori" for o in insights["overlaps"])

    against = insights["againstBaseline"]
    baseline = against["baseline"]
    assert baseline in sizes and baseline != segment_code
    expected = zeep_insights(soap, baseline=baseline, **request)
    assert_same_records(against["differentiators"], expected["differentiators"])
    assert_same_records(against["overlaps"], expected["overlaps"])

    records = [
        *insights["differentiators"],
        *insights["overlaps"],
        *against["differentiators"],
        *against["overlaps"],
    ]
    numbers = [v for r in records for v in r.values() if isinstance(v, int | float)]
    assert numbers and all(math.isfinite(number) for number in numbers)

    fault = insights["selfBaselineFault"]  # the segment as its own baseline
    assert local(fault["faultcode"]) == "Client.InvalidRequest"
    assert fault["element"] == "InvalidRequestFault"
    assert fault["detail"]["field"] == "baseline" and fault["detail"]["reason"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_example_segments_and_pages_through_the_largest_segment(
    stack: str, live_server: LiveServer
) -> None:
    output = run_client(stack, "segment_and_page", live_server.wsdl_url)

    run = re.search(r"^run (\d+): Completed, (\d+) customers in (\d+) segments$", output, re.M)
    listed = re.search(r"^segment \S+ \(.+\): listed (\d+) of (\d+) members$", output, re.M)
    assert run and listed, output
    assert int(run[3]) > 1
    assert listed[1] == listed[2] and int(listed[1]) > 25  # more than one page
