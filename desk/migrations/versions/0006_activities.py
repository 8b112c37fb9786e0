"""owner-group activities (features.activities)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("message_key", sa.String(length=160), nullable=False),
        sa.Column("at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_checkins")),
        sa.UniqueConstraint("message_key", name=op.f("uq_activity_checkins_message_key")),
        sa.UniqueConstraint(
            "group_id", "user_id", "day", name=op.f("uq_activity_checkins_group_user_day")
        ),
        sa.UniqueConstraint(
            "group_id", "day", "rank", name=op.f("uq_activity_checkins_group_day_rank")
        ),
    )
    op.create_table(
        "activity_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("text", sa.String(length=400), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("source_key", sa.String(length=160), nullable=False),
        sa.Column("at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_topics")),
        sa.UniqueConstraint("source_key", name=op.f("uq_activity_topics_source_key")),
    )
    op.create_index("ix_activity_topics_group_day", "activity_topics", ["group_id", "day"])
    op.create_table(
        "activity_topic_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=400), nullable=False),
        sa.Column("repeat", sa.String(length=8), nullable=False),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("next_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("message_key", sa.String(length=160), nullable=False),
        sa.Column("created_at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_topic_schedules")),
        sa.UniqueConstraint("message_key", name=op.f("uq_activity_topic_schedules_message_key")),
    )
    op.create_index(
        "ix_activity_topic_schedules_due", "activity_topic_schedules", ["active", "next_at"]
    )
    op.create_index(
        "ix_activity_topic_schedules_group", "activity_topic_schedules", ["group_id", "active"]
    )
    op.create_table(
        "activity_member_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=140), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("sub_type", sa.String(length=16), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=True),
        sa.Column("event_key", sa.String(length=160), nullable=False),
        sa.Column("at", desk.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_member_changes")),
        sa.UniqueConstraint("event_key", name=op.f("uq_activity_member_changes_event_key")),
    )
    op.create_index(
        "ix_activity_member_changes_group_at", "activity_member_changes", ["group_id", "at"]
    )
    op.create_table(
        "activity_group_messages",
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "group_id", "day", "user_id", name=op.f("pk_activity_group_messages")
        ),
    )


def downgrade() -> None:
    op.drop_table("activity_group_messages")
    op.drop_index("ix_activity_member_changes_group_at", table_name="activity_member_changes")
    op.drop_table("activity_member_changes")
    op.drop_index("ix_activity_topic_schedules_group", table_name="activity_topic_schedules")
    op.drop_index("ix_activity_topic_schedules_due", table_name="activity_topic_schedules")
    op.drop_table("activity_topic_schedules")
    op.drop_index("ix_activity_topics_group_day", table_name="activity_topics")
    op.drop_table("activity_topics")
    op.drop_table("activity_checkins")
