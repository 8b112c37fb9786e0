"""owners' points (features.points)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "points_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=True),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
        sa.UniqueConstraint("key", name=op.f("uq_points_entries_key")),
    )
    op.create_index("ix_points_entries_user_id", "points_entries", ["user_id"])
    op.create_index("ix_points_entries_group_user", "points_entries", ["group_id", "user_id"])
    op.create_table(
        "points_balances",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("updated_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_points_balances")),
    )


def downgrade() -> None:
    op.drop_table("points_balances")
    op.drop_index("ix_points_entries_group_user", table_name="points_entries")
    op.drop_index("ix_points_entries_user_id", table_name="points_entries")
    op.drop_table("points_entries")
