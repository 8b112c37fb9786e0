"""Event sign-up tables (migration desk/migrations/versions/0007_events.py). NoneBot-free."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from desk.store import PluginBase

# Event.status
OPEN = "open"
CLOSED = "closed"  # sign-up closed by a manager; the event still happens
CANCELLED = "cancelled"

# Signup.status
SIGNED = "signed"
WAITLISTED = "waitlisted"
WITHDRAWN = "cancelled"
ATTENDED = "attended"
NO_SHOW = "no_show"
# Signup.platform (bot.people.Platform); only QQ people can be @-ed in the group.
QQ = "qq"
WECOM = "wecom"
WECHAT_OA = "wechat_oa"

# Statuses that hold seats: a no-show held one until the event was over.
SEATED = (SIGNED, ATTENDED, NO_SHOW)


class Event(PluginBase):
    """One event of one QQ group; its row serialises the decisions on its seats."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(64))
    place: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)  # people
    car_capacity: Mapped[int | None] = mapped_column(Integer)  # self-drive trips only
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # The platform message that created it: the same message twice makes one event.
    source_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    reminded_at: Mapped[datetime | None]  # the day-before reminder was queued
    finalized_at: Mapped[datetime | None]  # the no-shows were marked

    __table_args__ = (
        Index("ix_events_group_starts", "group_id", "starts_at"),
        Index("ix_events_starts_at", "starts_at"),
    )


class Signup(PluginBase):
    """One person's sign-up (with their party) for one event; cancelled rows stay."""

    __tablename__ = "event_signups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    # Who signed up: a QQ id, a WeCom userid or an Official Account openid; the
    # platform tells them apart (bot.people.Platform).
    platform: Mapped[str] = mapped_column(String(16), default=QQ)
    user_id: Mapped[str] = mapped_column(String(64))
    nickname: Mapped[str | None] = mapped_column(String(64))
    party: Mapped[int] = mapped_column(Integer)  # people, the signer included
    cars: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    # Order of arrival in this event (a re-sign-up after cancelling goes to the back).
    seq: Mapped[int] = mapped_column(Integer)
    lead_id: Mapped[int | None] = mapped_column(Integer)  # the lead this sign-up was captured as
    lead_created: Mapped[bool] = mapped_column(default=False)  # that capture made a new lead
    created_at: Mapped[datetime]  # the latest sign-up (报名时间)
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("event_id", "platform", "user_id"),
        Index("ix_event_signups_user_id", "user_id"),
    )
