"""The managers' use cases: create an event (发起活动), close its sign-up
(关闭报名), cancel it (取消活动), mark who came (到场). One transaction each.

A new event of a QQ group linked to WeCom customer groups (activities.toml
`wecom_groups`) is also queued as a mass-send task for each of them
(features.activities.mass_send, the one place that queues them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from desk.errors import valid_id
from desk.roster import QQ_ID
from desk.store import UnitOfWork
from desk.text import checked_text
from features.activities.mass_send import queue_mass_sends
from features.events.config import EventsConfig
from features.events.core import (
    EventInfo,
    Events,
    group_post,
    reminder_key,
    signups_in,
    tell,
    visible_event,
)
from features.events.errors import (
    AlreadyCancelled,
    AttendNobody,
    AttendTooEarly,
    BadCapacity,
    BadCars,
    BadPlace,
    BadTitle,
    CancelTooLate,
    DeadlineAfterStart,
    DeadlinePast,
    EventCancelled,
    StartPast,
    StartTooFar,
)
from features.events.models import (
    ATTENDED,
    CANCELLED,
    CLOSED,
    OPEN,
    QQ,
    SEATED,
    SIGNED,
    WAITLISTED,
    Event,
    Signup,
)

MAX_ATTENDEES = 200  # QQ ids one 到场 may name
K = TypeVar("K", str, int)


@dataclass(frozen=True)
class EventDraft:
    """发起活动 as the front read it; `deadline_at` None: sign-up until the start."""

    title: str
    starts_at: datetime
    place: str
    capacity: int
    car_capacity: int | None
    deadline_at: datetime | None


@dataclass(frozen=True)
class NewEvent:
    title: str
    starts_at: datetime
    place: str
    capacity: int
    car_capacity: int | None
    deadline_at: datetime


def check_new_event(draft: EventDraft, now: datetime, config: EventsConfig) -> NewEvent:
    """The draft, checked against the config and the clock."""
    title = checked_text(draft.title, config.max_title_chars)
    if title is None:
        raise BadTitle(config.max_title_chars)
    place = checked_text(draft.place, config.max_place_chars)
    if place is None:
        raise BadPlace(config.max_place_chars)
    if not 1 <= draft.capacity <= config.max_capacity:
        raise BadCapacity(config.max_capacity)
    cars = draft.car_capacity
    if cars is not None and not 1 <= cars <= draft.capacity:
        raise BadCars()
    starts_at = draft.starts_at
    if starts_at <= now:
        raise StartPast(starts_at)
    if starts_at > now + timedelta(days=config.max_days_ahead):
        raise StartTooFar(config.max_days_ahead)
    deadline_at = starts_at if draft.deadline_at is None else draft.deadline_at
    if deadline_at > starts_at:
        raise DeadlineAfterStart(deadline_at, starts_at)
    if deadline_at <= now:
        raise DeadlinePast(deadline_at)
    return NewEvent(title, starts_at, place, draft.capacity, cars, deadline_at)


@dataclass(frozen=True)
class Created:
    event: EventInfo
    again: bool  # the same source message made it before: nothing new


async def create(
    ev: Events, draft: EventDraft, *, group_id: str, created_by: str,
    source_key: str | None = None, wecom_groups: Sequence[tuple[str, str]] = (),
) -> Created:  # fmt: skip
    """发起活动. The same source message twice makes one event. `wecom_groups`:
    (chat id, sender userid) of the WeCom customer groups linked to this QQ
    group; each gets the announcement as a mass-send task."""
    new = check_new_event(draft, ev.desk.clock.now(), ev.config)

    async def step(uow: UnitOfWork) -> Created:
        if source_key is not None:
            seen = await uow.session.scalar(select(Event).where(Event.source_key == source_key))
            if seen is not None:
                return Created(EventInfo.of(seen), again=True)
        if new.starts_at <= uow.now or new.deadline_at <= uow.now:
            raise StartPast(new.starts_at)
        event = Event(
            group_id=group_id, title=new.title, place=new.place, starts_at=new.starts_at,
            deadline_at=new.deadline_at, capacity=new.capacity, car_capacity=new.car_capacity,
            status=OPEN, created_by=created_by, created_at=uow.now, source_key=source_key,
        )  # fmt: skip
        uow.session.add(event)
        await uow.session.flush()
        info = EventInfo.of(event)
        if wecom_groups:
            announcement = ev.texts.wecom_announcement(info, ev.tz)
            await queue_mass_sends(
                ev.desk, uow, f"event:{event.id}", announcement, wecom_groups, not_before=uow.now
            )
        return Created(info, again=False)

    return await ev.desk.write(step)


@dataclass(frozen=True)
class Closed:
    event: EventInfo
    already: bool  # it was closed before


async def close(ev: Events, event_id: int, group_id: str | None) -> Closed:
    """关闭报名: no new sign-ups; the event still happens."""

    async def step(uow: UnitOfWork) -> Closed:
        event = await visible_event(uow, event_id, group_id, lock=True)
        if event.status == CANCELLED:
            raise EventCancelled(event.id, event.title)
        if event.status == CLOSED:
            return Closed(EventInfo.of(event), already=True)
        event.status = CLOSED
        return Closed(EventInfo.of(event), already=False)

    return await ev.desk.write(step)


@dataclass(frozen=True)
class Cancellation:
    event: EventInfo
    told_in_group: int  # QQ people @-ed in the group post
    told_by_dm: int  # people off QQ, a DM each


async def cancel_event(ev: Events, event_id: int, group_id: str | None) -> Cancellation:
    """取消活动: one group post @-ing everyone signed up or waitlisted; no reminder."""

    async def step(uow: UnitOfWork) -> Cancellation:
        event = await visible_event(uow, event_id, group_id, lock=True)
        if event.status == CANCELLED:
            raise AlreadyCancelled(event.id, event.title)
        if uow.now >= event.starts_at:
            raise CancelTooLate(event.id, event.title)
        event.status = CANCELLED
        signups = await signups_in(uow, event.id, SIGNED, WAITLISTED)
        told = [s.user_id for s in signups if s.platform == QQ]
        elsewhere = [s for s in signups if s.platform != QQ]
        info = EventInfo.of(event)
        text = ev.texts.cancelled(info, ev.tz)
        await ev.desk.cancel_notification_in(uow, f"event:{event.id}:reminder")
        if told:
            await group_post(ev, uow, f"event:{event.id}:cancelled", event, text, told)
        for signup in elsewhere:
            await ev.desk.cancel_notification_in(uow, reminder_key(event, signup))
            key = f"event:{event.id}:cancelled:{signup.id}"
            await tell(ev, uow, signup, key, "event_cancelled", text)
        return Cancellation(info, told_in_group=len(told), told_by_dm=len(elsewhere))

    return await ev.desk.write(step)


@dataclass(frozen=True)
class Attendance:
    event_id: int
    marked: list[str]  # names (or QQ ids) marked as attended
    not_signed: list[str]  # named but not signed up (or only waitlisted)


async def mark_attended(
    ev: Events, event_id: int, user_ids: Iterable[str], group_id: str | None
) -> Attendance:
    """到场: signed-up people (or no-shows) marked as attended, from the event's day on."""
    wanted = list(dict.fromkeys(u for u in user_ids if QQ_ID.match(u)))[:MAX_ATTENDEES]
    if not wanted:
        raise AttendNobody(event_id)
    where = (Signup.platform == QQ, Signup.user_id.in_(wanted))
    return await _mark(ev, event_id, group_id, where, wanted, lambda s: s.user_id)


