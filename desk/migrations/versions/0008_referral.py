"""referrals (features.referral): codes, referrals, reward ledger

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referral_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("owner_name", sa.String(length=64), nullable=True),
        sa.Column("created_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("contact_config_id", sa.String(length=64), nullable=True),
        sa.Column("contact_qr", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("owner", name=op.f("uq_referral_codes_owner")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referrer", sa.String(length=64), nullable=False),
        sa.Column("referrer_name", sa.String(length=64), nullable=True),
        sa.Column("friend_name", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("friend", sa.String(length=128), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=True),
        sa.Column("event_key", sa.String(length=160), nullable=False),
        sa.Column("created_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("joined_at", desk.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", desk.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=32), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("visit_rewarded_at", desk.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deal_rewarded_at", desk.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("phone", name=op.f("uq_referrals_phone")),
        sa.UniqueConstraint("friend", name=op.f("uq_referrals_friend")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_referrals_lead_id")),
        sa.UniqueConstraint("event_key", name=op.f("uq_referrals_event_key")),
    )
    op.create_index("ix_referrals_referrer_created", "referrals", ["referrer", "created_at"])
    op.create_table(
        "referral_rewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("referrer", sa.String(length=64), nullable=False),
        sa.Column("reward", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fulfilled_at", desk.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_rewards_referral_id_referrals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_rewards")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_referral_rewards_lead_id")),
    )
    op.create_index("ix_referral_rewards_status", "referral_rewards", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_referral_rewards_status", table_name="referral_rewards")
    op.drop_table("referral_rewards")
    op.drop_index("ix_referrals_referrer_created", table_name="referrals")
    op.drop_table("referrals")
    op.drop_table("referral_codes")
