"""Statements the lookups run on every CRM screen, built once with bind parameters.

Building a SQLAlchemy statement and its cache key costs more than running
these indexed queries (about 2-5 ms against 0.5 ms); built once at import,
each call only binds values. Parameter names are the keys callers pass.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    DateTime,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal,
    select,
    true,
)

from segmentation_service.domain.model import RunStatus
from segmentation_service.store.tables import AssignmentRow as A  # noqa: N814
from segmentation_service.store.tables import CustomerRow as C  # noqa: N814
from segmentation_service.store.tables import RunRow as R  # noqa: N814
from segmentation_service.store.tables import SegmentRow as S  # noqa: N814
from segmentation_service.store.tables import TransactionRow, table

if TYPE_CHECKING:
    from segmentation_service.store.bulk import Restriction

COMPLETED = RunStatus.COMPLETED.value
T = table(TransactionRow).c


@cache
def latest_by_method(methods: tuple[str, ...], in_one_run: bool) -> Any:
    """A customer's newest completed covering run per method (customer_id[, run_id]).

    One statement per set of methods, built once (``functools.cache``): the methods are
    the contract's enumeration, written into the statement rather than bound, so a call
    does not expand a list parameter.
    """
    newest = func.row_number().over(partition_by=R.method, order_by=A.run_id.desc())
    ranked = (
        select(
            A.run_id,
            A.segment_code,
            A.score,
            A.reason,
            R.method,
            R.finished_at,
            S.name,
            newest.label("rank"),
        )
        .join(R, R.run_id == A.run_id)
        .outerjoin(S, and_(S.run_id == A.run_id, S.code == A.segment_code))
        .where(
            A.customer_id == bindparam("customer_id"),
            R.method.in_([literal(method, String) for method in methods]),
            R.status == COMPLETED,
        )
    )
    if in_one_run:
        ranked = ranked.where(A.run_id == bindparam("run_id"))
    inner = ranked.subquery()
    return select(inner).where(inner.c.rank == 1, inner.c.segment_code.is_not(None))


def _member_page(after: bool) -> Any:
    """Keyset page of a segment (run_id, segment_code, limit[, after]).

    The page is cut from the assignments first and only then joined to the
    customers' names: joined the other way round, PostgreSQL may walk the
    customers' index from the start and a deep page costs far more than the first.
    """
    page = (
        select(A.customer_id, A.value, A.score)
        .where(A.run_id == bindparam("run_id"), A.segment_code == bindparam("segment_code"))
        .order_by(A.customer_id)
        .limit(bindparam("limit"))
    )
    if after:
        page = page.where(A.customer_id > bindparam("after"))
    members = page.subquery()
    return (
        select(members.c.customer_id, C.name, members.c.value, members.c.score)
        .select_from(members.outerjoin(C, C.customer_id == members.c.customer_id))
        .order_by(members.c.customer_id)
    )


def _segment_page(after: bool) -> Select[Any]:
    """ListSegmentMembers in one round trip (run_id, segment_code, limit[, after]): the
    run's method and status and the size of its segment (NULL: no such segment) on every
    row, beside a member of the page (NULL: the page is empty); no row: no such run."""
    run = (
        select(R.method, R.status, S.size)
        .outerjoin(S, and_(S.run_id == R.run_id, S.code == bindparam("segment_code")))
        .where(R.run_id == bindparam("run_id"))
        .subquery("run")
    )
    page = _member_page(after).subquery("page")
    return (
        select(run, page.c.customer_id, page.c.name, page.c.value, page.c.score)
        .select_from(run.outerjoin(page, true()))
        .order_by(page.c.customer_id)
    )


FIRST_SEGMENT_PAGE = _segment_page(after=False)
NEXT_SEGMENT_PAGE = _segment_page(after=True)
LATEST_COMPLETED_RUN = (
    select(R.run_id)
    .where(R.method == bindparam("method"), R.status == COMPLETED)
    .order_by(R.run_id.desc())
    .limit(1)
)
RUN_MODEL = select(R.model).where(R.run_id == bindparam("run_id"))
RUN_METHOD_AND_STATUS = select(R.method, R.status).where(R.run_id == bindparam("run_id"))


def aggregate_query(dated: ColumnElement[bool], restrict: Restriction) -> Select[Any]:
    """Per customer, the transactions' aggregates (``store.transactions.AGGREGATE_COLUMNS``)."""
    in_scope = and_(dated, *restrict(T.customer_id))
    purchase = T.amount >= 0  # zero is a purchase (a free item); only returns are not
    day = func.date(T.occurred_at)
    first_days = (
        select(T.customer_id, func.min(day).label("first_day"))
        .where(in_scope, purchase)
        .group_by(T.customer_id)
        .subquery()
    )
    return (
        select(
            T.customer_id,
            func.count().label("transaction_count"),
            func.count(case((purchase, 1))).label("purchase_count"),
            func.sum(T.amount).label("revenue"),
            func.coalesce(func.sum(case((purchase, T.amount))), 0.0).label("gross_revenue"),
            func.coalesce(func.sum(T.cost), 0.0).label("cost"),
            func.min(case((purchase, T.occurred_at))).label("first_purchase"),
            func.max(case((purchase, T.occurred_at))).label("last_purchase"),
            func.count(func.distinct(case((purchase, day)))).label("purchase_days"),
            func.coalesce(
                func.sum(case((and_(purchase, day > first_days.c.first_day), T.amount))), 0.0
            ).label("repeat_spend"),
        )
        .select_from(
            table(TransactionRow).outerjoin(first_days, first_days.c.customer_id == T.customer_id)
        )
        .where(in_scope)
        .group_by(T.customer_id)
    )


