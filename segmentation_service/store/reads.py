"""The reads of the hot lookups: one pooled connection, no ORM session, no transaction.

A CRM screen's GetCustomerSegment is one indexed query. Through a unit of work
it was also an ORM session, a transaction (BEGIN and ROLLBACK: two more round
trips on PostgreSQL) and a pool pre-ping (a third); those cost more than the
query. ``LookupReads`` runs the lookups' statements (built once, in queries.py)
on a connection in autocommit mode from an engine without pre-ping: one round
trip per query. Completed runs never change, so the lookups need no snapshot
across their queries.

A pooled connection that died with its server (a PostgreSQL restart) fails its
first query; ``read`` then runs the lookup once more on a fresh connection, as
the pre-ping did, since a read may be repeated. (A nonce INSERT is the one
write here: it runs after the user's read, so a dead connection has failed
before it.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Engine, Row
from sqlalchemy.exc import DBAPIError

from segmentation_service.domain.model import (
    CustomerSegment,
    RunStatus,
    SegmentationMethod,
    SegmentMember,
)
from segmentation_service.store import queries
from segmentation_service.store.chunking import chunks
from segmentation_service.store.executors import Executor, dialect_of
from segmentation_service.store.times import to_utc
from segmentation_service.store.users import NonceRepository, UserRepository

Result = TypeVar("Result")


@dataclass(frozen=True)
class ValueInputs:
    """Rows of ``queries.CUSTOMER_COSTS`` and ``queries.BATCH_AGGREGATES`` (customer_id
    first; the aggregates' columns as ``store.transactions.AGGREGATE_COLUMNS``)."""

    costs: list[tuple[Any, ...]]
    aggregates: list[Row[Any]]


@dataclass(frozen=True)
class SegmentPage:
    """A run's method and status, the size of one of its segments (None: no such
    segment) and a page of that segment's members."""

    method: SegmentationMethod
    status: RunStatus
    size: int | None
    members: list[SegmentMember]


class LookupReads:
    """The lookups' queries on one connection (or in a unit of work's session).

    Authentication's statements come along (``users``, ``nonces``): a UsernameToken
    is checked before every lookup, and a nonce is recorded by one INSERT, atomic
    on its own.
    """

    def __init__(self, connection: Executor) -> None:
        self._connection = connection
        self.users = UserRepository(connection)
        self.nonces = NonceRepository(connection)

    def run_method_and_status(self, run_id: int) -> tuple[SegmentationMethod, RunStatus] | None:
        found = self._connection.execute(queries.RUN_METHOD_AND_STATUS, {"run_id": run_id}).first()
        if found is None:
            return None
        return SegmentationMethod(found.method), RunStatus(found.status)

    def latest_completed(self, method: SegmentationMethod) -> int | None:
        found: int | None = self._connection.scalar(
            queries.LATEST_COMPLETED_RUN, {"method": method.value}
        )
        return found

    def value_inputs(self, as_of: date, customer_ids: Sequence[str]) -> ValueInputs:
        """What ScoreCustomerValue reads of a batch: each known customer's costs and the
        aggregates of its transactions dated on or before ``as_of`` (ids in chunks)."""
        costs: list[tuple[Any, ...]] = []
        aggregates: list[Row[Any]] = []
        dialect = dialect_of(self._connection)
        before = queries.day_after(dialect, as_of)
        for part in chunks(list(dict.fromkeys(customer_ids))):
            found = self._connection.execute(queries.CUSTOMER_COSTS, {"customer_ids": part})
            costs += [tuple(row) for row in found.all()]  # one fetch, not one per row
            parameters = {"customer_ids": part, "before": before}
            statement = queries.BATCH_AGGREGATES[dialect]
            aggregates += self._connection.execute(statement, parameters).all()
        return ValueInputs(costs, aggregates)

    def run_model(self, run_id: int) -> dict[str, Any] | None:
        """The fitted model a run kept (value-based runs), as stored."""
        found: dict[str, Any] | None = self._connection.scalar(
            queries.RUN_MODEL, {"run_id": run_id}
        )
        return found

    def existing_ids(self, customer_ids: Sequence[str]) -> set[str]:
        """Which of ``customer_ids`` are customers, in one query."""
        dialect = dialect_of(self._connection)
        ids = list(dict.fromkeys(customer_ids))
        parameter = ids if dialect == "postgresql" else json.dumps(ids)
        statement = queries.existing_customers(dialect)
        return set(self._connection.scalars(statement, {"ids": parameter}))

    def latest_by_method(
        self,
        customer_id: str,
        methods: Sequence[SegmentationMethod],
        run_id: int | None = None,
    ) -> dict[SegmentationMethod, CustomerSegment]:
        """The customer's place in the newest completed covering run of each method.

        With ``run_id``, in that run instead. Methods whose run left it unassigned are absent.
        """
        parameters: dict[str, Any] = {"customer_id": customer_id}
        if run_id is not None:
            parameters["run_id"] = run_id
        names = tuple(method.value for method in methods)
        query = queries.latest_by_method(names, in_one_run=run_id is not None)
        placements = {}
        for row in self._connection.execute(query, parameters):
            method = SegmentationMethod(row.method)
            placements[method] = CustomerSegment(
                customer_id=customer_id,
                run_id=row.run_id,
                method=method,
                segment_code=row.segment_code,
                segment_name=row.name or row.segment_code,
                assigned_at=to_utc(row.finished_at) or row.finished_at,
                score=row.score,
                reason=row.reason,
            )
        return placements

    def segment_page(
        self, run_id: int, segment_code: str, after: str | None, limit: int
    ) -> SegmentPage | None:
        """The run and up to ``limit`` members of its segment with customer ids greater
        than ``after``, in id order, in one query; None when there is no such run."""
        parameters = {"run_id": run_id, "segment_code": segment_code, "limit": limit}
        query = queries.FIRST_SEGMENT_PAGE
        if after is not None:
            query = queries.NEXT_SEGMENT_PAGE
            parameters["after"] = after
        rows = self._connection.execute(query, parameters).all()  # one fetch, not per row
        if not rows:
            return None
        method, status, size = rows[0][:3]
        # Unpacked by position: a Row's attributes cost more than the rest of the page.
        members = [
            SegmentMember(customer_id, name or "", value, score)
            for _, _, _, customer_id, name, value, score in rows
            if customer_id is not None
        ]
        return SegmentPage(SegmentationMethod(method), RunStatus(status), size, members)


class LookupStore:
    """Runs lookups on the store's engine for them (``create_store_engine(lookups=True)``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def read(self, lookup: Callable[[LookupReads], Result]) -> Result:
        """``lookup``'s answer; once more on a fresh connection if the pooled one had died."""
        try:
            return self._read(lookup)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        return self._read(lookup)

    def _read(self, lookup: Callable[[LookupReads], Result]) -> Result:
        with self._engine.connect() as connection:
            return lookup(LookupReads(connection))
