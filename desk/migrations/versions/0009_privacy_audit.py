"""privacy audit (desk.privacy): 我的信息 / 删除我的信息 / 删除线索 without the data

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_audit")),
    )
    op.create_index(op.f("ix_privacy_audit_lead_id"), "privacy_audit", ["lead_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_privacy_audit_lead_id"), table_name="privacy_audit")
    op.drop_table("privacy_audit")
