"""Staff correct the intent detector (issue 13): `线索` on a message the bot missed,
`不是线索` on a capture it should not have made. Each correction is one desk
transaction with its labelled example (`intent_corrections`), listed for the
managers weekly (意向复盘) to grow the labelled data. No NoneBot.

The example's text is personal data: erased with the person (desk.privacy, see
`erase_person`); the desk keeps no lead retention of its own, so it lives as
long as the lead's text does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import Index, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from desk import Actor, Desk, LeadView, UnitOfWork, lifecycle, notify
from desk.errors import DeskError
from desk.models import ProcessedEvent, TimelineEntry
from desk.phone import extract_phones
from desk.privacy import Person
from desk.roster import label_name
from desk.store import PluginBase, insert_ignore

MAX_TEXT = 500  # as much as a lead's first message keeps (bot.plugins.intent.capture)
LEAD, NOT_LEAD = "lead", "not_lead"
SOURCES = ("group", "dm", "signup")  # as the labelled data splits them
REVIEW_DAYS = 7
REVIEW_LIMIT = 60  # lines a chat message carries comfortably
REVIEW_AT = time(9, 0)  # Monday, local time: the weekly push to the managers
# Actions whose note is the message a capture took (desk.capture).
_CAPTURED_ACTIONS = ("created", "seen_again", "reopened")


class IntentCorrection(PluginBase):
    """One staff correction: a labelled example for the intent detector."""

    __tablename__ = "intent_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    verdict: Mapped[str] = mapped_column(String(8))  # lead | not_lead
    source: Mapped[str] = mapped_column(String(8))  # group | dm | signup
    text: Mapped[str | None] = mapped_column(String(MAX_TEXT))  # None once erased
    platform: Mapped[str] = mapped_column(String(16))  # qq | wecom | wechat_oa
    lead_id: Mapped[int | None] = mapped_column(Integer)
    staff: Mapped[str] = mapped_column(String(64))  # the actor label: "member:3", "qq:90001"

    __table_args__ = (
        Index("ix_intent_corrections_at", "at"),
        Index("ix_intent_corrections_lead_id", "lead_id"),
    )


class NotCorrectable(DeskError):
    """不是线索 on a message the desk knows no capture of."""

    def __init__(self) -> None:
        super().__init__("这条消息没有对应的线索")


def ack_key(platform: str, self_id: str, message_id: str) -> str:
    """The processed_events key naming the lead an acknowledgement was sent for."""
    return f"intent-ack-msg:{platform}:{self_id}:{message_id}"


def source_of(channel: str | None) -> str:
    """The labelled data's source for a lead's channel ("qq_group:123" → group)."""
    kind = (channel or "").split(":", 1)[0]
    if kind in ("qq_group", "wecom_group"):
        return "group"
    if kind == "event":
        return "signup"
    return "dm"


@dataclass(frozen=True)
class Quoted:
    """The message a staff member quote-replied: its platform key and its sender."""

    event_key: str
    user_id: str  # a QQ id
    nickname: str | None
    text: str
    group_id: str | None


@dataclass(frozen=True)
class Captured:
    lead: LeadView
    new: bool  # False: that message (or this command) was captured before


@dataclass(frozen=True)
class Withdrawn:
    lead: LeadView


@dataclass(frozen=True)
class CorrectionView:
    at: datetime
    verdict: str
    source: str
    text: str | None
    staff: str  # the member's name, or the actor label of a SUPERUSER off the roster


async def remember_acks(desk: Desk, keys: list[str], lead_id: int) -> None:
    """Record the sent acknowledgements' message ids against their lead."""

    async def step(uow: UnitOfWork) -> None:
        for key in keys:
            await insert_ignore(uow, ProcessedEvent, ["key"], key=key, at=uow.now, lead_id=lead_id)

    if keys:
        await desk.write(step)


async def _record(
    uow: UnitOfWork, actor: Actor, verdict: str, source: str, text: str | None,
    platform: str, lead_id: int,
) -> None:  # fmt: skip
    uow.session.add(
        IntentCorrection(
            at=uow.now,
            verdict=verdict,
            source=source,
            text=(text or "").strip()[:MAX_TEXT] or None,
            platform=platform,
            lead_id=lead_id,
            staff=actor.label,
        )  # fmt: skip
    )
    await uow.session.flush()


async def capture_quoted(desk: Desk, actor: Actor, platform: str, quoted: Quoted) -> Captured:
    """线索 on a quoted message: the lead of its sender, from that message (the key
    the automatic capture uses, so a message captured already has no second effect)."""
    phones = extract_phones(quoted.text)
    text = quoted.text.strip()[:MAX_TEXT]
    channel = f"qq_group:{quoted.group_id}" if quoted.group_id else "qq_dm"

    async def step(uow: UnitOfWork) -> Captured:
        result = await desk.capture_in(
            uow, actor, channel=channel, qq_id=quoted.user_id, name=quoted.nickname,
            group_id=quoted.group_id, phone=phones[0] if phones else None,
            message=text or None, event_key=quoted.event_key,
        )  # fmt: skip
        new = result.created or result.duplicate
        if new:
            await _record(uow, actor, LEAD, source_of(channel), text, platform, result.lead.id)
        return Captured(result.lead, new)

    return await desk.write(step)


