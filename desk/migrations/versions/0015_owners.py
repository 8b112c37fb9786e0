"""owners: the dealer's existing customers (车主), imported, marked by a manager or
won; one row per person, each handle unique

Revision ID: 0015_owners
Revises: 0014_report_days
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.models

revision = "0015_owners"
down_revision = "0014_report_days"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("qq_id", sa.String(length=20), nullable=True),
        sa.Column("wechat_openid", sa.String(length=128), nullable=True),
        sa.Column("wecom_external_userid", sa.String(length=128), nullable=True),
        sa.Column("car_model", sa.String(length=64), nullable=True),
        sa.Column("plate", sa.String(length=16), nullable=True),
        sa.Column("vin", sa.String(length=17), nullable=True),
        sa.Column("purchased_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("created_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_owners_lead_id_leads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owners")),
        sa.UniqueConstraint("phone", name=op.f("uq_owners_phone")),
        sa.UniqueConstraint("qq_id", name=op.f("uq_owners_qq_id")),
        sa.UniqueConstraint("wechat_openid", name=op.f("uq_owners_wechat_openid")),
        sa.UniqueConstraint("wecom_external_userid", name=op.f("uq_owners_wecom_external_userid")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_owners_lead_id")),
    )


def downgrade() -> None:
    op.drop_table("owners")
