"""The store's bulk path on CSV rows: ``store.bulk.insert_rows`` (COPY / driver executemany).

Rows go from the file straight to the driver: no parsing beyond the CSV
reader, no validation, no upsert; one transaction per file. This is the
ceiling `segmentation-service import` is compared with, and how the
benchmark's stores are filled.
"""

from __future__ import annotations

import csv
import gc
import time
from pathlib import Path

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from segmentation_service.store.bulk import insert_rows
from segmentation_service.store.database import Store
from segmentation_service.store.tables import CustomerRow, NeedResponseRow, TransactionRow, table

TABLES: dict[str, Table] = {
    "customers": table(CustomerRow),
    "transactions": table(TransactionRow),
    "needs": table(NeedResponseRow),
}
# SQLAlchemy keeps SQLite DATETIME values as "YYYY-MM-DD HH:MM:SS.ffffff" text.
SQLITE_DATETIME_COLUMNS = {"occurred_at"}
BATCH_ROWS = 50_000


def bulk_load(database_url: str, kind: str, path: Path) -> tuple[int, float]:
    """Append the rows of one CSV file; returns (rows, seconds). The schema must exist.

    Python's cyclic garbage collector is off meanwhile, as in `segmentation-service
    import` (its passes over the rows read cost either path a quarter of its time).
    """
    store = Store(database_url)
    collecting = gc.isenabled()
    gc.disable()
    try:
        sqlite = store.engine.dialect.name == "sqlite"
        started = time.perf_counter()
        rows = 0
        with path.open(newline="", encoding="utf-8") as handle, Session(store.engine) as session:
            reader = csv.reader(handle)
            header = next(reader)
            stamps = [i for i, name in enumerate(header) if name in SQLITE_DATETIME_COLUMNS]
            batch: list[list[str | None]] = []
            for raw in reader:
                row: list[str | None] = [value if value != "" else None for value in raw]
                if sqlite:
                    for i in stamps:
                        value = row[i]
                        if value is not None and len(value) == 19:
                            row[i] = value + ".000000"
                batch.append(row)
                if len(batch) >= BATCH_ROWS:
                    insert_rows(session, TABLES[kind], header, batch)
                    rows += len(batch)
                    batch = []
            insert_rows(session, TABLES[kind], header, batch)
            rows += len(batch)
            session.commit()
        return rows, time.perf_counter() - started
    finally:
        if collecting:
            gc.enable()
        store.dispose()


def create_schema(database_url: str) -> None:
    store = Store(database_url)
    store.create_schema()
    store.dispose()


def analyze(database_url: str) -> None:
    """PostgreSQL: refresh planner statistics after a bulk load, as autovacuum soon would."""
    store = Store(database_url)
    try:
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
    finally:
        store.dispose()
