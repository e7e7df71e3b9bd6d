"""The segmentation-client package against the canonical contract; no server, no network."""

from __future__ import annotations

import ast
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from rich.console import Console
from segmentation_client import cli, polling, progress
from segmentation_client.arguments import parse_arguments
from segmentation_client.connection import FALLBACK_WSDL_URL, Connection, build_client, connect
from segmentation_client.faults import parse_fault
from segmentation_client.request_builders import STRATEGIES
from zeep.exceptions import Fault
from zeep.transports import Transport

CONTRACT_DIR = Path(__file__).parents[2] / "wsdl"
WSDL_PATH = CONTRACT_DIR / "segmentation.wsdl"
XSD_PATH = CONTRACT_DIR / "segmentation.xsd"
PACKAGE_DIR = Path(__file__).parents[2] / "clients" / "segmentation_client"
TNS = "urn:customer-segmentation:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ADDRESS = "http://segmentation.test/soap"
UTC = timezone.utc


# ------------------------------------------------------------------ helpers


# The required figures of a CustomerValueScore, as the score tests print them.
A_BUYER: dict[str, Any] = {
    "customerId": "C1",
    "transactionCount": 12,
    "totalRevenue": 1500.0,
    "totalMargin": 450.25,
    "averageOrderValue": 125.0,
    "monthlyRevenue": 62.5,
}


def new(client: Any, type_name: str, **values: Any) -> Any:
    """An instance of an XSD complex type, built with zeep's type factory."""
    return client.get_type(f"{{{TNS}}}{type_name}")(**values)


class FakeService:
    """Records every operation call and answers from a queue of canned results."""

    def __init__(self, **answers: Any) -> None:
        self.answers = {name: list(value) for name, value in answers.items()}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        def call(**kwargs: Any) -> Any:
            self.calls.append((operation, kwargs))
            answer = self.answers[operation].pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer

        return call


def run_cli(argv: list[str], service: Any) -> int:
    """cli.main with `service` in place of a connection to a real server."""

    def fake_connect(wsdl: str, endpoint: str | None, timeout: float) -> Connection:
        return Connection(service=service, address=ADDRESS)

    return cli.main(argv, connect=fake_connect)


def body_of_request(client: Any, operation: str, kwargs: dict[str, Any]) -> Any:
    """The Body child zeep would send for `operation` called with `kwargs`."""
    envelope = client.create_message(client.service, operation, **kwargs)
    return envelope.find(f"{{{SOAP_ENV}}}Body")[0]


def child_names(element: Any) -> list[str]:
    return [etree.QName(child).localname for child in element]


def texts(element: Any, path: str) -> list[str]:
    return [node.text for node in element.iterfind(path, namespaces={"t": TNS})]


def typed_detail(fault_name: str, **fields: str) -> Any:
    """A SOAP 1.1 <detail> holding one typed fault element, as zeep hands it over."""
    detail = etree.Element("detail")
    entry = etree.SubElement(detail, f"{{{TNS}}}{fault_name}")
    for name, value in fields.items():
        etree.SubElement(entry, f"{{{TNS}}}{name}").text = value
    return detail


def a_run(client: Any, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "runId": 42,
        "method": "APriori",
        "label": "Q3 review",
        "status": "Completed",
        "startedAt": datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        "finishedAt": datetime(2024, 5, 1, 10, 2, tzinfo=UTC),
        "customerCount": 4,
        "assignedCount": 3,
        "unassignedCount": 1,
        "metrics": {"metric": [{"name": "segmentCount", "value": 2.0}]},
        "segments": {
            "segment": [
                {
                    "code": "B2B-NORTH",
                    "name": "Business customers in the North",
                    "description": "B2B, North",
                    "size": 3,
                    "share": 0.75,
                    "totalValue": 12345.5,
                    "averageValue": 4115.17,
                    "profile": {
                        "entry": [
                            {"attribute": "customerType", "value": "B2B"},
                            {"attribute": "region", "value": "North"},
                        ]
                    },
                }
            ]
        },
    }
    values.update(overrides)
    return new(client, "SegmentationRun", **values)


def a_comparison(client: Any, transitions: list[tuple[str, str, int]] | None = None) -> Any:
    """A CompareSegmentationRunsResponse as zeep returns it (several children: not unwrapped)."""
    moves = transitions or [("V1", "V1", 7), ("V1", "V2", 2), ("V2", "V1", 1), ("V3", "V2", 4)]
    return client.get_element(f"{{{TNS}}}CompareSegmentationRunsResponse")(
        fromRunId=1,
        toRunId=2,
        transitions={
            "transition": [
                {
                    "fromSegmentCode": before,
                    "toSegmentCode": after,
                    "customerCount": count,
                    "valueBefore": 10.0 * count,
                    "valueAfter": 12.0 * count,
                }
                for before, after, count in moves
            ]
        },
        stayedShare=0.5,
        adjustedRandIndex=0.4321,
        enteredCount=3,
        leftCount=5,
    )


def a_member(client: Any, customer_id: str) -> Any:
    return new(client, "SegmentMember", customerId=customer_id, name=f"Name {customer_id}")


def a_members_page(client: Any, ids: list[str], next_token: str | None = None) -> Any:
    return client.get_element(f"{{{TNS}}}ListSegmentMembersResponse")(
        runId=7,
        segmentCode="GOLD",
        totalCount=5,
        members={"member": [a_member(client, customer_id) for customer_id in ids]},
        nextPageToken=next_token,
    )


def a_queued_run(client: Any, **overrides: Any) -> Any:
    """A run as SubmitSegmentation answers it: Queued, nothing counted yet."""
    submitted = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "status": "Queued",
        "finishedAt": None,
        "customerCount": 0,
        "assignedCount": 0,
        "unassignedCount": 0,
        "metrics": None,
        "segments": None,
        "startedAt": submitted,
        "queuedAt": submitted,
        "progress": 0.0,
        "phase": "Queued",
        "startedBy": "ana",
    }
    values.update(overrides)
    return a_run(client, **values)


def a_running_run(client: Any, **overrides: Any) -> Any:
    return a_queued_run(
        client, **{"status": "Running", "progress": 0.4, "phase": "Fitting"} | overrides
    )


def a_schedule(client: Any, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "scheduleId": 3,
        "name": "nightly value tiers",
        "cron": "0 2 * * *",
        "nextRunAt": datetime(2024, 5, 2, 2, 0, tzinfo=UTC),
        "enabled": True,
        "request": {"method": "ValueBased", "valueBased": {"tierCount": 3}},
        "createdBy": "ana",
    }
    values.update(overrides)
    return new(client, "SegmentationSchedule", **values)


# --------------------------------------------------------- request building

REQUEST_CASES = [
    pytest.param(
        ["segment", "--method", "APriori", "--group-by", "region", "industry"],
        "SegmentCustomers",
        ["method", "aPriori"],
        id="apriori-with-group-by",
    ),
    pytest.param(
        ["segment", "--method", "APriori", "--label", "Q3", "--customer-id", "C1"],
        "SegmentCustomers",
        ["method", "label", "customerIds"],
        id="apriori-without-group-by-sends-no-block",
    ),
    pytest.param(
        ["segment", "--method", "NeedsBased", "--segment-count", "4"],
        "SegmentCustomers",
        ["method", "needsBased"],
        id="needs-based-with-segment-count",
    ),
    pytest.param(
        ["segment", "--method", "NeedsBased"],
        "SegmentCustomers",
        ["method"],
        id="needs-based-without-parameters",
    ),
    pytest.param(
        ["segment", "--method", "ValueBased", "--value-metric", "Clv", "--tier-count", "5"],
        "SegmentCustomers",
        ["method", "valueBased"],
        id="value-based-with-both-parameters",
    ),
    pytest.param(
        ["customer-segment", "C1"],
        "GetCustomerSegment",
        ["customerId"],
        id="customer-segment-by-id-only",
    ),
    pytest.param(
        ["customer-segment", "C1", "--method", "NeedsBased", "--run-id", "3"],
        "GetCustomerSegment",
        ["customerId", "method", "runId"],
        id="customer-segment-with-method-and-run",
    ),
    pytest.param(
        ["score", "C1", "C2"],
        "ScoreCustomerValue",
        ["customerIds"],
        id="score-ids-only",
    ),
    pytest.param(
        ["score", "C1", "--horizon-months", "24", "--discount-rate", "0.1"],
        "ScoreCustomerValue",
        ["customerIds", "horizonMonths", "annualDiscountRate"],
        id="score-with-horizon-and-rate",
    ),
    pytest.param(
        ["score", "C1", "--as-of-date", "2024-06-30"],
        "ScoreCustomerValue",
        ["customerIds", "asOfDate"],
        id="score-as-of-a-day",
    ),
    pytest.param(
        ["members", "GOLD", "--run-id", "7"],
        "ListSegmentMembers",
        ["segmentCode", "runId"],
        id="members-by-run",
    ),
    pytest.param(
        ["members", "GOLD", "--method", "ValueBased", "--page-size", "50", "--page-token", "p2"],
        "ListSegmentMembers",
        ["segmentCode", "method", "pageSize", "pageToken"],
        id="members-by-method-with-paging",
    ),
    pytest.param(
        ["segment", "--method", "NeedsBased", "--min-answered-share", "0.6"],
        "SegmentCustomers",
        ["method", "needsBased"],
        id="needs-based-with-min-answered-share",
    ),
    pytest.param(
        ["segment", "--method", "ValueBased", "--as-of-date", "2024-06-30"],
        "SegmentCustomers",
        ["method", "valueBased"],
        id="value-based-with-as-of-date",
    ),
    pytest.param(
        ["segment", "--method", "APriori", "--minimum-segment-size", "5"],
        "SegmentCustomers",
        ["method", "aPriori"],
        id="apriori-with-minimum-segment-size",
    ),
    pytest.param(["run", "5"], "GetSegmentationRun", ["runId"], id="run"),
    pytest.param(["runs"], "ListSegmentationRuns", [], id="runs-without-options"),
    pytest.param(
        ["runs", "--method", "ValueBased", "--limit", "5", "--before", "9"],
        "ListSegmentationRuns",
        ["method", "limit", "before"],
        id="runs-with-every-option",
    ),
    pytest.param(
        ["compare", "1", "2"], "CompareSegmentationRuns", ["fromRunId", "toRunId"], id="compare"
    ),
    pytest.param(
        ["owner", "3", "V1", "Key accounts"],
        "SetSegmentOwner",
        ["runId", "segmentCode", "owner"],
        id="owner",
    ),
    pytest.param(
        ["runs", "--status", "Queued", "--status", "Cancelled"],
        "ListSegmentationRuns",
        ["statuses"],
        id="runs-with-statuses",
    ),
    pytest.param(["submit", "--method", "APriori"], "SubmitSegmentation", ["method"], id="submit"),
    pytest.param(
        ["submit", "--method", "ValueBased", "--tier-count", "3", "--idempotency-key", "k-1"],
        "SubmitSegmentation",
        ["method", "valueBased", "idempotencyKey"],
        id="submit-with-idempotency-key",
    ),
    pytest.param(
        ["submit", "--method", "NeedsBased", "--label", "Q3", "--customer-id", "C1,C2"],
        "SubmitSegmentation",
        ["method", "label", "customerIds"],
        id="submit-label-and-customers",
    ),
    pytest.param(["cancel", "5"], "CancelSegmentationRun", ["runId"], id="cancel"),
    pytest.param(
        ["schedule", "add", "--name", "nightly", "--cron", "0 2 * * *", "--method", "APriori"],
        "CreateSegmentationSchedule",
        ["name", "cron", "request"],
        id="schedule-add",
    ),
    pytest.param(
        ["schedule", "add", "--name", "n", "--cron", "*/5 * * * *", "--method", "APriori"]
        + ["--disabled"],
        "CreateSegmentationSchedule",
        ["name", "cron", "request", "enabled"],
        id="schedule-add-disabled",
    ),
    pytest.param(["schedule", "list"], "ListSegmentationSchedules", [], id="schedule-list"),
    pytest.param(
        ["schedule", "remove", "3"], "DeleteSegmentationSchedule", ["scheduleId"], id="schedule-rm"
    ),
    pytest.param(
        ["segment", "--method", "Behavioural"],
        "SegmentCustomers",
        ["method"],
        id="behavioural-without-parameters-sends-no-block",
    ),
    pytest.param(
        ["segment", "--method", "Behavioural", "--features", "Basket", "--label", "B"],
        "SegmentCustomers",
        ["method", "label", "behavioural"],
        id="behavioural-with-features",
    ),
    pytest.param(
        ["submit", "--method", "Behavioural", "--idempotency-key", "k-1"]
        + ["--lookback-months", "12"],
        "SubmitSegmentation",
        ["method", "idempotencyKey", "behavioural"],
        id="submit-behavioural-after-the-idempotency-key",
    ),
    pytest.param(
        ["schedule", "add", "--name", "n", "--cron", "0 2 * * *", "--method", "Behavioural"]
        + ["--segment-count", "5"],
        "CreateSegmentationSchedule",
        ["name", "cron", "request"],
        id="schedule-add-behavioural",
    ),
    pytest.param(
        ["runs", "--method", "Behavioural"],
        "ListSegmentationRuns",
        ["method"],
        id="runs-of-behavioural-runs",
    ),
    pytest.param(
        ["members", "B1", "--method", "Behavioural"],
        "ListSegmentMembers",
        ["segmentCode", "method"],
        id="members-of-the-latest-behavioural-run",
    ),
    pytest.param(
        ["customer-segment", "C1", "--method", "Behavioural"],
        "GetCustomerSegment",
        ["customerId", "method"],
        id="customer-segment-of-behavioural-runs",
    ),
]


