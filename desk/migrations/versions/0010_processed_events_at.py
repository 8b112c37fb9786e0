"""processed_events.at indexed: the schedule purges keys past their retention

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_processed_events_at", "processed_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_at", table_name="processed_events")
