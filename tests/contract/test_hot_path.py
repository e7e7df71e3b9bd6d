"""The hot path of the lookups answers byte for byte what spyne answers.

Each request goes through the real WSGI application twice, once with the hot
path and once with it off (``HotPath.operations`` emptied, so spyne parses,
dispatches and serializes), over a demo store with runs of every method and
authentication on: status, headers and bytes must be identical, and each
answer valid against the canonical XSD. Faults are compared too: those the hot
path leaves to spyne (malformed, invalid) and those it writes through spyne's
error handler (authentication, the use case's own, a bug of ours).
"""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.fernet import Fernet
from lxml import etree
from sqlalchemy import text

from segmentation_service import services
from segmentation_service.config import Settings
from segmentation_service.domain.model import SegmentationMethod, SegmentationRequest
from segmentation_service.services.auth import add_user, password_digest
from segmentation_service.soap.app import SegmentationApplication, create_app
from segmentation_service.soap.hot_path import LOOKUPS, HotPath
from segmentation_service.store.database import Store
from segmentation_service.store.secret_key import PasswordCipher
from tests import factories
from tests.contract.conftest import TOKEN_PROFILE, WSSE, XSD, User, wsgi_call

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
VIEWER = User("viewer-vic", "viewer password for hot path tests", "viewer")
Served = tuple[Any, dict[str, int]]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The WSGI app (authentication on) over a demo store with one run per method."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('hot') / 'store.db'}")
    store.create_schema()
    factories.load_demo(store, 250)
    with store.engine.begin() as connection:  # names lxml must escape, and non-ASCII ones
        connection.execute(
            text("UPDATE customers SET name = name || :odd WHERE customer_id LIKE '%3'"),
            {"odd": ' & <Söhne> \r\n "GmbH"'},
        )
    key = Fernet.generate_key().decode()
    cipher = PasswordCipher(key, "test")
    add_user(VIEWER.username, VIEWER.role, VIEWER.password, cipher, store.unit_of_work())
    runs = {
        method.value: services.segment_customers(
            SegmentationRequest(method), store.unit_of_work()
        ).run_id
        for method in SegmentationMethod
    }
    yield create_app(Settings(secret_key=key), store), runs
    store.dispose()


def digest_header(user: User) -> str:
    """A fresh PasswordDigest token: each may be used once."""
    nonce = os.urandom(16)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = password_digest(user.password, nonce, created)
    return (
        f'<e:Header><wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
        f"<wsse:Username>{user.username}</wsse:Username>"
        f'<wsse:Password Type="{TOKEN_PROFILE}#PasswordDigest">{digest}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></e:Header>"
    )


def answer(app: Any, body: str, header: str | None = None) -> tuple[str, dict[str, str], bytes]:
    status, headers, content = wsgi_call(
        app, body, "hot-path", VIEWER.security_header() if header is None else header
    )
    headers.pop("X-Request-ID")
    return status, headers, content


def both_ways(
    app: Any, body: str, monkeypatch: pytest.MonkeyPatch, header: str | None = None
) -> tuple[tuple[str, dict[str, str], bytes], tuple[str, dict[str, str], bytes]]:
    hot = answer(app, body, header)
    with monkeypatch.context() as patch:
        patch.setattr(HotPath, "operations", frozenset())
        spyne = answer(app, body, header)
    return hot, spyne


def ok(app: Any, body: str) -> bytes:
    status, _headers, content = answer(app, body)
    assert status.startswith("200"), content[:500]
    return content