def sent_request(client: Any, argv: list[str], operation: str) -> dict[str, Any]:
    """Run the CLI against a recording fake and return the kwargs of the one call."""
    canned = {
        "SegmentCustomers": a_run(client),
        "GetCustomerSegment": None,
        "ScoreCustomerValue": new(client, "ScoreCustomerValueResponse"),
        "ListSegmentMembers": a_members_page(client, ["C1"]),
        "GetSegmentationRun": a_run(client),
        "ListSegmentationRuns": None,
        "CompareSegmentationRuns": a_comparison(client),
        "SetSegmentOwner": a_run(client).segments.segment[0],
        "SubmitSegmentation": a_queued_run(client),
        "CancelSegmentationRun": a_running_run(client),
        "CreateSegmentationSchedule": a_schedule(client),
        "ListSegmentationSchedules": None,
        "DeleteSegmentationSchedule": a_schedule(client),
    }[operation]
    service = FakeService(**{operation: [canned]})
    assert run_cli(["--json", *argv], service) == 0
    [(called, kwargs)] = service.calls
    assert called == operation
    return kwargs


@pytest.mark.parametrize(("argv", "operation", "expected_children"), REQUEST_CASES)
def test_each_subcommand_sends_a_schema_valid_request_with_exactly_the_elements_given(
    client: Any,
    schema: etree.XMLSchema,
    argv: list[str],
    operation: str,
    expected_children: list[str],
) -> None:
    body = body_of_request(client, operation, sent_request(client, argv, operation))
    schema.assertValid(body)
    assert etree.QName(body).localname == operation
    assert child_names(body) == expected_children


def test_segment_request_for_apriori_sends_only_the_apriori_block(
    client: Any, schema: etree.XMLSchema
) -> None:
    argv = ["segment", "--method", "APriori", "--group-by", "region,industry", "ageBand"]
    body = body_of_request(
        client, "SegmentCustomers", sent_request(client, argv, "SegmentCustomers")
    )
    schema.assertValid(body)
    assert texts(body, "t:aPriori/t:groupBy/t:attribute") == ["region", "industry", "ageBand"]
    assert body.find(f"{{{TNS}}}needsBased") is None
    assert body.find(f"{{{TNS}}}valueBased") is None
    assert body.find(f"{{{TNS}}}label") is None


def test_segment_request_flattens_repeated_and_comma_separated_customer_ids(
    client: Any, schema: etree.XMLSchema
) -> None:
    argv = ["segment", "--method", "ValueBased", "--customer-id", "C1, C2", "--customer-id", "C3"]
    body = body_of_request(
        client, "SegmentCustomers", sent_request(client, argv, "SegmentCustomers")
    )
    schema.assertValid(body)
    assert texts(body, "t:customerIds/t:customerId") == ["C1", "C2", "C3"]
    assert body.find(f"{{{TNS}}}valueBased") is None


def test_needs_based_request_leaves_out_the_parameter_that_was_not_given(
    client: Any, schema: etree.XMLSchema
) -> None:
    argv = ["segment", "--method", "NeedsBased", "--random-seed", "0"]
    body = body_of_request(
        client, "SegmentCustomers", sent_request(client, argv, "SegmentCustomers")
    )
    schema.assertValid(body)
    assert child_names(body.find(f"{{{TNS}}}needsBased")) == ["randomSeed"]
    assert texts(body, "t:needsBased/t:randomSeed") == ["0"]


@pytest.mark.parametrize(
    "argv",
    [
        ["segment", "--method", "APriori", "--segment-count", "3"],
        ["segment", "--method", "NeedsBased", "--group-by", "region"],
        ["segment", "--method", "NeedsBased", "--value-metric", "Rfm"],
        ["segment", "--method", "APriori", "--group-by", "shoeSize"],
        ["members", "GOLD"],
        ["members", "GOLD", "--run-id", "1", "--method", "APriori"],
        ["segment", "--method", "APriori", "--pca-components", "2"],
        ["segment", "--method", "APriori", "--centre-respondents"],
        ["segment", "--method", "NeedsBased", "--as-of-date", "2024-01-01"],
        ["segment", "--method", "NeedsBased", "--rules-file", "rules.json"],
        ["segment", "--method", "ValueBased", "--company-size-bands", "Small:50,Large"],
        ["segment", "--method", "ValueBased", "--as-of-date", "yesterday"],
        ["score", "C1", "--as-of-date", "2024-02-30"],
        ["segment", "--method", "APriori", "--company-size-bands", "Micro:10,Large:250"],
        ["segment", "--method", "APriori", "--age-bands", "Young"],
        ["segment", "--method", "APriori", "--age-bands", "Young:thirty,Old"],
        ["segment", "--method", "APriori", "--age-bands", ":30,Old"],
        ["segment", "--method", "APriori", "--group-by", "region", "--rules-file", "r.json"],
        ["segment", "--method", "APriori", "--rules-file", "/no/such/rules.json"],
        ["run"],
        ["compare", "1"],
        ["owner", "1", "V1"],
        ["export", "--segment", "V1", "--out", "x.csv"],
        ["export", "--run", "1", "--out", "x.csv"],
        ["export", "--run", "1", "--segment", "V1"],
        ["report", "--out", "x.html"],
        ["report", "--run", "1"],
        ["report", "--run", "1", "--compare", "1", "--out", "x.html"],
        ["runs", "--status", "Paused"],
        ["submit"],
        ["submit", "--method", "APriori", "--segment-count", "3"],
        ["submit", "--method", "APriori", "--idempotency-key", ""],
        ["submit", "--method", "APriori", "--idempotency-key", "k" * 101],
        ["submit", "--method", "APriori", "--wait", "--poll-seconds", "0"],
        ["wait"],
        ["wait", "five"],
        ["wait", "5", "--max-wait", "-1"],
        ["cancel"],
        ["schedule"],
        ["schedule", "pause", "3"],
        ["schedule", "add", "--cron", "0 2 * * *", "--method", "APriori"],
        ["schedule", "add", "--name", "n", "--method", "APriori"],
        ["schedule", "add", "--name", "n", "--cron", "0 2 * *", "--method", "APriori"],
        ["schedule", "add", "--name", "n", "--cron", "0 2 * * *"],
        ["schedule", "add", "--name", "n", "--cron", "0 2 * * *", "--method", "NeedsBased"]
        + ["--tier-count", "3"],
        ["schedule", "remove"],
        ["segment", "--method", "Behavioural", "--group-by", "region"],
        ["segment", "--method", "Behavioural", "--pca-components", "2"],
        ["segment", "--method", "Behavioural", "--tier-count", "3"],
        ["segment", "--method", "Behavioural", "--horizon-months", "6"],
        ["segment", "--method", "Behavioural", "--features", "Shoes"],
        ["segment", "--method", "Behavioural", "--lookback-months", "two"],
        ["segment", "--method", "NeedsBased", "--features", "Basket"],
        ["segment", "--method", "ValueBased", "--lookback-months", "12"],
        ["segment", "--method", "APriori", "--random-seed", "1"],
        ["submit", "--method", "ValueBased", "--features", "Basket"],
        ["schedule", "add", "--name", "n", "--cron", "0 2 * * *", "--method", "NeedsBased"]
        + ["--lookback-months", "12"],
        ["runs", "--method", "Behavioral"],
    ],
)
def test_options_that_do_not_fit_the_request_are_usage_errors_with_status_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_arguments(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["score", "C1"], False),
        (["--json", "score", "C1"], True),
        (["score", "C1", "--json"], True),
        (["runs", "--json"], True),
        (["--json", "compare", "1", "2"], True),
    ],
)
def test_json_option_is_accepted_before_or_after_the_subcommand(
    argv: list[str], expected: bool
) -> None:
    assert parse_arguments(argv).json is expected


def test_wsdl_defaults_to_the_environment_variable_then_to_localhost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SEGMENTATION_WSDL", raising=False)
    assert (
        parse_arguments(["score", "C1"]).wsdl
        == FALLBACK_WSDL_URL
        == ("http://127.0.0.1:8000/soap?wsdl")
    )
    monkeypatch.setenv("SEGMENTATION_WSDL", "http://crm.example/soap?wsdl")
    assert parse_arguments(["score", "C1"]).wsdl == "http://crm.example/soap?wsdl"
    assert parse_arguments(["--wsdl", "x.wsdl", "score", "C1"]).wsdl == "x.wsdl"


def test_endpoint_option_overrides_the_soap_address_of_the_wsdl() -> None:
    assert connect(str(WSDL_PATH)).address == "http://localhost:8000/soap"
    assert connect(str(WSDL_PATH), "http://10.0.0.5:9000/soap").address == (
        "http://10.0.0.5:9000/soap"
    )


def test_timeout_applies_to_operations_and_to_loading_the_wsdl() -> None:
    transport = build_client(str(WSDL_PATH), timeout=12.5).transport
    assert transport.operation_timeout == 12.5
    assert transport.load_timeout == 12.5
    assert parse_arguments(["score", "C1"]).timeout == 300


# ------------------------------------------------------------------- faults

TYPED_FAULTS = [
    ("CustomerNotFoundFault", {"customerId": "C404"}),
    ("RunNotFoundFault", {"runId": "99"}),
    ("SegmentNotFoundFault", {"runId": "7", "segmentCode": "NOPE"}),
    ("InvalidRequestFault", {"field": "pageSize", "reason": "must be 1..1000"}),
]


@pytest.mark.parametrize(("fault_name", "fields"), TYPED_FAULTS)
def test_typed_fault_detail_becomes_its_fault_name_and_fields(
    fault_name: str, fields: dict[str, str]
) -> None:
    fault = Fault("not found", code="soap11env:Client", detail=typed_detail(fault_name, **fields))
    parsed = parse_fault(fault)
    assert parsed.name == fault_name
    assert parsed.detail == fields
    assert parsed.message == "not found"
    assert parsed.code == "soap11env:Client"


def test_typed_fault_is_picked_out_of_a_detail_with_other_children() -> None:
    detail = typed_detail("RunNotFoundFault", runId="12")
    detail.insert(0, etree.Element("{http://vendor.example/trace}traceId"))
    detail.insert(0, etree.Comment("server log id 123"))
    parsed = parse_fault(Fault("Run 12 not found", code="soap:Client", detail=detail))
    assert (parsed.name, parsed.detail) == ("RunNotFoundFault", {"runId": "12"})


@pytest.mark.parametrize("detail", [None, etree.Element("detail"), b"<raw>envelope</raw>"])
def test_fault_without_typed_detail_is_named_after_its_code(detail: Any) -> None:
    assert parse_fault(Fault("boom", code="soap:Server", detail=detail)).name == "ServerFault"
    assert parse_fault(Fault("bad", code="soap:Client", detail=detail)).name == "ClientFault"
    assert parse_fault(Fault("boom", code="soap:Server", detail=detail)).detail == {}


