"""The SQLite engine's connection set-up, against a real database file."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from segmentation_service.store.database import Store

HELD_FOR_SECONDS = 0.5


def test_a_new_connection_waits_for_the_lock_that_switching_to_wal_needs(tmp_path: Path) -> None:
    # A sibling process (a gunicorn worker, ``init-db``) still in rollback-journal mode
    # holds the write lock: our switch to WAL reads the header, then needs the exclusive
    # lock, and SQLite refuses that at once, busy timeout or not, to avoid a deadlock.
    # The connection must wait for the writer instead of failing.
    path = tmp_path / "store.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE held (x)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO held VALUES (1)")
    release = threading.Timer(HELD_FOR_SECONDS, lambda: holder.execute("COMMIT"))
    release.start()
    store = Store(f"sqlite:///{path}")
    try:
        with store.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            rows = connection.exec_driver_sql("SELECT count(*) FROM held").scalar()
    finally:
        release.join()
        store.dispose()
        holder.close()
    assert (mode, rows) == ("wal", 1)
