"""indexes the 1M-lead bench asked for: revisits by stage, daily actions covered

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_leads_consultant_due", table_name="leads")
    op.create_index(
        "ix_leads_consultant_stage_due", "leads", ["consultant_id", "stage", "next_follow_up_at"]
    )
    op.drop_index("ix_timeline_at", table_name="timeline")
    op.create_index("ix_timeline_at_action", "timeline", ["at", "action"])


def downgrade() -> None:
    op.drop_index("ix_timeline_at_action", table_name="timeline")
    op.create_index("ix_timeline_at", "timeline", ["at"])
    op.drop_index("ix_leads_consultant_stage_due", table_name="leads")
    op.create_index("ix_leads_consultant_due", "leads", ["consultant_id", "next_follow_up_at"])
