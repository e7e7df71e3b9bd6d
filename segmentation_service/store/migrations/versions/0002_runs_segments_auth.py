"""Profitability and owners on segments, who and what runs a run, users and nonces.

Everything the models gained between release 0.1 and the move to Alembic:
``segments.revenue/cost/owner``, ``segmentation_runs.started_by/runner/heartbeat_at``
and the ``users`` and ``used_nonces`` tables.

Databases made by ``create_all`` before Alembic are stamped at 0001 and
upgraded from there, whichever commit made them; those made after release 0.1
already have some of this. So this revision, and only this one, adds just what
is missing (``upgrade()`` in the migrations package then checks the result
against the models before it commits). Later revisions are plain.

Revision ID: 0002_runs_segments_auth
Revises: 0001_initial
Create Date: 2025-01-01 00:00:01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002_runs_segments_auth"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_LENGTH = 64


def _new_columns() -> dict[str, list[sa.Column[object]]]:
    return {
        "segmentation_runs": [
            sa.Column("started_by", sa.String(ID_LENGTH), nullable=True),
            sa.Column("runner", sa.String(128), nullable=True),
            sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        ],
        "segments": [
            sa.Column("revenue", sa.Float(), nullable=True),
            sa.Column("cost", sa.Float(), nullable=True),
            sa.Column("owner", sa.String(200), nullable=True),
        ],
    }


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table_name, columns in _new_columns().items():
        existing = {column["name"] for column in inspector.get_columns(table_name)}
        missing = [column for column in columns if column.name not in existing]
        if missing:
            with op.batch_alter_table(table_name, schema=None) as batch_op:
                for column in missing:
                    batch_op.add_column(column)

    if not inspector.has_table("users"):
        op.create_table(
            "users",
            sa.Column("username", sa.String(ID_LENGTH), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("password_hash", sa.String(255), nullable=False),
            sa.Column("password_encrypted", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("username"),
        )
    if not inspector.has_table("used_nonces"):
        op.create_table(
            "used_nonces",
            sa.Column("nonce", sa.String(128), nullable=False),
            sa.Column("seen_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("nonce"),
        )
        with op.batch_alter_table("used_nonces", schema=None) as batch_op:
            batch_op.create_index("ix_used_nonces_seen_at", ["seen_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("used_nonces", schema=None) as batch_op:
        batch_op.drop_index("ix_used_nonces_seen_at")
    op.drop_table("used_nonces")
    op.drop_table("users")
    for table_name, columns in _new_columns().items():
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_column(column.name)
