"""Authentication and authorization use cases on an in-memory unit of work."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.fernet import Fernet
from lxml import etree
from zeep.wsse.username import UsernameToken as ZeepUsernameToken

from segmentation_service.domain.errors import AccessDenied, AuthenticationFailed
from segmentation_service.services import auth
from segmentation_service.services.auth import (
    ADMIN,
    ANALYST,
    MINIMUM_ROLE,
    ROLES,
    VIEWER,
    Authenticator,
    Caller,
    PasswordType,
    UsernameToken,
    authorize,
    check_created,
    hash_password,
    minimum_role,
    nonce_key,
    parse_created,
    password_digest,
)
from segmentation_service.soap.faults import OPERATION_FAULTS
from segmentation_service.store.secret_key import PasswordCipher, SecretKeyError
from segmentation_service.store.users import UserRecord

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery"
CIPHER = PasswordCipher(Fernet.generate_key())
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


# ------------------------------------------------------------------ the digest


def test_password_digest_matches_the_onvif_programmers_guide_example() -> None:
    # ONVIF Application Programmer's Guide, 6.1.1.3: the usual worked example.
    nonce = base64.b64decode("LKqI6G/AikKCQrN0zqZFlg==")

    digest = password_digest("userpassword", nonce, "2010-09-16T07:50:45Z")

    assert digest == "tuOSpGlFlIXsozq4HFNeeGeFLEI="


def test_password_digest_matches_what_zeep_sends() -> None:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope")
    token = ZeepUsernameToken("ana", "pässword", use_digest=True, nonce="fixed-nonce")
    token.apply(envelope, {})

    sent = {etree.QName(e).localname: e.text for e in envelope.iter() if e.text}

    assert base64.b64decode(sent["Nonce"]) == b"fixed-nonce"
    assert sent["Password"] == password_digest("pässword", b"fixed-nonce", sent["Created"])


# ------------------------------------------------------------------ the window


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01T12:00:00Z", NOW),
        ("2025-03-01T12:00:00+00:00", NOW),  # zeep's default spelling
        ("2025-03-01T14:00:00+02:00", NOW),
        ("2025-03-01T12:00:00.250Z", NOW + timedelta(milliseconds=250)),
        ("2025-03-01T12:00:00", NOW),  # no offset: UTC, as WSS recommends
    ],
)
def test_created_is_read_as_an_xsd_datetime_in_utc(text: str, expected: datetime) -> None:
    assert parse_created(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2025-03-01",
        "2025-13-01T00:00:00Z",
        "2025-03-01 12:00:00Z",
        "١٢٣٤-03-01T12:00:00Z",
    ],
)
def test_created_that_is_not_an_xsd_datetime_is_refused(text: str) -> None:
    with pytest.raises(AuthenticationFailed, match="Created is not an xsd:dateTime"):
        parse_created(text)


WINDOW = timedelta(minutes=5)


@pytest.mark.parametrize("offset", [timedelta(0), WINDOW, -WINDOW], ids=["now", "+edge", "-edge"])
def test_created_on_the_edges_of_the_window_is_accepted(offset: timedelta) -> None:
    check_created(NOW + offset, NOW, WINDOW)


@pytest.mark.parametrize(
    "offset", [WINDOW + timedelta(seconds=1), -WINDOW - timedelta(seconds=1)], ids=["ahead", "old"]
)
def test_created_one_second_outside_the_window_is_refused(offset: timedelta) -> None:
    with pytest.raises(AuthenticationFailed, match="more than 300 seconds"):
        check_created(NOW + offset, NOW, WINDOW)


# ------------------------------------------------------------------- the roles


def test_every_operation_of_the_contract_has_a_minimum_role() -> None:
    assert set(MINIMUM_ROLE) == set(OPERATION_FAULTS)


READS = {
    "GetCustomerSegment",
    "ListSegmentMembers",
    "ScoreCustomerValue",
    "GetSegmentationRun",
    "ListSegmentationRuns",
    "CompareSegmentationRuns",
    "ListSegmentationSchedules",
    # issue 13: viewers read portfolios (GetPortfolio evaluates and keeps the grid)
    "GetPortfolio",
    "GetPortfolioHistory",
    "ListPortfolios",
    # issue 14: the customers behind a comparison are a read, like the members
    "ListSegmentMovers",
    "GetSegmentInsights",
}
RUNS = {
    "SegmentCustomers",
    "SetSegmentOwner",
    "SubmitSegmentation",
    "CancelSegmentationRun",
    "CreateSegmentationSchedule",
    "DeleteSegmentationSchedule",
    "CreatePortfolio",
    "SetPortfolioCellOwner",
    "DeletePortfolio",
    "SetSegmentTreatment",
    "SetPortfolioCellTreatment",
}
MAY_CALL = {
    VIEWER: READS,
    ANALYST: READS | RUNS,
    ADMIN: READS | RUNS | {"ImportCustomers"},
}


@pytest.mark.parametrize("operation", [*MINIMUM_ROLE, "ImportCustomers"])
@pytest.mark.parametrize("role", ROLES)
def test_a_role_may_call_exactly_what_the_issue_grants(role: str, operation: str) -> None:
    caller = Caller("someone", role)

    if operation in MAY_CALL[role]:
        authorize(caller, operation)
    else:
        with pytest.raises(AccessDenied) as denied:
            authorize(caller, operation)
        assert (denied.value.operation, denied.value.role) == (operation, role)


def test_an_operation_not_in_the_table_needs_admin_and_an_unknown_role_gets_nothing() -> None:
    assert minimum_role("DeleteAllCustomers") == ADMIN
    with pytest.raises(AccessDenied):
        authorize(Caller("x", "superuser"), "GetCustomerSegment")


# ---------------------------------------------------------- the authenticator


class FakeUsers:
    def __init__(self, records: dict[str, UserRecord]) -> None:
        self.records = records
        self.reads = 0

    def get(self, username: str) -> UserRecord | None:
        self.reads += 1
        return self.records.get(username)


class FakeNonces:
    def __init__(self) -> None:
        self.seen: dict[str, datetime] = {}
        self.purged_before: list[datetime] = []

    def remember(self, nonce: str, seen_at: datetime) -> bool:
        if nonce in self.seen:
            return False
        self.seen[nonce] = seen_at
        return True

    def purge(self, before: datetime) -> int:
        self.purged_before.append(before)
        old = [nonce for nonce, seen in self.seen.items() if seen < before]
        for nonce in old:
            del self.seen[nonce]
        return len(old)


class FakeUnitOfWork:
    """Runs authentication's statements (``read``) on the fake users and nonces."""

    def __init__(self, users: FakeUsers, nonces: FakeNonces) -> None:
        self.users, self.nonces = users, nonces

    def read(self, work: Callable[[FakeUnitOfWork], Any]) -> Any:
        return work(self)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    record = UserRecord("ana", ANALYST, hash_password(PASSWORD), CIPHER.encrypt(PASSWORD), NOW)
    return FakeUnitOfWork(FakeUsers({"ana": record}), FakeNonces())


