"""The compiled serializer of the hot lookups writes exactly what spyne's own would.

Each request goes through the real WSGI application twice, once with the fast
path and once with spyne's serializer (``fast_path`` emptied), over a demo
store with runs of every method: the response bytes must be identical, and
valid against the canonical XSD.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from segmentation_service import services
from segmentation_service.config import Settings
from segmentation_service.domain.model import SegmentationMethod, SegmentationRequest
from segmentation_service.soap.app import create_app
from segmentation_service.soap.serializer import FAST_PATH, FastSoap11
from segmentation_service.store.database import Store
from tests import factories
from tests.contract.conftest import XSD, wsgi_call

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, int]]]:
    """The WSGI app over a demo store with one run per method; and the run ids."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('fast') / 'store.db'}")
    store.create_schema()
    factories.load_demo(store, 250)
    runs = {
        method.value: services.segment_customers(
            SegmentationRequest(method), store.unit_of_work()
        ).run_id
        for method in SegmentationMethod
    }
    yield create_app(Settings(auth=False), store), runs
    store.dispose()


def call(app: Any, body: str) -> bytes:
    status, _headers, content = wsgi_call(app, body, "fast-serializer")
    assert status.startswith("200"), content[:500]
    return content


def both_ways(app: Any, body: str, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes]:
    fast = call(app, body)
    with monkeypatch.context() as patch:
        patch.setattr(FastSoap11, "fast_path", frozenset())
        spyne = call(app, body)
    return fast, spyne


def requests(app: Any, runs: dict[str, int]) -> Iterator[str]:
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
    ids = "".join(f"<t:customerId>C{number:07d}</t:customerId>" for number in range(1, 120))
    yield (
        f"<t:ScoreCustomerValue><t:customerIds>{ids}<t:customerId>NOBODY</t:customerId>"
        "</t:customerIds><t:horizonMonths>24</t:horizonMonths></t:ScoreCustomerValue>"
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
            found = re.search(rb"nextPageToken>([^<]+)<", call(app, body))
            if found is None:
                break
            token = f"<t:pageToken>{found.group(1).decode()}</t:pageToken>"


def _first_segment(app: Any, run_id: int) -> str:
    body = f"<t:GetSegmentationRun><t:runId>{run_id}</t:runId></t:GetSegmentationRun>"
    found = re.search(rb"<tns:code>([^<]+)</tns:code>", call(app, body))
    assert found is not None
    return found.group(1).decode()


def test_fast_lookups_answer_byte_for_byte_what_spyne_writes(
    served: tuple[Any, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, runs = served
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    operations: set[str] = set()
    optional_fields: set[str] = set()
    for body in requests(app, runs):
        fast, spyne = both_ways(app, body, monkeypatch)

        assert fast == spyne
        envelope = etree.fromstring(fast)
        (response,) = envelope.find(f"{{{SOAP_ENV}}}Body")
        schema.assertValid(response)
        operations.add(etree.QName(response).localname.removesuffix("Response"))
        optional_fields |= {etree.QName(e).localname for e in response.iter()}
    assert operations == FAST_PATH
    # Optional elements both written and (in other rows) left out were compared.
    assert {"score", "reason", "predictedClv", "nextPageToken", "rfmSegment"} <= optional_fields
    assert {"firstPurchaseDate", "assignedAt", "probabilityAlive"} <= optional_fields


def test_other_operations_and_faults_keep_spyne_s_serializer(
    served: tuple[Any, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, runs = served
    written: list[str] = []
    original = FastSoap11._serialize_response

    def spy(self: FastSoap11, ctx: Any) -> None:
        written.append(ctx.descriptor.name)
        original(self, ctx)

    monkeypatch.setattr(FastSoap11, "_serialize_response", spy)
    run = f"<t:GetSegmentationRun><t:runId>{runs['APriori']}</t:runId></t:GetSegmentationRun>"
    assert b"GetSegmentationRunResponse" in call(app, run)
    unknown = "<t:GetCustomerSegment><t:customerId>NOBODY</t:customerId></t:GetCustomerSegment>"
    with pytest.raises(AssertionError, match="CustomerNotFoundFault"):
        call(app, unknown)
    assert written == []
    lookup = "<t:GetCustomerSegment><t:customerId>C0000001</t:customerId></t:GetCustomerSegment>"
    call(app, lookup)
    assert written == ["GetCustomerSegment"]  # the spy sees the fast path when it is taken
