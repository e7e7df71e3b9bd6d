"""The bare pipelines' database side: one driver connection, their SQL, one bulk write.

Assignments go to ``bench_assignments``, a copy of the service's
``assignments`` table (same columns, primary key and indexes, no foreign
key), emptied before each bare run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from segmentation_service.store.database import create_store_engine

BENCH_TABLE = "bench_assignments"
COLUMNS = ("run_id", "customer_id", "segment_code", "score", "value", "reason")
DDL = (
    f"CREATE TABLE IF NOT EXISTS {BENCH_TABLE} (run_id BIGINT NOT NULL, "
    "customer_id VARCHAR(64) NOT NULL, segment_code VARCHAR(64), score DOUBLE PRECISION, "
    "value DOUBLE PRECISION, reason TEXT, PRIMARY KEY (run_id, customer_id))",
    f"CREATE INDEX IF NOT EXISTS ix_{BENCH_TABLE}_segment ON {BENCH_TABLE} "
    "(run_id, segment_code, customer_id)",
    f"CREATE INDEX IF NOT EXISTS ix_{BENCH_TABLE}_customer ON {BENCH_TABLE} (customer_id, run_id)",
)

# Per customer, from transactions before the end of the as-of day: the figures
# of the service's value features, in one statement. Purchase days are the
# days with a positive amount; repeat spend is what was spent on those after
# the first (window rank k > 1).
VALUE_AGGREGATE = """
WITH daily AS (
  SELECT customer_id, {day} AS day, COUNT(*) AS n, SUM(amount) AS amount,
         SUM(COALESCE(cost, 0)) AS cost,
         SUM(CASE WHEN amount > 0 THEN 1 ELSE 0 END) AS purchases,
         SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS gross
  FROM transactions WHERE occurred_at < {end}
  GROUP BY customer_id, {day}
), ranked AS (
  SELECT daily.*,
         ROW_NUMBER() OVER (PARTITION BY customer_id, purchases > 0 ORDER BY day) AS k
  FROM daily
)
SELECT customer_id, SUM(n) AS transaction_count, SUM(purchases) AS purchase_count,
       SUM(amount) AS revenue, SUM(gross) AS gross_revenue, SUM(cost) AS cost,
       MIN(CASE WHEN purchases > 0 THEN day END) AS first_day,
       MAX(CASE WHEN purchases > 0 THEN day END) AS last_day,
       SUM(CASE WHEN purchases > 0 THEN 1 ELSE 0 END) AS purchase_days,
       SUM(CASE WHEN purchases > 0 AND k > 1 THEN gross ELSE 0 END) AS repeat_spend
FROM ranked GROUP BY customer_id
"""
VALUE_COLUMNS = (
    "customer_id",
    "transaction_count",
    "purchase_count",
    "revenue",
    "gross_revenue",
    "cost",
    "first_day",
    "last_day",
    "purchase_days",
    "repeat_spend",
)


class BareStore:
    def __init__(self, database_url: str) -> None:
        self.engine: Engine = create_store_engine(database_url)
        self.dialect = self.engine.dialect.name
        self._raw: Any = self.engine.raw_connection()
        cursor = self._raw.cursor()
        for statement in DDL:
            cursor.execute(statement)
        cursor.close()
        self._raw.commit()

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self._raw.cursor()
        try:
            cursor.execute(sql)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        finally:
            cursor.close()
        self._raw.commit()
        return rows

    def value_aggregate_sql(self, as_of: date) -> str:
        end = as_of + timedelta(days=1)
        if self.dialect == "postgresql":
            day, literal = "CAST(occurred_at AS DATE)", f"TIMESTAMP '{end} 00:00:00'"
        else:
            day, literal = "date(occurred_at)", f"'{end} 00:00:00.000000'"
        return VALUE_AGGREGATE.format(day=day, end=literal)

    def clear(self) -> None:
        cursor = self._raw.cursor()
        verb = "TRUNCATE" if self.dialect == "postgresql" else "DELETE FROM"
        cursor.execute(f"{verb} {BENCH_TABLE}")
        cursor.close()
        self._raw.commit()

    def write(self, rows: Sequence[Sequence[Any]]) -> float:
        """One bulk write in one transaction: COPY on PostgreSQL, executemany on SQLite."""
        started = time.perf_counter()
        cursor = self._raw.cursor()
        try:
            if self.dialect == "postgresql":
                with cursor.copy(f"COPY {BENCH_TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in COLUMNS)
                cursor.executemany(
                    f"INSERT INTO {BENCH_TABLE} ({', '.join(COLUMNS)}) VALUES ({marks})", rows
                )
        finally:
            cursor.close()
        self._raw.commit()
        return time.perf_counter() - started

    def close(self) -> None:
        self._raw.close()
        self.engine.dispose()