def lookups(app: Any, runs: dict[str, int]) -> Iterator[str]:
    """Lookups covering optional fields present and absent, lists empty and full, paging."""
    customers = [f"C{number:07d}" for number in (1, 2, 17, 120, 250)]
    for customer in customers:
        yield (
            f"<t:GetCustomerSegment><t:customerId>{customer}</t:customerId></t:GetCustomerSegment>"
        )
        yield (
            f"<t:GetCustomerSegment><t:customerId>{customer}</t:customerId>"
            f"<t:runId>{runs['NeedsBased']}</t:runId></t:GetCustomerSegment>"
        )
    yield (
        "<t:GetCustomerSegment><t:customerId>C0000003</t:customerId>"
        "<t:method>ValueBased</t:method></t:GetCustomerSegment>"
    )
    ids = "".join(f"<t:customerId>C{number:07d}</t:customerId>" for number in range(1, 120))
    yield (
        f"<t:ScoreCustomerValue><t:customerIds>{ids}<t:customerId>NOBODY</t:customerId>"
        "</t:customerIds><t:horizonMonths>24</t:horizonMonths>"
        "<t:annualDiscountRate>0.08</t:annualDiscountRate></t:ScoreCustomerValue>"
    )
    yield (
        "<t:ScoreCustomerValue><t:customerIds><t:customerId>NOBODY</t:customerId>"
        "</t:customerIds></t:ScoreCustomerValue>"
    )
    for run_id in runs.values():
        code = _first_segment(app, run_id)
        token = ""
        for _page in range(3):  # the first pages, then the last via the tokens
            body = (
                f"<t:ListSegmentMembers><t:segmentCode>{code}</t:segmentCode>"
                f"<t:runId>{run_id}</t:runId><t:pageSize>40</t:pageSize>{token}"
                "</t:ListSegmentMembers>"
            )
            yield body
            found = re.search(rb"nextPageToken>([^<]+)<", ok(app, body))
            if found is None:
                break
            token = f"<t:pageToken>{found.group(1).decode()}</t:pageToken>"
    value_code = _first_segment(app, runs["ValueBased"])
    yield (
        f"<t:ListSegmentMembers><t:segmentCode>{value_code}</t:segmentCode>"
        "<t:method>ValueBased</t:method></t:ListSegmentMembers>"
    )


def _first_segment(app: Any, run_id: int) -> str:
    body = f"<t:GetSegmentationRun><t:runId>{run_id}</t:runId></t:GetSegmentationRun>"
    found = re.search(rb"<tns:code>([^<]+)</tns:code>", ok(app, body))
    assert found is not None
    return found.group(1).decode()


