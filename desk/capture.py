"""Capture: any channel, one person = one lead (撞单 updates the existing one)."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Table, and_, bindparam, delete, insert, or_, select, update

from desk import assignment, notify, outbox, owners
from desk.errors import InvalidInput
from desk.events import LeadCaptured
from desk.models import Lead, LeadContact, Member, ProcessedEvent
from desk.phone import normalize_phone
from desk.scheduling import first_contact_due, level_for_purchase
from desk.settings import FOLLOW_UP_LEVELS
from desk.store import ignoring_insert, insert_ignore
from desk.uow import UnitOfWork
from desk.views import Actor, CaptureResult, LeadView

CHANNELS = frozenset({
    "qq_group", "qq_dm", "referral", "event", "autohome", "yiche", "baidu", "weibo", "forum",
    "video", "groupbuy", "phone_in", "walk_in", "wechat_oa", "wecom", "wecom_group", "manual",
    "dongchedi", "oem", "douyin", "other",
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


async def capture(uow: UnitOfWork, c: Capture, actor: Actor) -> CaptureResult:
    result = await _capture(uow, c, actor, prospect=False)
    assert result is not None  # only a prospect's capture declines
    return result


async def capture_prospect(uow: UnitOfWork, c: Capture, actor: Actor) -> CaptureResult | None:
    """`capture` unless the person is staff (an active roster member's QQ id) or a
    customer already (an owner, desk.owners, or a won lead): then None, and nothing
    is written. Decided in this transaction, on the locked lead, so no capture
    slips in between."""
    return await _capture(uow, c, actor, prospect=True)


async def _capture(
    uow: UnitOfWork, c: Capture, actor: Actor, *, prospect: bool
) -> CaptureResult | None:
    message = check_note(uow, "message", c.message)
    if c.expected_purchase_at is not None:
        if c.expected_purchase_at < uow.now - timedelta(days=1):
            raise InvalidInput("expected_purchase_at", "预计购车时间已经过去了")
        if c.expected_purchase_at > uow.now + MAX_AHEAD:
            raise InvalidInput("expected_purchase_at", "预计购车时间太远了")
    if prospect and c.qq_id and await uow.session.scalar(_STAFF, {"qq_id": c.qq_id}):
        return None
    handles = c.handles()
    if prospect and await owners.owner_of(uow, handles) is not None:
        return None
    lead = await existing_lead(uow, handles)
    if prospect and lead is not None and lead.stage == "won":
        return None
    if c.event_key and not await claim_event(uow, c.event_key):
        # A replay: the lead it made, even one erased since (desk.privacy), which the
        # handles no longer find; an old message must not bring the person back.
        lead = lead or await _lead_of_event(uow, c.event_key)
        if lead is not None:
            return CaptureResult(LeadView.of(lead), created=False, duplicate=False, reopened=False)
    result = await _record(uow, lead, c, message, actor)
    if c.once_key and await claim_event(uow, c.once_key):
        result = dataclasses.replace(result, first_time=True)
    return result


_STAFF = select(Member.id).where(Member.qq_id == bindparam("qq_id"), Member.active.is_(True))


# What a sign tells about the person: a field we did not know yet is filled
# (a new lead knows nothing yet, so it takes them all).
_FILLED = ("name", "car_model", "budget", "phone", "group_id", "referrer")


async def _record(
    uow: UnitOfWork, lead: Lead | None, c: Capture, message: str | None, actor: Actor
) -> CaptureResult:
    """One set of rules for a new lead and a returning one (撞单): fill what we did
    not know; a new or lost lead starts afresh (新线索, first contact due); a lead
    without an active consultant gets one; record it, tell the consultant."""
    values: dict[str, Any] = {
        name: new for name in _FILLED
        if (new := getattr(c, name)) and not (lead is not None and getattr(lead, name))
    }  # fmt: skip
    if c.expected_purchase_at is not None:
        values["expected_purchase_at"] = c.expected_purchase_at
    reopened = lead is not None and lead.stage == "lost"
    if lead is None or reopened:
        due = first_contact_due(uow.settings, uow.calendar, uow.now)
        values.update(
            stage="new", level="N", next_follow_up_at=due, first_contact_due_at=due,
            lost_at=None, first_contact_escalated_at=None,
        )  # fmt: skip
    elif (
        lead.stage != "won"
        and c.expected_purchase_at is not None
        and lead.level in FOLLOW_UP_LEVELS
    ):
        values["level"] = level_for_purchase(uow.settings, uow.now, c.expected_purchase_at)
    current = lead.consultant_id if lead is not None else None
    referrer = (lead.referrer if lead is not None else None) or c.referrer
    stage = values.get("stage", lead.stage if lead is not None else None)
    consultant = await assignment.consultant_for(uow, current, referrer, stage)
    if consultant is not None and consultant.id != current:
        values["consultant_id"] = consultant.id

    if lead is None:
        view = await _create(uow, c, message, actor, values)
        await notify.new_lead(uow, view, consultant)
    else:
        await _add_contacts(uow, lead.id, c.handles())
        action = "reopened" if reopened else "seen_again"
        entry = await uow.change(
            lead, actor, action, message, context={"seen_via": c.channel}, **values
        )
        view = LeadView.of(lead)
        await notify.seen_again(uow, lead, consultant, entry.id, c.channel, message, reopened)
    if c.event_key:
        await uow.session.execute(_LINK_EVENT, {"event_key": c.event_key, "lead_id": view.id})
    uow.events.append(
        LeadCaptured(
            view.id, uow.now, actor.label, c.channel, view.referrer,
            created=lead is None, reopened=reopened,
        )
    )  # fmt: skip
    return CaptureResult(view, created=lead is None, duplicate=lead is not None, reopened=reopened)


async def _create(
    uow: UnitOfWork, c: Capture, message: str | None, actor: Actor, values: dict[str, Any]
) -> LeadView:
    values |= {
        "channel": c.channel.split(":", 1)[0], "source": c.channel, "first_message": message,
        "visit_count": 0,
    }  # fmt: skip
    changes: dict[str, object] = {"stage": [None, "new"], "channel": [None, c.channel]}
    if "consultant_id" in values:
        changes["consultant_id"] = [None, values["consultant_id"]]
    if c.expected_purchase_at:
        changes["expected_purchase_at"] = [None, c.expected_purchase_at.isoformat()]
    row = await uow.add_lead(actor, values, changes, message)
    # A new lead's handles must be free: a concurrent writer that took one first raises
    # IntegrityError, and the use case is retried (it then finds that lead). executemany.
    await uow.session.execute(
        _INSERT_CONTACTS, [{"kind": k, "value": v, "lead_id": row["id"]} for k, v in c.handles()]
    )
    return LeadView(**{f: row[f] for f in LeadView.__dataclass_fields__})


async def _add_contacts(uow: UnitOfWork, lead_id: int, handles: list[tuple[str, str]]) -> None:
    """An existing lead only gains the handles nobody holds yet (executemany with one
    cached statement, whatever the number of handles)."""
    rows = [{"kind": k, "value": v, "lead_id": lead_id} for k, v in handles]
    await uow.session.execute(ignoring_insert(uow, LeadContact), rows)


async def _lead_of_event(uow: UnitOfWork, key: str) -> Lead | None:
    lead_id = await uow.session.scalar(
        select(ProcessedEvent.lead_id).where(ProcessedEvent.key == key)
    )
    return await uow.session.get(Lead, lead_id) if lead_id is not None else None


_INSERT_CONTACTS = insert(cast(Table, LeadContact.__table__))
_EVENTS = cast(Table, ProcessedEvent.__table__)
_LINK_EVENT = (
    update(_EVENTS)
    .where(_EVENTS.c.key == bindparam("event_key"))
    .values(lead_id=bindparam("lead_id"))
)
