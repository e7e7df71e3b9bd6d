"""Engines, schema creation and the health check."""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from segmentation_service.store import migrations
from segmentation_service.store.reads import LookupStore
from segmentation_service.store.uow import UnitOfWork

SQLITE_BUSY_TIMEOUT_MS = 30_000
IN_MEMORY = ("sqlite://", "sqlite:///:memory:")


def create_store_engine(url: str, *, pool_size: int = 5, lookups: bool = False) -> Engine:
    """An engine tuned for the store's dialect.

    SQLite runs in WAL mode so readers never wait for a segmentation run's
    write, with foreign keys on. PostgreSQL pings pooled connections, so a
    restarted server costs one failed request at most, and bounds how long a
    connection attempt may hang. With ``lookups``, an engine for the hot lookups
    instead: autocommit (no BEGIN and ROLLBACK around a query) and no ping, one
    round trip per query (store/reads.py retries a read whose connection had died).
    """
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if url in IN_MEMORY:
            kwargs["poolclass"] = StaticPool
        if lookups:
            kwargs["isolation_level"] = "AUTOCOMMIT"
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    pool: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_timeout": 10,
    }
    if lookups:
        # Each statement commits on its own; the only writes are PasswordDigest nonces,
        # which need not wait for the WAL flush: a database crash may forget the last
        # fraction of a second of them, as a replay cache in memory would.
        options = "-c synchronous_commit=off"
        connect = {"connect_timeout": 3, "options": options}
        return create_engine(url, isolation_level="AUTOCOMMIT", connect_args=connect, **pool)
    # Fail fast when the server is gone, rather than hang a request.
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 3}, **pool)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A run's partitions each read a range of customers through the indexes: a larger
    # page cache (64 MiB) helps; memory-mapped reads do not, and would count the
    # file's pages in every partition process's resident memory.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA mmap_size=0")
    cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """``PRAGMA journal_mode=WAL``, waiting out other processes doing the same.

    The switch reads the header, then needs the exclusive lock. When another
    process starting at the same time (a gunicorn worker, ``init-db``) already
    writes in rollback-journal mode, SQLite answers "locked" at once instead of
    calling the busy handler, since waiting while holding the shared lock could
    deadlock. So retry the statement, shared lock released, up to the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def create_schema(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (see ``store/migrations``).

    An empty database gets every revision; one made by a release before
    migrations is adopted and upgraded in place, keeping its data.
    """
    migrations.upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def is_reachable(engine: Engine) -> bool:
    """True when a trivial query succeeds."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


class Store:
    """One database: its engine, its sessions, and units of work over them."""

    def __init__(self, url: str) -> None:
        self.engine = create_store_engine(url)
        self._sessions = session_factory(self.engine)
        self._lookup_engine = self.engine
        lookups: Engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        if url not in IN_MEMORY:  # a second engine would open another in-memory database
            self._lookup_engine = lookups = create_store_engine(url, lookups=True)
        self._lookups = LookupStore(lookups)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self._lookups)

    def create_schema(self) -> None:
        create_schema(self.engine)

    def is_reachable(self) -> bool:
        return is_reachable(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._lookup_engine is not self.engine:
            self._lookup_engine.dispose()


_PROCESS_STORES: dict[tuple[int, str], Store] = {}


def process_store(url: str) -> Store:
    """This process's one Store of ``url`` (connections do not cross a fork)."""
    key = (os.getpid(), url)
    if key not in _PROCESS_STORES:
        _PROCESS_STORES[key] = Store(url)
    return _PROCESS_STORES[key]
