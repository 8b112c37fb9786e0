"""Tables of the desk. The only schema; Alembic migrations mirror it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python; naive UTC on SQLite, timestamptz on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the desk store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Member(Base):
    """A consultant or manager on the roster."""

    __tablename__ = "roster_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))  # consultant | manager
    qq_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    dm_channel: Mapped[str] = mapped_column(String(8), default="qq")  # qq | wecom
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_assigned_at: Mapped[datetime | None]
    # Open leads held, kept in step by the desk so assignment needs no count(*).
    open_load: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


# Stages whose next_follow_up_at is a task. Written literally (not as bound
# parameters) so SQLite can match queries to the partial index below.
OPEN_DUE_STAGES = ("new", "following", "invited", "visited", "ordered")
OPEN_DUE_SQL = "stage IN ({})".format(", ".join(f"'{s}'" for s in OPEN_DUE_STAGES))


class Lead(Base):
    """One real person, whatever the channel."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    car_model: Mapped[str | None] = mapped_column(String(64))
    budget: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(128))
    group_id: Mapped[str | None] = mapped_column(String(64))
    first_message: Mapped[str | None] = mapped_column(Text)
    referrer: Mapped[str | None] = mapped_column(String(64))
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("roster_members.id"))
    level: Mapped[str] = mapped_column(String(1))
    stage: Mapped[str] = mapped_column(String(20))
    stage_before_defeat: Mapped[str | None] = mapped_column(String(20))
    expected_purchase_at: Mapped[datetime | None]
    expected_visit_at: Mapped[datetime | None]
    next_follow_up_at: Mapped[datetime | None]
    first_contact_due_at: Mapped[datetime | None]
    first_contacted_at: Mapped[datetime | None]
    # When the overdue first contact was reported to the managers (once per due).
    first_contact_escalated_at: Mapped[datetime | None]
    invited_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    visited_at: Mapped[datetime | None]
    visit_count: Mapped[int] = mapped_column(Integer, default=0)
    ordered_at: Mapped[datetime | None]
    won_at: Mapped[datetime | None]
    lost_at: Mapped[datetime | None]
    defeat_reason: Mapped[str | None] = mapped_column(Text)
    defeat_category: Mapped[str | None] = mapped_column(String(20))
    defeat_requested_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        # Lost leads' revisits (战败回访) by consultant and date.
        Index("ix_leads_consultant_stage_due", "consultant_id", "stage", "next_follow_up_at"),
        # The task list's index: only leads with work pending, so old lost and
        # won leads never stand between a consultant and today's follow-ups.
        Index(
            "ix_leads_open_due",
            "consultant_id",
            "next_follow_up_at",
            sqlite_where=text(OPEN_DUE_SQL),
            postgresql_where=text(OPEN_DUE_SQL),
        ),  # fmt: skip
        Index("ix_leads_consultant_visit", "consultant_id", "expected_visit_at"),
        Index("ix_leads_created_at", "created_at"),
        Index("ix_leads_stage", "stage"),
        # The 报表's deals and 战败 of a period (migration 0012): closed leads only.
        # 战败 by category (and consultant) is read from the index alone (0013).
        *(
            Index(
                f"ix_leads_{column}",
                column,
                *covered,
                sqlite_where=text(f"{column} IS NOT NULL"),
                postgresql_where=text(f"{column} IS NOT NULL"),
            )  # fmt: skip
            for column, covered in (
                # time to deal by consultant from the index alone too (0014)
                ("won_at", ("consultant_id", "created_at")),
                ("lost_at", ("defeat_category", "consultant_id")),
            )
        ),
        # The web desk's lead list (desk.leadlist): each filter newest first.
        Index("ix_leads_consultant_created", "consultant_id", "created_at"),
        Index("ix_leads_channel_created", "channel", "created_at"),
        Index("ix_leads_group_created", "group_id", "created_at"),
        Index("ix_leads_stage_created", "stage", "created_at"),
        # Name search: a scan of names (all, or one consultant's), never of the table.
        Index("ix_leads_consultant_name", "consultant_id", "name", "created_at"),
        # Next due first, for one consultant or for all.
        Index("ix_leads_consultant_due", "consultant_id", "next_follow_up_at"),
        Index("ix_leads_due", "next_follow_up_at"),
    )


