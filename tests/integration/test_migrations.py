"""Alembic owns the schema: the migrations build the models exactly, and old databases upgrade.

Every test runs on SQLite and on PostgreSQL (``database_url``).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from segmentation_service import services
from segmentation_service.cli import main
from segmentation_service.domain.model import (
    APrioriOptions,
    RunStatus,
    SegmentationMethod,
    SegmentationRequest,
)
from segmentation_service.store import migrations
from segmentation_service.store.database import Store
from segmentation_service.store.tables import Base
from tests.factories import customer, transaction

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)
PROCESSES = 3
ADDED_COLUMNS = {
    "segmentation_runs": ["started_by", "runner", "heartbeat_at"],
    "segments": ["revenue", "cost", "owner"],
}


@pytest.fixture
def bare_store(database_url: str) -> Iterator[Store]:
    """A store whose schema the test makes itself."""
    store = Store(database_url)
    try:
        yield store
    finally:
        store.dispose()


def differences(store: Store, metadata: sa.MetaData = Base.metadata) -> list[Any]:
    """What ``alembic revision --autogenerate`` would write to make the database ``metadata``."""
    with store.engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))


def previous_release_rows() -> dict[str, list[dict[str, Any]]]:
    """One row or more in every table of release 0.1 (runs get their ids from the database)."""
    return {
        "customers": [
            customer(
                "C1",
                customer_type="B2B",
                industry="Manufacturing",
                employee_count=120,
                annual_revenue=5_000_000.0,
                country="DE",
                signup_date=date(2024, 1, 15),
                annual_cost_to_serve=1200.0,
            ),
            customer("C2", customer_type="B2C", birth_year=1985, preferred_channel="Online"),
        ],
        "transactions": [
            {
                **transaction("T1", "C1", datetime(2025, 1, 10, 9, 30), 1000.5, 600.0),
                "channel": "Web",
            },
            transaction("T2", "C2", datetime(2025, 3, 1), -20.0),
        ],
        "need_responses": [
            {"customer_id": "C1", "need": "price", "score": 6.0, "surveyed_at": date(2025, 6, 1)},
            {"customer_id": "C2", "need": "service", "score": 7.0, "surveyed_at": None},
        ],
        "segmentation_runs": [
            {
                "method": "APriori",
                "label": "by type",
                "status": "Completed",
                "started_at": datetime(2025, 7, 1, 8, 0),
                "finished_at": datetime(2025, 7, 1, 8, 1),
                "customer_count": 2,
                "assigned_count": 2,
                "unassigned_count": 0,
                "parameters": {"groupBy": ["customerType"]},
                "metrics": {"segmentCount": 2.0},
                "model": None,
                "failure_reason": None,
            }
        ],
        "segments": [
            {
                "code": code,
                "ordinal": ordinal,
                "name": code,
                "description": f"customerType = {code}",
                "size": 1,
                "share": 0.5,
                "total_value": 0.0,
                "average_value": 0.0,
                "profile": [["customerType", code]],
            }
            for ordinal, code in enumerate(["B2B", "B2C"], start=1)
        ],
        "assignments": [
            {
                "customer_id": customer_id,
                "segment_code": code,
                "score": None,
                "value": None,
                "reason": f"customerType = {code}",
            }
            for customer_id, code in [("C1", "B2B"), ("C2", "B2C")]
        ],
    }


def make_previous_release_database(store: Store) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """The database release 0.1 left behind: its create_all, its rows, no alembic_version."""
    metadata = migrations.previous_release_metadata()
    rows = previous_release_rows()
    metadata.create_all(store.engine)
    tables = metadata.tables
    with store.engine.begin() as connection:
        for name in ("customers", "transactions", "need_responses"):
            connection.execute(tables[name].insert(), rows[name])
        inserted = connection.execute(
            tables["segmentation_runs"].insert(), rows["segmentation_runs"]
        )
        run_id = int(inserted.inserted_primary_key[0])
        for name in ("segments", "assignments"):
            for row in rows[name]:
                row["run_id"] = run_id
            connection.execute(tables[name].insert(), rows[name])
    rows["segmentation_runs"][0]["run_id"] = run_id
    return run_id, rows


def assert_rows_kept(store: Store, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Every row still there, with every value it had, in the columns it had."""
    metadata = migrations.previous_release_metadata()
    with store.engine.connect() as connection:
        for name, expected in rows.items():
            table = metadata.tables[name]
            query = sa.select(table).order_by(*table.primary_key.columns)
            found = [dict(row) for row in connection.execute(query).mappings()]
            key = [column.name for column in table.primary_key.columns]
            assert found == sorted(expected, key=lambda row: [row[k] for k in key]), name


def test_a_fresh_database_is_migrated_to_head(bare_store: Store) -> None:
    assert migrations.current_revision(bare_store.engine) is None
    bare_store.create_schema()
    assert migrations.current_revision(bare_store.engine) == migrations.head_revision()
    bare_store.create_schema()  # again: nothing to do
    assert migrations.current_revision(bare_store.engine) == migrations.head_revision()
    if bare_store.engine.dialect.name == "sqlite":
        # The migration turned them off on a pooled connection; they are back on.
        with bare_store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_migrations_build_exactly_the_models(bare_store: Store) -> None:
    bare_store.create_schema()
    assert differences(bare_store) == []


def test_a_column_in_the_models_without_a_migration_is_a_difference(bare_store: Store) -> None:
    bare_store.create_schema()
    models = sa.MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(models)
    models.tables["segments"].append_column(sa.Column("notes", sa.Text()))
    found = [
        (kind, table, column.name)
        for kind, _schema, table, column in differences(bare_store, models)
    ]
    assert found == [("add_column", "segments", "notes")]


