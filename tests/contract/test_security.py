"""WS-Security UsernameToken and roles against the live server, authentication on.

zeep's own UsernameToken is the client side (PasswordText and PasswordDigest);
replays and stale or future Created times are posted by hand. Every fault detail
is validated against the XSD: by the XsdValidator plugin for zeep calls, by hand
for raw posts.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from lxml import etree
from segmentation_client.cli import main as client_main
from zeep import Client
from zeep.exceptions import Fault

from segmentation_service.cli import main as service_main
from tests.contract.conftest import (
    ADMIN,
    ANALYST,
    SOAP_ENV,
    TOKEN_PROFILE,
    VIEWER,
    WSDL,
    WSSE,
    XSD,
    LiveServer,
    User,
    XsdValidator,
)

TNS = "urn:customer-segmentation:v1"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
SOAP_MESSAGE_SECURITY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
)


@pytest.fixture(scope="module")
def customer_id(live_server: LiveServer) -> str:
    engine = sa.create_engine(live_server.database_url)
    try:
        with engine.connect() as connection:
            return str(connection.scalar(sa.text("SELECT min(customer_id) FROM customers")))
    finally:
        engine.dispose()


def authentication_fault(call: Any, validator: XsdValidator, **kwargs: Any) -> str:
    """Call, expect an AuthenticationFault whose detail validated; its reason."""
    with pytest.raises(Fault) as raised:
        call(**kwargs)
    fault = raised.value
    assert fault.code.split(":")[-1] == "Client.Authentication"
    (entry,) = [child for child in fault.detail if isinstance(child.tag, str)]
    assert entry.tag == f"{{{TNS}}}AuthenticationFault"
    assert validator.validated[-1] == "AuthenticationFault"
    return str(entry.findtext(f"{{{TNS}}}reason"))


def access_denied(call: Any, validator: XsdValidator, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(Fault) as raised:
        call(**kwargs)
    fault = raised.value
    assert fault.code.split(":")[-1] == "Client.AccessDenied"
    (entry,) = [child for child in fault.detail if isinstance(child.tag, str)]
    assert entry.tag == f"{{{TNS}}}AccessDeniedFault"
    assert validator.validated[-1] == "AccessDeniedFault"
    return {etree.QName(child).localname: child.text or "" for child in entry}


# ---------------------------------------------------------------- who you are


def test_call_without_credentials_is_an_authentication_fault(
    soap_as: Any, validator: XsdValidator, customer_id: str
) -> None:
    reason = authentication_fault(
        soap_as(None).GetCustomerSegment, validator, customerId=customer_id
    )

    assert "UsernameToken" in reason


@pytest.mark.parametrize("digest", [False, True], ids=["text", "digest"])
@pytest.mark.parametrize(
    "user",
    [
        User(ANALYST.username, "not the password", "analyst"),
        User("nobody-at-all", ANALYST.password, "analyst"),
    ],
    ids=["wrong-password", "unknown-user"],
)
def test_wrong_credentials_are_an_authentication_fault_that_names_neither(
    soap_as: Any, validator: XsdValidator, customer_id: str, user: User, digest: bool
) -> None:
    call = soap_as(user, digest).GetCustomerSegment

    reason = authentication_fault(call, validator, customerId=customer_id)

    assert reason == "unknown username or wrong password"


@pytest.mark.parametrize("digest", [False, True], ids=["text", "digest"])
def test_zeep_username_token_authenticates_with_password_text_and_digest(
    soap_as: Any, validator: XsdValidator, customer_id: str, digest: bool
) -> None:
    service = soap_as(VIEWER, digest)

    for _ in range(3):  # a digest token is fresh each time, a text one may be cached
        service.GetCustomerSegment(customerId=customer_id)

    assert validator.validated[-2:] == ["GetCustomerSegment", "GetCustomerSegmentResponse"]


def post(live_server: LiveServer, payload: bytes) -> requests.Response:
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    return requests.post(live_server.url, data=payload, headers=headers, timeout=30)


def fault_of(response: requests.Response, schema: etree.XMLSchema) -> tuple[str, etree._Element]:
    """faultcode and the typed detail element (validated) of a raw fault reply."""
    assert response.status_code == 500
    fault = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    (entry,) = fault.find("detail")
    schema.assertValid(entry)
    return fault.findtext("faultcode").split(":")[-1], entry


def test_replayed_digest_request_is_refused(
    live_server: LiveServer, schema: etree.XMLSchema, customer_id: str
) -> None:
    client = Client(str(WSDL), wsse=ANALYST.token(digest=True))
    message = client.create_message(client.service, "GetCustomerSegment", customerId=customer_id)
    captured = etree.tostring(message)

    first, replay = post(live_server, captured), post(live_server, captured)

    assert first.status_code == 200, first.text
    code, detail = fault_of(replay, schema)
    assert code == "Client.Authentication"
    assert "used before" in detail.findtext(f"{{{TNS}}}reason")


def digest_envelope(user: User, customer_id: str, created: str, nonce: bytes) -> bytes:
    """A GetCustomerSegment request with a PasswordDigest token built by hand."""
    digest = hashlib.sha1(nonce + created.encode() + user.password.encode()).digest()
    return f"""<e:Envelope xmlns:e="{SOAP_ENV}" xmlns:tns="{TNS}"><e:Header>
      <wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>
        <wsse:Username>{user.username}</wsse:Username>
        <wsse:Password Type="{TOKEN_PROFILE}#PasswordDigest">{base64.b64encode(digest).decode()}</wsse:Password>
        <wsse:Nonce EncodingType="{SOAP_MESSAGE_SECURITY}#Base64Binary">{base64.b64encode(nonce).decode()}</wsse:Nonce>
        <wsu:Created>{created}</wsu:Created>
      </wsse:UsernameToken></wsse:Security></e:Header>
      <e:Body><tns:GetCustomerSegment><tns:customerId>{customer_id}</tns:customerId></tns:GetCustomerSegment></e:Body>
    </e:Envelope>""".encode()  # noqa: E501


def zulu(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("offset_minutes", [-10, 10], ids=["stale", "future"])
def test_digest_with_created_outside_the_window_is_refused(
    live_server: LiveServer, schema: etree.XMLSchema, customer_id: str, offset_minutes: int
) -> None:
    now = datetime.now(timezone.utc)
    outside = zulu(now + timedelta(minutes=offset_minutes))

    fresh = post(live_server, digest_envelope(ANALYST, customer_id, zulu(now), os.urandom(16)))
    refused = post(live_server, digest_envelope(ANALYST, customer_id, outside, os.urandom(16)))

    assert fresh.status_code == 200, fresh.text  # the hand-built token itself is sound
    code, detail = fault_of(refused, schema)
    assert code == "Client.Authentication"
    assert "300 seconds" in detail.findtext(f"{{{TNS}}}reason")


def test_contract_documents_and_health_check_need_no_credentials(live_server: LiveServer) -> None:
    for url in (
        live_server.wsdl_url,
        f"{live_server.base}/{XSD.name}",
        f"{live_server.base}/healthz",
    ):
        assert requests.get(url, timeout=30).status_code == 200, url


# ------------------------------------------------------------- what you may do


def test_viewer_may_not_segment_customers_or_name_owners(
    soap_as: Any, validator: XsdValidator, customer_id: str
) -> None:
    viewer = soap_as(VIEWER)

    segment = access_denied(viewer.SegmentCustomers, validator, method="APriori")
    owner = access_denied(
        viewer.SetSegmentOwner, validator, runId=1, segmentCode="V1", owner="Key accounts"
    )

    assert segment == {"operation": "SegmentCustomers", "role": "viewer"}
    assert owner == {"operation": "SetSegmentOwner", "role": "viewer"}


@pytest.mark.parametrize("user", [ANALYST, ADMIN], ids=["analyst", "admin"])
def test_analyst_and_admin_runs_record_who_started_them(
    soap_as: Any, customer_id: str, user: User
) -> None:
    run = soap_as(user, digest=True).SegmentCustomers(
        method="APriori", customerIds={"customerId": [customer_id]}, label=f"by {user.role}"
    )

    seen_by_viewer = soap_as(VIEWER).GetSegmentationRun(runId=run.runId)

    assert run.startedBy == user.username
    assert seen_by_viewer.startedBy == user.username
    assert seen_by_viewer.label == f"by {user.role}"


@pytest.fixture
def temporary_user(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[User]:
    """A viewer added through `segmentation-service users` in the live server's directory."""
    user = User("temporary-tom", "temporary password", "viewer")
    monkeypatch.chdir(live_server.log.parent)  # where the server keeps var/secret.key
    monkeypatch.setattr("sys.stdin", _Lines(user.password))
    store = ["--database-url", live_server.database_url, "users"]
    assert service_main([*store, "add", user.username, "--role", user.role]) == 0
    yield user
    service_main([*store, "remove", user.username])