async def capture_note(
    desk: Desk, actor: Actor, platform: str, note: str, event_key: str | None
) -> Captured:
    """线索 <手机号> <说明> from staff in a DM (the WeCom app after forwarding: the
    platform does not say who wrote a forwarded message, so the phone is the handle)."""
    phones = extract_phones(note)
    if not phones:
        raise NotCorrectable
    text = note.strip()[:MAX_TEXT]
    channel = "wecom" if platform == "wecom" else "manual"

    async def step(uow: UnitOfWork) -> Captured:
        result = await desk.capture_in(
            uow, actor, channel=channel, phone=phones[0], message=text, event_key=event_key
        )
        new = result.created or result.duplicate
        if new:
            await _record(uow, actor, LEAD, "dm", text, platform, result.lead.id)
        return Captured(result.lead, new)

    return await desk.write(step)


async def withdraw(desk: Desk, actor: Actor, platform: str, keys: list[str]) -> Withdrawn:
    """不是线索 on an acknowledgement (or on the message it answered): the lead is
    withdrawn (desk.lifecycle.withdraw: only from 新线索) and the message it was
    captured from becomes a not-a-lead example. `keys`: processed_events keys to
    look the lead up by, the first found wins."""

    async def step(uow: UnitOfWork) -> Withdrawn:
        found = await uow.session.execute(
            select(ProcessedEvent.key, ProcessedEvent.lead_id).where(
                ProcessedEvent.key.in_(keys), ProcessedEvent.lead_id.is_not(None)
            )
        )
        by_key = {key: lead_id for key, lead_id in found.all()}
        lead_id = next((by_key[k] for k in keys if k in by_key), None)
        if lead_id is None:
            raise NotCorrectable
        lead = await lifecycle.withdraw(uow, actor, lead_id)
        text = await uow.session.scalar(
            select(TimelineEntry.note)
            .where(
                TimelineEntry.lead_id == lead_id,
                TimelineEntry.action.in_(_CAPTURED_ACTIONS),
                TimelineEntry.note.is_not(None),
            )
            .order_by(TimelineEntry.id.desc())
            .limit(1)
        )
        await _record(uow, actor, NOT_LEAD, source_of(lead.source), text, platform, lead.id)
        return Withdrawn(lead)

    return await desk.write(step)


def review_window(now: datetime) -> tuple[datetime, datetime]:
    """The past week, up to and including now."""
    return now - timedelta(days=REVIEW_DAYS), now


async def review(desk: Desk, since: datetime, until: datetime) -> list[CorrectionView]:
    """意向复盘: the corrections made after `since`, up to `until`, oldest first."""

    async def step(uow: UnitOfWork) -> list[CorrectionView]:
        rows = await uow.session.scalars(
            select(IntentCorrection)
            .where(IntentCorrection.at > since, IntentCorrection.at <= until)
            .order_by(IntentCorrection.at, IntentCorrection.id)
            .limit(REVIEW_LIMIT)
        )
        names: dict[str, str] = {}
        out = []
        for row in rows:
            if row.staff not in names:
                names[row.staff] = await label_name(uow, row.staff) or row.staff
            out.append(CorrectionView(row.at, row.verdict, row.source, row.text, names[row.staff]))
        return out

    return await desk.read(step)


async def weekly_push(uow: UnitOfWork) -> int:
    """A desk schedule (Desk.add_schedule): on Monday from REVIEW_AT local time, the
    managers are told how many corrections the past week had (the list itself, with
    people's words, is 意向复盘 in a DM, not kept in the outbox). Keyed by the week."""
    local = uow.calendar.local(uow.now)
    if local.weekday() != 0 or local.time() < REVIEW_AT:
        return 0
    monday = local.date()
    until = uow.calendar.day_bounds(monday)[0]
    since = until - timedelta(days=REVIEW_DAYS)
    rows = await uow.session.execute(
        select(IntentCorrection.verdict, func.count())
        .where(IntentCorrection.at >= since, IntentCorrection.at < until)
        .group_by(IntentCorrection.verdict)
    )
    counts = {verdict: n for verdict, n in rows.all()}
    if not counts:
        return 0
    payload = {
        "week_start": (monday - timedelta(days=REVIEW_DAYS)).isoformat(),
        "leads": int(counts.get(LEAD, 0)), "not_leads": int(counts.get(NOT_LEAD, 0)),
    }  # fmt: skip
    await notify.to_managers(uow, f"intent-review:{monday.isoformat()}", "intent_review", payload)
    return 1


async def erase_person(uow: UnitOfWork, person: Person) -> dict[str, int]:
    """desk.privacy: the examples taken from the person's words lose the text."""
    if person.lead_id is None:
        return {}
    result = await uow.session.execute(
        update(IntentCorrection)
        .where(IntentCorrection.lead_id == person.lead_id, IntentCorrection.text.is_not(None))
        .values(text=None)
    )
    return {"texts": int(result.rowcount or 0)}  # type: ignore[attr-defined]


async def describe_person(uow: UnitOfWork, person: Person) -> dict[str, int] | None:
    if person.lead_id is None:
        return None
    n = await uow.session.scalar(
        select(func.count())
        .select_from(IntentCorrection)
        .where(IntentCorrection.lead_id == person.lead_id, IntentCorrection.text.is_not(None))
    )
    return {"examples": int(n)} if n else None


def register(desk: Desk) -> None:
    desk.add_schedule(weekly_push)
    desk.add_personal_data("intent_corrections", erase_person, describe_person)
