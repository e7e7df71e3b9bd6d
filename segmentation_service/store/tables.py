"""SQLAlchemy 2.0 declarative rows. Imported only inside ``store/``.

Times are naive UTC. Money is double precision: the service aggregates and
ranks, it does not keep books.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID_LENGTH = 64
# SQLite only auto-increments an INTEGER PRIMARY KEY.
RunIdType = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


def table(model: type[Base]) -> Table:
    """The Core table of a row class, typed as a Table."""
    return cast(Table, model.__table__)


class CustomerRow(Base):
    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    customer_type: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    industry: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    employee_count: Mapped[int | None] = mapped_column(Integer)
    annual_revenue: Mapped[float | None] = mapped_column(Float)
    region: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    country: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    preferred_channel: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    signup_date: Mapped[date | None] = mapped_column(Date)
    acquisition_cost: Mapped[float | None] = mapped_column(Float)
    annual_cost_to_serve: Mapped[float | None] = mapped_column(Float)


class TransactionRow(Base):
    __tablename__ = "transactions"
    # Covering: the per-customer aggregates read only these columns, in this order.
    __table_args__ = (
        Index("ix_transactions_customer_covering", "customer_id", "occurred_at", "amount", "cost"),
    )

    transaction_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("customers.customer_id", ondelete="CASCADE")
    )
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    amount: Mapped[float] = mapped_column(Float)
    cost: Mapped[float | None] = mapped_column(Float)
    channel: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    category: Mapped[str | None] = mapped_column(String(ID_LENGTH))


class NeedResponseRow(Base):
    """One survey answer: how much ``need`` drives the customer (long format)."""

    __tablename__ = "need_responses"

    customer_id: Mapped[str] = mapped_column(
        String(ID_LENGTH),
        ForeignKey("customers.customer_id", ondelete="CASCADE"),
        primary_key=True,
    )
    need: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    surveyed_at: Mapped[date | None] = mapped_column(Date)


class RunRow(Base):
    __tablename__ = "segmentation_runs"
    __table_args__ = (
        Index("ix_runs_method_status", "method", "status", "run_id"),
        Index("ux_runs_idempotency", "started_by", "idempotency_key", unique=True),
    )

    run_id: Mapped[int] = mapped_column(RunIdType, primary_key=True, autoincrement=True)
    method: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    customer_count: Mapped[int] = mapped_column(Integer, default=0)
    assigned_count: Mapped[int] = mapped_column(Integer, default=0)
    unassigned_count: Mapped[int] = mapped_column(Integer, default=0)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    # What a value-based run fitted (RFM thresholds, tier bounds, CLV model),
    # so ScoreCustomerValue can score customers against the latest run.
    model: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    # Which process runs it ("host:pid") and when it last said it is alive: a run
    # whose process died is found by its stale heartbeat and marked Failed.
    runner: Mapped[str | None] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Background execution (0004): the request a worker executes, when it was
    # queued, how far it is, how often a worker claimed it, whether a cancel was
    # asked for, the caller's idempotency key, and what kind of failure ended it
    # ("request": the caller's to act on, failure_field names the field;
    # "internal": a bug, by reference; "interrupted": its worker died).
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)
    progress: Mapped[float | None] = mapped_column(Float)
    phase: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    failure_kind: Mapped[str | None] = mapped_column(String(16))
    failure_field: Mapped[str | None] = mapped_column(String(200))


class ScheduleRow(Base):
    __tablename__ = "segmentation_schedules"

    schedule_id: Mapped[int] = mapped_column(RunIdType, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    cron: Mapped[str] = mapped_column(String(100))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # The next due time not yet submitted: a worker submits it by moving this on
    # in a conditional UPDATE, so each due time is submitted once however many
    # workers look.
    next_run_at: Mapped[datetime] = mapped_column(DateTime)
    last_run_id: Mapped[int | None] = mapped_column(RunIdType)


class PortfolioRow(Base):
    """A grid crossing the segments of the latest runs of two methods (issue 13)."""

    __tablename__ = "portfolios"

    portfolio_id: Mapped[int] = mapped_column(RunIdType, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    rows_method: Mapped[str] = mapped_column(String(16))
    columns_method: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(200))
    objective: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class PortfolioCellRow(Base):
    """What is kept of a cell across evaluations, by the two segments' names (so it stays
    when a new run renumbers codes): its owner and an analyst's treatment."""

    __tablename__ = "portfolio_cells"

    portfolio_id: Mapped[int] = mapped_column(
        RunIdType, ForeignKey("portfolios.portfolio_id", ondelete="CASCADE"), primary_key=True
    )
    row_segment: Mapped[str] = mapped_column(String(200), primary_key=True)
    column_segment: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    treatment_override: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PortfolioEvaluationRow(Base):
    """A portfolio's figures at one time, from the runs it used: its history."""

    __tablename__ = "portfolio_evaluations"
    __table_args__ = (Index("ix_portfolio_evaluations", "portfolio_id", "evaluation_id"),)

    evaluation_id: Mapped[int] = mapped_column(RunIdType, primary_key=True, autoincrement=True)
    portfolio_id: Mapped[int] = mapped_column(
        RunIdType, ForeignKey("portfolios.portfolio_id", ondelete="CASCADE")
    )
    evaluated_at: Mapped[datetime] = mapped_column(DateTime)
    rows_run_id: Mapped[int] = mapped_column(RunIdType)
    columns_run_id: Mapped[int] = mapped_column(RunIdType)
    value_run_id: Mapped[int | None] = mapped_column(RunIdType)
    # The grid: cells, row and column totals, everyone outside it (at most 20 x 20 cells).
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)


class SegmentRow(Base):
    __tablename__ = "segments"

    run_id: Mapped[int] = mapped_column(
        RunIdType, ForeignKey("segmentation_runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    share: Mapped[float] = mapped_column(Float)
    total_value: Mapped[float] = mapped_column(Float)
    average_value: Mapped[float] = mapped_column(Float)
    profile: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    # Profitability over the run's observation: revenue net of returns;
    # cost = transaction costs + cost to serve.
    revenue: Mapped[float | None] = mapped_column(Float)
    cost: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str | None] = mapped_column(String(200))
    # (0005) The recommended treatment {strategy, channel, message, reason}, and an
    # analyst's override of it (same keys), which wins when present.
    treatment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    treatment_override: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AssignmentRow(Base):
    """A customer's place in a run; ``segment_code`` is NULL when the run left it unassigned."""

    __tablename__ = "assignments"
    __table_args__ = (
        # Keyset paging through a segment, and its member count.
        Index("ix_assignments_segment_members", "run_id", "segment_code", "customer_id"),
        # A customer's latest run per method.
        Index("ix_assignments_customer_run", "customer_id", "run_id"),
    )

    run_id: Mapped[int] = mapped_column(
        RunIdType, ForeignKey("segmentation_runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    segment_code: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    score: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)


class UserRow(Base):
    """Who may call the service, in which role.

    ``password_hash`` is a salted, slow hash for PasswordText tokens;
    PasswordDigest needs the password itself, kept only encrypted
    (``password_encrypted``) with the service's secret key.
    """

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    password_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class UsedNonceRow(Base):
    """WS-Security nonces seen within the replay window, shared by all workers."""

    __tablename__ = "used_nonces"
    __table_args__ = (Index("ix_used_nonces_seen_at", "seen_at"),)

    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime)
