"""A covering index for the per-customer transaction aggregates.

The value aggregates and totals read customer_id, occurred_at, amount and
cost of every transaction in customer order; with those four columns in the
index, the database answers from the index alone instead of looking every
row up in the table (measured 6.9 s -> 2.3 s over 1M transactions on SQLite).
It replaces the (customer_id, occurred_at) index it extends. Like 0002 it
tolerates a database adopted from create_all that already has the result.

Revision ID: 0003_transactions_covering
Revises: 0002_runs_segments_auth
Create Date: 2026-11-22 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_transactions_covering"
down_revision: str | Sequence[str] | None = "0002_runs_segments_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Tolerant, like 0002: a database adopted from create_all may already be there.
    op.create_index(
        "ix_transactions_customer_covering",
        "transactions",
        ["customer_id", "occurred_at", "amount", "cost"],
        if_not_exists=True,
    )
    op.drop_index("ix_transactions_customer_time", table_name="transactions", if_exists=True)


def downgrade() -> None:
    op.create_index("ix_transactions_customer_time", "transactions", ["customer_id", "occurred_at"])
    op.drop_index("ix_transactions_customer_covering", table_name="transactions")
