"""The members' use cases: sign up (报名), cancel a sign-up (取消报名), list one's
sign-ups (我的报名). One transaction each; seats as core.py decides them.

- Signing up again for the same event: with no size given (or the same), the
  person is told their status; with a new size, a sign-up is changed when the
  new size fits (else it is kept as it was), and a waitlist entry keeps its
  place with the new size. After cancelling, signing up again joins the back.
- A sign-up by someone not on the staff and not already a customer (a lead at
  stage "won") is captured as a lead with channel `event:<id>` in the same
  transaction, which also decides whether they are a customer; `lead_created`
  records whether that made a new lead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from desk.phone import mask_phones_in_text
from desk.roster import QQ_ID
from desk.store import UnitOfWork
from desk.text import checked_text, clean_text
from features.events.config import EventsConfig
from features.events.core import (
    EventInfo,
    Events,
    check_open_for_signup,
    display_name,
    fits,
    promote,
    seats_taken,
    visible_event,
    waitlist_position,
)
from features.events.errors import (
    BadNote,
    BadParty,
    CarsOverParty,
    CarsTooMany,
    EventCancelled,
    EventStarted,
    NotSignedUp,
    PartyTooBig,
)
from features.events.models import (
    ATTENDED,
    CANCELLED,
    NO_SHOW,
    QQ,
    SIGNED,
    WAITLISTED,
    WECHAT_OA,
    WITHDRAWN,
    Event,
    Signup,
)

# desk.capture's pattern of a WeChat handle: anything else is not captured.
_WECHAT_ID = re.compile(r"^[\w@.\-:=+/]{1,128}$")
NICKNAME_CHARS = 32


@dataclass(frozen=True)
class SignupArgs:
    event_id: int
    party: int | None  # None: not stated
    cars: int | None
    note: str | None


def check_signup_args(
    event_id: int, party: int | None, cars: int | None, note: str, config: EventsConfig
) -> SignupArgs:
    """报名's sizes and note as typed, checked against the config; a phone in the
    note is kept masked (the list is exported into the group's files)."""
    if party is not None and not 1 <= party <= config.max_party:
        raise BadParty(config.max_party)
    if cars is not None and not 0 <= cars <= config.max_party:
        raise BadParty(config.max_party)
    if cars is not None and cars > (party or 1):
        raise CarsOverParty()
    checked: str | None = None
    if note:
        checked = checked_text(note, config.max_note_chars)
        if checked is None:
            raise BadNote(config.max_note_chars)
        checked = mask_phones_in_text(checked)
    return SignupArgs(event_id, party, cars, checked)


def clean_nickname(name: str | None, fallback: str) -> str:
    """A display name safe to store and show: unfit and format characters (a
    right-to-left override) dropped, one line, short."""
    kept = "".join(ch for ch in clean_text(name) if unicodedata.category(ch) != "Cf")
    return " ".join(kept.split())[:NICKNAME_CHARS] or fallback


@dataclass(frozen=True)
class SignupRequest:
    event_id: int
    user_id: str  # on `platform`: a QQ id, a WeCom userid, an OA openid
    nickname: str | None = None
    group_id: str | None = None  # the group whose events the asker may see; None: any
    party: int | None = None
    cars: int | None = None
    note: str | None = None
    is_staff: bool = False
    message_key: str | None = None  # the platform message, for the capture's idempotency
    platform: str = QQ
    fallback_name: str | None = None  # stored when there is no nickname (else the id)


@dataclass(frozen=True)
class SignupOutcome:
    """What a sign-up did: `status` is the sign-up's status afterwards; `party`
    and `cars` the size it holds (for "kept", the size asked for, which did not fit)."""

    kind: str  # signed | waitlisted | already | updated | kept | waitlist_updated
    status: str
    event: EventInfo
    party: int
    cars: int
    position: int | None = None
    old_party: int | None = None  # "kept": the size kept
    lead_id: int | None = None
    lead_created: bool = False
    promoted: tuple[str, ...] = ()  # names of waitlisted people promoted by it


async def _prospect_handle(ev: Events, req: SignupRequest) -> tuple[str, str] | None:
    """The desk handle a sign-up may be captured under: none for staff (WeCom app
    users are staff; an Official Account follower is never on the roster), nor
    for an id the desk would not take."""
    if req.is_staff:
        return None
    if req.platform == WECHAT_OA:
        return ("wechat_openid", req.user_id) if _WECHAT_ID.match(req.user_id) else None
    if req.platform != QQ or not QQ_ID.match(req.user_id):
        return None
    if await ev.desk.member_by(qq_id=req.user_id) is not None:  # the roster, held in memory
        return None
    return ("qq", req.user_id)


def _capture_fields(ev: Events, req: SignupRequest, event: Event, nickname: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "channel": f"event:{event.id}", "message": ev.texts.lead_message(EventInfo.of(event)),
    }  # fmt: skip
    if req.platform == WECHAT_OA:  # not in the group: no name, no group
        fields["wechat_openid"] = req.user_id
    else:
        fields |= {"qq_id": req.user_id, "name": nickname, "group_id": event.group_id}
    if req.message_key:
        fields["event_key"] = req.message_key
    return fields


def _mine(event_id: int, platform: str, user_id: str) -> Any:
    return (
        (Signup.event_id == event_id) & (Signup.platform == platform)
        & (Signup.user_id == user_id)
    )  # fmt: skip


def _check_size(event: Event, party: int, cars: int) -> None:
    if party > event.capacity:
        raise PartyTooBig(event.id, event.capacity, party)
    if event.car_capacity is not None and cars > event.car_capacity:
        raise CarsTooMany(event.id, event.car_capacity)


async def sign_up(ev: Events, req: SignupRequest) -> SignupOutcome:
    """报名: committed before the outcome is returned (the reply says 已报名)."""
    handle = await _prospect_handle(ev, req)
    nickname = clean_nickname(req.nickname, req.fallback_name or req.user_id)

    async def step(uow: UnitOfWork) -> SignupOutcome:
        event = await visible_event(uow, req.event_id, req.group_id, lock=True)
        signup = await uow.session.scalar(
            select(Signup).where(_mine(event.id, req.platform, req.user_id))
        )
        if signup is not None and signup.status != WITHDRAWN:
            return await _sign_up_again(ev, uow, event, signup, req)
        check_open_for_signup(uow, event)
        party = req.party or 1
        cars = req.cars or 0
        _check_size(event, party, cars)
        taken = await seats_taken(uow, event.id)
        status = SIGNED if fits(event, taken, party, cars) else WAITLISTED
        last = await uow.session.scalar(
            select(func.coalesce(func.max(Signup.seq), 0)).where(Signup.event_id == event.id)
        )
        if signup is None:
            signup = Signup(
                event_id=event.id, platform=req.platform, user_id=req.user_id, lead_created=False,
            )  # fmt: skip
            uow.session.add(signup)
        signup.nickname, signup.party, signup.cars, signup.note = nickname, party, cars, req.note
        signup.status, signup.seq = status, int(last or 0) + 1
        signup.created_at = signup.updated_at = uow.now
        if handle and signup.lead_id is None:
            # None for staff and customers already (a won lead): decided in this transaction.
            fields = _capture_fields(ev, req, event, nickname)
            if (result := await ev.desk.capture_prospect_in(uow, **fields)) is not None:
                signup.lead_id, signup.lead_created = result.lead.id, result.created
        await uow.session.flush()
        position = None if status == SIGNED else await waitlist_position(uow, signup)
        return SignupOutcome(
            "signed" if status == SIGNED else "waitlisted", status, EventInfo.of(event), party,
            cars, position, lead_id=signup.lead_id, lead_created=signup.lead_created,
        )  # fmt: skip

    return await ev.desk.write(step)


async def _sign_up_again(
    ev: Events, uow: UnitOfWork, event: Event, signup: Signup, req: SignupRequest
) -> SignupOutcome:
    """The same person again: their status, or a changed party size."""
    info = EventInfo.of(event)
    same = (req.party is None or req.party == signup.party) and (
        req.cars is None or req.cars == signup.cars
    )
    if signup.status in (ATTENDED, NO_SHOW) or (same and signup.status == SIGNED):
        return SignupOutcome(
            "already", signup.status, info, signup.party, signup.cars, lead_id=signup.lead_id
        )
    if same:
        position = await waitlist_position(uow, signup)
        return SignupOutcome(
            "already", WAITLISTED, info, signup.party, signup.cars, position,
            lead_id=signup.lead_id,
        )  # fmt: skip
    check_open_for_signup(uow, event)
    party = req.party if req.party is not None else signup.party
    cars = req.cars if req.cars is not None else signup.cars
    if cars > party:
        raise CarsOverParty()
    _check_size(event, party, cars)
    if signup.status == SIGNED:
        people, car_count = await seats_taken(uow, event.id)
        taken = (people - signup.party, car_count - signup.cars)
        if not fits(event, taken, party, cars):
            return SignupOutcome(
                "kept", SIGNED, info, party, cars, old_party=signup.party, lead_id=signup.lead_id
            )
        signup.party, signup.cars, signup.updated_at = party, cars, uow.now
        signup.note = req.note or signup.note
        await uow.session.flush()
        promoted = await promote(ev, uow, event)
        return SignupOutcome(
            "updated", SIGNED, info, party, cars, lead_id=signup.lead_id,
            promoted=tuple(display_name(p) for p in promoted),
        )  # fmt: skip
    signup.party, signup.cars, signup.updated_at = party, cars, uow.now
    signup.note = req.note or signup.note
    await uow.session.flush()
    await promote(ev, uow, event, skip=signup.id)
    if signup.status == SIGNED:
        return SignupOutcome("signed", SIGNED, info, party, cars, lead_id=signup.lead_id)
    position = await waitlist_position(uow, signup)
    return SignupOutcome(
        "waitlist_updated", WAITLISTED, info, party, cars, position, lead_id=signup.lead_id
    )


@dataclass(frozen=True)
class SignupCancelled:
    event: EventInfo
    was: str  # SIGNED or WAITLISTED
    promoted: tuple[str, ...]  # names of waitlisted people promoted by it


async def cancel_signup(
    ev: Events, event_id: int, user_id: str, group_id: str | None, platform: str = QQ
) -> SignupCancelled:
    """取消报名: the first waitlisted entries that now fit are promoted and told."""

    async def step(uow: UnitOfWork) -> SignupCancelled:
        event = await visible_event(uow, event_id, group_id, lock=True)
        signup = await uow.session.scalar(select(Signup).where(_mine(event.id, platform, user_id)))
        if signup is None or signup.status == WITHDRAWN:
            raise NotSignedUp(event.id)
        if event.status == CANCELLED:
            raise EventCancelled(event.id, event.title)
        if uow.now >= event.starts_at:
            raise EventStarted(event.id, event.title)
        was = signup.status
        signup.status, signup.updated_at = WITHDRAWN, uow.now
        await uow.session.flush()
        promoted = await promote(ev, uow, event)
        return SignupCancelled(EventInfo.of(event), was, tuple(display_name(p) for p in promoted))

    return await ev.desk.write(step)


@dataclass(frozen=True)
class MySignup:
    event: EventInfo
    party: int
    status: str  # the sign-up's (see event.status for a cancelled event)
    position: int | None  # on the waitlist


async def my_signups(
    ev: Events, user_id: str, group_id: str | None, platform: str = QQ
) -> list[MySignup]:
    """我的报名: newest events first; in a group only that group's events."""

    async def step(uow: UnitOfWork) -> list[MySignup]:
        query = (
            select(Signup, Event)
            .join(Event, Event.id == Signup.event_id)
            .where(Signup.platform == platform, Signup.user_id == user_id)
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(ev.config.list_limit)
        )
        if group_id is not None:
            query = query.where(Event.group_id == group_id)
        mine = []
        for signup, event in (await uow.session.execute(query)).all():
            position = None
            if event.status != CANCELLED and signup.status == WAITLISTED:
                position = await waitlist_position(uow, signup)
            mine.append(MySignup(EventInfo.of(event), signup.party, signup.status, position))
        return mine

    return await ev.desk.read(step)


async def event_group(ev: Events, event_id: int) -> str | None:
    """The QQ group an event belongs to (None: no such event), to decide whether
    someone asking by DM may see it."""

    async def step(uow: UnitOfWork) -> str | None:
        return await uow.session.scalar(select(Event.group_id).where(Event.id == event_id))

    return await ev.desk.read(step)
