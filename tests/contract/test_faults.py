"""Every declared fault of every operation, schema-invalid requests and hostile or broken messages.

Declared faults go through the XSD-validating zeep client, so each typed
detail is checked against the contract. Requests the XSD forbids are sent
through a client that validates only what comes back; what zeep refuses to
send at all is posted by hand.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from lxml import etree
from zeep.exceptions import Fault

from segmentation_service import services
from segmentation_service.config import Settings
from segmentation_service.domain.model import RunStatus
from segmentation_service.engines.a_priori_partitions import APrioriPartitionPlan
from segmentation_service.engines.needs_based import NeedsBasedSegmenter
from segmentation_service.soap.app import create_app
from segmentation_service.store.database import Store
from tests import factories
from tests.contract.conftest import (
    ANALYST,
    SOAP_ENV,
    LiveServer,
    XsdValidator,
    service_for,
    start_server,
    stop_server,
    wsgi_call,
)

TNS = "urn:customer-segmentation:v1"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
NOT_LEAKED = ("Traceback", 'File "', "sqlalche", "sqlite", "SELECT ", "OperationalError")


# ------------------------------------------------------------------ helpers


class ResponseValidator(XsdValidator):
    """Validates only what the server sends back, so invalid requests can go out."""

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        return envelope, http_headers


@pytest.fixture
def lenient(live_server: LiveServer, schema: etree.XMLSchema) -> Any:
    return service_for(live_server, ResponseValidator(schema), ANALYST)


@pytest.fixture(scope="module")
def db(live_server: LiveServer) -> Iterator[sa.Engine]:
    engine = sa.create_engine(live_server.database_url)
    yield engine
    engine.dispose()


def customer_ids(db: sa.Engine) -> list[str]:
    with db.connect() as connection:
        query = sa.text("SELECT customer_id FROM customers ORDER BY 1")
        return [row.customer_id for row in connection.execute(query)]


def local(tag: str) -> str:
    return etree.QName(tag).localname


def assert_declared_fault(fault: Fault, code: str, name: str, **fields: str) -> etree._Element:
    """faultcode Client.<kind>, and exactly one typed detail element with exactly these fields."""
    assert fault.code.split(":")[-1] == code
    assert fault.message
    assert etree.iselement(fault.detail), "a declared fault carries a <detail>"
    (entry,) = [child for child in fault.detail if isinstance(child.tag, str)]
    assert entry.tag == f"{{{TNS}}}{name}"
    found = {local(child.tag): child.text for child in entry}
    assert found == fields
    assert not any(text in fault.message for text in NOT_LEAKED)
    return entry


def invalid_request(call: Any, **kwargs: Any) -> tuple[str, str]:
    """Call an operation that must answer InvalidRequestFault; its (field, reason)."""
    with pytest.raises(Fault) as raised:
        call(**kwargs)
    fault = raised.value
    assert fault.code.split(":")[-1] == "Client.InvalidRequest"
    (entry,) = [child for child in fault.detail if isinstance(child.tag, str)]
    assert entry.tag == f"{{{TNS}}}InvalidRequestFault"
    fields = {local(child.tag): child.text or "" for child in entry}
    assert set(fields) == {"field", "reason"} and fields["reason"]
    return fields["field"], fields["reason"]


def envelope(body: str, env: str = SOAP_ENV, prolog: str = "") -> bytes:
    """A hand-built envelope, with the analyst's UsernameToken in its header."""
    head = f'{prolog}<e:Envelope xmlns:e="{env}" xmlns:tns="{TNS}">{ANALYST.security_header()}'
    return f"{head}<e:Body>{body}</e:Body></e:Envelope>".encode()


def post(url: str, payload: bytes, content_type: str | None = "text/xml; charset=utf-8") -> Any:
    headers = {"SOAPAction": '""'}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return requests.post(url, data=payload, headers=headers, timeout=30)


