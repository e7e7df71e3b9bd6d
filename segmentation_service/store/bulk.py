"""Set-based writes: one statement or one COPY per batch, never a round trip per row."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, Table
from sqlalchemy.orm import Session

from segmentation_service.domain.model import Partition
from segmentation_service.store.chunking import chunks

# Which customers a read covers: all (None), given ids, or one partition of a run.
Scope = Partition | Sequence[str] | None
# The conditions that restrict a query to a part of the scope, given its customer_id column.
Restriction = Callable[[ColumnElement[Any]], list[ColumnElement[bool]]]


def restrictions(scope: Scope) -> Iterator[Restriction]:
    """One restriction per query to run: ids go in chunks, a range or everyone in one."""
    if isinstance(scope, Partition) and scope.ids is None:
        after, through = scope.after, scope.through

        def in_range(column: ColumnElement[Any]) -> list[ColumnElement[bool]]:
            return [
                *([] if after is None else [column > after]),
                *([] if through is None else [column <= through]),
            ]

        yield in_range
        return
    if scope is None:
        yield lambda column: []
        return
    ids = scope.ids if isinstance(scope, Partition) else scope
    assert ids is not None
    for part in chunks(list(dict.fromkeys(ids))):
        yield lambda column, part=part: [column.in_(part)]  # type: ignore[misc]


def read_frame(
    session: Session,
    query_for: Callable[[Restriction], Select[Any]],
    scope: Scope,
    columns: Sequence[str],
) -> pd.DataFrame:
    """One frame from a query over the customers of ``scope``, in as few queries as it takes.

    ``query_for(restriction)`` builds the query, applying ``restriction`` to the
    customer_id column(s) it reads. An empty result still has ``columns``.
    """
    connection = session.connection()
    frames = [
        pd.read_sql(query_for(restriction), connection) for restriction in restrictions(scope)
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
    return pd.concat(frames, ignore_index=True)


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Append rows inside the session's transaction by the store's fastest path.

    PostgreSQL gets a binary-free text COPY; SQLite an executemany on the
    driver cursor, which skips SQLAlchemy's per-row parameter processing.
    """
    if not rows:
        return
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    column_list = ", ".join(columns)
    cursor: Any = raw.cursor()
    try:
        if session.get_bind().dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {table.name} ({column_list}) VALUES ({placeholders})"
            cursor.executemany(statement, rows)
    finally:
        cursor.close()


def upsert_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
) -> None:
    """Insert rows, replacing the non-key columns of rows whose key exists (idempotent imports).

    The store's bulk path, with upsert semantics: on PostgreSQL the rows are
    COPYed into a temporary table and merged by one INSERT ... ON CONFLICT; on
    SQLite one driver-level executemany of INSERT ... ON CONFLICT. Both run in
    the session's transaction.
    """
    if not rows:
        return
    columns = [column.name for column in table.columns]
    dialect = session.get_bind().dialect
    # What SQLAlchemy would do per value (e.g. SQLite's datetime text format), but
    # only for the columns that need it.
    processors = [
        (position, processor)
        for position, column in enumerate(table.columns)
        if (processor := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    values: list[list[Any]] = []
    for source in rows:
        value = [source.get(name) for name in columns]
        for position, processor in processors:
            if value[position] is not None:
                value[position] = processor(value[position])
        values.append(value)
    column_list = ", ".join(columns)
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in key)
    conflict = f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor: Any = raw.cursor()
    try:
        if dialect.name == "postgresql":
            staging = f"staging_{table.name}"
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "
                f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            with cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table.name} ({column_list}) SELECT {column_list} FROM {staging} "
                f"{conflict}"
            )
            cursor.execute(f"TRUNCATE {staging}")
        else:
            placeholders = ", ".join("?" for _ in columns)
            cursor.executemany(
                f"INSERT INTO {table.name} ({column_list}) VALUES ({placeholders}) {conflict}",
                values,
            )
    finally:
        cursor.close()