async def mark_signups_attended(ev: Events, event_id: int, signup_ids: Iterable[int]) -> Attendance:
    """到场 by sign-up (the web desk's ticked names): anyone who signed up, on any
    platform (an Official Account follower has no QQ id to name)."""
    wanted = list(dict.fromkeys(i for i in signup_ids if valid_id(i)))[:MAX_ATTENDEES]
    if not wanted:
        raise AttendNobody(event_id)
    return await _mark(ev, event_id, None, (Signup.id.in_(wanted),), wanted, lambda s: s.id)


async def _mark(
    ev: Events, event_id: int, group_id: str | None, where: tuple[Any, ...],
    wanted: Sequence[K], key: Callable[[Signup], K],
) -> Attendance:  # fmt: skip
    async def step(uow: UnitOfWork) -> Attendance:
        event = await visible_event(uow, event_id, group_id, lock=True)
        if event.status == CANCELLED:
            raise EventCancelled(event.id, event.title)
        day_start, _ = uow.calendar.day_bounds(uow.calendar.local_date(event.starts_at))
        if uow.now < day_start:
            raise AttendTooEarly(event.id, event.starts_at)
        rows = {
            key(s): s
            for s in await uow.session.scalars(
                select(Signup).where(Signup.event_id == event.id, *where)
            )
        }
        marked, unknown = [], []
        for wanted_key in wanted:
            signup = rows.get(wanted_key)
            if signup is None or signup.status not in SEATED:
                unknown.append(signup.nickname if signup and signup.nickname else str(wanted_key))
                continue
            if signup.status != ATTENDED:
                signup.status, signup.updated_at = ATTENDED, uow.now
            marked.append(signup.nickname or signup.user_id)
        return Attendance(event.id, marked, unknown)

    return await ev.desk.write(step)