def test_the_first_revision_is_the_previous_release_schema(bare_store: Store) -> None:
    migrations.upgrade(bare_store.engine, migrations.PREVIOUS_RELEASE)
    assert migrations.current_revision(bare_store.engine) == migrations.PREVIOUS_RELEASE
    assert differences(bare_store, migrations.previous_release_metadata()) == []


def test_upgrading_a_previous_release_database_keeps_its_data(bare_store: Store) -> None:
    run_id, rows = make_previous_release_database(bare_store)

    bare_store.create_schema()

    assert migrations.current_revision(bare_store.engine) == migrations.head_revision()
    assert differences(bare_store) == []
    assert_rows_kept(bare_store, rows)
    with bare_store.engine.connect() as connection:
        for table, added in ADDED_COLUMNS.items():
            values = connection.execute(sa.text(f"SELECT {', '.join(added)} FROM {table}")).all()
            assert values and all(value is None for row in values for value in row)
        for table in ("users", "used_nonces"):
            assert connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0

    old = services.get_segmentation_run(run_id, bare_store.unit_of_work())
    assert old.status is RunStatus.COMPLETED and old.label == "by type"
    assert [(s.code, s.size, s.revenue, s.owner) for s in old.segments] == [
        ("B2B", 1, None, None),
        ("B2C", 1, None, None),
    ]
    (where,) = services.get_customer_segment("C2", None, None, bare_store.unit_of_work())
    assert (where.run_id, where.segment_code) == (run_id, "B2C")

    new = services.segment_customers(
        SegmentationRequest(
            SegmentationMethod.A_PRIORI, a_priori=APrioriOptions(("customerType",))
        ),
        bare_store.unit_of_work(),
        now=lambda: NOW,
        started_by="analyst",
    )
    assert new.run_id > run_id and new.status is RunStatus.COMPLETED
    assert new.started_by == "analyst"
    assert {s.code for s in new.segments} == {"B2B", "B2C"}
    assert services.set_segment_owner(run_id, "B2B", "Key accounts", bare_store.unit_of_work())


def test_a_database_made_by_create_all_before_migrations_is_adopted(bare_store: Store) -> None:
    # What `init-db` made between release 0.1 and the move to Alembic.
    Base.metadata.create_all(bare_store.engine)
    with bare_store.unit_of_work() as uow:
        uow.customers.upsert([customer("C1")])
        uow.commit()

    bare_store.create_schema()

    assert migrations.current_revision(bare_store.engine) == migrations.head_revision()
    assert differences(bare_store) == []
    with bare_store.unit_of_work() as uow:
        assert uow.customers.count() == 1


def test_a_database_the_migrations_do_not_know_is_refused_untouched(bare_store: Store) -> None:
    metadata = migrations.previous_release_metadata()
    metadata.tables["customers"].append_column(sa.Column("nickname", sa.String(64)))
    metadata.create_all(bare_store.engine)

    with pytest.raises(migrations.SchemaError, match="nickname"):
        bare_store.create_schema()

    # One transaction, DDL included: not stamped, no column added, no table made.
    assert migrations.current_revision(bare_store.engine) is None
    with bare_store.engine.connect() as connection:
        inspector = sa.inspect(connection)
        assert "owner" not in {column["name"] for column in inspector.get_columns("segments")}
        assert not inspector.has_table("users")


def test_downgrading_to_the_previous_release_and_back_keeps_the_old_data(
    bare_store: Store,
) -> None:
    _run_id, rows = make_previous_release_database(bare_store)
    bare_store.create_schema()
    with bare_store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE segments SET owner = 'Key accounts', revenue = 1.0"))

    migrations.downgrade(bare_store.engine, migrations.PREVIOUS_RELEASE)

    assert migrations.current_revision(bare_store.engine) == migrations.PREVIOUS_RELEASE
    assert differences(bare_store, migrations.previous_release_metadata()) == []
    assert_rows_kept(bare_store, rows)

    bare_store.create_schema()

    assert migrations.current_revision(bare_store.engine) == migrations.head_revision()
    assert differences(bare_store) == []
    assert_rows_kept(bare_store, rows)
    with bare_store.engine.connect() as connection:
        # What only the dropped columns held is gone; that is what a downgrade means.
        assert connection.execute(sa.text("SELECT owner FROM segments")).scalars().all() == [
            None,
            None,
        ]


def test_processes_starting_together_upgrade_the_database_once(
    bare_store: Store, database_url: str, tmp_path: Path
) -> None:
    # Without the lock (advisory on PostgreSQL, BEGIN IMMEDIATE on SQLite) most of
    # these fail: "table ... already exists", or a duplicate pg_type row.
    worker = textwrap.dedent(
        """
        import os, sys, time
        from segmentation_service.store.database import Store
        store = Store(sys.argv[1])
        open(os.path.join(sys.argv[2], f"ready-{os.getpid()}"), "w").close()
        while not os.path.exists(os.path.join(sys.argv[2], "go")):
            time.sleep(0.002)
        store.create_schema()
        """
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", worker, database_url, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < PROCESSES and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()
    errors = [child.communicate(timeout=120)[1] for child in children]

    assert [child.returncode for child in children] == [0] * PROCESSES, errors
    assert migrations.current_revision(bare_store.engine) == migrations.head_revision()
    assert differences(bare_store) == []


def test_init_db_leaves_a_fresh_database_at_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["--database-url", url, "init-db"]) == 0
    store = Store(url)
    try:
        assert migrations.current_revision(store.engine) == migrations.head_revision()
        assert differences(store) == []
    finally:
        store.dispose()
