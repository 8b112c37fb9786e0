"""report_days: the 报表 funnel per local day of creation, consultant and channel/group,
kept by desk.rollup; report_dirty_days: the days to rebuild (all days with leads, at first)

Revision ID: 0014_report_days
Revises: 0013_lead_list_indexes
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0014_report_days"
down_revision = "0013_lead_list_indexes"
branch_labels = None
depends_on = None


# The won leads' partial index covers what 报表 reads of them beyond a month
# (desk.reports: time to deal by consultant): at 1M leads a year of them is read
# from the index alone, not a row per lead.
CLOSED_INDEXES = {
    "won_at": (["won_at"], ["won_at", "consultant_id", "created_at"]),
}


def _closed_indexes(which: int) -> None:
    for column, shapes in CLOSED_INDEXES.items():
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(f"ix_leads_{column}", table_name="leads")
        op.create_index(
            f"ix_leads_{column}", "leads", shapes[which], sqlite_where=where, postgresql_where=where
        )


def upgrade() -> None:
    _closed_indexes(1)
    op.create_table(
        "report_days",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        *(sa.Column(c, sa.Integer(), nullable=False)
          for c in ("leads", "contacted", "invited", "visited", "ordered", "won", "lost")),
        sa.Column("response_seconds", sa.Float(), nullable=True),
    )  # fmt: skip
    op.create_index("ix_report_days_kind_day", "report_days", ["kind", "day", "consultant_id"])
    dirty = op.create_table(
        "report_dirty_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("stamp", sa.Integer(), nullable=False),
    )
    # Every local day that may hold a lead starts dirty; the migration does not know
    # the desk's timezone, so a day either side of the UTC dates covers any offset.
    # The first report (or desk.rollup.refresh) builds them.
    leads = sa.table(
        "leads", sa.column("created_at", sa.DateTime()), sa.column("lost_at", sa.DateTime())
    )
    first, last, last_lost = (
        op.get_bind()
        .execute(
            sa.select(
                sa.func.min(leads.c.created_at),
                sa.func.max(leads.c.created_at),
                sa.func.max(leads.c.lost_at),
            )
        )
        .one()
    )
    if first is None:
        return
    last = max(last, last_lost or last)
    day, end = first.date() - timedelta(days=1), last.date() + timedelta(days=1)
    rows = []
    while day <= end:
        rows.append({"day": day, "stamp": 1})
        day += timedelta(days=1)
    op.bulk_insert(dirty, rows)


def downgrade() -> None:
    _closed_indexes(0)
    op.drop_table("report_dirty_days")
    op.drop_index("ix_report_days_kind_day", table_name="report_days")
    op.drop_table("report_days")