def raw_fault(response: Any) -> dict[str, Any]:
    """Parse a SOAP 1.1 fault reply: faultcode as (namespace, local), faultstring, detail."""
    assert response.headers["Content-Type"].startswith("text/xml")
    assert not any(text in response.text for text in NOT_LEAKED), response.text
    assert "<html" not in response.text.lower()
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{SOAP_ENV}}}Envelope"
    (fault,) = root.findall(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    code = fault.find("faultcode")  # WS-I R1001: Fault children are unqualified
    prefix, _, name = code.text.strip().rpartition(":")
    return {
        "code": (code.nsmap.get(prefix or None), name),
        "string": fault.findtext("faultstring"),
        "detail": fault.find("detail"),
    }


GET_SEGMENT = "<tns:GetCustomerSegment><tns:customerId>{}</tns:customerId></tns:GetCustomerSegment>"


def assert_still_serving(url: str, customer_id: str) -> None:
    response = post(url, envelope(GET_SEGMENT.format(customer_id)))
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    assert root.find(f"{{{SOAP_ENV}}}Body/{{{TNS}}}GetCustomerSegmentResponse") is not None


# --------------------------------------------------------- SegmentCustomers


def test_segment_customers_faults_an_unknown_customer_with_customer_not_found(
    soap: Any, validator: XsdValidator, db: sa.Engine
) -> None:
    known = customer_ids(db)[:5]

    with pytest.raises(Fault) as raised:
        soap.SegmentCustomers(method="APriori", customerIds={"customerId": [*known, "NO-SUCH"]})

    assert_declared_fault(
        raised.value, "Client.CustomerNotFound", "CustomerNotFoundFault", customerId="NO-SUCH"
    )
    assert validator.validated[-1] == "CustomerNotFoundFault"


@pytest.mark.parametrize(
    ("method", "block", "options"),
    [
        ("APriori", "needsBased", {"segmentCount": 3}),
        ("NeedsBased", "valueBased", {"tierCount": 3}),
        ("ValueBased", "aPriori", {"groupBy": {"attribute": ["region"]}}),
    ],
)
def test_segment_customers_refuses_the_options_block_of_another_method(
    soap: Any, method: str, block: str, options: dict[str, Any]
) -> None:
    field, reason = invalid_request(soap.SegmentCustomers, method=method, **{block: options})

    assert field == block
    assert method in reason


@pytest.mark.parametrize(
    ("method", "block", "options", "reason"),
    [
        (
            "NeedsBased",
            "needsBased",
            {"segmentCount": 5},
            "2 customers answered at least 4 of 8 needs; more than 5 are needed to form 5 segments",
        ),
        (
            "ValueBased",
            "valueBased",
            {"tierCount": 10},
            "2 customers have purchases; 10 tiers need at least 10",
        ),
    ],
)
def test_segment_customers_names_the_method_block_when_the_data_cannot_support_the_run(
    soap: Any, db: sa.Engine, method: str, block: str, options: dict[str, Any], reason: str
) -> None:
    with db.connect() as connection:
        query = sa.text(
            "SELECT customer_id FROM customers WHERE customer_id IN "
            "(SELECT customer_id FROM need_responses) AND customer_id IN "
            "(SELECT customer_id FROM transactions WHERE amount > 0) ORDER BY 1 LIMIT 2"
        )
        two = [row.customer_id for row in connection.execute(query)]

    field, answered = invalid_request(
        soap.SegmentCustomers, method=method, customerIds={"customerId": two}, **{block: options}
    )

    assert (field, answered) == (block, reason)  # the data condition, in the caller's terms
    with db.connect() as connection:
        newest = "SELECT status, failure_reason FROM segmentation_runs ORDER BY run_id DESC"
        failed = connection.execute(sa.text(newest)).first()
    assert failed is not None and tuple(failed) == ("Failed", f"{block}: {reason}")


# ------------------------------------------------------- GetCustomerSegment


def test_get_customer_segment_faults_an_unknown_customer(soap: Any) -> None:
    with pytest.raises(Fault) as raised:
        soap.GetCustomerSegment(customerId="NO-SUCH-CUSTOMER")

    assert_declared_fault(
        raised.value,
        "Client.CustomerNotFound",
        "CustomerNotFoundFault",
        customerId="NO-SUCH-CUSTOMER",
    )


def test_get_customer_segment_faults_an_unknown_run(soap: Any, db: sa.Engine) -> None:
    with pytest.raises(Fault) as raised:
        soap.GetCustomerSegment(customerId=customer_ids(db)[0], runId=987654321)

    assert_declared_fault(raised.value, "Client.RunNotFound", "RunNotFoundFault", runId="987654321")


def test_get_customer_segment_refuses_a_run_of_another_method(soap: Any, db: sa.Engine) -> None:
    customers = customer_ids(db)[:20]
    run = soap.SegmentCustomers(method="APriori", customerIds={"customerId": customers})

    field, reason = invalid_request(
        soap.GetCustomerSegment, customerId=customers[0], runId=run.runId, method="ValueBased"
    )

    assert field == "method"
    assert "APriori" in reason


# ------------------------------------------------------- ScoreCustomerValue


def test_score_customer_value_refuses_more_than_1000_ids(live_server: LiveServer) -> None:
    # zeep will not send more than maxOccurs; the server checks the XSD itself.
    ids = "".join(f"<tns:customerId>C{n:07d}</tns:customerId>" for n in range(1, 1002))
    body = (
        f"<tns:ScoreCustomerValue><tns:customerIds>{ids}</tns:customerIds></tns:ScoreCustomerValue>"
    )

    response = post(live_server.url, envelope(body))

    assert response.status_code == 500
    fault = raw_fault(response)
    assert fault["code"] == (SOAP_ENV, "Client.InvalidRequest")
    (entry,) = fault["detail"]
    assert entry.tag == f"{{{TNS}}}InvalidRequestFault"
    assert entry.findtext(f"{{{TNS}}}field").split(".")[0] == "customerIds"
    assert entry.findtext(f"{{{TNS}}}reason")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"horizonMonths": 0}, "horizonMonths"),
        ({"horizonMonths": 121}, "horizonMonths"),
        ({"annualDiscountRate": 1.5}, "annualDiscountRate"),
        ({"annualDiscountRate": -0.1}, "annualDiscountRate"),
        ({"asOfDate": date.today() + timedelta(days=2)}, "asOfDate"),  # in the future
    ],
)
def test_score_customer_value_refuses_parameters_out_of_range(
    lenient: Any, db: sa.Engine, options: dict[str, Any], field: str
) -> None:
    ids = {"customerId": customer_ids(db)[:1]}

    found, _ = invalid_request(lenient.ScoreCustomerValue, customerIds=ids, **options)

    assert found == field


