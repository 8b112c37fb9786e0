"""Capture: any channel, one person = one lead (撞单 updates the existing one)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import and_, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from desk import assignment, notify
from desk.errors import InvalidInput
from desk.events import LeadCaptured
from desk.models import Lead, LeadContact, Member, ProcessedEvent
from desk.phone import normalize_phone
from desk.scheduling import first_contact_due, level_for_purchase
from desk.uow import UnitOfWork
from desk.views import Actor, CaptureResult, LeadView

CHANNELS = frozenset({
    "qq_group", "qq_dm", "referral", "event", "autohome", "yiche", "baidu", "weibo", "forum",
    "video", "groupbuy", "phone_in", "walk_in", "wechat_oa", "wecom", "wecom_group", "manual",
})  # fmt: skip
# How far ahead a planned time (purchase, visit, revisit) may lie.
MAX_AHEAD = timedelta(days=3 * 365)
Short = Annotated[str, Field(min_length=1, max_length=64)]
Handle = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\w@.\-:=+/]+$")]


class Capture(BaseModel):
    """A sign of a person: the channel, at least one contact handle, what they said."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    channel: Annotated[str, Field(min_length=2, max_length=128)]
    phone: str | None = None
    qq_id: Annotated[str, Field(pattern=r"^[1-9][0-9]{4,11}$")] | None = None
    wechat_openid: Handle | None = None
    wecom_external_userid: Handle | None = None
    name: Short | None = None
    car_model: Short | None = None
    budget: Short | None = None
    group_id: Short | None = None
    message: str | None = None
    referrer: Annotated[str, Field(min_length=3, max_length=64)] | None = None
    expected_purchase_at: datetime | None = None
    # Platform event id: the same event captured twice has one effect.
    event_key: Annotated[str, Field(min_length=1, max_length=160)] | None = None
    # A key claimed in the same transaction (see Desk.once): the result says
    # whether it was new, saving the front a second round trip.
    once_key: Annotated[str, Field(min_length=1, max_length=160)] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: object) -> object:
        if isinstance(value, str) and not storable(value):
            raise ValueError("含有无法识别的字符")
        return value

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        if value.split(":", 1)[0] not in CHANNELS:
            raise ValueError(f"unknown channel {value!r}")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalize_phone(value) if value is not None else None

    @field_validator("expected_purchase_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a timezone")
        return value

    @model_validator(mode="after")
    def _has_handle(self) -> Capture:
        if not any(self.handles()):
            raise ValueError("needs a phone, QQ id or WeChat id")
        return self

    def handles(self) -> list[tuple[str, str]]:
        pairs = [
            ("phone", self.phone), ("qq", self.qq_id),
            ("wechat_openid", self.wechat_openid), ("wecom_external", self.wecom_external_userid),
        ]  # fmt: skip
        return [(k, v) for k, v in pairs if v]


def parse_capture(**fields: object) -> Capture:
    """Build a Capture, turning validation errors into InvalidInput."""
    try:
        return Capture.model_validate(fields)
    except InvalidInput:
        raise
    except ValidationError as exc:
        err = exc.errors()[0]
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, InvalidInput):
            raise cause from None
        raise InvalidInput(".".join(map(str, err["loc"])) or "capture", err["msg"]) from None


def check_note(
    uow: UnitOfWork, field: str, text: str | None, *, required: bool = False
) -> str | None:
    if text is None or not text.strip():
        if required:
            raise InvalidInput(field, "不能为空")
        return None
    text = text.strip()
    if len(text) > uow.settings.lifecycle.max_note_chars:
        raise InvalidInput(field, f"太长了（最多 {uow.settings.lifecycle.max_note_chars} 字）")
    if not storable(text):
        raise InvalidInput(field, "含有无法识别的字符")
    return text


