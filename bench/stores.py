"""Where the benchmark's databases live: SQLite files, or a PostgreSQL server.

PostgreSQL is the tests' throwaway server (``tests.postgres.PostgresServer``:
initdb + pg_ctl in a temporary directory, durability off), or the server
named by ``SEGMENTATION_BENCH_DATABASE_URL`` (a URL whose user may create
and drop databases; the benchmark's databases are named ``bench_*``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url

EXTERNAL_URL_VARIABLE = "SEGMENTATION_BENCH_DATABASE_URL"


class Databases(Protocol):
    kind: str

    def fresh(self, name: str) -> str:
        """The URL of a new, empty database called ``name`` (replacing an old one)."""
        ...

    def drop(self, name: str) -> None: ...

    def version(self) -> str: ...

    def close(self) -> None: ...


class SqliteDatabases:
    kind = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.db"

    def fresh(self, name: str) -> str:
        self.drop(name)
        return f"sqlite:///{self._path(name)}"

    def drop(self, name: str) -> None:
        # The run queue of a SQLite store is a file beside it: NAME-queue.db.
        queue = self._path(name).with_name(f"{name}-queue.db")
        for path in (self._path(name), queue):
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class PostgresDatabases:
    kind = "postgresql"

    def __init__(self) -> None:
        external = os.environ.get(EXTERNAL_URL_VARIABLE)
        self._server = None
        if external:
            self._admin_url = external
        else:
            from tests.postgres import PostgresServer

            self._server = PostgresServer().initialise()
            self._server.start()
            self._admin_url = self._server.url
        self._admin = sa.create_engine(self._admin_url, isolation_level="AUTOCOMMIT")

    def url_for(self, name: str) -> str:
        url = make_url(self._admin_url).set(database=name)
        return url.render_as_string(hide_password=False)

    def fresh(self, name: str) -> str:
        self.drop(name)
        with self._admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def version(self) -> str:
        with self._admin.connect() as connection:
            return "PostgreSQL " + str(connection.execute(sa.text("SHOW server_version")).scalar())

    def settings(self) -> dict[str, str]:
        names = (
            "shared_buffers",
            "work_mem",
            "fsync",
            "synchronous_commit",
            "max_parallel_workers",
        )
        with self._admin.connect() as connection:
            return {
                name: str(connection.execute(sa.text(f"SHOW {name}")).scalar()) for name in names
            }

    def close(self) -> None:
        self._admin.dispose()
        if self._server is not None:
            self._server.destroy()


def open_databases(kind: str, work: Path) -> Databases:
    if kind == "sqlite":
        return SqliteDatabases(work / "sqlite")
    if kind == "postgresql":
        return PostgresDatabases()
    raise ValueError(f"unknown store {kind!r}: sqlite or postgresql")
