"""Fixtures shared by every test layer: the stores and the socket guard."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import segmentation_service.soap  # noqa: F401  (applies the spyne shim on Python 3.12+)
from segmentation_service.store.database import Store
from tests.postgres import PostgresServer, running_postgres

NETWORK_MARKERS = ("contract", "postgres", "dask")


@pytest.fixture(autouse=True)
def _no_network_outside_marked_tests(request: pytest.FixtureRequest, monkeypatch: Any) -> None:
    """Unit and SQLite tests must not reach the network; contract, postgres and dask tests may."""
    if any(request.node.get_closest_marker(marker) for marker in NETWORK_MARKERS):
        return
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise RuntimeError(f"network access in a test not marked contract/postgres: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    """A real PostgreSQL server for the session (None when an external URL is given)."""
    if os.environ.get("SEGMENTATION_TEST_DATABASE_URL"):
        yield None
        return
    with running_postgres() as server:
        yield server


def _fresh_postgres_url(server: PostgresServer | None) -> str:
    if server is not None:
        return server.create_database()
    url = os.environ["SEGMENTATION_TEST_DATABASE_URL"]
    engine = sa.create_engine(url)
    from segmentation_service.store.tables import Base

    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each supported kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return _fresh_postgres_url(request.getfixturevalue("postgres_server"))


@pytest.fixture
def postgres_url(postgres_server: PostgresServer | None) -> str:
    """An empty PostgreSQL database (for tests that only make sense on the production store)."""
    return _fresh_postgres_url(postgres_server)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A store with its schema, on SQLite and on PostgreSQL."""
    store = Store(database_url)
    store.create_schema()
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_schema()
    try:
        yield store
    finally:
        store.dispose()