def day_after(dialect: str, as_of: date) -> str | datetime:
    """What ``occurred_at`` must be below to be dated on or before ``as_of``.

    SQLite keeps DATETIME values as text, 'YYYY-MM-DD HH:MM:SS[.ffffff]', and
    compares them as text: the bound is the next day's date alone, which sorts
    after every time of ``as_of`` and before every time of the next day, with
    or without fractional seconds (a bound of '... 00:00:00.000000' would let
    the next midnight in when it is stored without them).
    """
    next_day = as_of + timedelta(days=1)
    return next_day.isoformat() if dialect == "sqlite" else datetime.combine(next_day, time.min)


def _batch_aggregates(bound_type: Any) -> Select[Any]:
    """``aggregate_query`` of the customers ``customer_ids`` dated before ``before``."""
    before = bindparam("before", type_=bound_type)
    ids: BindParameter[Any] = bindparam("customer_ids", expanding=True)
    return aggregate_query(T.occurred_at < before, lambda column: [column.in_(ids)])


# ScoreCustomerValue's aggregates of a batch, by dialect (see ``day_after``).
BATCH_AGGREGATES = {
    "sqlite": _batch_aggregates(String),
    "postgresql": _batch_aggregates(DateTime),
}
CUSTOMER_COSTS = select(C.customer_id, C.acquisition_cost, C.annual_cost_to_serve).where(
    C.customer_id.in_(bindparam("customer_ids", expanding=True))
)


@cache
def existing_customers(dialect: str) -> Select[Any]:
    """Which of the ids in the parameter ``ids`` are customers: one parameter however
    many ids (a JSON array on SQLite, an array on PostgreSQL), so nothing is rendered per
    id or cut into chunks (an import checks 50,000 a batch)."""
    if dialect == "postgresql":
        return select(C.customer_id).where(
            C.customer_id == any_(bindparam("ids", type_=ARRAY(String)))
        )
    listed = func.json_each(bindparam("ids", type_=String)).table_valued("value")
    return select(C.customer_id).where(C.customer_id.in_(select(listed.c.value)))
