"""Property-based tests across the contract: any request gets a valid answer or a declared fault.

Hypothesis generates requests for every operation from valid, boundary and
invalid values. Whatever it sends, the service answers either a response
that validates against the XSD or one of the operation's declared faults
(never a Server fault, never HTML), and a refused request leaves the store
as it was (a run the data cannot support may only leave a Failed run record).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import pytest
import requests
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.contract.conftest import ANALYST, SOAP_ENV, LiveServer

TNS = "urn:customer-segmentation:v1"
DECLARED = {
    "SegmentCustomers": {"CustomerNotFoundFault", "InvalidRequestFault"},
    "GetCustomerSegment": {"CustomerNotFoundFault", "RunNotFoundFault", "InvalidRequestFault"},
    "ScoreCustomerValue": {"InvalidRequestFault"},
    "ListSegmentMembers": {"RunNotFoundFault", "SegmentNotFoundFault", "InvalidRequestFault"},
    "GetSegmentationRun": {"RunNotFoundFault", "InvalidRequestFault"},
    "ListSegmentationRuns": {"InvalidRequestFault"},
    "CompareSegmentationRuns": {"RunNotFoundFault", "InvalidRequestFault"},
    "SetSegmentOwner": {"RunNotFoundFault", "SegmentNotFoundFault", "InvalidRequestFault"},
}
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text made of characters XML can carry (malformed XML is tested elsewhere).
xml_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=80,
)
known_ids = st.sampled_from(["C0000001", "C0000002", "C0000150", "C0000399"])
customer_id = st.one_of(known_ids, xml_text)
number = st.one_of(st.integers(-3, 25), st.integers(-(2**40), 2**40), st.sampled_from(["x", "1.5"]))
run_id = st.one_of(st.integers(-2, 40), st.sampled_from(["", "abc", "99999999999999999999"]))
valid_method = st.sampled_from(["APriori", "NeedsBased", "ValueBased"])
method = st.one_of(valid_method, st.sampled_from(["", "apriori", "Psychographic"]))


def element(name: str, value: Any) -> str:
    return "" if value is None else f"<tns:{name}>{escape(str(value))}</tns:{name}>"


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def segment_customers(draw: Callable[..., Any]) -> str:
    chosen = draw(st.one_of(valid_method, valid_method, method))
    ids = draw(
        maybe(
            st.one_of(
                st.lists(known_ids, min_size=1, max_size=4), st.lists(customer_id, max_size=4)
            )
        )
    )
    own = {"APriori": "aPriori", "NeedsBased": "needsBased", "ValueBased": "valueBased"}
    block = draw(
        st.one_of(
            st.just(own.get(chosen, "none")),
            st.sampled_from(["none", "aPriori", "needsBased", "valueBased"]),
        )
    )
    parts = [element("method", chosen), element("label", draw(maybe(xml_text)))]
    if ids is not None:
        parts.append(
            "<tns:customerIds>"
            + "".join(element("customerId", i) for i in ids)
            + "</tns:customerIds>"
        )
    if block == "aPriori":
        valid_attributes = st.sampled_from(["customerType", "region", "companySize"])
        any_attribute = st.sampled_from(["customerType", "region", "ageBand", "shoeSize"])
        attributes = draw(
            st.one_of(
                st.lists(valid_attributes, min_size=1, max_size=2, unique=True),
                st.lists(any_attribute, max_size=3),
            )
        )
        parts.append(
            "<tns:aPriori><tns:groupBy>"
            + "".join(element("attribute", a) for a in attributes)
            + "</tns:groupBy></tns:aPriori>"
        )
    elif block == "needsBased":
        parts.append(
            "<tns:needsBased>"
            + element("segmentCount", draw(maybe(st.one_of(st.integers(2, 6), number))))
            + element("randomSeed", draw(maybe(number)))
            + "</tns:needsBased>"
        )
    elif block == "valueBased":
        metric = draw(maybe(st.sampled_from(["Revenue", "Margin", "Rfm", "Clv", "Profit"])))
        parts.append(
            "<tns:valueBased>"
            + element("valueMetric", metric)
            + element("tierCount", draw(maybe(st.one_of(st.integers(2, 6), number))))
            + "</tns:valueBased>"
        )
    return "<tns:SegmentCustomers>" + "".join(parts) + "</tns:SegmentCustomers>"


@st.composite
def lookups(draw: Callable[..., Any]) -> str:
    operation = draw(st.sampled_from(sorted(set(DECLARED) - {"SegmentCustomers"})))
    if operation == "GetCustomerSegment":
        fields = [
            element("customerId", draw(customer_id)),
            element("method", draw(maybe(method))),
            element("runId", draw(maybe(run_id))),
        ]
    elif operation == "ScoreCustomerValue":
        ids = draw(st.lists(customer_id, min_size=0, max_size=5))
        fields = [
            "<tns:customerIds>"
            + "".join(element("customerId", i) for i in ids)
            + "</tns:customerIds>",
            element("horizonMonths", draw(maybe(number))),
            element(
                "annualDiscountRate",
                draw(maybe(st.sampled_from(["0", "0.1", "1", "1.5", "-0.2", "NaN", "INF", "ten"]))),
            ),
        ]
    elif operation == "ListSegmentMembers":
        fields = [
            element(
                "segmentCode", draw(st.one_of(st.sampled_from(["V1", "N1", "OTHER"]), xml_text))
            ),
            element("runId", draw(maybe(run_id))),
            element("method", draw(maybe(method))),
            element("pageSize", draw(maybe(number))),
            element("pageToken", draw(maybe(st.one_of(xml_text, st.just("WzEsMSwiVjEiLCJDIl0"))))),
        ]
    elif operation == "GetSegmentationRun":
        fields = [element("runId", draw(run_id))]
    elif operation == "ListSegmentationRuns":
        fields = [
            element("method", draw(maybe(method))),
            element("limit", draw(maybe(number))),
            element("before", draw(maybe(run_id))),
        ]
    elif operation == "CompareSegmentationRuns":
        fields = [element("fromRunId", draw(run_id)), element("toRunId", draw(run_id))]
    else:
        fields = [
            element("runId", draw(run_id)),
            element("segmentCode", draw(xml_text)),
            element("owner", draw(xml_text)),
        ]
    return f"<tns:{operation}>" + "".join(fields) + f"</tns:{operation}>"


def counts(database_url: str) -> dict[str, int]:
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        found = {
            table: connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in ("segmentation_runs", "segments", "assignments", "customers")
        }
        found["completed"] = connection.execute(
            sa.text("SELECT COUNT(*) FROM segmentation_runs WHERE status != 'Failed'")
        ).scalar_one()
    engine.dispose()
    return found


def check(server: LiveServer, schema: etree.XMLSchema, body: str) -> None:
    operation = etree.QName(etree.fromstring(f'<r xmlns:tns="{TNS}">{body}</r>')[0]).localname
    payload = (
        f'<e:Envelope xmlns:e="{SOAP_ENV}" xmlns:tns="{TNS}">{ANALYST.security_header()}'
        f"<e:Body>{body}</e:Body></e:Envelope>"
    ).encode()
    before = counts(server.database_url)
    response = requests.post(
        server.url, data=payload, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=120
    )
    assert response.headers["Content-Type"].startswith("text/xml"), response.text[:300]
    (answer,) = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body")
    if response.status_code == 200:
        assert answer.tag == f"{{{TNS}}}{operation}Response"
        schema.assertValid(answer)
        event(f"{operation}: answered")
        return
    assert response.status_code == 500 and answer.tag == f"{{{SOAP_ENV}}}Fault"
    code = answer.findtext("faultcode") or ""
    assert code.split(":")[-1].startswith("Client."), (code, answer.findtext("faultstring"))
    (detail,) = list(answer.find("detail"))
    assert etree.QName(detail).localname in DECLARED[operation]
    event(f"{operation}: {etree.QName(detail).localname}")
    schema.assertValid(detail)
    after = counts(server.database_url)
    assert after["completed"] == before["completed"]  # at most a Failed run record is added
    for table in ("segments", "assignments", "customers"):
        assert after[table] == before[table], table


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@PROPERTY_SETTINGS
@given(body=lookups())
def test_every_lookup_gets_a_valid_response_or_a_declared_fault(
    live_server: LiveServer, schema: etree.XMLSchema, body: str
) -> None:
    check(live_server, schema, body)


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(body=segment_customers())
def test_every_segmentation_request_gets_a_valid_response_or_a_declared_fault(
    live_server: LiveServer, schema: etree.XMLSchema, body: str
) -> None:
    check(live_server, schema, body)