# ------------------------------------------------------- ListSegmentMembers


@pytest.fixture
def small_run(soap: Any, db: sa.Engine) -> Any:
    """A fresh a priori run over a few customers, grouped by customer type."""
    return soap.SegmentCustomers(
        method="APriori",
        customerIds={"customerId": customer_ids(db)[:40]},
        aPriori={"groupBy": {"attribute": ["customerType"]}},
    )


def test_list_segment_members_faults_an_unknown_run(soap: Any) -> None:
    with pytest.raises(Fault) as raised:
        soap.ListSegmentMembers(segmentCode="V1", runId=987654321)

    assert_declared_fault(raised.value, "Client.RunNotFound", "RunNotFoundFault", runId="987654321")


def test_list_segment_members_faults_an_unknown_segment(
    soap: Any, validator: XsdValidator, small_run: Any
) -> None:
    with pytest.raises(Fault) as raised:
        soap.ListSegmentMembers(segmentCode="NO-SUCH-SEGMENT", runId=small_run.runId)

    assert_declared_fault(
        raised.value,
        "Client.SegmentNotFound",
        "SegmentNotFoundFault",
        runId=str(small_run.runId),
        segmentCode="NO-SUCH-SEGMENT",
    )
    assert validator.validated[-1] == "SegmentNotFoundFault"


