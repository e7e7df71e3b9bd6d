"""Building the zeep client and service proxy for the segmentation contract."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import zeep
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

TARGET_NAMESPACE = "urn:customer-segmentation:v1"
BINDING_QNAME = f"{{{TARGET_NAMESPACE}}}SegmentationBinding"

WSDL_ENV_VAR = "SEGMENTATION_WSDL"
USERNAME_ENV_VAR = "SEGMENTATION_USERNAME"
PASSWORD_ENV_VAR = "SEGMENTATION_PASSWORD"
FALLBACK_WSDL_URL = "http://127.0.0.1:8000/soap?wsdl"

# SegmentCustomers answers only when the run has finished, so the default is generous.
DEFAULT_TIMEOUT_SECONDS = 300.0


def default_wsdl_url(environ: Mapping[str, str] | None = None) -> str:
    """The WSDL location used when --wsdl is not given."""
    env = os.environ if environ is None else environ
    return env.get(WSDL_ENV_VAR) or FALLBACK_WSDL_URL


def username_token(username: str, password: str, digest: bool = False) -> Any:
    """The WS-Security UsernameToken zeep sends in every request's header.

    PasswordText sends the password itself (use it over HTTPS only); PasswordDigest
    sends Base64(SHA1(nonce + created + password)) with a fresh nonce and the time,
    which the service accepts once, within its time window.
    """
    return UsernameToken(username, password, use_digest=digest)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Connection:
    """A ready service proxy and the address its operations are posted to."""

    service: Any
    address: str


def build_client(wsdl_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS, wsse: Any = None) -> Any:
    """Load the WSDL (and the XSD it imports) into a zeep Client.

    The requests Session keeps its defaults, so proxy variables and the
    system CA bundle apply as they would for any other HTTP client. ``wsse``
    (e.g. a ``username_token``) signs every request.
    """
    transport = Transport(timeout=timeout, operation_timeout=timeout)  # type: ignore[no-untyped-call]
    return zeep.Client(wsdl_url, transport=transport, wsse=wsse)  # type: ignore[no-untyped-call]


def build_service(client: Any, endpoint: str | None = None) -> Any:
    """The service proxy, optionally posting to `endpoint` instead of the soap:address."""
    if endpoint:
        return client.create_service(BINDING_QNAME, endpoint)
    return client.service


def service_address(service: Any) -> str:
    """Where `service` posts its requests, for error messages."""
    # zeep keeps the address only in this private mapping; fall back gracefully.
    options = getattr(service, "_binding_options", None) or {}
    return str(options.get("address") or "the service endpoint")


def connect(
    wsdl_url: str,
    endpoint: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    wsse: Any = None,
) -> Connection:
    """Load the contract from `wsdl_url` and return a service proxy for it."""
    service = build_service(build_client(wsdl_url, timeout, wsse), endpoint)
    return Connection(service=service, address=service_address(service))
