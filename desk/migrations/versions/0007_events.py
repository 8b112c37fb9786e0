"""event sign-ups (features.events)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=64), nullable=False),
        sa.Column("starts_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("car_capacity", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_key", sa.String(length=160), nullable=True),
        sa.Column("reminded_at", desk.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finalized_at", desk.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("source_key", name=op.f("uq_events_source_key")),
    )
    op.create_index("ix_events_group_starts", "events", ["group_id", "starts_at"])
    op.create_index("ix_events_starts_at", "events", ["starts_at"])
    op.create_table(
        "event_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("nickname", sa.String(length=64), nullable=True),
        sa.Column("party", sa.Integer(), nullable=False),
        sa.Column("cars", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("lead_created", sa.Boolean(), nullable=False),
        sa.Column("created_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_signups_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_signups")),
        sa.UniqueConstraint(
            "event_id", "platform", "user_id", name=op.f("uq_event_signups_event_id")
        ),
    )
    op.create_index("ix_event_signups_user_id", "event_signups", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_event_signups_user_id", table_name="event_signups")
    op.drop_table("event_signups")
    op.drop_index("ix_events_starts_at", table_name="events")
    op.drop_index("ix_events_group_starts", table_name="events")
    op.drop_table("events")