@pytest.mark.parametrize("which", [{"method": "APriori"}, {}], ids=["both", "neither"])
def test_list_segment_members_needs_exactly_one_of_run_id_and_method(
    soap: Any, small_run: Any, which: dict[str, Any]
) -> None:
    code = small_run.segments.segment[0].code
    if which:
        which = {**which, "runId": small_run.runId}

    field, _ = invalid_request(soap.ListSegmentMembers, segmentCode=code, **which)

    assert field == "runId"


def test_list_segment_members_refuses_a_page_token_it_did_not_issue(
    soap: Any, small_run: Any
) -> None:
    code = small_run.segments.segment[0].code
    for token in ("garbage", "eyJub3QiOiJ0aGlzIn0", "W1s5OTldXQ"):
        field, _ = invalid_request(
            soap.ListSegmentMembers, segmentCode=code, runId=small_run.runId, pageToken=token
        )
        assert field == "pageToken"


def test_list_segment_members_refuses_a_page_token_of_another_segment_or_run(
    soap: Any, db: sa.Engine, small_run: Any
) -> None:
    first, second = (segment.code for segment in small_run.segments.segment[:2])
    page = soap.ListSegmentMembers(segmentCode=first, runId=small_run.runId, pageSize=1)
    assert page.nextPageToken
    other_run = soap.SegmentCustomers(
        method="APriori",
        customerIds={"customerId": customer_ids(db)[:40]},
        aPriori={"groupBy": {"attribute": ["customerType"]}},
    )

    for run_id, code in ((small_run.runId, second), (other_run.runId, first)):
        field, _ = invalid_request(
            soap.ListSegmentMembers, segmentCode=code, runId=run_id, pageToken=page.nextPageToken
        )
        assert field == "pageToken"


def test_list_segment_members_refuses_a_page_token_with_another_method(
    soap: Any, small_run: Any
) -> None:
    code = max(small_run.segments.segment, key=lambda segment: segment.size).code
    page = soap.ListSegmentMembers(segmentCode=code, runId=small_run.runId, pageSize=1)
    assert page.nextPageToken

    field, _ = invalid_request(
        soap.ListSegmentMembers, segmentCode=code, method="ValueBased", pageToken=page.nextPageToken
    )

    assert field == "pageToken"


# ------------------------------------------------------- schema-invalid requests


