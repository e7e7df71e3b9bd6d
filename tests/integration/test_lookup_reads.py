"""The hot lookups' reads survive a PostgreSQL restart.

They run on a connection of their own engine (autocommit, no pre-ping): a pooled
connection that died with its server fails its first query, and the read is
run once more on a fresh one, so the first lookup after a restart still answers.
"""

from __future__ import annotations

import pytest

from segmentation_service import services
from segmentation_service.domain.errors import StoreUnavailable
from segmentation_service.domain.model import SegmentationMethod, SegmentationRequest
from segmentation_service.store.database import Store
from tests import factories
from tests.postgres import running_postgres


@pytest.mark.postgres
def test_the_first_lookup_after_a_postgresql_restart_answers() -> None:
    with running_postgres() as database:
        store = Store(database.create_database())
        try:
            store.create_schema()
            factories.load_demo(store, 60)
            request = SegmentationRequest(SegmentationMethod.A_PRIORI)
            services.segment_customers(request, store.unit_of_work())
            before = services.get_customer_segment("C0000001", None, None, store.unit_of_work())

            database.stop()
            with pytest.raises(StoreUnavailable):  # down: a typed error, not a hang or a bug
                services.get_customer_segment("C0000001", None, None, store.unit_of_work())
            database.start()
            after = services.get_customer_segment("C0000001", None, None, store.unit_of_work())
        finally:
            store.dispose()

    assert [a.segment_code for a in after] == [b.segment_code for b in before] != []
