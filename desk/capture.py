"""Capture: any channel, one person = one lead (撞单 updates the existing one)."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Table, and_, bindparam, delete, insert, or_, select, update

from desk import assignment, notify, outbox
from desk.errors import InvalidInput
from desk.events import LeadCaptured
from desk.models import Lead, LeadContact, Member, ProcessedEvent, TimelineEntry
from desk.phone import normalize_phone
from desk.scheduling import first_contact_due, level_for_purchase
from desk.settings import FOLLOW_UP_LEVELS
from desk.store import ignoring_insert, insert_ignore
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


_SURROGATE = re.compile("[\ud800-\udfff]")


def mended_text(text: str) -> str:
    """`text` as the database can keep it: NULs dropped, a lone surrogate (half an
    emoji a client cut off) shown as U+FFFD. For what a front passes on beside a
    person's words (a nickname), where refusing would lose the person."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


async def existing_lead(uow: UnitOfWork, handles: list[tuple[str, str]]) -> Lead | None:
    """The lead holding any of the handles (one query); the first handle wins."""
    if not handles:
        return None
    params = {f"{kv}{i}": x for i, h in enumerate(handles) for kv, x in zip("kv", h, strict=True)}
    rows: list[Any] = list(await uow.session.execute(_lookup(len(handles)), params))
    found = {(kind, value): lead for lead, kind, value in rows}
    return next((found[h] for h in handles if h in found), None)


_LOOKUPS: dict[int, Any] = {}


def _lookup(n: int) -> Any:
    """The lookup for n handles, built once with bound parameters (k0, v0, k1, v1…):
    a statement built per call costs more than the query (analysed, keyed for the cache)."""
    query = _LOOKUPS.get(n)
    if query is None:
        match = (
            and_(LeadContact.kind == bindparam(f"k{i}"), LeadContact.value == bindparam(f"v{i}"))
            for i in range(n)
        )
        query = _LOOKUPS[n] = (
            select(Lead, LeadContact.kind, LeadContact.value)
            .join(LeadContact, LeadContact.lead_id == Lead.id)
            .where(or_(*match))
            .with_for_update(of=Lead)  # two returns of one lead serialise (PostgreSQL)
            .execution_options(populate_existing=True)
        )
    return query


async def claim_event(uow: UnitOfWork, key: str) -> bool:
    """Record the event key; False when it was processed before."""
    return await insert_ignore(uow, ProcessedEvent, ["key"], key=key, at=uow.now)


