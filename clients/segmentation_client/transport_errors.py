"""One-line descriptions of failures to reach the service (no traceback)."""

from __future__ import annotations

import re

import requests
from zeep.exceptions import TransportError, XMLParseError, XMLSyntaxError

# Everything that means "no usable SOAP answer came back from that URL".
# requests' exceptions are OSErrors, as are missing local WSDL files; zeep wraps
# lxml's parse errors in its own XMLSyntaxError.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TransportError,
    XMLSyntaxError,
    XMLParseError,
)

_ERRNO_REASON = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def _connection_failure_reason(error: requests.ConnectionError) -> str:
    # requests nests the socket error deep inside a long repr; keep its last words.
    match = _ERRNO_REASON.search(str(error))
    if match:
        return match.group(1).strip().lower()
    if isinstance(error, requests.exceptions.SSLError):
        return "TLS handshake failed"
    return "connection failed"


def describe_transport_error(url: str, error: BaseException, timeout: float) -> str:
    """A single line naming `url` and what went wrong with it."""
    if isinstance(error, requests.Timeout):
        return f"{url}: no answer within {timeout:g} s (see --timeout)"
    if isinstance(error, requests.ConnectionError):
        return f"cannot connect to {url}: {_connection_failure_reason(error)}"
    if isinstance(error, requests.HTTPError):
        response = error.response
        # `is not None`: a requests.Response with an error status is falsy.
        if response is None:
            return f"{url}: HTTP error"
        return f"{url}: HTTP {response.status_code} {response.reason}"
    if isinstance(error, TransportError):
        return f"{url}: HTTP {error.status_code} answer is not a SOAP message"
    if isinstance(error, XMLSyntaxError):
        return f"{url}: the answer is not a SOAP or WSDL document"
    if isinstance(error, XMLParseError):
        return f"{url}: unexpected XML: {error.message}"
    if isinstance(error, OSError) and error.strerror:
        return f"{url}: {error.strerror}"
    return f"{url}: {error}"
