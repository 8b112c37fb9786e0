"""leads won and lost indexed by when (partial: only closed leads): the 报表 page's
time-to-deal, ranking and 战败 reasons read a period of them (full scans at 1M leads)

Revision ID: 0012_report_indexes
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_report_indexes"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("won_at", "lost_at"):
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_leads_{column}", "leads", [column], sqlite_where=where, postgresql_where=where
        )


def downgrade() -> None:
    for column in ("won_at", "lost_at"):
        op.drop_index(f"ix_leads_{column}", table_name="leads")