def test_hot_lookups_answer_byte_for_byte_what_spyne_writes(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, runs = served
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    operations: set[str] = set()
    optional_fields: set[str] = set()
    escaped = 0
    for body in lookups(app, runs):
        hot, spyne = both_ways(app, body, monkeypatch)
        escaped += b"&amp; &lt;S\xc3\xb6hne&gt; &#13;" in hot[2]

        assert hot == spyne
        assert hot[0] == "200 OK", hot[2][:500]
        envelope = etree.fromstring(hot[2])
        (response,) = envelope.find(f"{{{SOAP_ENV}}}Body")
        schema.assertValid(response)
        operations.add(etree.QName(response).localname.removesuffix("Response"))
        optional_fields |= {etree.QName(e).localname for e in response.iter()}
    assert operations == set(LOOKUPS)
    assert escaped > 0  # pages with the odd names were compared
    # Optional elements both written and (in other rows) left out were compared.
    assert {"score", "reason", "predictedClv", "nextPageToken", "rfmSegment"} <= optional_fields
    assert {"firstPurchaseDate", "assignedAt", "probabilityAlive", "churnRisk"} <= optional_fields


FAULTS = {
    # answered by the hot path through spyne's error handler
    "CustomerNotFoundFault": (
        "<t:GetCustomerSegment><t:customerId>NOBODY</t:customerId></t:GetCustomerSegment>"
    ),
    "RunNotFoundFault": (
        "<t:GetCustomerSegment><t:customerId>C0000001</t:customerId>"
        "<t:runId>999999</t:runId></t:GetCustomerSegment>"
    ),
    "InvalidRequestFault (pageToken)": (
        "<t:ListSegmentMembers><t:segmentCode>T1</t:segmentCode><t:method>ValueBased</t:method>"
        "<t:pageToken>not-a-token</t:pageToken></t:ListSegmentMembers>"
    ),
    "SegmentNotFoundFault": (
        "<t:ListSegmentMembers><t:segmentCode>NOPE</t:segmentCode>"
        "<t:method>ValueBased</t:method></t:ListSegmentMembers>"
    ),
    # left to spyne: invalid against the XSD, or not a hot call at all
    "InvalidRequestFault (pageSize)": (
        "<t:ListSegmentMembers><t:segmentCode>T1</t:segmentCode><t:method>ValueBased</t:method>"
        "<t:pageSize>0</t:pageSize></t:ListSegmentMembers>"
    ),
    "InvalidRequestFault (missing customerId)": "<t:GetCustomerSegment/>",
    "InvalidRequestFault (too many ids)": (
        "<t:ScoreCustomerValue><t:customerIds>"
        + "<t:customerId>C1</t:customerId>" * 1001
        + "</t:customerIds></t:ScoreCustomerValue>"
    ),
    "xsi:nil": (
        '<t:GetCustomerSegment xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<t:customerId>C0000001</t:customerId><t:runId xsi:nil="true"/></t:GetCustomerSegment>'
    ),
    "Client.UnknownOperation": "<t:GetCustomerSegmentation/>",
    "two operations": (
        "<t:GetCustomerSegment><t:customerId>C1</t:customerId></t:GetCustomerSegment>"
        "<t:GetCustomerSegment><t:customerId>C2</t:customerId></t:GetCustomerSegment>"
    ),
}


@pytest.mark.parametrize("body", FAULTS.values(), ids=FAULTS.keys())
def test_faults_of_hot_lookups_are_spyne_s_own(
    served: Served, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    app, _runs = served
    hot, spyne = both_ways(app, body, monkeypatch)

    assert hot == spyne
    assert not hot[0].startswith("200")
    assert b"<faultcode>" in hot[2]


@pytest.mark.parametrize(
    "header",
    [
        "",
        User(VIEWER.username, "a wrong password", "viewer").security_header(),
        User("nobody-at-all", "who is this", "viewer").security_header(),
    ],
    ids=["no token", "wrong password", "unknown user"],
)
def test_authentication_faults_of_hot_lookups_are_spyne_s_own(
    served: Served, monkeypatch: pytest.MonkeyPatch, header: str
) -> None:
    app, _runs = served
    body = "<t:GetCustomerSegment><t:customerId>C0000001</t:customerId></t:GetCustomerSegment>"
    hot, spyne = both_ways(app, body, monkeypatch, header)

    assert hot == spyne
    assert b"AuthenticationFault" in hot[2]


def test_a_password_digest_token_is_checked_once_on_the_hot_path(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _runs = served
    body = "<t:GetCustomerSegment><t:customerId>C0000001</t:customerId></t:GetCustomerSegment>"
    header = digest_header(VIEWER)
    first = answer(app, body, header)
    with monkeypatch.context() as patch:
        patch.setattr(HotPath, "operations", frozenset())
        fresh = answer(app, body, digest_header(VIEWER))

    assert first[0] == "200 OK" and first == fresh
    replayed = answer(app, body, header)  # the nonce was recorded by the first call
    assert replayed[0].startswith("500") and b"AuthenticationFault" in replayed[2]


def test_the_hot_path_skips_spyne_and_keeps_the_request_log(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app, _runs = served
    dispatched: list[str] = []
    original = SegmentationApplication.call_wrapper

    def spy(self: SegmentationApplication, ctx: Any) -> Any:
        dispatched.append(ctx.descriptor.name)
        return original(self, ctx)

    monkeypatch.setattr(SegmentationApplication, "call_wrapper", spy)
    found = "<t:GetCustomerSegment><t:customerId>C0000001</t:customerId></t:GetCustomerSegment>"
    missing = "<t:GetCustomerSegment><t:customerId>NOBODY</t:customerId></t:GetCustomerSegment>"
    with caplog.at_level(logging.INFO, logger="segmentation_service.access"):
        ok(app, found)
        answer(app, missing)

    assert dispatched == []
    lines = [r.fields for r in caplog.records if r.name == "segmentation_service.access"]  # type: ignore[attr-defined]
    assert [(f["operation"], f["outcome"], f["user"], f["status"]) for f in lines] == [
        ("GetCustomerSegment", "ok", VIEWER.username, 200),
        ("GetCustomerSegment", "CustomerNotFoundFault", VIEWER.username, 500),
    ]


def test_a_bug_of_ours_on_the_hot_path_is_a_server_fault_by_reference(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app, _runs = served

    def broken(*_args: Any) -> Any:
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(services, "get_customer_segment", broken)
    body = "<t:GetCustomerSegment><t:customerId>C0000001</t:customerId></t:GetCustomerSegment>"
    with caplog.at_level(logging.ERROR):
        status, _headers, content = answer(app, body)

    assert status.startswith("500")
    assert b"<faultcode>soap11env:Server</faultcode>" in content
    assert b"internal server error (reference hot-path)" in content
    assert b"secret" not in content
    (error,) = [r for r in caplog.records if r.name.endswith("soap.app") and r.exc_info]
    assert error.getMessage() == "unhandled error in GetCustomerSegment (reference hot-path)"
