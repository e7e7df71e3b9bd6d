"""Schema migrations: Alembic owns the schema.

The revisions live in ``versions/``, each file named by its revision id
(``NNNN_slug``). ``env.py`` and ``script.py.mako`` serve only the ``alembic``
command, for writing revisions (README, "Schema migrations"); the service calls
:func:`upgrade`, configured here, without ``alembic.ini``:

- One transaction per upgrade: every pending revision or none. Processes that
  start together take turns: PostgreSQL holds a transaction-scoped advisory
  lock, SQLite the database's write lock (``BEGIN IMMEDIATE``, waiting up to
  the busy timeout), and whoever comes second finds nothing left to do.
- A database that ``create_all`` made before Alembic (the store's tables, no
  ``alembic_version``) is stamped at ``0001_initial`` and upgraded from there;
  before commit, the result must match the models exactly.
- On SQLite, foreign keys are off while migrating: batch migrations recreate
  tables, and dropping a referenced table would otherwise cascade into its
  children. ``PRAGMA foreign_key_check`` must come back empty before commit.
"""

from __future__ import annotations

import functools
import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text

from segmentation_service.store.tables import Base

logger = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).resolve().parent
HEAD = "head"
# Release 0.1 (git 93846bc9), the last one without Alembic.
PREVIOUS_RELEASE = "0001_initial"
# Any fixed 64-bit number, the same in every process.
ADVISORY_LOCK_KEY = zlib.crc32(b"segmentation_service.store.migrations")
# Alembic's ``context`` and ``op`` are module globals: one migration per process at a time.
_in_process = threading.Lock()

Steps = Callable[[Any, MigrationContext], list[RevisionStep]]


class SchemaError(RuntimeError):
    """The database holds something the migrations cannot bring to the models."""


def context_options() -> dict[str, Any]:
    """``EnvironmentContext.configure`` options shared by the service and ``env.py``.

    Batch operations on every dialect: on SQLite they recreate tables for the
    ALTERs it lacks, elsewhere they are plain ALTERs; so a revision written
    against either database runs on both.
    """
    return {
        "target_metadata": Base.metadata,
        "render_as_batch": True,
        "include_name": _ours,
    }


# The job queue (huey) keeps its own tables in the same PostgreSQL database.
QUEUE_TABLE_PREFIX = "huey_"


def _ours(name: str | None, kind: str, _parent: Any) -> bool:
    return not (kind == "table" and (name or "").startswith(QUEUE_TABLE_PREFIX))


@functools.cache
def script_directory() -> ScriptDirectory:
    """The revisions, read once per process."""
    return ScriptDirectory(SCRIPT_LOCATION)


def head_revision() -> str:
    head = script_directory().get_current_head()
    if head is None:
        raise SchemaError(f"no revisions in {SCRIPT_LOCATION / 'versions'}")
    return head


def previous_release_metadata() -> MetaData:
    """The tables of release 0.1, as its ``create_all`` made them (from 0001)."""
    script = script_directory().get_revision(PREVIOUS_RELEASE)
    assert script is not None
    return cast(MetaData, script.module.previous_release_metadata())


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None when Alembic has never touched it."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = HEAD) -> None:
    """Bring the database up to ``revision``, adopting a database made before Alembic."""
    script = script_directory()
    with _in_process, _migration_transaction(engine) as connection:
        adopted = _stamp_if_made_before_alembic(connection)
        _run(connection, revision, lambda current, _: script._upgrade_revs(revision, current))
        if adopted and revision == HEAD:
            _check_matches_models(connection)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to ``revision`` (the downgrades may drop data)."""
    script = script_directory()
    with _in_process, _migration_transaction(engine) as connection:
        _run(connection, revision, lambda current, _: script._downgrade_revs(revision, current))


def _run(connection: Connection, destination: str, steps: Steps) -> None:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    with EnvironmentContext(
        config, script_directory(), fn=steps, destination_rev=destination
    ) as environment:
        # Our transaction holds the DDL on SQLite too (see _sqlite_write_transaction).
        environment.configure(connection=connection, transactional_ddl=True, **context_options())
        with environment.begin_transaction():  # ours is already open: a no-op
            environment.run_migrations()


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction that no other upgrade can enter until commit."""
    if engine.dialect.name == "sqlite":
        with _sqlite_write_transaction(engine) as connection:
            yield connection
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        yield connection


@contextmanager
def _sqlite_write_transaction(engine: Engine) -> Iterator[Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` with foreign keys off, DDL included.

    pysqlite opens transactions only before DML, so the driver is put in
    autocommit mode (reset when the connection returns to the pool) and the
    transaction is ours; ``foreign_keys`` can only change outside one.
    """
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
                violations = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if violations:
                    raise SchemaError(f"foreign keys broken by the migration: {violations}")
            except BaseException:
                if connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
                    connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _stamp_if_made_before_alembic(connection: Connection) -> bool:
    """Stamp a pre-Alembic database at release 0.1; True when it was one."""
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables or not tables & set(Base.metadata.tables):
        return False
    missing = set(previous_release_metadata().tables) - tables
    if missing:
        raise SchemaError(
            f"the database has some of the store's tables but not {sorted(missing)}, "
            "and no alembic_version: it was not made by this service"
        )
    logger.info("database made before schema migrations: stamping %s", PREVIOUS_RELEASE)
    MigrationContext.configure(connection).stamp(script_directory(), PREVIOUS_RELEASE)
    return True


def _check_matches_models(connection: Connection) -> None:
    ours = set(Base.metadata.tables)

    def include_name(name: str | None, type_: str, _parent: Any) -> bool:
        return type_ != "table" or name in ours

    context = MigrationContext.configure(connection, opts={"include_name": include_name})
    differences = compare_metadata(context, Base.metadata)
    if differences:
        raise SchemaError(
            f"the upgraded database still differs from the models: {differences}; "
            "nothing was changed"
        )
