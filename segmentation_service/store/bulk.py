"""Set-based writes: one statement or one COPY per batch, never a round trip per row."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Date, DateTime, Select, Table
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
        _fetch_frame(connection, query_for(restriction)) for restriction in restrictions(scope)
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
    return pd.concat(frames, ignore_index=True)


def _fetch_frame(connection: Connection, query: Select[Any]) -> pd.DataFrame:
    """The query's rows as a frame, taken from the driver's cursor as its tuples.

    ``pd.read_sql`` goes through a SQLAlchemy Row per row, which cost more than
    the query on large partitions. The types' own result conversions (SQLite's
    date text to ``date``) are applied a column at a time, only where the
    dialect has one, so the frame equals ``pd.read_sql``'s.
    """
    result = connection.execute(query)
    try:
        description = result.cursor.description
        rows = result.cursor.fetchall()
    finally:
        result.close()
    names = [entry[0] for entry in description]
    dialect = connection.dialect
    conversions = [
        (position, convert)
        for position, (column, entry) in enumerate(
            zip(query.selected_columns, description, strict=True)
        )
        if (convert := column.type.dialect_impl(dialect).result_processor(dialect, entry[1]))
    ]
    if rows and conversions:
        values = list(zip(*rows, strict=True))
        for position, convert in conversions:
            values[position] = tuple(
                None if value is None else convert(value) for value in values[position]
            )
        rows = list(zip(*values, strict=True))
    return pd.DataFrame(rows, columns=names)


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
    names = [column.name for column in table.columns]
    upsert_columns(session, table, {name: [row.get(name) for row in rows] for name in names}, key)


def upsert_columns(
    session: Session, table: Table, columns: Mapping[str, Sequence[Any]], key: Sequence[str]
) -> None:
    """``upsert_rows`` of rows given by column (each list one value per row; a column
    of the table not given is NULL): an import's batch is parsed a column at a time."""
    size = len(next(iter(columns.values()), ()))
    if not size:
        return
    dialect = session.get_bind().dialect
    prepared: list[Sequence[Any]] = []
    for column in table.columns:
        given = columns.get(column.name)
        # What SQLAlchemy would do per value (e.g. SQLite's datetime text format), but
        # only for the columns that need it.
        processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(
            dialect
        )
        if processor is not None and dialect.name == "sqlite":
            processor = _sqlite_temporal(processor, column.type)
        if given is None:
            prepared.append([None] * size)
        elif processor is None:
            prepared.append(given)
        else:
            prepared.append([None if value is None else processor(value) for value in given])
    values = list(zip(*prepared, strict=True))
    names = [column.name for column in table.columns]
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor: Any = raw.cursor()
    try:
        if dialect.name == "postgresql":
            _postgres_upsert(cursor, table.name, names, key, values)
        else:
            placeholders = ", ".join("?" for _ in names)
            cursor.executemany(
                f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders}) "
                f"{_on_conflict(names, key)}",
                values,
            )
    finally:
        cursor.close()


def _on_conflict(names: Sequence[str], key: Sequence[str]) -> str:
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name not in key)
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"


def _postgres_upsert(
    cursor: Any, table: str, names: Sequence[str], key: Sequence[str], values: Sequence[Any]
) -> None:
    """COPY into a temporary table, merged by one INSERT ... ON CONFLICT (ON CONFLICT
    takes no COPY). Measured: a COPY straight into the table when no key is stored
    yet saved nothing, the check for stored keys costing what it saved."""
    column_list = ", ".join(names)
    staging = f"staging_{table}"
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "
        f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    with cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
    cursor.execute(
        f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {staging} "
        f"{_on_conflict(names, key)}"
    )
    cursor.execute(f"TRUNCATE {staging}")


def _sqlite_temporal(processor: Callable[[Any], Any], kind: Any) -> Callable[[Any], Any]:
    """SQLAlchemy's SQLite DATETIME and DATE texts ('YYYY-MM-DD HH:MM:SS.ffffff',
    'YYYY-MM-DD'), written by ``isoformat`` for datetimes and dates (its own took a
    quarter of an upsert's time; the same text: tested); other types as they are."""
    if isinstance(kind, DateTime):

        def moment_text(value: Any) -> Any:
            if type(value) is datetime:
                return value.isoformat(" ", "microseconds")
            return processor(value)

        return moment_text
    if isinstance(kind, Date):

        def day_text(value: Any) -> Any:
            if type(value) is date:
                return value.isoformat()
            return processor(value)

        return day_text
    return processor
