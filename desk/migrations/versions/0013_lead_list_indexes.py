"""indexes of the web desk's lead list: each filter newest first, and the board;
the 战败 reasons of a period read from the lost_at index alone

Revision ID: 0013_lead_list_indexes
Revises: 0012_report_indexes
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_lead_list_indexes"
down_revision = "0012_report_indexes"
branch_labels = None
depends_on = None

# (name, columns): the 线索 list filtered by one column, newest first, reads one
# index range in order and stops at the page's end; its total counts that range.
INDEXES = [
    ("ix_leads_consultant_created", ["consultant_id", "created_at"]),
    ("ix_leads_channel_created", ["channel", "created_at"]),
    ("ix_leads_group_created", ["group_id", "created_at"]),
    ("ix_leads_stage_created", ["stage", "created_at"]),
    # A name search scans names (all, or one consultant's), never the table.
    ("ix_leads_consultant_name", ["consultant_id", "name", "created_at"]),
    # Next due first, for one consultant or for all.
    ("ix_leads_consultant_due", ["consultant_id", "next_follow_up_at"]),
    ("ix_leads_due", ["next_follow_up_at"]),
]


CLOSED = sa.text("lost_at IS NOT NULL")


def _lost_at_index(columns: list[str]) -> None:
    op.drop_index("ix_leads_lost_at", table_name="leads")
    op.create_index(
        "ix_leads_lost_at", "leads", columns, sqlite_where=CLOSED, postgresql_where=CLOSED
    )


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, "leads", columns)
    # desk.reports.defeat_reasons over a year: ~800 ms with a row read per 战败 at
    # 1M leads, ~100 ms from the index alone (bench/web_bench.py).
    _lost_at_index(["lost_at", "defeat_category", "consultant_id"])


def downgrade() -> None:
    _lost_at_index(["lost_at"])
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name="leads")
