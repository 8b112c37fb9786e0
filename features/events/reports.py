"""What the group and the managers read: the open events (活动), the
numbers (活动统计) and a period's events for the web desk's 报表. Read-only transactions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from desk.reports import Period
from desk.store import UnitOfWork
from features.events.core import EventInfo, Events, Tally, tallies, visible_event
from features.events.models import ATTENDED, CANCELLED, CLOSED, NO_SHOW, WAITLISTED, Event


@dataclass(frozen=True)
class OpenEvent:
    event: EventInfo
    seats_left: int  # may be 0 (full)
    cars_left: int | None  # None: cars not capped
    waiting_parties: int
    signup_closed: bool  # past the deadline or 关闭报名 (the event still happens)


async def open_events(ev: Events, group_id: str) -> list[OpenEvent]:
    """活动: this group's events that have not started, soonest first."""

    async def step(uow: UnitOfWork) -> list[OpenEvent]:
        events = list(
            await uow.session.scalars(
                select(Event)
                .where(Event.group_id == group_id, Event.status != CANCELLED, Event.starts_at > uow.now)
                .order_by(Event.starts_at, Event.id)
                .limit(ev.config.list_limit)
            )
        )  # fmt: skip
        counted = await tallies(uow, [e.id for e in events])
        found = []
        for event in events:
            tally = counted[event.id]
            cars_left = None
            if event.car_capacity is not None:
                cars_left = max(0, event.car_capacity - tally.seated_cars())
            found.append(
                OpenEvent(
                    EventInfo.of(event),
                    max(0, event.capacity - tally.seated_people()),
                    cars_left,
                    tally.parties.get(WAITLISTED, 0),
                    event.status == CLOSED or uow.now >= event.deadline_at,
                )  # fmt: skip
            )
        return found

    return await ev.desk.read(step)


@dataclass(frozen=True)
class EventStats:
    event: EventInfo
    tally: Tally


async def stats(ev: Events, event_id: int, group_id: str | None) -> EventStats:
    """活动统计 <号>: one event's numbers (any group's in a DM)."""

    async def step(uow: UnitOfWork) -> EventStats:
        event = await visible_event(uow, event_id, group_id)
        return EventStats(EventInfo.of(event), (await tallies(uow, [event.id]))[event.id])

    return await ev.desk.read(step)


async def recent(ev: Events, group_id: str | None, limit: int | None = None) -> list[EventStats]:
    """活动统计: the latest events of the group (of all groups in a DM), newest first;
    `limit` (at most 200) instead of the config's recent_limit (the web desk's list)."""
    shown = min(limit, 200) if limit else ev.config.recent_limit

    async def step(uow: UnitOfWork) -> list[EventStats]:
        query = select(Event).order_by(Event.starts_at.desc(), Event.id.desc())
        if group_id is not None:
            query = query.where(Event.group_id == group_id)
        events = list(await uow.session.scalars(query.limit(shown)))
        counted = await tallies(uow, [e.id for e in events])
        return [EventStats(EventInfo.of(e), counted[e.id]) for e in events]

    return await ev.desk.read(step)


@dataclass(frozen=True)
class EventsSummary:
    """The events starting in a period (报表's events and attendance); the sums
    leave cancelled events out."""

    events: list[EventStats]  # soonest first, at most `limit`
    signed_people: int  # seated: signed up, attended or no-show
    attended_people: int
    no_show_people: int
    waitlisted_people: int
    leads: int  # new leads the sign-ups made
    owner_signups: int = 0  # seated sign-ups of owners (desk.owners)
    prospect_signups: int = 0  # seated sign-ups of everyone else

    @property
    def attendance_rate(self) -> float:
        """到场率 of the events whose attendance is known: attended / (attended + no-show)."""
        known = self.attended_people + self.no_show_people
        return self.attended_people / known if known else 0.0


async def events_in(uow: UnitOfWork, period: Period, limit: int = 100) -> EventsSummary:
    """Every group's events starting in `period`, with their sign-ups and attendance."""
    events = list(
        await uow.session.scalars(
            select(Event)
            .where(Event.starts_at >= period.start, Event.starts_at < period.end)
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
    )
    counted = await tallies(uow, [e.id for e in events])
    held = [counted[e.id] for e in events if e.status != CANCELLED]
    return EventsSummary(
        [EventStats(EventInfo.of(e), counted[e.id]) for e in events],
        sum(t.seated_people() for t in held),
        sum(t.people.get(ATTENDED, 0) for t in held),
        sum(t.people.get(NO_SHOW, 0) for t in held),
        sum(t.people.get(WAITLISTED, 0) for t in held),
        sum(t.leads for t in held),
        sum(t.owners for t in held),
        sum(t.prospects for t in held),
    )
