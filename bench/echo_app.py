"""The bare baseline of the lookups: a spyne echo service with one operation.

One operation returning a small complex type, spyne's stock SOAP 1.1 in and
out, no schema validation, no store. A two-route WSGI wrapper answers
``GET /healthz`` like the service does, so the same start-up code can wait for it.
"""

from __future__ import annotations  # noqa: I001  (the shim must precede spyne)

from collections.abc import Callable, Iterable
from typing import Any

# spyne 2.14 needs a compatibility shim on newer Pythons; the service package applies it.
import segmentation_service.soap  # noqa: F401
from spyne import Application, ComplexModel, Integer, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

TNS = "urn:bench:echo"
StartResponse = Callable[..., Any]


class EchoReply(ComplexModel):  # type: ignore[misc]
    __namespace__ = TNS
    text = Unicode
    length = Integer


class EchoService(ServiceBase):  # type: ignore[misc]
    @rpc(Unicode, _returns=EchoReply)  # type: ignore[misc]
    def Echo(ctx: Any, text: str | None) -> EchoReply:  # noqa: N802, N805
        return EchoReply(text=text, length=len(text or ""))


def echo_envelope(text: str = "C0000042") -> bytes:
    """A raw request envelope for the echo operation."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap:Body><Echo xmlns="{TNS}"><text>{text}</text></Echo></soap:Body>'
        "</soap:Envelope>"
    ).encode()


def create_echo_app() -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    application = Application(
        [EchoService], tns=TNS, name="Echo", in_protocol=Soap11(), out_protocol=Soap11()
    )
    soap = WsgiApplication(application)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            body = b'{"status": "ok"}'
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        result: Iterable[bytes] = soap(environ, start_response)
        return result

    return app