@pytest.mark.parametrize(
    ("operation", "request_", "field", "rule"),
    [
        ("ListSegmentMembers", {"segmentCode": "V1", "runId": 1, "pageSize": 0}, "pageSize", "1"),
        (
            "ListSegmentMembers",
            {"segmentCode": "V1", "runId": 1, "pageSize": 5000},
            "pageSize",
            "1000",
        ),
        ("ListSegmentMembers", {"segmentCode": "V1", "runId": 0}, "runId", "1"),
        ("ListSegmentMembers", {"segmentCode": "x" * 65, "runId": 1}, "segmentCode", "64"),
        (
            "SegmentCustomers",
            {"method": "NeedsBased", "needsBased": {"segmentCount": 25}},
            "needsBased.segmentCount",
            "20",
        ),
        (
            "SegmentCustomers",
            {"method": "NeedsBased", "needsBased": {"randomSeed": -1}},
            "needsBased.randomSeed",
            "0",
        ),
        (
            "SegmentCustomers",
            {"method": "ValueBased", "valueBased": {"tierCount": 11}},
            "valueBased.tierCount",
            "10",
        ),
        ("SegmentCustomers", {"method": "APriori", "label": "x" * 201}, "label", "200"),
        (
            "SegmentCustomers",
            {"method": "APriori", "customerIds": {"customerId": [""]}},
            "customerIds.customerId",
            "1",
        ),
        ("GetCustomerSegment", {"customerId": ""}, "customerId", "1"),
        ("GetCustomerSegment", {"customerId": "C0000001", "runId": 0}, "runId", "1"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None,
)
def test_schema_invalid_request_is_answered_with_the_field_and_the_rule_it_breaks(
    lenient: Any, operation: str, request_: dict[str, Any], field: str, rule: str
) -> None:
    found, reason = invalid_request(getattr(lenient, operation), **request_)

    assert found == field
    assert f"'{rule}'" in reason  # the bound that was broken


@pytest.mark.parametrize(
    ("operation", "request_", "field", "allowed"),
    [
        (
            "SegmentCustomers",
            {"method": "Psychographic"},
            "method",
            ("APriori", "NeedsBased", "ValueBased"),
        ),
        (
            "SegmentCustomers",
            {"method": "ValueBased", "valueBased": {"valueMetric": "Profit"}},
            "valueBased.valueMetric",
            ("Revenue", "Margin", "Rfm", "Clv"),
        ),
        (
            "SegmentCustomers",
            {"method": "APriori", "aPriori": {"groupBy": {"attribute": ["shoeSize"]}}},
            "aPriori.groupBy.attribute",
            ("customerType", "region", "preferredChannel"),
        ),
        (
            "ListSegmentMembers",
            {"segmentCode": "V1", "method": "Astrology"},
            "method",
            ("APriori", "NeedsBased", "ValueBased"),
        ),
    ],
    ids=["method", "valueMetric", "groupBy", "members-method"],
)
def test_unknown_enumeration_value_is_answered_with_the_allowed_values(
    lenient: Any, operation: str, request_: dict[str, Any], field: str, allowed: tuple[str, ...]
) -> None:
    found, reason = invalid_request(getattr(lenient, operation), **request_)

    assert found == field
    assert "enumeration" in reason
    for value in allowed:
        assert value in reason, f"the reason should list the allowed values: {reason!r}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("<tns:ListSegmentMembers/>", "segmentCode"),
        (
            "<tns:ListSegmentMembers><tns:runId>1</tns:runId></tns:ListSegmentMembers>",
            "segmentCode",
        ),
        (
            "<tns:GetCustomerSegment><tns:method>APriori</tns:method></tns:GetCustomerSegment>",
            "customerId",
        ),
        ("<tns:ScoreCustomerValue/>", "customerIds"),
        (
            "<tns:ScoreCustomerValue><tns:horizonMonths>6</tns:horizonMonths>"
            "</tns:ScoreCustomerValue>",
            "customerIds",
        ),
        (
            "<tns:SegmentCustomers><tns:method>APriori</tns:method>"
            "<tns:aPriori><tns:groupBy/></tns:aPriori></tns:SegmentCustomers>",
            "aPriori.groupBy.attribute",
        ),
    ],
    ids=[
        "members-empty",
        "members-runId-only",
        "segment-method-only",
        "score-empty",
        "score-horizon-only",
        "groupBy",
    ],
)
def test_missing_required_element_is_named_in_the_fault(
    live_server: LiveServer, body: str, field: str
) -> None:
    # zeep refuses to send a request without its required elements.
    response = post(live_server.url, envelope(body))

    assert response.status_code == 500
    fault = raw_fault(response)
    assert fault["code"] == (SOAP_ENV, "Client.InvalidRequest")
    (entry,) = fault["detail"]
    assert entry.tag == f"{{{TNS}}}InvalidRequestFault"
    assert entry.findtext(f"{{{TNS}}}field") == field
    assert field.split(".")[-1] in entry.findtext(f"{{{TNS}}}reason")


# ------------------------------------------------------- broken and hostile messages

XXE = '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
CALL = GET_SEGMENT.format("C0000001")
GOOD = envelope(CALL).decode()
BARE = f'<tns:GetCustomerSegment xmlns:tns="{TNS}">'