def storable(text: str) -> bool:
    """Text the database can keep: valid UTF-8 (no lone surrogates), no NUL."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def existing_lead(uow: UnitOfWork, handles: list[tuple[str, str]]) -> Lead | None:
    """The lead holding any of the handles (one query); the first handle wins."""
    if not handles:
        return None
    query = (
        select(Lead, LeadContact.kind, LeadContact.value)
        .join(LeadContact, LeadContact.lead_id == Lead.id)
        .where(or_(*(and_(LeadContact.kind == k, LeadContact.value == v) for k, v in handles)))
        .with_for_update(of=Lead)  # two returns of one lead serialise (PostgreSQL)
        .execution_options(populate_existing=True)
    )
    found = {(kind, value): lead for lead, kind, value in (await uow.session.execute(query)).all()}
    return next((found[h] for h in handles if h in found), None)


async def claim_event(uow: UnitOfWork, key: str) -> bool:
    """Record the event key; False when it was processed before."""
    insert = postgresql.insert if uow.dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(ProcessedEvent)
        .values(key=key, at=uow.now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    result = await uow.session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _add_contacts(
    uow: UnitOfWork, lead_id: int, handles: list[tuple[str, str]], *, new_lead: bool
) -> None:
    """A new lead's handles must be free: a concurrent writer that took one first
    raises IntegrityError, and the use case is retried (it then finds that lead).
    An existing lead only gains the handles nobody holds yet."""
    if not handles:
        return
    # executemany with one cached statement, whatever the number of handles
    rows = [{"kind": k, "value": v, "lead_id": lead_id} for k, v in handles]
    if new_lead:
        await uow.session.execute(insert(LeadContact), rows)
        return
    dialect_insert = postgresql.insert if uow.dialect == "postgresql" else sqlite.insert
    await uow.session.execute(dialect_insert(LeadContact).on_conflict_do_nothing(), rows)


async def capture(uow: UnitOfWork, c: Capture, actor: Actor) -> CaptureResult:
    message = check_note(uow, "message", c.message)
    if c.expected_purchase_at is not None:
        if c.expected_purchase_at < uow.now - timedelta(days=1):
            raise InvalidInput("expected_purchase_at", "预计购车时间已经过去了")
        if c.expected_purchase_at > uow.now + MAX_AHEAD:
            raise InvalidInput("expected_purchase_at", "预计购车时间太远了")
    handles = c.handles()
    if c.event_key and not await claim_event(uow, c.event_key):
        lead = await existing_lead(uow, handles)
        if lead is not None:
            return CaptureResult(LeadView.of(lead), created=False, duplicate=False, reopened=False)
    lead = await existing_lead(uow, handles)
    if lead is None:
        result = await _create(uow, c, message, actor)
    else:
        result = await _seen_again(uow, lead, c, message, actor)
    if c.once_key and await claim_event(uow, c.once_key):
        result = dataclasses.replace(result, first_time=True)
    return result


async def _create(uow: UnitOfWork, c: Capture, message: str | None, actor: Actor) -> CaptureResult:
    settings, now = uow.settings, uow.now
    sticky = await assignment.referrer_consultant(uow, c.referrer)
    consultant: Member | None = await uow.session.get(Member, sticky) if sticky else None
    if consultant is None:
        consultant = await assignment.pick_consultant(uow)
    due = first_contact_due(settings, uow.calendar, now)
    lead = Lead(
        name=c.name, phone=c.phone, car_model=c.car_model, budget=c.budget,
        channel=c.channel.split(":", 1)[0], source=c.channel, group_id=c.group_id,
        first_message=message, referrer=c.referrer,
        consultant_id=consultant.id if consultant else None, level="N", stage="new",
        expected_purchase_at=c.expected_purchase_at, next_follow_up_at=due, first_contact_due_at=due,
        visit_count=0, created_at=now, updated_at=now,
    )  # fmt: skip
    if consultant is not None:
        # Flushed in one UPDATE with the pick's last_assigned_at (the hot path).
        consultant.open_load = Member.open_load + 1  # type: ignore[assignment]
    uow.session.add(lead)
    await uow.session.flush()
    await _add_contacts(uow, lead.id, c.handles(), new_lead=True)
    changes: dict[str, object] = {"stage": [None, "new"], "channel": [None, lead.source]}
    if consultant is not None:
        changes["consultant_id"] = [None, consultant.id]
    if c.expected_purchase_at:
        changes["expected_purchase_at"] = [None, c.expected_purchase_at.isoformat()]
    await uow.add_timeline(lead.id, actor, "created", changes, message)
    if c.event_key:
        await _link_event(uow, c.event_key, lead.id)
    await notify.new_lead(uow, lead, consultant)
    uow.events.append(
        LeadCaptured(
            lead.id, now, actor.label, lead.channel, c.referrer, created=True, reopened=False
        )
    )
    return CaptureResult(LeadView.of(lead), created=True, duplicate=False, reopened=False)


async def _link_event(uow: UnitOfWork, key: str, lead_id: int) -> None:
    event = await uow.session.get(ProcessedEvent, key)
    if event is not None:
        event.lead_id = lead_id


async def _seen_again(
    uow: UnitOfWork, lead: Lead, c: Capture, message: str | None, actor: Actor
) -> CaptureResult:
    """撞单: fill what we did not know, record it, tell the consultant; a lost lead reopens."""
    await _add_contacts(uow, lead.id, c.handles(), new_lead=False)
    values: dict[str, object] = {}
    for name in ("name", "car_model", "budget", "phone", "group_id", "referrer"):
        new = getattr(c, name)
        if new and not getattr(lead, name):
            values[name] = new
    if c.expected_purchase_at is not None:
        values["expected_purchase_at"] = c.expected_purchase_at
    reopened = lead.stage == "lost"
    if reopened:
        due = first_contact_due(uow.settings, uow.calendar, uow.now)
        values.update(
            stage="new",
            level="N",
            next_follow_up_at=due,
            first_contact_due_at=due,
            lost_at=None,
            first_contact_escalated_at=None,
        )
    elif (
        lead.stage != "won"
        and c.expected_purchase_at is not None
        and lead.level in ("H", "A", "B", "C")
    ):
        values["level"] = level_for_purchase(uow.settings, uow.now, c.expected_purchase_at)
    consultant = await uow.session.get(Member, lead.consultant_id) if lead.consultant_id else None
    if consultant is None or not consultant.active:
        consultant = await assignment.pick_consultant(uow)
        if consultant is not None:
            values["consultant_id"] = consultant.id
    action = "reopened" if reopened else "seen_again"
    entry = await uow.change(
        lead, actor, action, message, context={"seen_via": c.channel}, **values
    )
    if c.event_key:
        await _link_event(uow, c.event_key, lead.id)
    await notify.seen_again(uow, lead, consultant, entry.id, c.channel, message, reopened)
    uow.events.append(
        LeadCaptured(
            lead.id, uow.now, actor.label, c.channel, c.referrer, created=False, reopened=reopened
        )
    )
    return CaptureResult(LeadView.of(lead), created=False, duplicate=True, reopened=reopened)