def authenticator(now: datetime = NOW) -> Authenticator:
    return Authenticator(CIPHER, 300, now=lambda: now)


def digest_token(
    created: datetime = NOW, nonce: bytes = b"0123456789abcdef", password: str = PASSWORD
) -> UsernameToken:
    text = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = password_digest(password, nonce, text)
    return UsernameToken("ana", digest, PasswordType.DIGEST, base64.b64encode(nonce).decode(), text)


def test_no_token_is_refused(uow: FakeUnitOfWork) -> None:
    with pytest.raises(AuthenticationFailed, match="UsernameToken is required"):
        authenticator().authenticate(None, uow)  # type: ignore[arg-type]


def test_password_text_is_checked_against_the_hash(uow: FakeUnitOfWork) -> None:
    checker = authenticator()

    caller = checker.authenticate(UsernameToken("ana", PASSWORD), uow)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationFailed, match="unknown username or wrong password"):
        checker.authenticate(UsernameToken("ana", PASSWORD + "!"), uow)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationFailed, match="unknown username or wrong password"):
        checker.authenticate(UsernameToken("bob", PASSWORD), uow)  # type: ignore[arg-type]

    assert caller == Caller("ana", ANALYST)


def test_a_verified_text_password_skips_argon2_until_the_stored_hash_changes(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real_verify = auth.verify_password

    def counting(password_hash: str, password: str) -> bool:
        checks.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    checker, token = authenticator(), UsernameToken("ana", PASSWORD)
    for _ in range(3):
        checker.authenticate(token, uow)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationFailed):
        checker.authenticate(UsernameToken("ana", "a wrong one"), uow)  # type: ignore[arg-type]
    after_wrong = len(checks)
    uow.users.records["ana"] = replace(
        uow.users.records["ana"], password_hash=hash_password("a new password")
    )
    with pytest.raises(AuthenticationFailed):
        checker.authenticate(token, uow)  # type: ignore[arg-type]

    assert checks[:2] == [PASSWORD, "a wrong one"] and after_wrong == 2
    assert len(checks) == 3  # the changed hash forced a real check, which failed
    assert uow.users.reads == 5  # the user is read every time: removals apply at once