RAW_CASES = {
    "malformed": (GOOD[:-25].encode(), "text/xml", 500, "Client"),
    "not-xml": (b"hello, service", "text/xml", 500, "Client"),
    "empty-request": (b"", "text/xml", 500, "Client"),
    "undeclared-entity": (envelope(GET_SEGMENT.format("&nope;")), "text/xml", 500, "Client"),
    "doctype": (envelope(CALL, prolog="<!DOCTYPE e>"), "text/xml", 500, "Client"),
    "xxe": (envelope(GET_SEGMENT.format("&xxe;"), prolog=XXE), "text/xml", 500, "Client"),
    "billion-laughs": (
        envelope(GET_SEGMENT.format("&lol3;"), prolog=LAUGHS),
        "text/xml",
        500,
        "Client",
    ),
    "soap12-envelope": (envelope(CALL, env=SOAP12_ENV), "text/xml", 500, "VersionMismatch"),
    "soap12-content-type": (
        envelope(CALL, env=SOAP12_ENV),
        "application/soap+xml; charset=utf-8",
        500,
        "VersionMismatch",
    ),
    "oversized": (GOOD.encode() + b" " * (5 * 1024 * 1024), "text/xml", 413, "Client"),
    "json-content-type": (envelope(CALL), "application/json", 415, "Client"),
    "no-content-type": (envelope(CALL), None, 415, "Client"),
    "unknown-operation": (
        envelope("<tns:DeleteAllCustomers/>"),
        "text/xml",
        500,
        "Client.UnknownOperation",
    ),
    "unqualified-operation": (
        envelope("<GetCustomerSegment><customerId>C0000001</customerId></GetCustomerSegment>"),
        "text/xml",
        500,
        "Client.UnknownOperation",
    ),
    "empty-body": (envelope(""), "text/xml", 500, "Client"),
    "two-body-children": (envelope(CALL + CALL), "text/xml", 500, "Client"),
    "two-bodies": (
        GOOD.replace("</e:Body>", f"</e:Body><e:Body>{CALL}</e:Body>").encode(),
        "text/xml",
        500,
        "Client",
    ),
    "not-an-envelope": (
        GET_SEGMENT.format("C0000001").replace("<tns:GetCustomerSegment>", BARE, 1).encode(),
        "text/xml",
        500,
        "Client",
    ),
}


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_broken_or_hostile_request_gets_a_soap_fault_and_the_server_keeps_serving(
    live_server: LiveServer, db: sa.Engine, case: str
) -> None:
    payload, content_type, status, code = RAW_CASES[case]

    response = post(live_server.url, payload, content_type)

    assert response.status_code == status
    fault = raw_fault(response)
    namespace, name = fault["code"]
    assert namespace == SOAP_ENV
    assert name == code or name.startswith(f"{code}.")
    assert fault["string"]
    assert "root:" not in response.text  # nothing of /etc/passwd
    assert_still_serving(live_server.url, customer_ids(db)[0])


def test_oversized_chunked_request_is_refused_while_it_streams(
    live_server: LiveServer, db: sa.Engine
) -> None:
    # No Content-Length: the body arrives in chunks and must be cut off at the limit.
    def chunks() -> Iterator[bytes]:
        yield GOOD.encode()
        for _ in range(80):
            yield b" " * (64 * 1024)

    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    response = requests.post(live_server.url, data=chunks(), headers=headers, timeout=30)

    assert response.status_code == 413
    assert raw_fault(response)["code"] == (SOAP_ENV, "Client.RequestTooLong")
    assert_still_serving(live_server.url, customer_ids(db)[0])


def test_declared_fault_over_plain_http_is_a_500_soap_fault(live_server: LiveServer) -> None:
    response = post(live_server.url, envelope(GET_SEGMENT.format("NO-SUCH")))

    assert response.status_code == 500
    fault = raw_fault(response)
    assert fault["code"] == (SOAP_ENV, "Client.CustomerNotFound")
    (entry,) = fault["detail"]
    assert entry.findtext(f"{{{TNS}}}customerId") == "NO-SUCH"


