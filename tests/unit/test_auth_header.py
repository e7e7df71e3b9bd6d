"""The SOAP side of authentication: the UsernameToken in the header, and switching it off."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from cryptography.fernet import Fernet
from lxml import etree
from zeep.wsse.username import UsernameToken as ZeepUsernameToken

from segmentation_service.config import Settings
from segmentation_service.domain.errors import AuthenticationFailed
from segmentation_service.services.auth import Authenticator, PasswordType, UsernameToken
from segmentation_service.soap.app import WSSE, authenticator, read_username_token

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"


def header_of(envelope: etree._Element) -> list[Any]:
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    return [] if header is None else list(header)


def zeep_header(**kwargs: Any) -> list[Any]:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope")
    ZeepUsernameToken(**kwargs).apply(envelope, {})
    return header_of(envelope)


def header(token_xml: str) -> list[Any]:
    envelope = etree.fromstring(
        f'<e:Envelope xmlns:e="{SOAP_ENV}" xmlns:wsse="{WSSE}"><e:Header>'
        f"<wsse:Security>{token_xml}</wsse:Security></e:Header><e:Body/></e:Envelope>"
    )
    return header_of(envelope)


def test_zeep_password_text_token_is_read() -> None:
    token = read_username_token(zeep_header(username="ana", password="s3cret pass"))

    assert token == UsernameToken("ana", "s3cret pass", PasswordType.TEXT)


def test_zeep_password_digest_token_is_read_with_nonce_and_created() -> None:
    token = read_username_token(
        zeep_header(username="ana", password="pw", use_digest=True, nonce="abc")
    )

    assert token is not None
    assert token.password_type is PasswordType.DIGEST
    assert token.nonce == "YWJj"  # Base64 of "abc", as sent
    assert token.created and token.created.endswith("+00:00")
    assert token.password != "pw"


@pytest.mark.parametrize("children", [None, []], ids=["no-header", "empty-header"])
def test_a_request_without_a_token_has_none(children: Any) -> None:
    assert read_username_token(children) is None


def test_a_password_without_type_is_password_text() -> None:
    token = read_username_token(
        header(
            "<wsse:UsernameToken><wsse:Username>a</wsse:Username>"
            "<wsse:Password>p</wsse:Password></wsse:UsernameToken>"
        )
    )

    assert token == UsernameToken("a", "p", PasswordType.TEXT)


@pytest.mark.parametrize(
    ("token_xml", "reason"),
    [
        (
            f'<wsse:UsernameToken><wsse:Username>a</wsse:Username><wsse:Password Type="{PROFILE}'
            '#PasswordHash">p</wsse:Password></wsse:UsernameToken>',
            "unsupported password Type",
        ),
        (
            "<wsse:UsernameToken><wsse:Password>p</wsse:Password></wsse:UsernameToken>",
            "exactly one Username",
        ),
        (
            "<wsse:UsernameToken><wsse:Username>a</wsse:Username></wsse:UsernameToken>",
            "exactly one Password",
        ),
        (
            "<wsse:UsernameToken><wsse:Username>a</wsse:Username><wsse:Password>p</wsse:Password>"
            "<wsse:Password>q</wsse:Password></wsse:UsernameToken>",
            "exactly one Password",
        ),
        (
            "<wsse:UsernameToken><wsse:Username>a</wsse:Username><wsse:Password>p</wsse:Password>"
            '<wsse:Nonce EncodingType="urn:hex">00</wsse:Nonce></wsse:UsernameToken>',
            "unsupported Nonce EncodingType",
        ),
        (
            "<wsse:UsernameToken><wsse:Username>a</wsse:Username><wsse:Password>p</wsse:Password>"
            "</wsse:UsernameToken>" * 2,
            "more than one UsernameToken",
        ),
    ],
    ids=["type", "no-username", "no-password", "two-passwords", "nonce-encoding", "two-tokens"],
)
def test_a_malformed_token_is_refused_not_ignored(token_xml: str, reason: str) -> None:
    with pytest.raises(AuthenticationFailed, match=reason):
        read_username_token(header(token_xml))


# ------------------------------------------------------------ switching it off


def test_authentication_is_on_unless_explicitly_switched_off() -> None:
    assert Settings.from_env({}).auth is True
    assert Settings.from_env({"SEGMENTATION_AUTH": ""}).auth is True
    assert Settings.from_env({"SEGMENTATION_AUTH": "on"}).auth is True
    assert Settings.from_env({"SEGMENTATION_AUTH": "off"}).auth is False
    for unclear in ("no", "false", "0", "disabled"):
        with pytest.raises(ValueError, match="SEGMENTATION_AUTH"):
            Settings.from_env({"SEGMENTATION_AUTH": unclear})


def test_window_and_secret_key_settings() -> None:
    key = Fernet.generate_key().decode()

    settings = Settings.from_env(
        {"SEGMENTATION_AUTH_WINDOW_SECONDS": "90", "SEGMENTATION_SECRET_KEY": key}
    )

    assert (settings.auth_window_seconds, settings.secret_key) == (90, key)
    assert key not in repr(settings)
    assert Settings.from_env({}).auth_window_seconds == 300
    with pytest.raises(ValueError, match="SEGMENTATION_AUTH_WINDOW_SECONDS"):
        Settings.from_env({"SEGMENTATION_AUTH_WINDOW_SECONDS": "0"})


def test_switched_off_authentication_is_logged_as_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        assert authenticator(Settings(auth=False)) is None

    (record,) = caplog.records
    assert record.levelno == logging.WARNING and "authentication is OFF" in record.message


def test_switched_on_authentication_uses_the_configured_key_and_logs_nothing(
    caplog: pytest.LogCaptureFixture, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.WARNING):
        found = authenticator(Settings(secret_key=Fernet.generate_key().decode()))

    assert isinstance(found, Authenticator)
    assert caplog.records == []
    assert not (tmp_path / "var").exists()  # no key file when the key is configured
