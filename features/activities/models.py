"""Tables of the owner-group activities (created by migration 0006). No NoneBot.

No message text is stored anywhere here except topics a manager typed: message
counts are numbers, joins and leaves are ids and times.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from desk.store import PluginBase


class Checkin(PluginBase):
    """One daily check-in (签到) of one person in one group."""

    __tablename__ = "activity_checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))  # features.points handle, "qq:20001"
    day: Mapped[date] = mapped_column(Date)  # the dealer's local date
    streak: Mapped[int] = mapped_column(
        Integer
    )  # consecutive days in this group, this one included
    points: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)  # 1 = first in the group that day
    name: Mapped[str | None] = mapped_column(String(64))  # group card or nickname then
    # The platform message that made it: a redelivered copy has no second effect.
    message_key: Mapped[str] = mapped_column(String(160), unique=True)
    at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("group_id", "user_id", "day", name="uq_activity_checkins_group_user_day"),
        # Two people checking in at once cannot share a place (the loser retries).
        UniqueConstraint("group_id", "day", "rank", name="uq_activity_checkins_group_day_rank"),
    )


class Topic(PluginBase):
    """A topic set for a group and day (by a manager now, or by a schedule when due).
    The latest one of a day is that day's topic."""

    __tablename__ = "activity_topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(400))
    set_by: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(160), unique=True)
    at: Mapped[datetime]

    __table_args__ = (Index("ix_activity_topics_group_day", "group_id", "day"),)


class TopicSchedule(PluginBase):
    """A topic to post later: once, every day, or every week at a local time.
    In the database, so it survives a restart; the minute job posts it when due."""

    __tablename__ = "activity_topic_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(400))
    repeat: Mapped[str] = mapped_column(String(8))  # once | daily | weekly
    local_time: Mapped[str] = mapped_column(String(5))  # "09:00" in the dealer's zone
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday, weekly only
    next_at: Mapped[datetime]  # the next post, UTC
    active: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(64))
    message_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime]
    posts: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_activity_topic_schedules_due", "active", "next_at"),
        Index("ix_activity_topic_schedules_group", "group_id", "active"),
    )


class MemberChange(PluginBase):
    """Someone joined or left a group: a QQ group (OneBot group_increase /
    group_decrease) or a WeCom customer group ("wecom:<chat id>", its
    change_external_chat add_member / del_member; customers only)."""

    __tablename__ = "activity_member_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(140))  # a WeCom chat id is up to 128
    user_id: Mapped[str] = mapped_column(String(64))  # the QQ id or WeCom external userid
    change: Mapped[str] = mapped_column(String(8))  # join | leave
    # QQ: approve invite | leave kick kick_me; WeCom: invite link qrcode | leave kick
    sub_type: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[str | None] = mapped_column(String(64))
    event_key: Mapped[str] = mapped_column(String(160), unique=True)
    at: Mapped[datetime]

    __table_args__ = (Index("ix_activity_member_changes_group_at", "group_id", "at"),)


class GroupActivity(PluginBase):
    """Messages one person sent in one group on one local day (a count, no text)."""

    __tablename__ = "activity_group_messages"

    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    messages: Mapped[int] = mapped_column(Integer)
