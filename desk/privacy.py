"""Personal data rights (PIPL, spec §7): what is kept about a person, and erasing it.

A person is found by one contact handle (their QQ id, Official Account openid…)
or, for a manager, by their lead. Erasure runs in one transaction: the lead keeps
its counts and dates (reports stay meaningful) and loses its identity (name,
phone, handles, chat text, notes); the features' rows (sign-ups, check-ins,
points, referrals) are erased or re-keyed to a random token by the steps the
features register (`Desk.add_personal_data`). An audit row records the request
without the data, and the lead's consultant is told by DM, by number only.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import String, cast, delete, or_, select, update

from desk import lifecycle, outbox
from desk.assignment import REFERRER_KINDS
from desk.capture import existing_lead
from desk.errors import InvalidInput
from desk.models import (
    Lead,
    LeadContact,
    Member,
    OutboxMessage,
    PrivacyAudit,
    ProcessedEvent,
    TimelineEntry,
)
from desk.uow import UnitOfWork
from desk.views import CLOSED_STAGES, Actor, LeadView

HANDLE_KINDS = frozenset(REFERRER_KINDS.values())  # phone | qq | wechat_openid | wecom_external
_PREFIX_OF = {kind: prefix for prefix, kind in REFERRER_KINDS.items()}
# Lead fields that identify the person or hold what they (or staff about them) wrote.
PERSONAL_FIELDS = ("name", "phone", "first_message", "budget", "defeat_reason")
# Keys of timeline changes that carry those values (e.g. a 撞单 that filled the name).
_PERSONAL_CHANGES = frozenset(PERSONAL_FIELDS) | {"referrer"}
ERASED_CATEGORY = "个人信息删除"  # the 战败 category an open lead closes with
ActorKind = Literal["person", "manager"]


@dataclass(frozen=True)
class Person:
    """Whom a request is about: their lead (if any), every handle known to be theirs,
    and the token that replaces their ids where a count must survive."""

    lead_id: int | None
    handles: tuple[tuple[str, str], ...]  # (kind, value) as in lead_contacts
    token: str

    def values(self, *kinds: str) -> list[str]:
        return [v for k, v in self.handles if not kinds or k in kinds]

    @property
    def account_ids(self) -> list[str]:
        """Raw platform ids (QQ id, openid, external userid): never the phone."""
        return self.values("qq", "wechat_openid", "wecom_external")

    @property
    def referrer_handles(self) -> list[str]:
        """The handles features key people by: "qq:20001", "wechat:<openid>",
        "wecom:<external id>", "phone:138…" (the desk's referrer format)."""
        return [f"{_PREFIX_OF[k]}:{v}" for k, v in self.handles if k in _PREFIX_OF]


Eraser = Callable[[UnitOfWork, Person], Awaitable[dict[str, int]]]
Describer = Callable[[UnitOfWork, Person], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Holder:
    """A feature that keeps personal data in its own tables."""

    name: str
    erase: Eraser
    describe: Describer | None = None


@dataclass(frozen=True)
class PersonalData:
    """What 我的信息 shows: the lead and what each feature keeps (data, not text)."""

    lead: LeadView | None
    consultant: str | None
    contacts: list[tuple[str, str]]
    notes: list[tuple[datetime, str]]  # the first message and timeline notes, oldest first
    features: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.lead is None and not self.contacts and not self.features


@dataclass(frozen=True)
class Erasure:
    lead_id: int | None
    counts: dict[str, int]
    consultant_told: bool

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def new_token() -> str:
    return f"erased:{secrets.token_hex(8)}"


def check_handle(kind: str, value: str) -> None:
    if kind not in HANDLE_KINDS or not isinstance(value, str) or not 0 < len(value) <= 128:
        raise InvalidInput("handle", "联系方式不对")


async def _contacts(uow: UnitOfWork, lead_id: int) -> list[tuple[str, str]]:
    rows = await uow.session.execute(
        select(LeadContact.kind, LeadContact.value)
        .where(LeadContact.lead_id == lead_id)
        .order_by(LeadContact.id)
    )
    return [(k, v) for k, v in rows.all()]


async def _person(uow: UnitOfWork, lead: Lead | None, extra: list[tuple[str, str]]) -> Person:
    handles = list(extra)
    if lead is not None:
        handles += await _contacts(uow, lead.id)
        if lead.phone:
            handles.append(("phone", lead.phone))
    unique = tuple(dict.fromkeys(handles))
    return Person(lead.id if lead else None, unique, new_token())


async def person_by_handle(uow: UnitOfWork, kind: str, value: str) -> tuple[Person, Lead | None]:
    """The person behind their own account; their lead is locked (PostgreSQL)."""
    check_handle(kind, value)
    lead = await existing_lead(uow, [(kind, value)])
    return await _person(uow, lead, [(kind, value)]), lead


async def person_by_lead(uow: UnitOfWork, actor: Actor, lead_id: int) -> tuple[Person, Lead]:
    lead = await lifecycle.load(uow, actor, lead_id)
    return await _person(uow, lead, []), lead


# -- 我的信息 ---------------------------------------------------------------------------


async def describe(
    uow: UnitOfWork, person: Person, lead: Lead | None, holders: list[Holder], *, audit: bool
) -> PersonalData:
    consultant = None
    notes: list[tuple[datetime, str]] = []
    if lead is not None:
        if lead.consultant_id is not None:
            member = await uow.session.get(Member, lead.consultant_id)
            consultant = member.name if member else None
        entries = await uow.session.execute(
            select(TimelineEntry.at, TimelineEntry.note)
            .where(TimelineEntry.lead_id == lead.id, TimelineEntry.note.is_not(None))
            .order_by(TimelineEntry.id)
        )
        notes = [(at, note) for at, note in entries.all() if note]
        if lead.first_message and not any(n == lead.first_message for _, n in notes):
            notes.insert(0, (lead.created_at, lead.first_message))
    features = {}
    for holder in holders:
        if holder.describe is not None:
            data = await holder.describe(uow, person)
            if data:
                features[holder.name] = data
    contacts = list(person.handles) if lead is not None else []
    data = PersonalData(LeadView.of(lead) if lead else None, consultant, contacts, notes, features)
    if audit:
        await _audit(uow, "access", "person", None, person, {})
    return data


# -- erasure -------------------------------------------------------------------------------


async def erase(
    uow: UnitOfWork, person: Person, lead: Lead | None, holders: list[Holder],
    actor: Actor, actor_kind: ActorKind,
) -> Erasure:  # fmt: skip
    counts: dict[str, int] = {}
    if lead is not None:
        counts.update(await _erase_lead(uow, lead, actor))
    counts["referred_leads"] = await _forget_referrer(uow, person)
    counts.update(await _erase_outbox(uow, person))
    counts["event_keys"] = await _erase_event_keys(uow, person)
    for holder in holders:
        for what, n in (await holder.erase(uow, person)).items():
            counts[f"{holder.name}.{what}"] = int(n)
    counts = {k: v for k, v in counts.items() if v}
    actor_label = actor.label if actor_kind == "manager" else None
    audit = await _audit(uow, "erase", actor_kind, actor_label, person, counts)
    told = False
    if lead is not None:
        told = await _tell_consultant(uow, lead, audit.id, actor_kind)
    return Erasure(person.lead_id, counts, told)


async def _erase_lead(uow: UnitOfWork, lead: Lead, actor: Actor) -> dict[str, int]:
    removed = await uow.session.execute(delete(LeadContact).where(LeadContact.lead_id == lead.id))
    entries = list(
        await uow.session.scalars(select(TimelineEntry).where(TimelineEntry.lead_id == lead.id))
    )
    scrubbed = 0
    for entry in entries:
        changes = dict(entry.changes or {})
        kept = {k: v for k, v in changes.items() if k not in _PERSONAL_CHANGES}
        if entry.note is not None or kept != changes:
            entry.note, entry.changes = None, kept
            scrubbed += 1
    for name in PERSONAL_FIELDS:
        setattr(lead, name, None)
    # An open lead closes: nobody is to call a person who asked to be forgotten. The
    # counts and dates the reports read stay; only the identity goes.
    closing: dict[str, Any] = {}
    if lead.stage not in CLOSED_STAGES:
        closing = {
            "stage": "lost", "stage_before_defeat": lead.stage, "lost_at": uow.now,
            "defeat_category": ERASED_CATEGORY,
        }  # fmt: skip
    await uow.change(
        lead, actor, "erased", None,
        next_follow_up_at=None, first_contact_due_at=None, expected_visit_at=None, **closing,
    )  # fmt: skip
    return {"contacts": int(removed.rowcount or 0), "timeline": scrubbed, "lead": 1}  # type: ignore[attr-defined]


async def _forget_referrer(uow: UnitOfWork, person: Person) -> int:
    """Leads this person referred keep their channel, not who referred them."""
    handles = person.referrer_handles
    if not handles:
        return 0
    # referrer is not in the 报表 rollup (desk.rollup): no report day to mark dirty
    result = await uow.session.execute(
        update(Lead).where(Lead.referrer.in_(handles)).values(referrer=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _scrub(value: Any, secrets_: frozenset[str]) -> Any:
    """`value` with every string equal to one of `secrets_` dropped (from lists) or
    nulled (elsewhere): an @ list loses the person, a payload field becomes empty."""
    if isinstance(value, dict):
        return {k: _scrub(v, secrets_) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets_) for v in value if not (isinstance(v, str) and v in secrets_)]
    if isinstance(value, str) and value in secrets_:
        return None
    return value


async def _erase_outbox(uow: UnitOfWork, person: Person) -> dict[str, int]:
    """Notifications about the lead and DMs to the person go, sent or not (their
    payloads carry the name, phone or text); other rows that name one of their
    handles (an @ in a group reminder, a referrer) lose it."""
    ids = person.account_ids
    conditions: list[Any] = []
    if person.lead_id is not None:
        conditions.append(OutboxMessage.lead_id == person.lead_id)
    if ids:
        conditions.append(OutboxMessage.address.in_(ids) & OutboxMessage.channel.in_(_DM_CHANNELS))
    deleted = 0
    if conditions:
        result = await uow.session.execute(delete(OutboxMessage).where(or_(*conditions)))
        deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]
    secrets_ = frozenset(ids + person.referrer_handles + person.values("phone"))
    edited = 0
    if secrets_:
        text = cast(OutboxMessage.payload, String)
        rows = await uow.session.scalars(
            select(OutboxMessage).where(
                or_(*(text.contains(f'"{s}"', autoescape=True) for s in secrets_))
            )
        )
        for row in rows:
            scrubbed = _scrub(dict(row.payload or {}), secrets_)
            if scrubbed != row.payload:
                row.payload = scrubbed
                edited += 1
    return {"notifications": deleted, "notifications_edited": edited}


_DM_CHANNELS = ("qq", "wechat_oa", "wecom")


REDACTED = "***"


def _redact_text(text: str | None, words: list[str]) -> str | None:
    if not text:
        return text
    for word in words:
        text = text.replace(word, REDACTED)
    return text


async def redact(uow: UnitOfWork, lead_ids: list[int], words: list[str]) -> int:
    """Other people's leads that mention this person (a referred friend's lead reads
    "车主 小王（QQ 20001）推荐的好友"): `words` become *** in their first message,
    timeline notes and queued notifications. For features' erasure steps."""
    words = sorted({w for w in words if w and len(w) >= 2}, key=len, reverse=True)
    if not lead_ids or not words:
        return 0
    changed = 0
    for lead in await uow.session.scalars(select(Lead).where(Lead.id.in_(lead_ids))):
        new = _redact_text(lead.first_message, words)
        if new != lead.first_message:
            lead.first_message, changed = new, changed + 1
    entries = await uow.session.scalars(
        select(TimelineEntry).where(
            TimelineEntry.lead_id.in_(lead_ids), TimelineEntry.note.is_not(None)
        )
    )
    for entry in entries:
        new = _redact_text(entry.note, words)
        if new != entry.note:
            entry.note, changed = new, changed + 1
    for row in await uow.session.scalars(
        select(OutboxMessage).where(OutboxMessage.lead_id.in_(lead_ids))
    ):
        payload = {
            k: _redact_text(v, words) if isinstance(v, str) else v
            for k, v in (row.payload or {}).items()
        }
        if payload != row.payload:
            row.payload, changed = payload, changed + 1
    return changed


async def _erase_event_keys(uow: UnitOfWork, person: Person) -> int:
    """Idempotency keys that spell an account id ("intent-ack:dm:qq:20001:…",
    "qq:…:member:join:<group>:20001:…"). Losing one only risks a second effect of
    a redelivered old event."""
    ids = person.account_ids
    if not ids:
        return 0
    result = await uow.session.execute(
        delete(ProcessedEvent).where(
            or_(*(ProcessedEvent.key.contains(f":{v}:", autoescape=True) for v in ids))
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _audit(
    uow: UnitOfWork, action: str, actor_kind: ActorKind, actor: str | None, person: Person,
    counts: dict[str, int],
) -> PrivacyAudit:  # fmt: skip
    row = PrivacyAudit(
        at=uow.now, action=action, actor_kind=actor_kind, actor=actor,
        lead_id=person.lead_id, subject=person.token, counts=counts,
    )  # fmt: skip
    uow.session.add(row)
    await uow.session.flush()
    return row


async def _tell_consultant(uow: UnitOfWork, lead: Lead, audit_id: int, by: ActorKind) -> bool:
    if lead.consultant_id is None:
        return False
    consultant = await uow.session.get(Member, lead.consultant_id)
    if consultant is None or not consultant.active:
        return False
    await outbox.enqueue(
        uow, key=f"lead:{lead.id}:erased:{audit_id}", kind="lead_erased",
        payload={"lead_id": lead.id, "by": by}, member=consultant, lead_id=lead.id, any_hour=True,
    )  # fmt: skip
    return True
