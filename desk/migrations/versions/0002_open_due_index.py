"""partial index for the consultants' task lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN_DUE_SQL = "stage IN ('new', 'following', 'invited', 'visited', 'ordered')"


def upgrade() -> None:
    op.create_index(
        "ix_leads_open_due",
        "leads",
        ["consultant_id", "next_follow_up_at"],
        unique=False,
        sqlite_where=sa.text(OPEN_DUE_SQL),
        postgresql_where=sa.text(OPEN_DUE_SQL),
    )


def downgrade() -> None:
    op.drop_index("ix_leads_open_due", table_name="leads")