class LeadContact(Base):
    """A handle that identifies a lead; unique, so one person stays one lead."""

    __tablename__ = "lead_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # phone | qq | wechat_openid | wecom_external
    value: Mapped[str] = mapped_column(String(128))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)

    __table_args__ = (UniqueConstraint("kind", "value", name="uq_lead_contacts_kind_value"),)


class TimelineEntry(Base):
    """Append-only record of every step of a lead (每一步流程录入DCC数据库)."""

    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)

    # Covers the daily report's count of actions per day.
    __table_args__ = (Index("ix_timeline_at_action", "at", "action"),)


class ProcessedEvent(Base):
    """An incoming platform event already applied (same message id twice = one effect)."""

    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]

    # The schedule's purge of keys past the retention (desk.capture.purge_processed).
    __table_args__ = (Index("ix_processed_events_at", "at"),)


class OutboxMessage(Base):
    """A notification to deliver, written in the transaction that caused it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("roster_members.id"))
    channel: Mapped[str] = mapped_column(String(16))  # qq | wecom | wechat_oa
    address: Mapped[str | None] = mapped_column(String(128))
    lead_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Sent at any hour (urgent, or a scheduled digest); otherwise held to working hours.
    any_hour: Mapped[bool] = mapped_column(Boolean, default=False)
    # pending → sending → sent; failed sends go back to pending with a later
    # next_attempt_at until max attempts (dead); a lease that expired mid-send
    # becomes uncertain and is never resent blindly.
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)


class PrivacyAudit(Base):
    """One personal-data request served (我的信息, 删除我的信息, 删除线索), kept without
    the data: who asked by kind, the internal lead id, the random token that replaced
    the person's ids, and how many rows each step touched."""

    __tablename__ = "privacy_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(16))  # access | erase
    actor_kind: Mapped[str] = mapped_column(String(16))  # person | manager
    actor: Mapped[str | None] = mapped_column(String(64))  # a manager's label; None for the person
    lead_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject: Mapped[str] = mapped_column(String(40))  # "erased:<hex>", never a handle
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WebLoginLink(Base):
    """A one-time web desk login link sent by DM (`登录`): only its hash is kept."""

    __tablename__ = "web_login_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("roster_members.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A web desk session (an HttpOnly cookie holds the token; only its hash is kept)."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("roster_members.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ReportDay(Base):
    """What 报表 sums per local day (desk calendar) and consultant (0: none) instead
    of reading every lead: the cohort funnel of the leads created that day per
    dimension (kind "all", "channel", "group"; value NULL where the lead has none),
    and the 战败 approved that day (kind "defeat": value the category, detail the
    reason, in `leads` and `lost`). Rebuilt from `leads` (desk.rollup) whenever a
    lead created or lost that day changes."""

    __tablename__ = "report_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    consultant_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    leads: Mapped[int] = mapped_column(Integer)
    contacted: Mapped[int] = mapped_column(Integer)
    invited: Mapped[int] = mapped_column(Integer)
    visited: Mapped[int] = mapped_column(Integer)
    ordered: Mapped[int] = mapped_column(Integer)
    won: Mapped[int] = mapped_column(Integer)
    lost: Mapped[int] = mapped_column(Integer)
    # first response (first_contacted_at - created_at) summed over the contacted
    response_seconds: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_report_days_kind_day", "kind", "day", "consultant_id"),)


class ReportDirtyDay(Base):
    """A local day whose report_days rows are stale: marked in the transaction
    that changes a lead created or lost that day; `stamp` grows at each mark, so a
    refresh clears only the mark it read (a later one stays)."""

    __tablename__ = "report_dirty_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    stamp: Mapped[int] = mapped_column(Integer)


class Owner(Base):
    """An existing customer (车主): imported from the dealer's list, marked by a
    manager, or a lead that was won. Each handle is unique, so one person is one
    owner; a prospect's capture (an event sign-up) declines any owner's handle."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    qq_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    wechat_openid: Mapped[str | None] = mapped_column(String(128), unique=True)
    wecom_external_userid: Mapped[str | None] = mapped_column(String(128), unique=True)
    car_model: Mapped[str | None] = mapped_column(String(64))
    plate: Mapped[str | None] = mapped_column(String(16))
    vin: Mapped[str | None] = mapped_column(String(17))
    purchased_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(8))  # import | manual | won
    # The won lead it came from (one owner per lead).
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