def test_a_digest_token_is_accepted_once(uow: FakeUnitOfWork) -> None:
    checker = authenticator()

    caller = checker.authenticate(digest_token(), uow)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationFailed, match="used before"):
        checker.authenticate(digest_token(), uow)  # type: ignore[arg-type]

    assert caller == Caller("ana", ANALYST)
    assert uow.nonces.seen == {nonce_key(b"0123456789abcdef"): NOW}
    assert uow.nonces.purged_before == [NOW - WINDOW]  # at most every tenth of the window


def test_old_nonces_are_purged_at_most_every_tenth_of_the_window(uow: FakeUnitOfWork) -> None:
    clock = [NOW]
    checker = Authenticator(CIPHER, 300, now=lambda: clock[0])

    def authenticate_after(seconds: int) -> None:
        clock[0] = NOW + timedelta(seconds=seconds)
        token = digest_token(clock[0], nonce=f"nonce {seconds}".encode())
        checker.authenticate(token, uow)  # type: ignore[arg-type]

    for seconds in (0, 1, 29, 30, 31, 75):
        authenticate_after(seconds)

    # The window is 300 s: purges at 0, 30 (30 s later) and 75, not in between.
    assert uow.nonces.purged_before == [
        NOW + timedelta(seconds=seconds) - WINDOW for seconds in (0, 30, 75)
    ]
    assert len(uow.nonces.seen) == 6  # every nonce was recorded all the same


def test_a_digest_nonce_is_kept_until_a_created_ahead_of_the_clock_has_left_the_window(
    uow: FakeUnitOfWork,
) -> None:
    ahead = NOW + timedelta(seconds=200)

    authenticator().authenticate(digest_token(created=ahead), uow)  # type: ignore[arg-type]

    assert list(uow.nonces.seen.values()) == [ahead]


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (digest_token(password="wrong password"), "unknown username or wrong password"),
        (replace(digest_token(), username="bob"), "unknown username or wrong password"),
        (digest_token(created=NOW - timedelta(seconds=301)), "more than 300 seconds"),
        (digest_token(created=NOW + timedelta(seconds=301)), "more than 300 seconds"),
        (replace(digest_token(), nonce=None), "needs a Nonce and a Created"),
        (replace(digest_token(), created=None), "needs a Nonce and a Created"),
        (replace(digest_token(), nonce="not base64!"), "not Base64"),
        (replace(digest_token(), nonce=""), "1 to 64 bytes"),
        (replace(digest_token(), created="2025-03-01T12:00:01Z"), "wrong password"),
    ],
    ids=[
        "wrong-password",
        "unknown-user",
        "stale",
        "future",
        "no-nonce",
        "no-created",
        "bad-nonce",
        "empty-nonce",
        "created-altered",
    ],
)
def test_a_bad_digest_token_is_refused_and_its_nonce_not_recorded(
    uow: FakeUnitOfWork, token: UsernameToken, reason: str
) -> None:
    with pytest.raises(AuthenticationFailed, match=reason):
        authenticator().authenticate(token, uow)  # type: ignore[arg-type]

    assert uow.nonces.seen == {}


def test_a_stored_password_encrypted_with_another_key_is_a_server_error(
    uow: FakeUnitOfWork,
) -> None:
    other = PasswordCipher(Fernet.generate_key())
    uow.users.records["ana"] = replace(
        uow.users.records["ana"], password_encrypted=other.encrypt(PASSWORD)
    )

    with pytest.raises(SecretKeyError):
        authenticator().authenticate(digest_token(), uow)  # type: ignore[arg-type]
