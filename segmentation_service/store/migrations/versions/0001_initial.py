"""The schema of release 0.1 (git 93846bc9), as its ``create_all`` made it.

That release had no Alembic: its databases carry no ``alembic_version`` table,
and ``upgrade()`` in the migrations package stamps them at this revision before
upgrading. So this revision must stay exactly what that release created: the
tables below are a frozen copy of its ``tables.py`` (never import the live
models here), created the way it created them.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_LENGTH = 64
# SQLite only auto-increments an INTEGER PRIMARY KEY.
RUN_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def previous_release_metadata() -> sa.MetaData:
    """The tables of release 0.1; ``create_all`` of this is that release's schema."""
    metadata = sa.MetaData()
    sa.Table(
        "customers",
        metadata,
        sa.Column("customer_id", sa.String(ID_LENGTH), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("customer_type", sa.String(ID_LENGTH)),
        sa.Column("industry", sa.String(ID_LENGTH)),
        sa.Column("employee_count", sa.Integer()),
        sa.Column("annual_revenue", sa.Float()),
        sa.Column("region", sa.String(ID_LENGTH)),
        sa.Column("country", sa.String(ID_LENGTH)),
        sa.Column("birth_year", sa.Integer()),
        sa.Column("preferred_channel", sa.String(ID_LENGTH)),
        sa.Column("signup_date", sa.Date()),
        sa.Column("acquisition_cost", sa.Float()),
        sa.Column("annual_cost_to_serve", sa.Float()),
    )
    sa.Table(
        "transactions",
        metadata,
        sa.Column("transaction_id", sa.String(ID_LENGTH), primary_key=True),
        sa.Column(
            "customer_id",
            sa.String(ID_LENGTH),
            sa.ForeignKey("customers.customer_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float()),
        sa.Column("channel", sa.String(ID_LENGTH)),
        sa.Column("category", sa.String(ID_LENGTH)),
        sa.Index("ix_transactions_customer_time", "customer_id", "occurred_at"),
    )
    sa.Table(
        "need_responses",
        metadata,
        sa.Column(
            "customer_id",
            sa.String(ID_LENGTH),
            sa.ForeignKey("customers.customer_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("need", sa.String(ID_LENGTH), primary_key=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("surveyed_at", sa.Date()),
    )
    sa.Table(
        "segmentation_runs",
        metadata,
        sa.Column("run_id", RUN_ID, primary_key=True, autoincrement=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("customer_count", sa.Integer(), nullable=False),
        sa.Column("assigned_count", sa.Integer(), nullable=False),
        sa.Column("unassigned_count", sa.Integer(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("model", sa.JSON()),
        sa.Column("failure_reason", sa.Text()),
        sa.Index("ix_runs_method_status", "method", "status", "run_id"),
    )
    sa.Table(
        "segments",
        metadata,
        sa.Column(
            "run_id",
            RUN_ID,
            sa.ForeignKey("segmentation_runs.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("code", sa.String(ID_LENGTH), primary_key=True),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("total_value", sa.Float(), nullable=False),
        sa.Column("average_value", sa.Float(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
    )
    sa.Table(
        "assignments",
        metadata,
        sa.Column(
            "run_id",
            RUN_ID,
            sa.ForeignKey("segmentation_runs.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("customer_id", sa.String(ID_LENGTH), primary_key=True),
        sa.Column("segment_code", sa.String(ID_LENGTH)),
        sa.Column("score", sa.Float()),
        sa.Column("value", sa.Float()),
        sa.Column("reason", sa.Text()),
        sa.Index("ix_assignments_segment_members", "run_id", "segment_code", "customer_id"),
        sa.Index("ix_assignments_customer_run", "customer_id", "run_id"),
    )
    return metadata


def upgrade() -> None:
    previous_release_metadata().create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    previous_release_metadata().drop_all(op.get_bind(), checkfirst=False)
