"""The database goes away and comes back: quick ServiceUnavailable, then recovery by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from segmentation_service import services
from segmentation_service.domain.errors import StoreUnavailable
from segmentation_service.domain.model import SegmentationMethod, SegmentationRequest
from segmentation_service.store.database import Store
from tests import factories
from tests.postgres import PostgresServer, running_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
def outage_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, free to be stopped."""
    with running_postgres() as server:
        yield server


def test_requests_fail_fast_while_the_database_is_down_and_recover_after(
    outage_server: PostgresServer,
) -> None:
    store = Store(outage_server.create_database())
    store.create_schema()
    factories.load_demo(store, 60)
    services.segment_customers(
        SegmentationRequest(SegmentationMethod.A_PRIORI), store.unit_of_work()
    )
    assert store.is_reachable()

    outage_server.stop()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        services.get_customer_segment("C0000001", None, None, store.unit_of_work())
    with pytest.raises(StoreUnavailable):
        services.segment_customers(
            SegmentationRequest(SegmentationMethod.A_PRIORI), store.unit_of_work()
        )
    assert not store.is_reachable()
    assert time.monotonic() - started < 5

    outage_server.start()
    found = services.get_customer_segment("C0000001", None, None, store.unit_of_work())
    assert [a.method for a in found] == [SegmentationMethod.A_PRIORI]
    assert store.is_reachable()
    store.dispose()
