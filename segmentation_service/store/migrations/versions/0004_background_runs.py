"""Background runs: queue state on runs, and schedules.

Runs gain the request a worker executes, queue and progress columns, an
attempt count, a cancel flag, an idempotency key (unique per user) and the
kind of failure; schedules submit a request at every due time of a cron
expression.

Revision ID: 0004_background_runs
Revises: 0003_transactions_covering
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_background_runs"
down_revision: str | Sequence[str] | None = "0003_transactions_covering"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _run_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("request", sa.JSON(), nullable=True),
        sa.Column("queued_at", sa.DateTime(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("phase", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.Column("failure_kind", sa.String(16), nullable=True),
        sa.Column("failure_field", sa.String(200), nullable=True),
    ]


def upgrade() -> None:
    # Tolerant, like 0002 and 0003: a database adopted from create_all may have it all.
    inspector = sa.inspect(op.get_bind())
    existing = {column["name"] for column in inspector.get_columns("segmentation_runs")}
    indexes = {index["name"] for index in inspector.get_indexes("segmentation_runs")}
    missing = [column for column in _run_columns() if column.name not in existing]
    if missing or "ux_runs_idempotency" not in indexes:
        with op.batch_alter_table("segmentation_runs") as runs:
            for column in missing:
                runs.add_column(column)
            if "ux_runs_idempotency" not in indexes:
                runs.create_index(
                    "ux_runs_idempotency", ["started_by", "idempotency_key"], unique=True
                )
    if not inspector.has_table("segmentation_schedules"):
        op.create_table(
            "segmentation_schedules",
            sa.Column("schedule_id", RUN_ID, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(200), nullable=False, unique=True),
            sa.Column("cron", sa.String(100), nullable=False),
            sa.Column("request", sa.JSON(), nullable=False),
            sa.Column("enabled", sa.Boolean(), nullable=False),
            sa.Column("created_by", sa.String(64), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("next_run_at", sa.DateTime(), nullable=False),
            sa.Column("last_run_id", RUN_ID, nullable=True),
        )


def downgrade() -> None:
    op.drop_table("segmentation_schedules")
    with op.batch_alter_table("segmentation_runs") as runs:
        runs.drop_index("ux_runs_idempotency")
        for column in (
            "failure_field",
            "failure_kind",
            "idempotency_key",
            "cancel_requested",
            "attempts",
            "phase",
            "progress",
            "queued_at",
            "request",
        ):
            runs.drop_column(column)
