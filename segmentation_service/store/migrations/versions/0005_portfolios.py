"""Customer portfolios (the grids, their cells' owners and treatments, their evaluations), and the
treatments of segments (recommended and overridden).

Revision ID: 0005_portfolios
Revises: 0004_background_runs
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_portfolios"
down_revision: str | Sequence[str] | None = "0004_background_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Tolerant, like 0002..0004: a database adopted from create_all may have them.
    inspector = sa.inspect(op.get_bind())
    existing = {column["name"] for column in inspector.get_columns("segments")}
    missing = [name for name in ("treatment", "treatment_override") if name not in existing]
    if missing:
        with op.batch_alter_table("segments") as segments:
            for name in missing:
                segments.add_column(sa.Column(name, sa.JSON(), nullable=True))
    if not inspector.has_table("portfolios"):
        op.create_table(
            "portfolios",
            sa.Column("portfolio_id", ID, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(200), nullable=False, unique=True),
            sa.Column("rows_method", sa.String(16), nullable=False),
            sa.Column("columns_method", sa.String(16), nullable=False),
            sa.Column("owner", sa.String(200), nullable=True),
            sa.Column("objective", sa.Text(), nullable=True),
            sa.Column("created_by", sa.String(64), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
        )
    if not inspector.has_table("portfolio_cells"):
        op.create_table(
            "portfolio_cells",
            sa.Column(
                "portfolio_id",
                ID,
                sa.ForeignKey("portfolios.portfolio_id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("row_segment", sa.String(200), primary_key=True),
            sa.Column("column_segment", sa.String(200), primary_key=True),
            sa.Column("owner", sa.String(200), nullable=True),
            sa.Column("treatment_override", sa.JSON(), nullable=True),
        )
    if not inspector.has_table("portfolio_evaluations"):
        op.create_table(
            "portfolio_evaluations",
            sa.Column("evaluation_id", ID, primary_key=True, autoincrement=True),
            sa.Column(
                "portfolio_id",
                ID,
                sa.ForeignKey("portfolios.portfolio_id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("evaluated_at", sa.DateTime(), nullable=False),
            sa.Column("rows_run_id", ID, nullable=False),
            sa.Column("columns_run_id", ID, nullable=False),
            sa.Column("value_run_id", ID, nullable=True),
            sa.Column("figures", sa.JSON(), nullable=False),
        )
        op.create_index(
            "ix_portfolio_evaluations", "portfolio_evaluations", ["portfolio_id", "evaluation_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("segments") as segments:
        segments.drop_column("treatment_override")
        segments.drop_column("treatment")
    op.drop_table("portfolio_evaluations")
    op.drop_table("portfolio_cells")
    op.drop_table("portfolios")
