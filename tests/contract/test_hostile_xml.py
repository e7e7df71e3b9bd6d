"""Hostile XML, measured: each attack is refused within a second, memory stays flat.

tests/contract/test_faults.py checks the fault each malformed or hostile
message gets; this file checks what the attacks cost the server: the answer
time, and the resident memory of its workers as the attacks grow tenfold.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.contract.conftest import ANALYST, SOAP_ENV, LiveServer

TNS = "urn:customer-segmentation:v1"
CALL = "<tns:GetCustomerSegment><tns:customerId>{}</tns:customerId></tns:GetCustomerSegment>"


def envelope(body: str, prolog: str = "") -> bytes:
    head = f'{prolog}<e:Envelope xmlns:e="{SOAP_ENV}" xmlns:tns="{TNS}">{ANALYST.security_header()}'
    return f"{head}<e:Body>{body}</e:Body></e:Envelope>".encode()


def laughs(levels: int) -> bytes:
    entities = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, levels + 1)
    ]
    return envelope(CALL.format(f"&l{levels};"), f"<!DOCTYPE e [{''.join(entities)}]>")


def deep(depth: int) -> bytes:
    return envelope("<a>" * depth + "</a>" * depth)


def external(url: str) -> bytes:
    return envelope(CALL.format("&x;"), f'<!DOCTYPE e [<!ENTITY x SYSTEM "{url}">]>')


def wide(elements: int) -> bytes:
    ids = "".join(f"<tns:customerId>C{i:07d}</tns:customerId>" for i in range(elements))
    return envelope(
        f"<tns:ScoreCustomerValue><tns:customerIds>{ids}</tns:customerIds></tns:ScoreCustomerValue>"
    )


def padded(megabytes: int) -> bytes:
    return envelope(CALL.format("C0000001")) + b" " * (megabytes * 1024 * 1024)


# (small, ten times larger) versions of each attack
ATTACKS: dict[str, tuple[Callable[[int], bytes], int, int]] = {
    "billion-laughs": (laughs, 5, 9),
    "deep-nesting": (deep, 1_000, 10_000),
    "many-elements": (wide, 5_000, 50_000),
    "oversized": (padded, 5, 50),
}


def worker_rss_kib(server: LiveServer) -> int:
    """Resident memory of the server's worker processes together."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    total = 0
    for pid in children.read_text().split():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def timed_post(server: LiveServer, payload: bytes) -> tuple[float, requests.Response]:
    started = time.monotonic()
    response = requests.post(
        server.url, data=payload, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30
    )
    return time.monotonic() - started, response


def fault_code(response: requests.Response) -> str:
    root = etree.fromstring(response.content)
    code = root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultcode")
    assert code is not None, response.text[:500]
    return code.split(":")[-1]


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack_is_refused_within_a_second_and_memory_does_not_grow_with_its_size(
    live_server: LiveServer, attack: str
) -> None:
    build, small, large = ATTACKS[attack]
    timed_post(live_server, build(small))  # warm up both workers' parsers
    timed_post(live_server, build(small))
    before = worker_rss_kib(live_server)
    for size in (small, large, large, large):
        seconds, response = timed_post(live_server, build(size))
        assert response.status_code in (413, 500), response.status_code
        assert fault_code(response).startswith("Client")
        assert seconds < 1.0, f"{attack} at size {size} took {seconds:.2f} s"
    grown = worker_rss_kib(live_server) - before
    assert grown < 64 * 1024, f"workers grew by {grown} KiB under {attack}"
    _, healthy = timed_post(live_server, envelope(CALL.format("C0000001")))
    assert healthy.status_code == 200


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "http://127.0.0.1:9/secret", "https://example.com/x.dtd"]
)
def test_external_entities_are_never_fetched_or_echoed(live_server: LiveServer, url: str) -> None:
    seconds, response = timed_post(live_server, external(url))
    assert response.status_code == 500 and fault_code(response).startswith("Client")
    assert "root:" not in response.text and "secret" not in response.text
    assert seconds < 1.0
