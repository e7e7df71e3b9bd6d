"""A live, multi-process server on an ephemeral port, and zeep clients built from wsdl/.

Every message a client sends or receives is validated against the canonical
XSD by the ``XsdValidator`` plugin; a message that does not validate fails
the test that sent it.

Authentication is on, as in production: each live server's store gets one user
of each role before the server starts, and the ``soap`` client sends the
analyst's WS-Security UsernameToken (PasswordText).
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import Client, Plugin
from zeep.wsse.username import UsernameToken

from segmentation_service.services.auth import add_user
from segmentation_service.store.database import Store
from segmentation_service.store.secret_key import PasswordCipher, load_or_create_key_file
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
WSDL = ROOT / "wsdl" / "segmentation.wsdl"
XSD = ROOT / "wsdl" / "segmentation.xsd"
BINDING = "{urn:customer-segmentation:v1}SegmentationBinding"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
DEMO_CUSTOMERS = 400
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"


@dataclass(frozen=True)
class User:
    username: str
    password: str
    role: str

    def token(self, digest: bool = False) -> UsernameToken:
        return UsernameToken(self.username, self.password, use_digest=digest)

    def security_header(self) -> str:
        """A SOAP Header with this user's PasswordText token, for hand-built envelopes."""
        return (
            f'<e:Header><wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
            f"<wsse:Username>{self.username}</wsse:Username>"
            f'<wsse:Password Type="{TOKEN_PROFILE}#PasswordText">{self.password}</wsse:Password>'
            "</wsse:UsernameToken></wsse:Security></e:Header>"
        )


USERS = {
    role: User(f"{role}-{name}", f"{role} password for tests", role)
    for role, name in (("viewer", "vera"), ("analyst", "ana"), ("admin", "ada"))
}
VIEWER, ANALYST, ADMIN = USERS["viewer"], USERS["analyst"], USERS["admin"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.contract)


@dataclass
class LiveServer:
    url: str
    database_url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return self.url.rsplit("/soap", 1)[0]

    @property
    def wsdl_url(self) -> str:
        return f"{self.url}?wsdl"


def create_users(directory: Path, database_url: str) -> None:
    """One user of each role, with the key file the server in ``directory`` will use."""
    cipher = PasswordCipher(load_or_create_key_file(directory / "var" / "secret.key"))
    store = Store(database_url)
    store.create_schema()
    try:
        for user in USERS.values():
            add_user(user.username, user.role, user.password, cipher, store.unit_of_work())
    finally:
        store.dispose()


def start_server(
    directory: Path,
    database_url: str,
    workers: int = 2,
    settings: dict[str, str] | None = None,
) -> LiveServer:
    """`segmentation-service serve`, authentication on, on an ephemeral port bound here.

    ``settings`` are ``SEGMENTATION_*`` (or other) environment variables for the server,
    on top of WARNING logs and authentication on.
    """
    create_users(directory, database_url)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}/soap"
    log = directory / "server.log"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SEGMENTATION_")}
    env = {
        **inherited,
        "SEGMENTATION_LOG_LEVEL": "WARNING",
        "SEGMENTATION_AUTH": "on",
        **(settings or {}),
    }
    command = [
        sys.executable,
        "-m",
        "segmentation_service.cli",
        "--database-url",
        database_url,
        "serve",
        "--workers",
        str(workers),
        "--socket-fd",
        str(listener.fileno()),
        "--public-url",
        url,
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            pass_fds=[listener.fileno()],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=directory,
        )
    listener.close()
    server = LiveServer(url, database_url, process, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            # The socket accepts at once; the first answer waits for a worker to boot.
            if requests.get(f"{server.base}/healthz", timeout=30).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"server did not come up: {log.read_text()}")


def stop_server(server: LiveServer) -> None:
    # SIGINT is gunicorn's quick shutdown: no waiting for idle keep-alive clients.
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("live")
    database_url = f"sqlite:///{directory / 'store.db'}"
    store = Store(database_url)
    store.create_schema()
    factories.load_demo(store, DEMO_CUSTOMERS)
    store.dispose()
    server = start_server(directory, database_url)
    yield server
    stop_server(server)


ENVELOPE = (
    f'<e:Envelope xmlns:e="{SOAP_ENV}" '
    'xmlns:t="urn:customer-segmentation:v1">{header}<e:Body>{body}</e:Body></e:Envelope>'
)


def wsgi_call(
    app: Any, body: str, request_id: str, header: str = ""
) -> tuple[str, dict[str, str], bytes]:
    """POST ``body`` (prefix ``t:`` for the contract's namespace) to the WSGI app, in process."""
    payload = ENVELOPE.format(header=header, body=body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/soap",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "text/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(payload)),
        "HTTP_X_REQUEST_ID": request_id,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(payload),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    body_iter = app(environ, start_response)
    try:
        content = b"".join(body_iter)
    finally:
        body_iter.close()
    return answer["status"], answer["headers"], content


@pytest.fixture(scope="session")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


@dataclass
class XsdValidator(Plugin):  # type: ignore[misc]
    """Validates each request and response Body (or Fault detail) against the canonical XSD."""

    schema: etree.XMLSchema
    validated: list[str] = field(default_factory=list)

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        self._validate(envelope)
        return envelope, http_headers

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> Any:
        self._validate(envelope)
        return envelope, http_headers

    def _validate(self, envelope: Any) -> None:
        (body,) = envelope.findall(f"{{{SOAP_ENV}}}Body")
        (payload,) = list(body)
        if payload.tag == f"{{{SOAP_ENV}}}Fault":
            for detail in payload.findall("detail"):
                for element in detail:
                    self.schema.assertValid(element)
                    self.validated.append(etree.QName(element).localname)
            return
        self.schema.assertValid(payload)
        self.validated.append(etree.QName(payload).localname)


@pytest.fixture
def validator(schema: etree.XMLSchema) -> XsdValidator:
    return XsdValidator(schema)


def service_for(server: LiveServer, plugin: Plugin, user: User | None, digest: bool = False) -> Any:
    """A service proxy from the canonical WSDL, sending ``user``'s UsernameToken (if any)."""
    wsse = None if user is None else user.token(digest)
    return Client(str(WSDL), plugins=[plugin], wsse=wsse).create_service(BINDING, server.url)


@pytest.fixture
def soap(live_server: LiveServer, validator: XsdValidator) -> Any:
    """The service proxy of a zeep client built from the canonical WSDL file, as the analyst."""
    return service_for(live_server, validator, ANALYST)


@pytest.fixture
def soap_as(live_server: LiveServer, validator: XsdValidator) -> Any:
    """``soap_as(user, digest=False)``: a validated service proxy as another user (or None)."""

    def make(user: User | None, digest: bool = False) -> Any:
        return service_for(live_server, validator, user, digest)

    return make
