"""What runs without a message: the day-before reminder and the no-shows (desk
schedules), and a person's sign-ups on request (desk.privacy)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import or_, select, update

from desk.privacy import Person
from desk.store import UnitOfWork
from features.events.core import (
    EventInfo,
    Events,
    group_post,
    promote,
    reminder_key,
    signups_in,
    tell,
    visible_event,
)
from features.events.models import (
    CANCELLED,
    NO_SHOW,
    QQ,
    SIGNED,
    WAITLISTED,
    WECHAT_OA,
    WECOM,
    WITHDRAWN,
    Event,
    Signup,
)


def register(ev: Events) -> None:
    """The feature's schedules and personal data, on the desk being opened."""
    ev.desk.add_schedule(partial(remind, ev))
    ev.desk.add_schedule(partial(mark_no_shows, ev))
    ev.desk.add_personal_data("events", partial(erase_person, ev), partial(describe_person, ev))


async def remind(ev: Events, uow: UnitOfWork) -> int:
    """Queue the day-before reminder of events starting tomorrow (local date), at or
    after the configured hour; once per event (its key and `reminded_at`)."""
    local_now = uow.calendar.local(uow.now)
    if local_now.hour < ev.config.reminder_hour:
        return 0
    tomorrow = local_now.date() + timedelta(days=1)
    start, end = uow.calendar.day_bounds(tomorrow)
    events = list(
        await uow.session.scalars(
            select(Event)
            .where(
                Event.reminded_at.is_(None), Event.status != CANCELLED,
                Event.starts_at >= start, Event.starts_at < end,
            )
            .order_by(Event.id)
            .with_for_update()
        )
    )  # fmt: skip
    queued = 0
    for event in events:
        event.reminded_at = uow.now
        signups = await signups_in(uow, event.id, SIGNED)
        if not signups:
            continue
        text = ev.texts.reminder(EventInfo.of(event), ev.tz)
        people = [s.user_id for s in signups if s.platform == QQ]
        if people:
            await group_post(ev, uow, f"event:{event.id}:reminder", event, text, people)
        for signup in signups:
            if signup.platform != QQ:
                await tell(ev, uow, signup, reminder_key(event, signup), "event_reminder", text)
        queued += 1
    return queued


async def mark_no_shows(ev: Events, uow: UnitOfWork) -> int:
    """After an event (start + grace), those still only signed up did not come."""
    cutoff = uow.now - timedelta(hours=ev.config.no_show_grace_hours)
    events = list(
        await uow.session.scalars(
            select(Event)
            .where(Event.finalized_at.is_(None), Event.status != CANCELLED, Event.starts_at <= cutoff)
            .order_by(Event.id)
            .with_for_update()
        )
    )  # fmt: skip
    marked = 0
    for event in events:
        result = await uow.session.execute(
            update(Signup)
            .where(Signup.event_id == event.id, Signup.status == SIGNED)
            .values(status=NO_SHOW, updated_at=uow.now)
        )
        marked += int(result.rowcount or 0)  # type: ignore[attr-defined]
        event.finalized_at = uow.now
    return marked


# -- personal data (desk.privacy) -------------------------------------------------------

_ACCOUNT_PLATFORMS = {"qq": QQ, "wechat_openid": WECHAT_OA, "wecom_external": WECOM}


def _signed_by(person: Person) -> Any:
    """The condition matching the person's sign-ups on any platform; None when
    they have no account a sign-up could be under."""
    accounts = [(_ACCOUNT_PLATFORMS[k], v) for k, v in person.handles if k in _ACCOUNT_PLATFORMS]
    if not accounts:
        return None
    return or_(*((Signup.platform == p) & (Signup.user_id == u) for p, u in accounts))


async def erase_person(ev: Events, uow: UnitOfWork, person: Person) -> dict[str, int]:
    """Sign-ups keep their seats' history (counts, attendance) under the person's
    token, without nickname or note; a seat for an event still to come is given
    up, and the waitlist moves up as on 取消报名."""
    mine = _signed_by(person)
    if mine is None:
        return {}
    signups = list(await uow.session.scalars(select(Signup).where(mine).order_by(Signup.id)))
    withdrawn = 0
    for signup in signups:
        if signup.status in (SIGNED, WAITLISTED):
            event = await visible_event(uow, signup.event_id, None, lock=True)
            if event.status != CANCELLED and uow.now < event.starts_at:
                signup.status = WITHDRAWN
                withdrawn += 1
                await uow.session.flush()
                await promote(ev, uow, event)
        signup.user_id, signup.nickname, signup.note = person.token, None, None
        signup.updated_at = uow.now
    await uow.session.flush()
    return {"signups": len(signups), "signups_withdrawn": withdrawn}


async def describe_person(ev: Events, uow: UnitOfWork, person: Person) -> dict[str, Any] | None:
    mine = _signed_by(person)
    if mine is None:
        return None
    rows = (
        await uow.session.execute(
            select(Signup, Event)
            .join(Event, Event.id == Signup.event_id)
            .where(mine)
            .order_by(Event.starts_at.desc())
            .limit(ev.config.list_limit)
        )
    ).all()
    signups = [
        {
            "event_id": event.id,
            "title": event.title,
            "starts_at": event.starts_at,
            "party": signup.party,
            "status": signup.status,
            "note": signup.note,
        }
        for signup, event in rows
    ]
    return {"signups": signups} if signups else None