# ------------------------------------------------------- a server whose store breaks


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second live server over a small store without runs, whose survey table vanishes."""
    directory: Path = tmp_path_factory.mktemp("broken")
    database_url = f"sqlite:///{directory / 'store.db'}"
    store = Store(database_url)
    store.create_schema()
    factories.load_demo(store, 60)
    server = start_server(directory, database_url, workers=1)
    # Dropped once the server is up (it creates missing tables when it starts).
    with store.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE need_responses"))
    store.dispose()
    yield server
    stop_server(server)


def test_unexpected_server_error_is_a_server_fault_without_sql_or_stack_trace(
    broken_server: LiveServer,
) -> None:
    body = "<tns:SegmentCustomers><tns:method>NeedsBased</tns:method></tns:SegmentCustomers>"

    response = post(broken_server.url, envelope(body))

    assert response.status_code == 500
    fault = raw_fault(response)  # also: no traceback, no SQL, no driver names
    assert fault["code"] == (SOAP_ENV, "Server")
    match = re.fullmatch(r"internal server error \(reference ([0-9a-f]+)\)", fault["string"])
    assert match, fault["string"]
    assert fault["detail"] is None or len(fault["detail"]) == 0
    assert "need_responses" not in response.text
    # Operators find the whole story in the log under the same reference.
    log = broken_server.log.read_text()
    assert match.group(1) in log and "need_responses" in log
    assert_still_serving(broken_server.url, "C0000001")


def test_list_segment_members_by_method_without_a_completed_run_names_method(
    broken_server: LiveServer, schema: etree.XMLSchema
) -> None:
    service = service_for(broken_server, XsdValidator(schema), ANALYST)

    field, reason = invalid_request(
        service.ListSegmentMembers, segmentCode="V1", method="ValueBased"
    )

    assert field == "method"
    assert "ValueBased" in reason


# ------------------------------------------------- an engine bug, in process (no sockets)


@pytest.mark.parametrize(
    ("engine", "method", "bug"),
    [(APrioriPartitionPlan, "APriori", ValueError), (NeedsBasedSegmenter, "NeedsBased", KeyError)],
)
def test_an_engine_bug_is_a_server_fault_by_reference_not_the_callers_invalid_request(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    engine: type,
    method: str,
    bug: type[Exception],
) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(store_url)
    store.create_schema()
    factories.load_demo(store, 60)

    def broken(self: Any, *_args: Any) -> Any:
        raise bug("secret engine internals")

    monkeypatch.setattr(engine, "fit", broken)
    # The run executes in this process (huey's immediate mode), where the bug is patched in.
    settings = Settings(auth=False, database_url=store_url, queue_url="immediate")
    app = create_app(settings, store)
    body = f"<t:SegmentCustomers><t:method>{method}</t:method></t:SegmentCustomers>"
    with caplog.at_level(logging.ERROR):
        status, headers, content = wsgi_call(app, body, "engine-bug-7")
    (run,) = services.list_segmentation_runs(None, 1, None, store.unit_of_work())
    store.dispose()

    assert status.startswith("500")
    reply = SimpleNamespace(headers=headers, text=content.decode(), content=content)
    fault = raw_fault(reply)
    assert fault["code"] == (SOAP_ENV, "Server")
    assert fault["string"] == "internal server error (reference engine-bug-7)"
    assert fault["detail"] is None or len(fault["detail"]) == 0
    assert "secret" not in reply.text and bug.__name__ not in reply.text
    # The run is Failed under the same reference, without the engine's words.
    assert run.status is RunStatus.FAILED
    assert run.failure_reason == "internal error (reference engine-bug-7)"
    # The operator finds the call under the reference, and the run's traceback under it too.
    (error,) = [r for r in caplog.records if r.name.endswith("soap.app") and r.exc_info]
    assert error.getMessage() == "unhandled error in SegmentCustomers (reference engine-bug-7)"
    (failed,) = [r for r in caplog.records if r.name.endswith("segmentation") and r.exc_info]
    assert "(reference engine-bug-7)" in failed.getMessage()
    assert failed.exc_info is not None and isinstance(failed.exc_info[1], bug)
    assert "secret engine internals" in logging.Formatter().formatException(failed.exc_info)
