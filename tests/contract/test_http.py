"""The HTTP face of the live server: the published contract, the health check, other paths."""

from __future__ import annotations

import http.client
import json
import time

import pytest
import requests
from lxml import etree
from zeep import Client

from segmentation_service.soap.faults import OPERATION_FAULTS
from tests.contract.conftest import ANALYST, WSDL, XSD, LiveServer, XsdValidator

WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


def get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=30)


def addresses(document: bytes) -> list[str]:
    root = etree.fromstring(document)
    return [element.get("location") for element in root.iter(f"{{{WSDL_SOAP}}}address")]


def canonical(tree: etree._Element) -> bytes:
    return etree.tostring(tree, method="c14n2", strip_text=True)


def test_wsdl_is_the_canonical_file_with_only_its_address_rewritten(
    live_server: LiveServer,
) -> None:
    response = get(live_server.wsdl_url)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert addresses(response.content) == [live_server.url]
    expected = etree.parse(str(WSDL)).getroot()
    for element in expected.iter(f"{{{WSDL_SOAP}}}address"):
        element.set("location", live_server.url)
    assert canonical(etree.fromstring(response.content)) == canonical(expected)


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "attacker.example:8443"},
        {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"},
        {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "attacker.example",
            "Forwarded": "host=attacker.example",
        },
    ],
    ids=["host", "host-and-x-forwarded-host", "forwarded-headers"],
)
def test_forged_host_headers_change_neither_this_nor_later_wsdl_answers(
    live_server: LiveServer, headers: dict[str, str]
) -> None:
    forged = get(live_server.wsdl_url, **headers)

    assert forged.status_code == 200
    assert addresses(forged.content) == [live_server.url]
    assert "attacker" not in forged.text
    # Several plain requests, so that every worker process answers at least once.
    for _ in range(8):
        assert addresses(get(live_server.wsdl_url).content) == [live_server.url]


def test_xsd_is_served_byte_for_byte(live_server: LiveServer) -> None:
    response = get(f"{live_server.base}/segmentation.xsd")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.content == XSD.read_bytes()


def test_zeep_client_built_from_the_served_wsdl_calls_the_service(
    live_server: LiveServer, schema: etree.XMLSchema
) -> None:
    validator = XsdValidator(schema)
    client = Client(live_server.wsdl_url, plugins=[validator], wsse=ANALYST.token())

    run = client.service.SegmentCustomers(method="APriori", label="from the served WSDL")
    page = client.service.ListSegmentMembers(
        segmentCode=run.segments.segment[0].code, runId=run.runId, pageSize=5
    )

    assert run.status == "Completed" and run.label == "from the served WSDL"
    assert page.runId == run.runId and len(page.members.member) == 5
    assert validator.validated == [
        "SegmentCustomers",
        "SegmentCustomersResponse",
        "ListSegmentMembers",
        "ListSegmentMembersResponse",
    ]
    binding = client.wsdl.bindings["{urn:customer-segmentation:v1}SegmentationBinding"]
    assert set(binding.all()) == set(OPERATION_FAULTS)


def test_health_check_reports_ok_as_json(live_server: LiveServer) -> None:
    response = get(f"{live_server.base}/healthz")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.text)["status"] == "ok"


def test_an_idle_keep_alive_connection_stays_open_for_the_next_request(
    live_server: LiveServer,
) -> None:
    # gunicorn's own default closes it after 2 s; a client (or a load balancer's pool)
    # sending its next request then meets a closed socket.
    host, port = live_server.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", "/healthz")
        assert connection.getresponse().read() and connection.sock is not None
        first_socket = connection.sock
        time.sleep(3.5)
        connection.request("GET", "/healthz")
        response = connection.getresponse()

        assert response.status == 200 and json.loads(response.read())["status"] == "ok"
        assert connection.sock is first_socket
    finally:
        connection.close()


def assert_plain_text(response: requests.Response) -> None:
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text.strip()
    assert "<" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/nothing-here"),
        ("GET", "/soap/extra"),
        ("POST", "/wsdl"),
        ("GET", "/segmentation.wsdl.bak"),
    ],
)
def test_other_paths_are_a_plain_text_404(live_server: LiveServer, method: str, path: str) -> None:
    response = requests.request(method, f"{live_server.base}{path}", timeout=30)

    assert response.status_code == 404
    assert_plain_text(response)


@pytest.mark.parametrize(("method", "query"), [("GET", ""), ("GET", "?xsd"), ("PUT", "")])
def test_soap_endpoint_without_wsdl_query_is_a_plain_text_405(
    live_server: LiveServer, method: str, query: str
) -> None:
    response = requests.request(method, f"{live_server.url}{query}", timeout=30)

    assert response.status_code == 405
    assert_plain_text(response)
    assert "POST" in response.headers["Allow"]
