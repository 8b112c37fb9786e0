"""intent_corrections: staff's 线索 / 不是线索 corrections of the intent detector,
kept as labelled examples (features.intent.corrections)

Revision ID: 0016_intent_corrections
Revises: 0015_owners
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.models

revision = "0016_intent_corrections"
down_revision = "0015_owners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intent_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("staff", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intent_corrections")),
    )
    op.create_index("ix_intent_corrections_at", "intent_corrections", ["at"])
    op.create_index("ix_intent_corrections_lead_id", "intent_corrections", ["lead_id"])


def downgrade() -> None:
    op.drop_index("ix_intent_corrections_lead_id", table_name="intent_corrections")
    op.drop_index("ix_intent_corrections_at", table_name="intent_corrections")
    op.drop_table("intent_corrections")