async def purge_processed(uow: UnitOfWork) -> int:
    """Delete event keys older than the retention (oldest first, a batch per run)."""
    cutoff = uow.now - timedelta(days=uow.settings.processed_events.retention_days)
    keys = (
        select(ProcessedEvent.key)
        .where(ProcessedEvent.at < cutoff)
        .order_by(ProcessedEvent.at)
        .limit(outbox.PURGE_BATCH)
    )
    result = await uow.session.execute(delete(ProcessedEvent).where(ProcessedEvent.key.in_(keys)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _add_contacts(uow: UnitOfWork, lead_id: int, handles: list[tuple[str, str]]) -> None:
    """An existing lead only gains the handles nobody holds yet."""
    if not handles:
        return
    # executemany with one cached statement, whatever the number of handles
    rows = [{"kind": k, "value": v, "lead_id": lead_id} for k, v in handles]
    await uow.session.execute(ignoring_insert(uow, LeadContact), rows)


async def capture(uow: UnitOfWork, c: Capture, actor: Actor) -> CaptureResult:
    message = check_note(uow, "message", c.message)
    if c.expected_purchase_at is not None:
        if c.expected_purchase_at < uow.now - timedelta(days=1):
            raise InvalidInput("expected_purchase_at", "预计购车时间已经过去了")
        if c.expected_purchase_at > uow.now + MAX_AHEAD:
            raise InvalidInput("expected_purchase_at", "预计购车时间太远了")
    handles = c.handles()
    if c.event_key and not await claim_event(uow, c.event_key):
        # A replay: the lead it made, even one erased since (desk.privacy), which the
        # handles no longer find; an old message must not bring the person back.
        lead = await existing_lead(uow, handles) or await _lead_of_event(uow, c.event_key)
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


# The new-lead path in Core statements built once (their compiled forms are cached):
# no ORM flush or identity map for rows this transaction never reads back.
_LEADS, _CONTACTS, _TIMELINE = (
    cast(Table, Lead.__table__),
    cast(Table, LeadContact.__table__),
    cast(Table, TimelineEntry.__table__),
)
_INSERT_LEAD = insert(_LEADS)
_INSERT_CONTACTS = insert(_CONTACTS)
_INSERT_TIMELINE = insert(_TIMELINE)
_LEAD_COLUMNS = tuple(c.name for c in _LEADS.columns if c.name != "id")


async def _create(uow: UnitOfWork, c: Capture, message: str | None, actor: Actor) -> CaptureResult:
    settings, now = uow.settings, uow.now
    consultant: Member | outbox.Recipient | None = None
    sticky = await assignment.referrer_consultant(uow, c.referrer)
    if sticky:
        consultant = await uow.session.get(Member, sticky)
        if consultant is not None:
            await uow.bump_load(consultant.id, +1)
    if consultant is None:
        consultant = await assignment.assign_new_lead(uow)
    due = first_contact_due(settings, uow.calendar, now)
    row: dict[str, Any] = dict.fromkeys(_LEAD_COLUMNS)
    row.update(
        name=c.name, phone=c.phone, car_model=c.car_model, budget=c.budget,
        channel=c.channel.split(":", 1)[0], source=c.channel, group_id=c.group_id,
        first_message=message, referrer=c.referrer,
        consultant_id=consultant.id if consultant else None, level="N", stage="new",
        expected_purchase_at=c.expected_purchase_at, next_follow_up_at=due, first_contact_due_at=due,
        visit_count=0, created_at=now, updated_at=now,
    )  # fmt: skip
    inserted = await uow.session.execute(_INSERT_LEAD, row)
    lead_id: int = inserted.inserted_primary_key[0]  # type: ignore[attr-defined]
    lead = LeadView(id=lead_id, **{f: row[f] for f in _VIEW_FIELDS})
    # A new lead's handles must be free: a concurrent writer that took one first raises
    # IntegrityError, and the use case is retried (it then finds that lead). executemany.
    await uow.session.execute(
        _INSERT_CONTACTS, [{"kind": k, "value": v, "lead_id": lead_id} for k, v in c.handles()]
    )
    changes: dict[str, object] = {"stage": [None, "new"], "channel": [None, lead.source]}
    if consultant is not None:
        changes["consultant_id"] = [None, consultant.id]
    if c.expected_purchase_at:
        changes["expected_purchase_at"] = [None, c.expected_purchase_at.isoformat()]
    await uow.session.execute(
        _INSERT_TIMELINE,
        {"lead_id": lead_id, "at": now, "actor": actor.label, "action": "created",
         "changes": changes, "note": message},
    )  # fmt: skip
    if c.event_key:
        await _link_event(uow, c.event_key, lead_id)
    await notify.new_lead(uow, lead, consultant)
    uow.events.append(
        LeadCaptured(
            lead_id, now, actor.label, lead.channel, c.referrer, created=True, reopened=False
        )
    )
    return CaptureResult(lead, created=True, duplicate=False, reopened=False)


_VIEW_FIELDS = tuple(f for f in LeadView.__dataclass_fields__ if f != "id")


async def _link_event(uow: UnitOfWork, key: str, lead_id: int) -> None:
    await uow.session.execute(_LINK_EVENT, {"event_key": key, "lead_id": lead_id})


async def _lead_of_event(uow: UnitOfWork, key: str) -> Lead | None:
    lead_id = await uow.session.scalar(
        select(ProcessedEvent.lead_id).where(ProcessedEvent.key == key)
    )
    return await uow.session.get(Lead, lead_id) if lead_id is not None else None


_EVENTS = cast(Table, ProcessedEvent.__table__)
_LINK_EVENT = (
    update(_EVENTS)
    .where(_EVENTS.c.key == bindparam("event_key"))
    .values(lead_id=bindparam("lead_id"))
)


async def _seen_again(
    uow: UnitOfWork, lead: Lead, c: Capture, message: str | None, actor: Actor
) -> CaptureResult:
    """撞单: fill what we did not know, record it, tell the consultant; a lost lead reopens."""
    await _add_contacts(uow, lead.id, c.handles())
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
        and lead.level in FOLLOW_UP_LEVELS
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