@pytest.mark.parametrize(
    ("code", "expected_status"),
    [("soap:Client", 2), ("SOAP-ENV:Client.InvalidRequest", 2), ("soap:Server", 1), (None, 1)],
)
def test_faults_blaming_the_client_exit_2_and_others_exit_1(
    code: str | None, expected_status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(GetCustomerSegment=[Fault("it failed", code=code)])
    assert run_cli(["customer-segment", "C1"], service) == expected_status
    assert capsys.readouterr().err.startswith("error: it failed\n")


def test_fault_prints_its_message_and_detail_fields_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    detail = typed_detail("SegmentNotFoundFault", runId="7", segmentCode="NOPE")
    fault = Fault("Segment NOPE not found in run 7", code="soap:Client", detail=detail)
    assert (
        run_cli(["members", "NOPE", "--run-id", "7"], FakeService(ListSegmentMembers=[fault])) == 2
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "error: Segment NOPE not found in run 7"
    assert "  fault: SegmentNotFoundFault (soap:Client)" in lines
    assert "  runId: 7" in lines
    assert "  segmentCode: NOPE" in lines


def test_fault_in_json_mode_is_a_json_object_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    detail = typed_detail("CustomerNotFoundFault", customerId="C404")
    fault = Fault("Customer C404 not found", code="soap:Client", detail=detail)
    status = run_cli(
        ["--json", "customer-segment", "C404"], FakeService(GetCustomerSegment=[fault])
    )
    assert status == 2
    assert json.loads(capsys.readouterr().out) == {
        "fault": "CustomerNotFoundFault",
        "code": "soap:Client",
        "message": "Customer C404 not found",
        "detail": {"customerId": "C404"},
    }


# --------------------------------------------------------- transport errors


def test_unreachable_wsdl_is_one_error_line_naming_the_url_and_status_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def refusing_connect(wsdl: str, endpoint: str | None, timeout: float) -> Connection:
        raise requests.ConnectionError(
            "HTTPConnectionPool(host='127.0.0.1', port=8000): Max retries exceeded "
            "(Caused by NewConnectionError('<conn>: Failed to establish a new connection: "
            "[Errno 111] Connection refused'))"
        )

    status = cli.main(
        ["--wsdl", "http://127.0.0.1:8000/soap?wsdl", "score", "C1"], connect=refusing_connect
    )
    assert status == 1
    assert capsys.readouterr().err == (
        "error: cannot connect to http://127.0.0.1:8000/soap?wsdl: connection refused\n"
    )


def test_missing_local_wsdl_file_is_an_error_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.wsdl"
    assert cli.main(["--wsdl", str(missing), "score", "C1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {missing}")
    assert len(err.splitlines()) == 1


def test_operation_timeout_names_the_endpoint_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    service = FakeService(SegmentCustomers=[requests.ReadTimeout("read timed out")])
    assert run_cli(["--timeout", "5", "segment", "--method", "NeedsBased"], service) == 1
    assert capsys.readouterr().err == f"error: {ADDRESS}: no answer within 5 s (see --timeout)\n"


class CannedTransport(Transport):  # type: ignore[misc]
    """Answers every POST with one canned HTTP response; loads the WSDL from disk."""

    def __init__(self, body: str, status: int = 200, content_type: str = "text/xml") -> None:
        super().__init__()
        self.body, self.status, self.content_type = body, status, content_type
        self.posted: list[bytes] = []

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        self.posted.append(message)
        response = requests.Response()
        response.status_code = self.status
        response._content = self.body.encode()
        response.headers["Content-Type"] = self.content_type
        return response


def run_cli_over_http(argv: list[str], transport: CannedTransport) -> int:
    """cli.main with the real zeep client, talking to `transport` instead of a server."""

    def canned_connect(wsdl: str, endpoint: str | None, timeout: float) -> Connection:
        service = zeep.Client(str(WSDL_PATH), transport=transport).create_service(
            f"{{{TNS}}}SegmentationBinding", ADDRESS
        )
        return Connection(service=service, address=ADDRESS)

    return cli.main(argv, connect=canned_connect)


def soap_envelope(body: str) -> str:
    return f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>{body}</s:Body></s:Envelope>'


@pytest.mark.parametrize(
    ("page", "status", "expected_error"),
    [
        ("<html><body>Bad gateway</html", 502, "HTTP 502 answer is not a SOAP message"),
        (
            "<html><body>Bad gateway</body></html>",
            502,
            "the answer is neither a SOAP response nor a fault",
        ),
        ("<html><body>Welcome</body></html>", 200, "the answer is not a SOAP or WSDL document"),
    ],
    ids=["malformed-html", "well-formed-html", "xml-without-envelope"],
)
def test_http_answer_without_soap_is_one_error_line_naming_the_endpoint_and_status_1(
    page: str, status: int, expected_error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = CannedTransport(page, status, "text/html")
    assert run_cli_over_http(["score", "C1"], transport) == 1
    captured = capsys.readouterr()
    assert captured.err == f"error: {ADDRESS}: {expected_error}\n"
    assert captured.out == ""


def test_http_error_status_when_loading_the_wsdl_is_named_in_the_error_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    not_found = requests.Response()
    not_found.status_code, not_found.reason = 404, "Not Found"

    def failing_connect(wsdl: str, endpoint: str | None, timeout: float) -> Connection:
        raise requests.HTTPError("404 Client Error", response=not_found)

    assert cli.main(["--wsdl", "http://crm.test/wsdl", "score", "C1"], connect=failing_connect) == 1
    assert capsys.readouterr().err == "error: http://crm.test/wsdl: HTTP 404 Not Found\n"


def test_soap_fault_on_the_wire_reaches_the_user_as_a_typed_fault(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fault = (
        "<s:Fault><faultcode>s:Client</faultcode><faultstring>Run 99 not found</faultstring>"
        f'<detail><RunNotFoundFault xmlns="{TNS}"><runId>99</runId></RunNotFoundFault></detail>'
        "</s:Fault>"
    )
    transport = CannedTransport(soap_envelope(fault), status=500)
    assert run_cli_over_http(["--json", "members", "GOLD", "--run-id", "99"], transport) == 2
    printed = json.loads(capsys.readouterr().out)
    assert printed["fault"] == "RunNotFoundFault"
    assert printed["detail"] == {"runId": "99"}


# ---------------------------------------------------------------- rendering


def test_segment_prints_the_run_summary_metrics_and_segments_with_condensed_profile(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(SegmentCustomers=[a_run(client)])
    assert run_cli(["segment", "--method", "APriori"], service) == 0
    out = capsys.readouterr().out
    for expected in (
        "runId",
        "42",
        "Q3 review",
        "Completed",
        "2024-05-01T10:02:00+00:00",
        "unassignedCount",
        "segmentCount",
        "B2B-NORTH",
        "Business customers in the North",
        "75.0%",
        "12,345.50",
        "4,115.17",
        "customerType=B2B; region=North",
    ):
        assert expected in out


def test_segment_output_is_not_cut_to_80_columns_when_piped(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    long_name = "Customers who " + "buy a lot " * 15 + "every month"
    run = a_run(client)
    run.segments.segment[0].name = long_name
    assert run_cli(["segment", "--method", "APriori"], FakeService(SegmentCustomers=[run])) == 0
    assert long_name in capsys.readouterr().out


def test_segment_json_is_the_response_element_with_every_list_present(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run = a_run(client, metrics=None, segments=None)
    assert (
        run_cli(["--json", "segment", "--method", "APriori"], FakeService(SegmentCustomers=[run]))
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == ["run"]
    assert printed["run"]["runId"] == 42
    assert printed["run"]["startedAt"] == "2024-05-01T10:00:00+00:00"
    assert printed["run"]["metrics"] == {"metric": []}
    assert printed["run"]["segments"] == {"segment": []}


def test_customer_segment_prints_each_assignment(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assignment = new(
        client,
        "CustomerSegment",
        customerId="C1",
        runId=3,
        method="ValueBased",
        segmentCode="GOLD",
        segmentName="Gold tier",
        assignedAt=datetime(2024, 5, 2, 8, 30, tzinfo=UTC),
        score=0.87312,
        reason="top 25% by margin [Margin]",
    )
    # zeep unwraps GetCustomerSegmentResponse twice, into a bare list of assignments.
    assert run_cli(["customer-segment", "C1"], FakeService(GetCustomerSegment=[[assignment]])) == 0
    out = capsys.readouterr().out
    for expected in ("ValueBased", "GOLD", "Gold tier", "2024-05-02T08:30:00+00:00", "0.8731"):
        assert expected in out
    assert "top 25% by margin [Margin]" in out


def test_customer_segment_with_no_assignments_prints_a_friendly_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # An empty <assignments/> reaches zeep's caller as None.
    assert run_cli(["customer-segment", "C9"], FakeService(GetCustomerSegment=[None])) == 0
    assert capsys.readouterr().out == "Customer C9 is not in any segment of a completed run yet.\n"


def test_customer_segment_over_the_wire_handles_empty_and_filled_lists(
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = f'<GetCustomerSegmentResponse xmlns="{TNS}"><assignments/></GetCustomerSegmentResponse>'
    assert (
        run_cli_over_http(
            ["--json", "customer-segment", "C1"], CannedTransport(soap_envelope(empty))
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out) == {"assignments": {"assignment": []}}

    filled = (
        f'<GetCustomerSegmentResponse xmlns="{TNS}"><assignments><assignment>'
        "<customerId>C1</customerId><runId>3</runId><method>APriori</method>"
        "<segmentCode>B2B</segmentCode><segmentName>Business</segmentName>"
        "<assignedAt>2024-05-02T08:30:00Z</assignedAt>"
        "</assignment></assignments></GetCustomerSegmentResponse>"
    )
    transport = CannedTransport(soap_envelope(filled))
    assert run_cli_over_http(["--json", "customer-segment", "C1"], transport) == 0
    [assignment] = json.loads(capsys.readouterr().out)["assignments"]["assignment"]
    assert assignment["segmentCode"] == "B2B"
    assert assignment["assignedAt"] == "2024-05-02T08:30:00+00:00"
    assert b"<ns0:customerId>C1</ns0:customerId>" in transport.posted[0]


def test_score_prints_every_value_field_and_the_unknown_ids(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    score = new(
        client,
        "CustomerValueScore",
        **A_BUYER,
        recencyDays=30,
        rfmScore="545",
        rfmSegment="Champions",
        predictedClv=2222.22,
        valueTier="Gold",
    )
    response = new(
        client,
        "ScoreCustomerValueResponse",
        scores={"score": [score]},
        unknownCustomerIds={"customerId": ["X1", "X2"]},
    )
    assert run_cli(["score", "C1", "X1", "X2"], FakeService(ScoreCustomerValue=[response])) == 0
    out = capsys.readouterr().out
    for header in (
        "customerId transactionCount firstPurchaseDate lastPurchaseDate recencyDays "
        "totalRevenue totalMargin averageOrderValue monthlyRevenue rfmScore rfmSegment "
        "predictedClv valueTier"
    ).split():
        assert header in out
    for value in ("450.25", "1,500.00", "545", "Champions", "2,222.22", "Gold"):
        assert value in out
    assert "Unknown customer ids: X1, X2" in out


def test_score_without_unknown_ids_prints_no_unknown_line(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    response = new(client, "ScoreCustomerValueResponse", scores=None, unknownCustomerIds=None)
    assert run_cli(["score", "C1"], FakeService(ScoreCustomerValue=[response])) == 0
    assert "Unknown" not in capsys.readouterr().out


def test_score_json_has_both_lists(client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    response = new(
        client, "ScoreCustomerValueResponse", scores=None, unknownCustomerIds={"customerId": ["X1"]}
    )
    assert run_cli(["--json", "score", "X1"], FakeService(ScoreCustomerValue=[response])) == 0
    assert json.loads(capsys.readouterr().out) == {
        "scores": {"score": []},
        "unknownCustomerIds": {"customerId": ["X1"]},
    }


def test_members_prints_the_page_and_its_next_page_token(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    page = a_members_page(client, ["C1", "C2"], next_token="p2")
    assert (
        run_cli(["members", "GOLD", "--run-id", "7"], FakeService(ListSegmentMembers=[page])) == 0
    )
    out = capsys.readouterr().out
    for expected in ("runId", "7", "GOLD", "totalCount", "5", "Name C1", "Name C2"):
        assert expected in out
    assert "nextPageToken: p2" in out


def test_members_json_is_the_page_as_sent_by_the_service(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    page = a_members_page(client, ["C1"])
    assert (
        run_cli(
            ["--json", "members", "GOLD", "--run-id", "7"], FakeService(ListSegmentMembers=[page])
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"runId", "segmentCode", "totalCount", "members", "nextPageToken"}
    assert [member["customerId"] for member in printed["members"]["member"]] == ["C1"]
    assert printed["nextPageToken"] is None


# ------------------------------------------------------------------- paging


@pytest.fixture
def three_pages(client: Any) -> Iterator[FakeService]:
    yield FakeService(
        ListSegmentMembers=[
            a_members_page(client, ["C1", "C2"], next_token="p2"),
            a_members_page(client, ["C3", "C4"], next_token="p3"),
            a_members_page(client, ["C5"]),
        ]
    )


def test_members_all_follows_page_tokens_in_order_and_prints_each_member_once(
    three_pages: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["members", "GOLD", "--method", "ValueBased", "--page-size", "2", "--all"]
    assert run_cli(argv, three_pages) == 0
    assert [kwargs.get("pageToken") for _, kwargs in three_pages.calls] == [None, "p2", "p3"]
    assert all(kwargs["pageSize"] == 2 for _, kwargs in three_pages.calls)
    out = capsys.readouterr().out
    for customer_id in ("C1", "C2", "C3", "C4", "C5"):
        assert out.count(f"Name {customer_id}") == 1
    assert "nextPageToken" not in out


def test_members_all_pins_later_pages_to_the_run_of_the_first_page(
    three_pages: FakeService,
) -> None:
    assert (
        run_cli(["--json", "members", "GOLD", "--method", "ValueBased", "--all"], three_pages) == 0
    )
    first, *later = [kwargs for _, kwargs in three_pages.calls]
    assert first == {"segmentCode": "GOLD", "method": "ValueBased"}
    assert later == [
        {"segmentCode": "GOLD", "runId": 7, "pageToken": "p2"},
        {"segmentCode": "GOLD", "runId": 7, "pageToken": "p3"},
    ]


def test_members_all_json_is_one_object_with_every_member(
    three_pages: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["--json", "members", "GOLD", "--run-id", "7", "--all"], three_pages) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == ["runId", "segmentCode", "totalCount", "members"]
    assert (printed["runId"], printed["segmentCode"], printed["totalCount"]) == (7, "GOLD", 5)
    assert [member["customerId"] for member in printed["members"]] == ["C1", "C2", "C3", "C4", "C5"]


def test_members_all_stops_with_an_error_when_the_service_repeats_a_token(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    looping = FakeService(
        ListSegmentMembers=[
            a_members_page(client, ["C1"], next_token="p2"),
            a_members_page(client, ["C2"], next_token="p2"),
        ]
    )
    assert run_cli(["members", "GOLD", "--run-id", "7", "--all"], looping) == 1
    assert "page token 'p2' twice" in capsys.readouterr().err


# ------------------------------------------------------------ independence


def test_client_package_never_imports_the_service_package() -> None:
    imported: set[str] = set()
    for source in PACKAGE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
    assert imported, "found no imports: wrong package path?"
    assert not any(name.split(".")[0] == "segmentation_service" for name in imported)


# ------------------------------------------------------- contract 1.1 options


def block_of(client: Any, argv: list[str], block: str) -> Any:
    """The schema-valid SegmentCustomers body for `argv`, and its `block` element."""
    body = body_of_request(
        client, "SegmentCustomers", sent_request(client, argv, "SegmentCustomers")
    )
    etree.XMLSchema(file=str(XSD_PATH)).assertValid(body)
    return body, body.find(f"{{{TNS}}}{block}")


def test_needs_based_options_are_sent_in_schema_order(client: Any) -> None:
    argv = [
        "segment",
        "--method",
        "NeedsBased",
        "--pca-components",
        "3",
        "--centre-respondents",
        "--min-answered-share",
        "0.75",
        "--segment-count",
        "5",
    ]
    body, block = block_of(client, argv, "needsBased")
    assert child_names(block) == [
        "segmentCount",
        "minAnsweredShare",
        "centreRespondents",
        "pcaComponents",
    ]
    assert texts(body, "t:needsBased/t:minAnsweredShare") == ["0.75"]
    assert texts(body, "t:needsBased/t:centreRespondents") == ["true"]
    assert texts(body, "t:needsBased/t:pcaComponents") == ["3"]


def test_no_centre_respondents_sends_false(client: Any) -> None:
    argv = ["segment", "--method", "NeedsBased", "--no-centre-respondents"]
    body, block = block_of(client, argv, "needsBased")
    assert child_names(block) == ["centreRespondents"]
    assert texts(body, "t:needsBased/t:centreRespondents") == ["false"]


def test_value_based_options_are_sent_in_schema_order(client: Any) -> None:
    argv = [
        "segment",
        "--method",
        "ValueBased",
        "--discount-rate",
        "0.08",
        "--horizon-months",
        "24",
        "--as-of-date",
        "2024-06-30",
        "--value-metric",
        "Clv",
    ]
    body, block = block_of(client, argv, "valueBased")
    assert child_names(block) == ["valueMetric", "asOfDate", "horizonMonths", "annualDiscountRate"]
    assert texts(body, "t:valueBased/t:asOfDate") == ["2024-06-30"]
    assert texts(body, "t:valueBased/t:horizonMonths") == ["24"]
    assert texts(body, "t:valueBased/t:annualDiscountRate") == ["0.08"]


RULES = [
    {
        "segmentCode": "LARGE",
        "segmentName": "Large companies",
        "conditions": [
            {"attribute": "employeeCount", "operator": "GreaterOrEqual", "values": [250]},
            {"attribute": "annualRevenue", "operator": "Between", "values": [1e6, "5000000"]},
        ],
    },
    {
        "segmentCode": "NO-REGION",
        "segmentName": "Region unknown",
        "conditions": [{"attribute": "region", "operator": "IsMissing"}],
    },
]


def test_a_priori_rules_file_bands_default_and_minimum_are_sent_in_schema_order(
    client: Any, tmp_path: Path
) -> None:
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(json.dumps(RULES), encoding="utf-8")
    argv = [
        "segment",
        "--method",
        "APriori",
        "--age-bands",
        "Young:30, Middle:60 ,Senior",
        "--company-size-bands",
        "Micro:10,Small:50,Medium:250,Large",
        "--rules-file",
        str(rules_file),
        "--default-segment-code",
        "REST",
        "--minimum-segment-size",
        "3",
    ]
    body, block = block_of(client, argv, "aPriori")
    assert child_names(block) == [
        "rules",
        "defaultSegmentCode",
        "companySizeBands",
        "ageBands",
        "minimumSegmentSize",
    ]
    assert texts(body, "t:aPriori/t:rules/t:rule/t:segmentCode") == ["LARGE", "NO-REGION"]
    first, second = block.iterfind("t:rules/t:rule", namespaces={"t": TNS})
    assert texts(first, "t:conditions/t:condition/t:operator") == ["GreaterOrEqual", "Between"]
    assert texts(first, "t:conditions/t:condition/t:values/t:value") == [
        "250",
        "1000000.0",
        "5000000",
    ]
    (missing,) = second.iterfind("t:conditions/t:condition", namespaces={"t": TNS})
    assert child_names(missing) == ["attribute", "operator"]
    assert texts(body, "t:aPriori/t:companySizeBands/t:band/t:name") == [
        "Micro",
        "Small",
        "Medium",
        "Large",
    ]
    assert texts(body, "t:aPriori/t:companySizeBands/t:band/t:upperBound") == [
        "10.0",
        "50.0",
        "250.0",
    ]
    assert texts(body, "t:aPriori/t:ageBands/t:band/t:name") == ["Young", "Middle", "Senior"]
    assert texts(body, "t:aPriori/t:defaultSegmentCode") == ["REST"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not JSON"),
        ("{}", "non-empty JSON list of rules"),
        ("[]", "non-empty JSON list of rules"),
        ('[{"segmentCode": "A", "segmentName": "A"}]', 'rule 1: "conditions" must be'),
        (
            '[{"segmentCode": "A", "segmentName": "A", "conditions": '
            '[{"attribute": "region", "operator": "Equals", "values": ["N"]}]}, '
            '{"segmentCode": "B", "segmentName": "B", "conditions": '
            '[{"attribute": "region", "operator": "In", "values": [true]}]}]',
            "rule 2, condition 1, value 1: a value must be a string or a number",
        ),
        (
            '[{"segmentCode": "A", "segmentName": "A", "condition": []}]',
            "rule 1: unknown key 'condition'",
        ),
        (
            '[{"segmentCode": "A", "segmentName": "A", "conditions": '
            '[{"attribute": "region", "operator": "Equals", "values": "N"}]}]',
            'rule 1, condition 1: "values" must be a list',
        ),
        (
            '[{"segmentCode": "", "segmentName": "A", "conditions": '
            '[{"attribute": "region", "operator": "IsMissing"}]}]',
            'rule 1: "segmentCode" must be a non-empty string',
        ),
    ],
)
def test_a_bad_rules_file_is_a_usage_error_saying_where(
    content: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        parse_arguments(["segment", "--method", "APriori", "--rules-file", str(rules_file)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"--rules-file: {rules_file}: " in err
    assert expected in err


def test_segment_help_documents_the_rules_file_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_arguments(["segment", "--help"])
    out = capsys.readouterr().out
    for expected in ('"segmentCode"', '"conditions"', '"values"', "IsMissing", "GreaterOrEqual"):
        assert expected in out


# ------------------------------------------------- contract 1.1 rendering


def a_profitable_run(client: Any, **overrides: Any) -> Any:
    run = a_run(
        client,
        startedBy="ana",
        lossMakingSegments={"segmentCode": ["B2C-SOUTH"]},
        **overrides,
    )
    first = run.segments.segment[0]
    first.revenue, first.cost, first.profit, first.profitable = 9000.0, 4000.25, 4999.75, True
    first.owner = "Key accounts [EMEA]"
    loser = new(
        client,
        "Segment",
        code="B2C-SOUTH",
        name="Consumers in the South",
        description="B2C, South",
        size=1,
        share=0.25,
        totalValue=-12.5,
        averageValue=-12.5,
        profile={"entry": []},
        revenue=100.0,
        cost=350.5,
        profit=-250.5,
        profitable=False,
    )
    run.segments.segment.append(loser)
    return run


def test_segment_table_shows_revenue_cost_profit_owner_and_the_run_s_losses(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(SegmentCustomers=[a_profitable_run(client)])
    assert run_cli(["segment", "--method", "APriori"], service) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "profile" in line and "code" in line)
    assert header.split() == [
        "code",
        "name",
        "size",
        "share",
        "totalValue",
        "averageValue",
        "revenue",
        "cost",
        "profit",
        "owner",
        "treatment",
        "profile",
    ]
    for expected in ("9,000.00", "4,000.25", "4,999.75", "Key accounts [EMEA]", "-250.50"):
        assert expected in out
    summary = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert summary["startedBy"] == ["ana"]
    assert summary["lossMakingSegments"] == ["B2C-SOUTH"]
    assert "failureReason" not in out


def test_summary_leaves_out_the_1_1_fields_the_service_did_not_send(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run_cli(["segment", "--method", "APriori"], FakeService(SegmentCustomers=[a_run(client)]))
        == 0
    )
    out = capsys.readouterr().out
    for absent in ("startedBy", "failureReason", "lossMakingSegments"):
        assert absent not in out


def test_run_shows_a_failed_run_with_its_reason(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = a_run(
        client,
        status="Failed",
        finishedAt=None,
        metrics=None,
        segments=None,
        failureReason="BG/NBD could not be fitted",
        startedBy="ana",
    )
    assert run_cli(["run", "42"], FakeService(GetSegmentationRun=[failed])) == 0
    out = capsys.readouterr().out
    assert "Failed" in out
    assert "failureReason" in out and "BG/NBD could not be fitted" in out
    assert "No segments." in out

    assert run_cli(["--json", "run", "42"], FakeService(GetSegmentationRun=[failed])) == 0
    printed = json.loads(capsys.readouterr().out)["run"]
    assert printed["failureReason"] == "BG/NBD could not be fitted"
    assert printed["segments"] == {"segment": []}
    assert printed["lossMakingSegments"] == {"segmentCode": []}


def test_runs_lists_one_line_per_run_and_points_to_older_runs_when_the_page_is_full(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = [a_profitable_run(client, runId=9), a_run(client, runId=8, method="ValueBased")]
    # zeep unwraps ListSegmentationRunsResponse twice, into a bare list of runs.
    assert run_cli(["runs", "--limit", "2"], FakeService(ListSegmentationRuns=[runs])) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines()]
    nine = next(line for line in lines if line[:2] == ["9", "APriori"])
    assert nine[-2:] == ["2", "B2C-SOUTH"]
    assert any(line[:2] == ["8", "ValueBased"] for line in lines)
    assert "older runs: --before 8" in out

    assert run_cli(["runs", "--limit", "3"], FakeService(ListSegmentationRuns=[runs])) == 0
    assert "older runs" not in capsys.readouterr().out


def test_runs_over_the_wire_handles_an_empty_list(capsys: pytest.CaptureFixture[str]) -> None:
    empty = f'<ListSegmentationRunsResponse xmlns="{TNS}"><runs/></ListSegmentationRunsResponse>'
    transport = CannedTransport(soap_envelope(empty))
    assert run_cli_over_http(["--json", "runs", "--method", "NeedsBased"], transport) == 0
    assert json.loads(capsys.readouterr().out) == {"runs": {"run": []}}
    assert run_cli_over_http(["runs"], CannedTransport(soap_envelope(empty))) == 0
    assert capsys.readouterr().out == "No runs.\n"


def test_compare_prints_the_migration_matrix_with_totals_and_the_summary(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(CompareSegmentationRuns=[a_comparison(client)])
    assert run_cli(["compare", "1", "2"], service) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["from"] == ["\\", "to", "V1", "V2", "total"]
    assert rows["V1"] == ["7", "2", "9"]
    assert rows["V2"] == ["1", ".", "1"]
    assert rows["V3"] == [".", "4", "4"]
    assert rows["total"] == ["8", "6", "14"]
    assert rows["stayedShare"] == ["50.0%"]
    assert rows["adjustedRandIndex"] == ["0.4321"]
    assert rows["enteredCount"] == ["3"]
    assert rows["leftCount"] == ["5"]


def test_compare_json_is_the_response_element(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(CompareSegmentationRuns=[a_comparison(client)])
    assert run_cli(["--json", "compare", "1", "2"], service) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == [
        "fromRunId",
        "toRunId",
        "transitions",
        "stayedShare",
        "adjustedRandIndex",
        "enteredCount",
        "leftCount",
    ]
    assert printed["transitions"]["transition"][1] == {
        "fromSegmentCode": "V1",
        "toSegmentCode": "V2",
        "customerCount": 2,
        "valueBefore": 20.0,
        "valueAfter": 24.0,
    }


def test_compare_over_the_wire_with_no_common_customers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answer = (
        f'<CompareSegmentationRunsResponse xmlns="{TNS}"><fromRunId>1</fromRunId>'
        "<toRunId>2</toRunId><transitions/><stayedShare>0</stayedShare>"
        "<adjustedRandIndex>0</adjustedRandIndex><enteredCount>4</enteredCount>"
        "<leftCount>6</leftCount></CompareSegmentationRunsResponse>"
    )
    assert run_cli_over_http(["compare", "1", "2"], CannedTransport(soap_envelope(answer))) == 0
    out = capsys.readouterr().out
    assert "No customer is assigned in both runs." in out
    assert "leftCount          6" in out


def test_owner_prints_the_updated_segment(client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    segment = a_profitable_run(client).segments.segment[0]
    assert (
        run_cli(
            ["owner", "42", "B2B-NORTH", "Key accounts [EMEA]"],
            FakeService(SetSegmentOwner=[segment]),
        )
        == 0
    )
    out = capsys.readouterr().out
    fields = {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines()}
    assert fields["owner"] == "Key accounts [EMEA]"
    assert fields["code"] == "B2B-NORTH"
    assert fields["profit"] == "4,999.75"
    assert fields["profitable"] == "true"

    answer = f'<SetSegmentOwnerResponse xmlns="{TNS}"><segment><code>B2B</code><name>B</name>'
    answer += "<description>d</description><size>1</size><share>1</share><totalValue>1</totalValue>"
    answer += "<averageValue>1</averageValue><profile/><owner>Jo</owner></segment>"
    answer += "</SetSegmentOwnerResponse>"
    transport = CannedTransport(soap_envelope(answer))
    assert run_cli_over_http(["--json", "owner", "1", "B2B", "Jo"], transport) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["segment"]["owner"] == "Jo"
    assert printed["segment"]["profile"] == {"entry": []}
    assert b"<ns0:owner>Jo</ns0:owner>" in transport.posted[0]


def test_score_shows_probability_alive_expected_purchases_and_acquisition_cost(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    score = new(
        client,
        "CustomerValueScore",
        **A_BUYER,
        probabilityAlive=0.90183,
        expectedPurchases=14.49818,
        acquisitionCost=1234.5,
    )
    response = new(client, "ScoreCustomerValueResponse", scores={"score": [score]})
    assert run_cli(["score", "C1"], FakeService(ScoreCustomerValue=[response])) == 0
    out = capsys.readouterr().out
    header, row = (line.split() for line in out.splitlines()[2:5:2])
    assert header[-3:] == ["probabilityAlive", "expectedPurchases", "acquisitionCost"]
    assert row[-3:] == ["0.9018", "14.4982", "1,234.50"]


def test_score_shows_the_predictions_of_contract_1_5_in_their_own_table(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    predicted = new(
        client,
        "CustomerValueScore",
        **A_BUYER,
        probabilityAlive=0.9,
        churnRisk="Low",
        expectedPurchasesLow=2,
        expectedPurchasesHigh=9,
        predictedClvLow=120.5,
        predictedClvHigh=2210.0,
        expectedDaysToNextPurchase=23.25,
    )
    gone = new(
        client,
        "CustomerValueScore",
        customerId="C2",
        transactionCount=1,
        totalRevenue=10.0,
        totalMargin=1.0,
        averageOrderValue=10.0,
        monthlyRevenue=1.0,
        probabilityAlive=0.1,
        churnRisk="High",
        expectedPurchasesLow=0,
        expectedPurchasesHigh=0,
        predictedClvLow=-5.0,
        predictedClvHigh=0.0,
    )
    response = new(client, "ScoreCustomerValueResponse", scores={"score": [predicted, gone]})
    assert run_cli(["score", "C1", "C2"], FakeService(ScoreCustomerValue=[response])) == 0
    out = capsys.readouterr().out
    assert "Predictions (80% intervals)" in out
    lines = out[out.index("Predictions") :].splitlines()
    rows = {line.split()[0]: line for line in lines if line.strip().startswith("C")}
    assert rows["C1"].split() == ["C1", "Low", "2", "–", "9", "120.50", "–", "2,210.00", "23.25"]
    assert rows["C2"].split()[:5] == ["C2", "High", "0", "–", "0"]


def test_score_without_predictions_prints_no_prediction_table(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    score = new(
        client,
        "CustomerValueScore",
        customerId="C1",
        transactionCount=0,
        totalRevenue=0.0,
        totalMargin=0.0,
        averageOrderValue=0.0,
        monthlyRevenue=0.0,
    )
    response = new(client, "ScoreCustomerValueResponse", scores={"score": [score]})
    assert run_cli(["score", "C1"], FakeService(ScoreCustomerValue=[response])) == 0
    assert "Predictions" not in capsys.readouterr().out


# ------------------------------------------------- background runs (1.3)


def test_runs_sends_each_status_once_in_the_order_given(
    client: Any, schema: etree.XMLSchema
) -> None:
    argv = ["runs", "--status", "Queued", "--status", "Running", "--status", "Queued"]
    body = body_of_request(
        client, "ListSegmentationRuns", sent_request(client, argv, "ListSegmentationRuns")
    )
    schema.assertValid(body)
    assert texts(body, "t:statuses/t:status") == ["Queued", "Running"]


def test_submit_sends_the_segment_request_then_the_idempotency_key(
    client: Any, schema: etree.XMLSchema
) -> None:
    argv = ["submit", "--method", "APriori", "--group-by", "region", "--idempotency-key", "nightly"]
    kwargs = sent_request(client, argv, "SubmitSegmentation")
    segment_kwargs = sent_request(client, ["segment", *argv[1:5]], "SegmentCustomers")
    assert kwargs == {**segment_kwargs, "idempotencyKey": "nightly"}
    body = body_of_request(client, "SubmitSegmentation", kwargs)
    schema.assertValid(body)
    assert texts(body, "t:aPriori/t:groupBy/t:attribute") == ["region"]
    assert child_names(body)[-1] == "idempotencyKey"


def test_schedule_add_nests_the_segment_request_and_sends_enabled_only_when_disabled(
    client: Any, schema: etree.XMLSchema
) -> None:
    argv = ["schedule", "add", "--name", "nightly", "--cron", " 0  2 * * 1-5 "]
    argv += ["--method", "ValueBased", "--tier-count", "3", "--customer-id", "C1,C2", "--disabled"]
    body = body_of_request(
        client,
        "CreateSegmentationSchedule",
        sent_request(client, argv, "CreateSegmentationSchedule"),
    )
    schema.assertValid(body)
    assert texts(body, "t:name") == ["nightly"]
    assert texts(body, "t:cron") == ["0 2 * * 1-5"]
    assert child_names(body.find(f"{{{TNS}}}request")) == ["method", "customerIds", "valueBased"]
    assert texts(body, "t:request/t:valueBased/t:tierCount") == ["3"]
    assert texts(body, "t:request/t:customerIds/t:customerId") == ["C1", "C2"]
    assert texts(body, "t:enabled") == ["false"]


def test_nested_schedule_commands_are_named_with_their_action() -> None:
    assert parse_arguments(["schedule", "list"]).command == "schedule list"
    assert parse_arguments(["schedule", "remove", "4", "--json"]).json is True
    added = parse_arguments(
        ["schedule", "add", "--name", "n", "--cron", "0 2 * * *"]
        + ["--method", "APriori", "--group-by", "region,industry"]
    )
    assert (added.command, added.group_by, added.disabled) == (
        "schedule add",
        ["region", "industry"],
        False,
    )


def test_wait_polls_every_0_5_s_doubling_to_5_s_without_a_limit_by_default() -> None:
    args = parse_arguments(["wait", "7"])
    assert (args.run_id, args.poll_seconds, args.max_wait) == (7, 5.0, None)
    delays = polling.poll_delays()
    assert [next(delays) for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    capped = polling.poll_delays(maximum=0.2)
    assert [next(capped) for _ in range(3)] == [0.2, 0.2, 0.2]
    submit = parse_arguments(["submit", "--method", "APriori", "--wait", "--max-wait", "90"])
    assert (submit.wait, submit.max_wait, submit.idempotency_key) == (True, 90.0, None)


class FakeClock:
    """time.monotonic and time.sleep for polling tests: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def runs_answering(*statuses: str) -> Callable[[], dict[str, Any]]:
    answers = iter([{"runId": 1, "status": status} for status in statuses])
    return lambda: next(answers)


def test_wait_for_run_backs_off_until_the_run_has_ended() -> None:
    clock = FakeClock()
    seen: list[str] = []
    outcome = polling.wait_for_run(
        runs_answering("Queued", "Running", "Running", "Running", "Completed"),
        on_poll=lambda run: seen.append(run["status"]),
        sleep=clock.sleep,
        clock=clock,
    )
    assert outcome.finished and outcome.run["status"] == "Completed"
    assert clock.slept == [0.5, 1.0, 2.0, 4.0]
    assert outcome.waited_seconds == 7.5
    assert seen == ["Queued", "Running", "Running", "Running", "Completed"]
    assert polling.exit_status(outcome) == 0


def test_wait_for_run_starts_from_the_run_given_and_polls_after_the_first_delay() -> None:
    clock = FakeClock()
    outcome = polling.wait_for_run(
        runs_answering("Failed"),
        current={"runId": 1, "status": "Queued"},
        sleep=clock.sleep,
        clock=clock,
    )
    assert clock.slept == [0.5]
    assert polling.exit_status(outcome) == polling.EXIT_RUN_FAILED


def test_wait_for_run_gives_up_at_max_wait_with_the_run_as_last_seen() -> None:
    clock = FakeClock()
    outcome = polling.wait_for_run(
        runs_answering(*["Running"] * 10), max_wait=2.0, sleep=clock.sleep, clock=clock
    )
    assert clock.slept == [0.5, 1.0, 0.5]  # the last delay shortened to the time left
    assert not outcome.finished and outcome.run["status"] == "Running"
    assert polling.exit_status(outcome) == polling.EXIT_STILL_RUNNING == 3


def test_submit_prints_the_queued_run_and_how_to_follow_it(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(SubmitSegmentation=[a_queued_run(client)])
    assert run_cli(["submit", "--method", "APriori"], service) == 0
    out = capsys.readouterr().out
    fields = {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines()}
    assert fields["runId"] == "42"
    assert fields["status"] == "Queued"
    assert fields["queuedAt"] == "2024-05-01T10:00:00+00:00"
    assert "follow it: segmentation-client wait 42" in out

    service = FakeService(SubmitSegmentation=[a_queued_run(client)])
    assert run_cli(["--json", "submit", "--method", "APriori"], service) == 0
    printed = json.loads(capsys.readouterr().out)["run"]
    assert (printed["runId"], printed["status"], printed["phase"]) == (42, "Queued", "Queued")
    assert printed["segments"] == {"segment": []}


def test_submit_wait_polls_the_submitted_run_and_prints_it_as_segment_does(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(
        SubmitSegmentation=[a_queued_run(client)],
        GetSegmentationRun=[a_running_run(client), a_run(client)],
    )
    argv = ["submit", "--method", "APriori", "--wait", "--poll-seconds", "0.01"]
    assert run_cli(argv, service) == 0
    assert [call[0] for call in service.calls] == [
        "SubmitSegmentation",
        "GetSegmentationRun",
        "GetSegmentationRun",
    ]
    assert service.calls[1][1] == {"runId": 42}
    captured = capsys.readouterr()
    assert "Completed" in captured.out and "B2B-NORTH" in captured.out
    assert "follow it" not in captured.out
    assert captured.err == ""


@pytest.mark.parametrize(
    ("status", "reason", "expected_error"),
    [
        (
            "Failed",
            "BG/NBD could not be fitted",
            "error: run 42 Failed: BG/NBD could not be fitted",
        ),
        ("Cancelled", None, "error: run 42 Cancelled"),
    ],
)
def test_wait_for_a_run_that_failed_or_was_cancelled_exits_1_naming_the_reason(
    client: Any,
    capsys: pytest.CaptureFixture[str],
    status: str,
    reason: str | None,
    expected_error: str,
) -> None:
    ended = a_queued_run(client, status=status, failureReason=reason, progress=None, phase=None)
    service = FakeService(GetSegmentationRun=[ended])
    assert run_cli(["wait", "42"], service) == polling.EXIT_RUN_FAILED == 1
    captured = capsys.readouterr()
    assert captured.err == expected_error + "\n"
    assert status in captured.out

    service = FakeService(GetSegmentationRun=[ended])
    assert run_cli(["--json", "wait", "42"], service) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["run"]["status"] == status
    assert captured.err == ""


def test_wait_that_runs_out_of_time_exits_3_and_prints_the_run_as_it_stands(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(GetSegmentationRun=[a_running_run(client)] * 50)
    argv = ["wait", "42", "--poll-seconds", "0.01", "--max-wait", "0.05"]
    assert run_cli(argv, service) == 3
    captured = capsys.readouterr()
    fields = {line.split()[0]: " ".join(line.split()[1:]) for line in captured.out.splitlines()}
    assert (fields["status"], fields["phase"], fields["progress"]) == (
        "Running",
        "Fitting",
        "40.0%",
    )
    assert captured.err.startswith("error: run 42 is still Running (phase Fitting, 40% done)")
    assert "segmentation-client wait 42" in captured.err


def test_wait_on_a_terminal_shows_a_bar_with_the_phase_and_percentage(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(progress, "is_interactive", lambda: True)
    monkeypatch.setattr(
        progress,
        "progress_console",
        lambda: Console(file=screen, force_terminal=True, width=120, color_system=None),
    )
    service = FakeService(GetSegmentationRun=[a_running_run(client), a_run(client)])
    # rich redraws 10 times a second: poll slowly enough for the Running state to be drawn.
    assert run_cli(["wait", "42", "--poll-seconds", "0.3"], service) == 0
    shown = screen.getvalue()
    assert "Run 42 (APriori): Fitting" in shown
    assert "40%" in shown

    screen.truncate(0)
    service = FakeService(GetSegmentationRun=[a_running_run(client), a_run(client)])
    assert run_cli(["wait", "42", "--quiet", "--poll-seconds", "0.01"], service) == 0
    assert screen.getvalue() == ""


def test_wait_for_an_unknown_run_is_the_typed_fault_with_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    detail = typed_detail("RunNotFoundFault", runId="99")
    fault = Fault("Run 99 not found", code="soap:Client", detail=detail)
    assert run_cli(["wait", "99"], FakeService(GetSegmentationRun=[fault])) == 2
    assert "  runId: 99" in capsys.readouterr().err.splitlines()


def test_cancel_prints_the_run_as_it_stands_and_a_finished_run_is_a_client_fault(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run_cli(["cancel", "42"], FakeService(CancelSegmentationRun=[a_running_run(client)])) == 0
    )
    out = capsys.readouterr().out
    fields = {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines()}
    assert (fields["runId"], fields["status"], fields["phase"]) == ("42", "Running", "Fitting")

    detail = typed_detail("InvalidRequestFault", field="runId", reason="run 42 has already ended")
    fault = Fault("run 42 is Completed", code="soap:Client.InvalidRequest", detail=detail)
    assert run_cli(["cancel", "42"], FakeService(CancelSegmentationRun=[fault])) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "  fault: InvalidRequestFault (soap:Client.InvalidRequest)" in captured.err
    assert "  field: runId" in captured.err


def test_completed_run_shows_queued_at_but_no_phase_or_progress(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    done = a_queued_run(client, status="Completed", progress=1.0, phase="Done", customerCount=4)
    assert run_cli(["run", "42"], FakeService(GetSegmentationRun=[done])) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert "queuedAt" in names
    assert "phase" not in names and "progress" not in names


def test_schedule_add_and_remove_print_the_schedule(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["schedule", "add", "--name", "nightly value tiers", "--cron", "0 2 * * *"]
    argv += ["--method", "ValueBased", "--tier-count", "3"]
    assert run_cli(argv, FakeService(CreateSegmentationSchedule=[a_schedule(client)])) == 0
    out = capsys.readouterr().out
    fields = {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines()}
    assert fields["scheduleId"] == "3"
    assert fields["cron"] == "0 2 * * *"
    assert fields["nextRunAt"] == "2024-05-02T02:00:00+00:00"
    assert fields["enabled"] == "true"
    assert fields["request"] == "ValueBased tierCount=3"

    removed = a_schedule(client, lastRunId=17)
    assert (
        run_cli(
            ["--json", "schedule", "remove", "3"], FakeService(DeleteSegmentationSchedule=[removed])
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)["schedule"]
    assert (printed["scheduleId"], printed["lastRunId"]) == (3, 17)
    assert printed["request"]["customerIds"] == {"customerId": []}


def schedules_response(*schedules: str) -> str:
    return (
        f'<ListSegmentationSchedulesResponse xmlns="{TNS}"><schedules>{"".join(schedules)}'
        "</schedules></ListSegmentationSchedulesResponse>"
    )


SCHEDULE_XML = (
    "<schedule><scheduleId>{id}</scheduleId><name>{name}</name><cron>0 2 * * *</cron>"
    "<nextRunAt>2024-05-02T02:00:00Z</nextRunAt>{last}<enabled>{enabled}</enabled>"
    "<request><method>APriori</method><customerIds><customerId>C1</customerId></customerIds>"
    "<aPriori><groupBy><attribute>region</attribute><attribute>industry</attribute></groupBy>"
    "</aPriori></request></schedule>"
)


def test_schedule_list_over_the_wire_handles_none_one_and_several_schedules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        run_cli_over_http(
            ["schedule", "list"], CannedTransport(soap_envelope(schedules_response()))
        )
        == 0
    )
    assert capsys.readouterr().out == "No schedules.\n"

    one = SCHEDULE_XML.format(id=1, name="nightly", last="<lastRunId>9</lastRunId>", enabled="true")
    transport = CannedTransport(soap_envelope(schedules_response(one)))
    assert run_cli_over_http(["--json", "schedule", "list"], transport) == 0
    (schedule,) = json.loads(capsys.readouterr().out)["schedules"]["schedule"]
    assert (schedule["name"], schedule["lastRunId"], schedule["enabled"]) == ("nightly", 9, True)
    assert schedule["request"]["customerIds"] == {"customerId": ["C1"]}

    other = SCHEDULE_XML.format(id=2, name="weekly", last="", enabled="false")
    transport = CannedTransport(soap_envelope(schedules_response(one, other)))
    assert run_cli_over_http(["schedule", "list"], transport) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    weekly = next(row for row in rows if row[:2] == ["2", "weekly"])
    assert weekly[7:10] == ["false", "2024-05-02T02:00:00+00:00", "-"]
    assert " ".join(weekly[-4:]) == "APriori groupBy=region,industry; 1 customers"


def test_submit_and_cancel_over_the_wire_read_the_unwrapped_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = (
        "<run><runId>8</runId><method>NeedsBased</method><status>Queued</status>"
        "<startedAt>2024-05-01T10:00:00Z</startedAt><customerCount>0</customerCount>"
        "<assignedCount>0</assignedCount><unassignedCount>0</unassignedCount><metrics/>"
        "<segments/><progress>0</progress><phase>Queued</phase>"
        "<queuedAt>2024-05-01T10:00:00Z</queuedAt></run>"
    )
    for operation, argv in (
        ("SubmitSegmentation", ["submit", "--method", "NeedsBased", "--idempotency-key", "k"]),
        ("CancelSegmentationRun", ["cancel", "8"]),
    ):
        answer = f'<{operation}Response xmlns="{TNS}">{run}</{operation}Response>'
        transport = CannedTransport(soap_envelope(answer))
        assert run_cli_over_http(["--json", *argv], transport) == 0
        printed = json.loads(capsys.readouterr().out)["run"]
        assert (printed["runId"], printed["status"], printed["phase"]) == (8, "Queued", "Queued")
        assert printed["metrics"] == {"metric": []}
    assert b"<ns0:runId>8</ns0:runId>" in transport.posted[0]


@pytest.mark.parametrize("command", [["wait"], ["submit"]])
def test_wait_help_documents_the_exit_statuses(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_arguments([*command, "--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "0 the run Completed" in help_text
    assert "1 the run Failed or was Cancelled" in help_text
    assert "3 --max-wait ran out first; the run goes on" in help_text


# ------------------------------------------------- behavioural runs (1.4)


@pytest.mark.parametrize(
    ("options", "path", "expected"),
    [
        pytest.param(
            ["--features", "ChannelMix,Recency", "Basket"],
            "features/t:feature",
            ["ChannelMix", "Recency", "Basket"],
            id="features",
        ),
        pytest.param(
            ["--features", "ChannelMix,CategoryMix,Frequency,Basket"]
            + ["--features", "Returns", "Interval", "Tenure", "Recency"],
            "features/t:feature",
            [
                "ChannelMix",
                "CategoryMix",
                "Frequency",
                "Basket",
                "Returns",
                "Interval",
                "Tenure",
                "Recency",
            ],
            id="all-eight-features",
        ),
        pytest.param(["--segment-count", "6"], "segmentCount", ["6"], id="segment-count"),
        pytest.param(["--random-seed", "0"], "randomSeed", ["0"], id="random-seed-0"),
        pytest.param(["--as-of-date", "2024-06-30"], "asOfDate", ["2024-06-30"], id="as-of-date"),
        pytest.param(["--lookback-months", "36"], "lookbackMonths", ["36"], id="lookback-months"),
    ],
)
def test_each_behavioural_option_alone_sends_a_behavioural_block_with_just_that_element(
    client: Any, options: list[str], path: str, expected: list[str]
) -> None:
    body, block = block_of(client, ["segment", "--method", "Behavioural", *options], "behavioural")
    assert child_names(body) == ["method", "behavioural"]
    assert child_names(block) == [path.split("/")[0]]
    assert texts(body, f"t:behavioural/t:{path}") == expected


def test_behavioural_options_are_sent_in_schema_order_naming_each_feature_once(
    client: Any,
) -> None:
    argv = ["segment", "--method", "Behavioural", "--lookback-months", "12"]
    argv += ["--as-of-date", "2024-06-30", "--random-seed", "7", "--segment-count", "4"]
    argv += ["--features", "Recency,Basket", "--features", "ChannelMix", "Basket"]
    body, block = block_of(client, argv, "behavioural")
    assert child_names(block) == [
        "features",
        "segmentCount",
        "randomSeed",
        "asOfDate",
        "lookbackMonths",
    ]
    assert texts(body, "t:behavioural/t:features/t:feature") == ["Recency", "Basket", "ChannelMix"]
    assert texts(body, "t:behavioural/t:segmentCount") == ["4"]
    assert texts(body, "t:behavioural/t:randomSeed") == ["7"]
    assert texts(body, "t:behavioural/t:asOfDate") == ["2024-06-30"]
    assert texts(body, "t:behavioural/t:lookbackMonths") == ["12"]
    for other in ("aPriori", "needsBased", "valueBased"):
        assert body.find(f"{{{TNS}}}{other}") is None


def test_submit_and_schedule_add_send_the_behavioural_block_where_the_schema_puts_it(
    client: Any, schema: etree.XMLSchema
) -> None:
    options = ["--method", "Behavioural", "--features", "Returns", "--segment-count", "5"]
    submitted = sent_request(
        client, ["submit", *options, "--idempotency-key", "k"], "SubmitSegmentation"
    )
    segmented = sent_request(client, ["segment", *options], "SegmentCustomers")
    assert submitted == {**segmented, "idempotencyKey": "k"}
    body = body_of_request(client, "SubmitSegmentation", submitted)
    schema.assertValid(body)
    assert child_names(body) == ["method", "idempotencyKey", "behavioural"]
    assert texts(body, "t:behavioural/t:features/t:feature") == ["Returns"]

    argv = ["schedule", "add", "--name", "n", "--cron", "0 2 * * *", *options]
    body = body_of_request(
        client,
        "CreateSegmentationSchedule",
        sent_request(client, argv, "CreateSegmentationSchedule"),
    )
    schema.assertValid(body)
    assert child_names(body.find(f"{{{TNS}}}request")) == ["method", "behavioural"]
    assert texts(body, "t:request/t:behavioural/t:segmentCount") == ["5"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["segment", "--method", "NeedsBased", "--features", "Basket"],
            "--features applies only to --method Behavioural",
        ),
        (
            ["submit", "--method", "APriori", "--lookback-months", "12"],
            "--lookback-months applies only to --method Behavioural",
        ),
        (
            ["segment", "--method", "APriori", "--segment-count", "3"],
            "--segment-count applies only to --method NeedsBased or Behavioural",
        ),
        (
            ["segment", "--method", "ValueBased", "--random-seed", "3"],
            "--random-seed applies only to --method NeedsBased or Behavioural",
        ),
        (
            ["schedule", "add", "--name", "n", "--cron", "0 2 * * *", "--method", "NeedsBased"]
            + ["--as-of-date", "2024-01-01"],
            "--as-of-date applies only to --method ValueBased or Behavioural",
        ),
        (
            ["segment", "--method", "Behavioural", "--tier-count", "3"],
            "--tier-count applies only to --method ValueBased",
        ),
        (
            ["segment", "--method", "Behavioural", "--min-answered-share", "0.5"],
            "--min-answered-share applies only to --method NeedsBased",
        ),
        (
            ["segment", "--method", "Behavioural", "--features", "Basket,Shoes"],
            "--features: unknown feature Shoes (choose from ChannelMix, CategoryMix",
        ),
    ],
)
def test_an_option_given_with_a_method_it_does_not_belong_to_is_refused_naming_its_methods(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_arguments(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def a_behavioural_run(client: Any) -> Any:
    profile = [
        ("channel.Online", "0.82"),
        ("channel.Online.zScore", "+1.20"),
        ("purchasesPerYear", "14.20"),
        ("purchasesPerYear.zScore", "-0.35"),
    ]
    return a_run(
        client,
        runId=51,
        method="Behavioural",
        label=None,
        metrics={
            "metric": [
                {"name": "behaviour.k", "value": 2.0},
                {"name": "behaviour.silhouette", "value": 0.41237},
                {"name": "behaviour.withoutPurchases", "value": 1.0},
            ]
        },
        segments={
            "segment": [
                {
                    "code": "B1",
                    "name": "Online-first, frequent",
                    "size": 3,
                    "share": 0.75,
                    "totalValue": 900.0,
                    "averageValue": 300.0,
                    "profile": {"entry": [{"attribute": a, "value": v} for a, v in profile]},
                }
            ]
        },
    )


def test_a_behavioural_run_shows_its_metrics_and_each_mean_with_its_z_score(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(SegmentCustomers=[a_behavioural_run(client)])
    assert run_cli(["segment", "--method", "Behavioural", "--features", "ChannelMix"], service) == 0
    out = capsys.readouterr().out
    summary = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert summary["method"] == ["Behavioural"]
    assert summary["behaviour.k"] == ["2"]
    assert summary["behaviour.silhouette"] == ["0.4124"]
    assert summary["behaviour.withoutPurchases"] == ["1"]
    assert "channel.Online=0.82 (+1.20); purchasesPerYear=14.20 (-0.35)" in out
    assert ".zScore" not in out


def test_a_schedule_of_a_behavioural_run_shows_its_parameters(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    request = {
        "method": "Behavioural",
        "behavioural": {"features": {"feature": ["ChannelMix", "Basket"]}, "lookbackMonths": 12},
    }
    argv = ["schedule", "add", "--name", "n", "--cron", "0 2 * * *", "--method", "Behavioural"]
    service = FakeService(CreateSegmentationSchedule=[a_schedule(client, request=request)])
    assert run_cli(argv, service) == 0
    fields = {
        line.split()[0]: " ".join(line.split()[1:]) for line in capsys.readouterr().out.splitlines()
    }
    assert fields["request"] == "Behavioural features=ChannelMix,Basket lookbackMonths=12"


# ------------------------------------------------- portfolios and treatments (1.4)

ROWS = (("V1", "Platinum"), ("V2", "Gold"))
COLUMNS = (("N1", "Speed & Price"), ("N2", "Brand & Quality"))


def a_treatment(
    strategy: str = "Retain",
    *,
    overridden: bool = False,
    channel: str | None = "Email",
    message: str = "thank and reward",
) -> dict[str, Any]:
    return {
        "strategy": strategy,
        "channel": channel,
        "message": message,
        "reason": f"{strategy}: the figures behind it",
        "overridden": overridden,
    }


def a_cell(
    row: tuple[str, str] | None,
    column: tuple[str, str] | None,
    customers: int,
    equity: float,
    **extra: Any,
) -> dict[str, Any]:
    """A PortfolioCell; without a row (column) it is a column (row) total, without both
    the customers outside the grid."""
    cell: dict[str, Any] = {
        "customers": customers,
        "revenue": 10.0 * customers,
        "cost": 4.0 * customers,
        "profit": 6.0 * customers,
        "acquisitionCost": 1.0 * customers,
        "customerEquity": equity,
        **extra,
    }
    if row is not None:
        cell.update(rowSegmentCode=row[0], rowSegmentName=row[1])
    if column is not None:
        cell.update(columnSegmentCode=column[0], columnSegmentName=column[1])
    return cell


def an_evaluation(
    evaluation_id: int = 9, shift: float = 0.0, **changes: float | None
) -> dict[str, Any]:
    """A 2 x 2 grid (value tiers x needs segments); `shift` moves every cell's equity."""
    (v1, v2), (n1, n2) = ROWS, COLUMNS
    cells = [
        a_cell(v1, n1, 12, 5000.0 + shift, owner="Bea", treatment=a_treatment("Retain")),
        a_cell(
            v1,
            n2,
            3,
            1200.5 + shift,
            treatment=a_treatment("Develop", overridden=True, message="premium bundle"),
        ),
        a_cell(v2, n1, 20, -250.75 + shift, treatment=a_treatment("ReduceCostToServe")),
        a_cell(v2, n2, 5, 800.0 + shift, treatment=a_treatment("Maintain", channel=None)),
    ]
    for cell in cells:
        cell["equityChange"] = changes.get(cell["rowSegmentCode"] + cell["columnSegmentCode"])
    return {
        "evaluationId": evaluation_id,
        "evaluatedAt": datetime(2024, 5, 1, 10, evaluation_id, tzinfo=UTC),
        "rowsRunId": 1,
        "columnsRunId": 2,
        "valueRunId": 1,
        "customerEquity": 6749.75 + 4 * shift,
        "cells": {"cell": cells},
        "rowTotals": {"cell": [a_cell(v1, None, 15, 6200.5), a_cell(v2, None, 25, 549.25)]},
        "columnTotals": {"cell": [a_cell(None, n1, 32, 4749.25), a_cell(None, n2, 8, 2000.5)]},
        "outside": a_cell(None, None, 7, 123.0),
    }


def a_portfolio(client: Any, evaluation: dict[str, Any] | None = None) -> Any:
    return new(
        client,
        "Portfolio",
        portfolioId=4,
        name="value x needs",
        rows="ValueBased",
        columns="NeedsBased",
        owner="Ana",
        objective="grow equity 5% a quarter",
        createdBy="analyst-ana",
        createdAt=datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
        evaluation=evaluation,
    )


def a_history(client: Any, *evaluations: dict[str, Any]) -> Any:
    """A GetPortfolioHistoryResponse as zeep returns it (two children: not unwrapped)."""
    return client.get_element(f"{{{TNS}}}GetPortfolioHistoryResponse")(
        portfolio=a_portfolio(client), evaluations={"evaluation": list(evaluations)}
    )


def a_cell_treatment(client: Any) -> Any:
    return new(
        client,
        "PortfolioCellTreatment",
        portfolioId=4,
        rowSegmentName="Platinum",
        columnSegmentName="Brand & Quality",
        treatment=a_treatment("WinBack", overridden=True, channel="Phone", message="call them"),
    )


def a_treated_segment(client: Any) -> Any:
    segment = a_profitable_run(client).segments.segment[0]
    segment.treatment = a_treatment("Develop", overridden=True, message="premium bundle")
    return segment


PORTFOLIO_CANNED: dict[str, Callable[[Any], Any]] = {
    "SetSegmentTreatment": a_treated_segment,
    "CreatePortfolio": a_portfolio,
    "ListPortfolios": lambda client: None,
    "GetPortfolio": lambda client: a_portfolio(client, an_evaluation()),
    "GetPortfolioHistory": lambda client: a_history(client, an_evaluation()),
    "SetPortfolioCellOwner": lambda client: new(
        client,
        "PortfolioCellOwner",
        portfolioId=4,
        rowSegmentName="Platinum",
        columnSegmentName="Brand & Quality",
        owner="Bea",
    ),
    "SetPortfolioCellTreatment": a_cell_treatment,
    "DeletePortfolio": a_portfolio,
}
PORTFOLIO_REQUEST_CASES = [
    pytest.param(
        ["treat", "3", "V1", "--strategy", "Develop"],
        "SetSegmentTreatment",
        ["runId", "segmentCode", "strategy"],
        id="treat",
    ),
    pytest.param(
        ["treat", "3", "V1", "--strategy", "WinBack", "--channel", "Phone"]
        + ["--message", "we miss you"],
        "SetSegmentTreatment",
        ["runId", "segmentCode", "strategy", "channel", "message"],
        id="treat-with-channel-and-message",
    ),
    pytest.param(
        ["portfolio", "add", "--name", "p", "--rows", "ValueBased", "--columns", "NeedsBased"],
        "CreatePortfolio",
        ["name", "rows", "columns"],
        id="portfolio-add",
    ),
    pytest.param(
        ["portfolio", "add", "--objective", "grow", "--owner", "Ana", "--name", "p"]
        + ["--columns", "Behavioural", "--rows", "ValueBased"],
        "CreatePortfolio",
        ["name", "rows", "columns", "owner", "objective"],
        id="portfolio-add-with-owner-and-objective",
    ),
    pytest.param(["portfolio", "list"], "ListPortfolios", [], id="portfolio-list"),
    pytest.param(["portfolio", "show", "4"], "GetPortfolio", ["portfolioId"], id="portfolio-show"),
    pytest.param(
        ["portfolio", "history", "4"],
        "GetPortfolioHistory",
        ["portfolioId"],
        id="portfolio-history",
    ),
    pytest.param(
        ["portfolio", "owner", "4", "--row", "V1", "--column", "N2", "--owner", "Bea"],
        "SetPortfolioCellOwner",
        ["portfolioId", "rowSegmentCode", "columnSegmentCode", "owner"],
        id="portfolio-owner",
    ),
    pytest.param(
        ["portfolio", "treat", "4", "--row", "V1", "--column", "N2", "--strategy", "Retain"],
        "SetPortfolioCellTreatment",
        ["portfolioId", "rowSegmentCode", "columnSegmentCode", "strategy"],
        id="portfolio-treat",
    ),
    pytest.param(
        ["portfolio", "treat", "4", "--message", "call them", "--channel", "Phone"]
        + ["--column", "N2", "--row", "V1", "--strategy", "WinBack"],
        "SetPortfolioCellTreatment",
        ["portfolioId", "rowSegmentCode", "columnSegmentCode", "strategy", "channel", "message"],
        id="portfolio-treat-with-channel-and-message",
    ),
    pytest.param(
        ["portfolio", "remove", "4"], "DeletePortfolio", ["portfolioId"], id="portfolio-remove"
    ),
]


def sent_portfolio_request(client: Any, argv: list[str], operation: str) -> dict[str, Any]:
    service = FakeService(**{operation: [PORTFOLIO_CANNED[operation](client)]})
    assert run_cli(["--json", *argv], service) == 0
    [(called, kwargs)] = service.calls
    assert called == operation
    return kwargs


@pytest.mark.parametrize(("argv", "operation", "expected_children"), PORTFOLIO_REQUEST_CASES)
def test_each_portfolio_and_treatment_subcommand_sends_a_schema_valid_request(
    client: Any,
    schema: etree.XMLSchema,
    argv: list[str],
    operation: str,
    expected_children: list[str],
) -> None:
    body = body_of_request(client, operation, sent_portfolio_request(client, argv, operation))
    schema.assertValid(body)
    assert etree.QName(body).localname == operation
    assert child_names(body) == expected_children


def test_a_cell_is_named_by_its_row_and_its_column_code_in_that_order(
    client: Any, schema: etree.XMLSchema
) -> None:
    argv = ["portfolio", "treat", "4", "--column", "N2", "--row", "V1", "--strategy", "WinBack"]
    argv += ["--channel", "Phone", "--message", "call them"]
    body = body_of_request(
        client,
        "SetPortfolioCellTreatment",
        sent_portfolio_request(client, argv, "SetPortfolioCellTreatment"),
    )
    schema.assertValid(body)
    for path, expected in (
        ("t:portfolioId", ["4"]),
        ("t:rowSegmentCode", ["V1"]),
        ("t:columnSegmentCode", ["N2"]),
        ("t:strategy", ["WinBack"]),
        ("t:channel", ["Phone"]),
        ("t:message", ["call them"]),
    ):
        assert texts(body, path) == expected
    argv = ["portfolio", "owner", "4", "--column", "N2", "--row", "V1", "--owner", "Bea"]
    sent = sent_portfolio_request(client, argv, "SetPortfolioCellOwner")
    assert sent == {
        "portfolioId": 4,
        "rowSegmentCode": "V1",
        "columnSegmentCode": "N2",
        "owner": "Bea",
    }


def xsd_enumeration(type_name: str) -> list[str]:
    found = etree.parse(str(XSD_PATH)).getroot()
    path = f'.//{{*}}simpleType[@name="{type_name}"]//{{*}}enumeration'
    return [node.get("value") for node in found.iterfind(path)]


def test_the_strategies_offered_are_the_contract_s() -> None:
    assert list(STRATEGIES) == xsd_enumeration("Strategy")
    for strategy in STRATEGIES:
        assert parse_arguments(["treat", "1", "V1", "--strategy", strategy]).strategy == strategy


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["portfolio"], "the following arguments are required: ACTION"),
        (
            ["portfolio", "add", "--name", "p", "--rows", "ValueBased", "--columns", "ValueBased"],
            "portfolio add: --columns needs a method other than --rows",
        ),
        (["portfolio", "add", "--name", "p", "--rows", "ValueBased"], "--columns"),
        (
            ["portfolio", "add", "--name", "p", "--rows", "Value", "--columns", "NeedsBased"],
            "--rows: invalid choice: 'Value'",
        ),
        (["portfolio", "show"], "PORTFOLIO_ID"),
        (["portfolio", "show", "four"], "invalid int value: 'four'"),
        (["portfolio", "owner", "4", "--row", "V1", "--owner", "Bea"], "--column"),
        (["portfolio", "owner", "4", "--row", "V1", "--column", "N1"], "--owner"),
        (
            ["portfolio", "treat", "4", "--row", "V1", "--column", "N1", "--strategy", "Upsell"],
            "--strategy: invalid choice: 'Upsell'",
        ),
        (["portfolio", "treat", "4", "--row", "V1", "--column", "N1"], "--strategy"),
        (["treat", "3", "V1"], "--strategy"),
        (["treat", "3", "--strategy", "Retain"], "SEGMENT_CODE"),
        (
            ["report", "--portfolio", "2", "--compare", "1", "--out", "x.html"],
            "report: --compare goes with --run, not --portfolio",
        ),
        (
            ["report", "--run", "1", "--colour-by", "profit", "--out", "x.html"],
            "report: --colour-by goes with --portfolio, not --run",
        ),
        (
            ["report", "--run", "1", "--portfolio", "2", "--out", "x.html"],
            "argument --portfolio: not allowed with argument --run",
        ),
        (
            ["report", "--portfolio", "2", "--colour-by", "margin", "--out", "x.html"],
            "--colour-by: invalid choice: 'margin'",
        ),
        (["report", "--portfolio", "2"], "--out"),
    ],
)
def test_portfolio_and_treatment_usage_errors_exit_2_saying_what_is_wrong(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_arguments(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_report_of_a_portfolio_is_coloured_by_equity_unless_asked_for_profit() -> None:
    args = parse_arguments(["report", "--portfolio", "2", "--out", "x.html"])
    assert (args.command, args.portfolio_id, args.run_id, args.colour_by) == (
        "report",
        2,
        None,
        "equity",
    )
    args = parse_arguments(["report", "--portfolio", "2", "--colour-by", "profit", "--out", "x"])
    assert args.colour_by == "profit"
    assert parse_arguments(["report", "--run", "1", "--out", "x.html"]).colour_by is None


def test_nested_portfolio_commands_are_named_with_their_action() -> None:
    for action, extra in (
        ("add", ["--name", "p", "--rows", "APriori", "--columns", "NeedsBased"]),
        ("list", []),
        ("show", ["4"]),
        ("history", ["4"]),
        ("owner", ["4", "--row", "V1", "--column", "N1", "--owner", "Bea"]),
        ("treat", ["4", "--row", "V1", "--column", "N1", "--strategy", "Retain"]),
        ("remove", ["4"]),
    ):
        assert parse_arguments(["portfolio", action, *extra]).command == f"portfolio {action}"


def lines_after(out: str, start: str, count: int) -> list[list[str]]:
    """`count` lines from the one starting with `start`, split on runs of 2+ spaces."""
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith(start))
    return [re.split(r"\s{2,}", line.strip()) for line in lines[first : first + count]]


def test_portfolio_show_prints_the_grid_with_each_cell_s_figures_strategy_and_owner(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    service = FakeService(GetPortfolio=[a_portfolio(client, an_evaluation())])
    assert run_cli(["portfolio", "show", "4"], service) == 0
    out = capsys.readouterr().out
    fields = {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines()[:14]}
    assert fields["name"] == "value x needs"
    assert fields["evaluatedAt"] == "2024-05-01T10:09:00+00:00"
    assert (fields["rowsRunId"], fields["columnsRunId"], fields["valueRunId"]) == ("1", "2", "1")
    assert fields["customerEquity"] == "6,749.75"

    assert "ValueBased run 1 (rows) × NeedsBased run 2 (columns)" in out
    assert lines_after(out, "rows \\ columns", 1) == [
        ["rows \\ columns", "N1 Speed & Price", "N2 Brand & Quality", "total"]
    ]
    # Each cell in four lines: customers, customer equity, strategy (* overridden), owner.
    assert lines_after(out, "V1 Platinum", 4) == [
        ["V1 Platinum", "12 customers", "3 customers", "15 customers"],
        ["5,000.00", "1,200.50", "6,200.50"],
        ["Retain", "Develop*"],
        ["Bea", "-"],
    ]
    assert lines_after(out, "V2 Gold", 4) == [
        ["V2 Gold", "20 customers", "5 customers", "25 customers"],
        ["-250.75", "800.00", "549.25"],
        ["ReduceCostToServe", "Maintain"],
        ["-", "-"],
    ]
    assert lines_after(out, "total", 2) == [
        ["total", "32 customers", "8 customers", "40 customers"],
        ["4,749.25", "2,000.50", "6,749.75"],
    ]
    assert "outside the grid: 7 customers, customer equity 123.00" in out
    # The cells, one a line, with their treatments in full.
    (cell,) = lines_after(out, "V1 Platinum   N2 Brand & Quality", 1)
    assert cell[2:5] == ["3", "30.00", "12.00"]  # customers, revenue, cost
    assert cell[-1] == "Develop via Email: premium bundle (overridden)"
    (cell,) = lines_after(out, "V2 Gold       N2 Brand & Quality", 1)
    assert cell[-1] == "Maintain: thank and reward"


def portfolio_response_xml(evaluation: str = "") -> str:
    return (
        f'<GetPortfolioResponse xmlns="{TNS}"><portfolio><portfolioId>4</portfolioId>'
        "<name>p</name><rows>ValueBased</rows><columns>NeedsBased</columns>"
        f"<createdAt>2024-05-01T09:00:00Z</createdAt>{evaluation}</portfolio>"
        "</GetPortfolioResponse>"
    )


CELL_XML = (
    "<{tag}>{sides}<customers>{n}</customers><revenue>1</revenue><cost>1</cost>"
    "<profit>0</profit><acquisitionCost>0</acquisitionCost>"
    "<customerEquity>{equity}</customerEquity>{more}</{tag}>"
)


def test_portfolio_show_over_the_wire_reads_every_list_of_the_evaluation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sides = (
        "<rowSegmentCode>V1</rowSegmentCode><rowSegmentName>Platinum</rowSegmentName>"
        "<columnSegmentCode>N1</columnSegmentCode><columnSegmentName>Price</columnSegmentName>"
    )
    treatment = (
        "<treatment><strategy>WinBack</strategy><message>we miss you</message>"
        "<reason>slipping</reason><overridden>false</overridden></treatment>"
    )
    cell = CELL_XML.format(tag="cell", sides=sides, n=3, equity=99.5, more=treatment)
    evaluation = (
        "<evaluation><evaluationId>7</evaluationId><evaluatedAt>2024-05-01T10:00:00Z"
        "</evaluatedAt><rowsRunId>1</rowsRunId><columnsRunId>2</columnsRunId>"
        f"<customerEquity>99.5</customerEquity><cells>{cell}</cells><rowTotals/>"
        "<columnTotals/>"
        + CELL_XML.format(tag="outside", sides="", n=0, equity=0, more="")
        + "</evaluation>"
    )
    transport = CannedTransport(soap_envelope(portfolio_response_xml(evaluation)))
    assert run_cli_over_http(["--json", "portfolio", "show", "4"], transport) == 0
    printed = json.loads(capsys.readouterr().out)["portfolio"]["evaluation"]
    (only,) = printed["cells"]["cell"]
    assert (only["rowSegmentName"], only["customers"], only["customerEquity"]) == (
        "Platinum",
        3,
        99.5,
    )
    assert only["treatment"]["strategy"] == "WinBack"
    assert printed["rowTotals"] == {"cell": []} and printed["columnTotals"] == {"cell": []}
    assert b"<ns0:portfolioId>4</ns0:portfolioId>" in transport.posted[0]

    # The grid is drawn from the cells even without totals.
    assert run_cli_over_http(["portfolio", "show", "4"], transport) == 0
    out = capsys.readouterr().out
    assert lines_after(out, "V1 Platinum", 3)[:3] == [
        ["V1 Platinum", "3 customers", "-"],
        ["99.50"],
        ["WinBack"],
    ]


def test_portfolio_add_and_remove_print_the_portfolio(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["portfolio", "add", "--name", "value x needs", "--rows", "ValueBased"]
    argv += ["--columns", "NeedsBased", "--owner", "Ana"]
    assert run_cli(argv, FakeService(CreatePortfolio=[a_portfolio(client)])) == 0
    fields = {
        line.split()[0]: " ".join(line.split()[1:]) for line in capsys.readouterr().out.splitlines()
    }
    assert fields == {
        "portfolioId": "4",
        "name": "value x needs",
        "rows": "ValueBased",
        "columns": "NeedsBased",
        "owner": "Ana",
        "objective": "grow equity 5% a quarter",
        "createdBy": "analyst-ana",
        "createdAt": "2024-05-01T09:00:00+00:00",
    }
    service = FakeService(DeletePortfolio=[a_portfolio(client)])
    assert run_cli(["--json", "portfolio", "remove", "4"], service) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["portfolio"]["name"] == "value x needs"
    assert printed["portfolio"]["evaluation"] is None


def test_portfolio_list_over_the_wire_handles_none_and_several(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def answer(*names: str) -> str:
        portfolios = "".join(
            f"<portfolio><portfolioId>{i}</portfolioId><name>{name}</name><rows>ValueBased</rows>"
            "<columns>NeedsBased</columns><createdAt>2024-05-01T09:00:00Z</createdAt></portfolio>"
            for i, name in enumerate(names, start=1)
        )
        return soap_envelope(
            f'<ListPortfoliosResponse xmlns="{TNS}"><portfolios>{portfolios}</portfolios>'
            "</ListPortfoliosResponse>"
        )

    assert run_cli_over_http(["portfolio", "list"], CannedTransport(answer())) == 0
    assert capsys.readouterr().out == "No portfolios.\n"
    assert run_cli_over_http(["--json", "portfolio", "list"], CannedTransport(answer("a"))) == 0
    (only,) = json.loads(capsys.readouterr().out)["portfolios"]["portfolio"]
    assert (only["portfolioId"], only["name"], only["evaluation"]) == (1, "a", None)
    assert run_cli_over_http(["portfolio", "list"], CannedTransport(answer("a", "b"))) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [row[:4] for row in rows if row[:1] in (["1"], ["2"])] == [
        ["1", "a", "ValueBased", "NeedsBased"],
        ["2", "b", "ValueBased", "NeedsBased"],
    ]


def test_portfolio_history_prints_each_evaluation_with_its_runs_and_each_cell_s_change(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    later = an_evaluation(10, shift=100.0, V1N1=100.0, V1N2=100.0, V2N1=100.0, V2N2=100.0)
    service = FakeService(GetPortfolioHistory=[a_history(client, an_evaluation(9), later)])
    assert run_cli(["portfolio", "history", "4"], service) == 0
    out = capsys.readouterr().out
    titles = [line for line in out.splitlines() if line.startswith("Evaluation")]
    assert titles == [
        "Evaluation 9 at 2024-05-01T10:09:00+00:00: rows run 1, columns run 2, value run 1; "
        "customer equity 6,749.75",
        "Evaluation 10 at 2024-05-01T10:10:00+00:00: rows run 1, columns run 2, value run 1; "
        "customer equity 7,149.75",
    ]
    first, second = out.split(titles[1])
    assert lines_after(first, "V2 Gold       N1 Speed & Price", 1) == [
        ["V2 Gold", "N1 Speed & Price", "20", "-250.75", "-"]
    ]
    assert lines_after(second, "V2 Gold       N1 Speed & Price", 1) == [
        ["V2 Gold", "N1 Speed & Price", "20", "-150.75", "100.00"]
    ]

    service = FakeService(GetPortfolioHistory=[a_history(client)])
    assert run_cli(["portfolio", "history", "4"], service) == 0
    assert "No evaluations yet: segmentation-client portfolio show 4 makes one." in (
        capsys.readouterr().out
    )


def test_portfolio_owner_and_treat_print_the_cell_by_its_segment_names(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["portfolio", "owner", "4", "--row", "V1", "--column", "N2", "--owner", "Bea"]
    service = FakeService(SetPortfolioCellOwner=[PORTFOLIO_CANNED["SetPortfolioCellOwner"](client)])
    assert run_cli(argv, service) == 0
    fields = {
        line.split()[0]: " ".join(line.split()[1:]) for line in capsys.readouterr().out.splitlines()
    }
    assert fields == {
        "portfolioId": "4",
        "rowSegmentName": "Platinum",
        "columnSegmentName": "Brand & Quality",
        "owner": "Bea",
    }

    answer = (
        f'<SetPortfolioCellTreatmentResponse xmlns="{TNS}"><cellTreatment>'
        "<portfolioId>4</portfolioId><rowSegmentName>Platinum</rowSegmentName>"
        "<columnSegmentName>Brand &amp; Quality</columnSegmentName><treatment>"
        "<strategy>WinBack</strategy><channel>Phone</channel><message>call them</message>"
        "<reason>WinBack: set by ana</reason><overridden>true</overridden></treatment>"
        "</cellTreatment></SetPortfolioCellTreatmentResponse>"
    )
    argv = ["portfolio", "treat", "4", "--row", "V1", "--column", "N2", "--strategy", "WinBack"]
    assert run_cli_over_http(argv, CannedTransport(soap_envelope(answer))) == 0
    fields = {
        line.split()[0]: " ".join(line.split()[1:]) for line in capsys.readouterr().out.splitlines()
    }
    assert fields == {
        "portfolioId": "4",
        "rowSegmentName": "Platinum",
        "columnSegmentName": "Brand & Quality",
        "strategy": "WinBack",
        "channel": "Phone",
        "message": "call them",
        "overridden": "true",
        "reason": "WinBack: set by ana",
    }


def test_treat_prints_the_segment_with_its_treatment_and_the_reason(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["treat", "42", "B2B-NORTH", "--strategy", "Develop", "--message", "premium bundle"]
    assert run_cli(argv, FakeService(SetSegmentTreatment=[a_treated_segment(client)])) == 0
    fields = {
        line.split()[0]: " ".join(line.split()[1:]) for line in capsys.readouterr().out.splitlines()
    }
    assert fields["code"] == "B2B-NORTH"
    assert fields["treatment"] == "Develop via Email: premium bundle (overridden)"
    assert fields["reason"] == "Develop: the figures behind it"


def test_run_and_segment_show_each_segment_s_treatment_marking_overrides(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run = a_profitable_run(client)
    first, second = run.segments.segment
    first.treatment = a_treatment("Develop", overridden=True, message="premium bundle")
    second.treatment = a_treatment("ReduceCostToServe", channel=None, message="serve yourself")
    for argv, operation in (
        (["run", "42"], "GetSegmentationRun"),
        (["segment", "--method", "APriori"], "SegmentCustomers"),
    ):
        assert run_cli(argv, FakeService(**{operation: [run]})) == 0
        out = capsys.readouterr().out
        rows = {
            cells[0]: cells
            for cells in (re.split(r"\s{2,}", line.strip()) for line in out.splitlines())
        }
        assert rows["B2B-NORTH"][10] == "Develop via Email: premium bundle (overridden)"
        assert rows["B2C-SOUTH"][10] == "ReduceCostToServe: serve yourself"