class _Lines:
    def __init__(self, text: str) -> None:
        self._text = text

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return f"{self._text}\n"


def test_a_removed_user_is_refused_at_once_even_after_cached_successes(
    live_server: LiveServer, soap_as: Any, validator: XsdValidator, temporary_user: User
) -> None:
    service = soap_as(temporary_user)
    for _ in range(4):  # the workers verify, then remember, this PasswordText password
        service.ListSegmentationRuns(limit=1)

    removed = service_main(
        ["--database-url", live_server.database_url, "users", "remove"] + [temporary_user.username]
    )
    reasons = [
        authentication_fault(service.ListSegmentationRuns, validator, limit=1) for _ in range(4)
    ]

    assert removed == 0
    assert set(reasons) == {"unknown username or wrong password"}


def test_a_role_change_applies_to_the_next_call(
    live_server: LiveServer, soap_as: Any, validator: XsdValidator, temporary_user: User
) -> None:
    service = soap_as(temporary_user)
    denied = access_denied(service.SegmentCustomers, validator, method="APriori")

    promoted = service_main(
        ["--database-url", live_server.database_url, "users", "set-role"]
        + [temporary_user.username, "analyst"]
    )
    run = service.SegmentCustomers(method="APriori", label="promoted")

    assert denied == {"operation": "SegmentCustomers", "role": "viewer"}
    assert promoted == 0
    assert run.startedBy == temporary_user.username


# ---------------------------------------------------------- segmentation-client


def test_segmentation_client_sends_credentials_and_reports_an_authentication_fault(
    live_server: LiveServer, customer_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wsdl = ["--wsdl", live_server.wsdl_url]
    credentials = ["--username", VIEWER.username, "--password", VIEWER.password]

    anonymous = client_main([*wsdl, "customer-segment", customer_id])
    anonymous_err = capsys.readouterr().err
    digest = client_main(
        [*wsdl, *credentials, "--password-digest", "customer-segment", customer_id]
    )
    digest_err = capsys.readouterr().err

    assert anonymous == 2
    assert "AuthenticationFault" in anonymous_err and "UsernameToken" in anonymous_err
    assert (digest, digest_err) == (0, "")
