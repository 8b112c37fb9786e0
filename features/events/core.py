"""What every events use case shares: the context (`Events`), the event as data
(`EventInfo`), and the steps inside a transaction that decide seats.

Seats are decided under a lock on the event's row (`with_for_update`; SQLite's
one writer serialises anyway), counting the seats taken inside the same
transaction, so concurrent sign-ups for the last seat never overbook.

- A party fits when its people fit the seats left and, on an event that caps
  cars, its stated cars (`1车`) fit the cars left. A party that does not fit
  goes to the waitlist (候补), in order of arrival.
- Whenever seats free up (a cancellation, a smaller party), the waitlist is
  walked in order and every entry that now fits is promoted: the first that
  fits, then the next that still fits, and so on. A party too big for the
  seats left keeps its place while smaller ones behind it may go first.
- Promotion also happens after the deadline or 关闭报名 (the event still
  happens), but not once the event has started or when it is cancelled.
- People are told apart by platform and id: QQ people are @-ed in the event's
  group (promotion, reminder, cancellation); Official Account followers (and
  WeCom staff) get a DM each instead, as the group cannot reach them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from desk import Desk
from desk.outbox import outbox_key
from desk.owners import held_by_owner
from desk.store import UnitOfWork
from features.events.config import EventsConfig
from features.events.errors import EventCancelled, EventNotFound, EventStarted, SignupClosed
from features.events.models import CANCELLED, CLOSED, QQ, SEATED, SIGNED, WAITLISTED, Event, Signup

# People who are not on QQ are told by a DM on their own platform's outbox channel.
DM_CHANNELS = {"wecom": "wecom", "wechat_oa": "wechat_oa"}


@dataclass(frozen=True)
class EventInfo:
    """An event as the use cases hand it out (no ORM row leaves a transaction)."""

    id: int
    group_id: str
    title: str
    place: str
    starts_at: datetime
    deadline_at: datetime
    capacity: int
    car_capacity: int | None
    status: str

    @classmethod
    def of(cls, event: Event) -> EventInfo:
        return cls(
            event.id, event.group_id, event.title, event.place, event.starts_at,
            event.deadline_at, event.capacity, event.car_capacity, event.status,
        )  # fmt: skip


class EventTexts(Protocol):
    """The words the use cases store or queue (outbox payloads, a lead's first
    message): the front supplies them, so the feature holds no reply text."""

    def promoted(self, event: EventInfo, party: int, tz: ZoneInfo) -> str: ...
    def cancelled(self, event: EventInfo, tz: ZoneInfo) -> str: ...
    def reminder(self, event: EventInfo, tz: ZoneInfo) -> str: ...
    def wecom_announcement(self, event: EventInfo, tz: ZoneInfo) -> str: ...
    def lead_message(self, event: EventInfo) -> str: ...


@dataclass(frozen=True)
class Events:
    """The context of every events use case."""

    desk: Desk
    config: EventsConfig
    texts: EventTexts

    @property
    def tz(self) -> ZoneInfo:
        return self.desk.settings.tz


@dataclass
class Tally:
    """Sums per sign-up status of one event."""

    people: dict[str, int] = field(default_factory=dict)
    parties: dict[str, int] = field(default_factory=dict)
    cars: dict[str, int] = field(default_factory=dict)
    leads: int = 0
    owners: int = 0  # seated sign-ups of owners (desk.owners): not prospects

    @property
    def prospects(self) -> int:
        """Seated sign-ups of people who are not owners (new customers)."""
        return self.seated_parties() - self.owners

    def seated_people(self) -> int:
        return sum(self.people.get(s, 0) for s in SEATED)

    def seated_parties(self) -> int:
        return sum(self.parties.get(s, 0) for s in SEATED)

    def seated_cars(self) -> int:
        return sum(self.cars.get(s, 0) for s in SEATED)


# -- steps inside a transaction ------------------------------------------------------


async def visible_event(
    uow: UnitOfWork, event_id: int, group_id: str | None, *, lock: bool = False
) -> Event:
    """The event, visible from where the asker is: in a group, only that group's."""
    query = select(Event).where(Event.id == event_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    event = await uow.session.scalar(query)
    if event is None or (group_id is not None and event.group_id != group_id):
        raise EventNotFound(event_id)
    return event


async def tallies(uow: UnitOfWork, event_ids: Sequence[int]) -> dict[int, Tally]:
    result = {i: Tally() for i in event_ids}
    if not event_ids:
        return result
    rows = await uow.session.execute(
        select(
            Signup.event_id, Signup.status, func.sum(Signup.party), func.count(),
            func.sum(Signup.cars),
        )
        .where(Signup.event_id.in_(list(event_ids)))
        .group_by(Signup.event_id, Signup.status)
    )  # fmt: skip
    for event_id, status, people, parties, cars in rows.all():
        tally = result[event_id]
        tally.people[status] = int(people or 0)
        tally.parties[status] = int(parties or 0)
        tally.cars[status] = int(cars or 0)
    leads = await uow.session.execute(
        select(Signup.event_id, func.count())
        .where(Signup.event_id.in_(list(event_ids)), Signup.lead_created.is_(True))
        .group_by(Signup.event_id)
    )
    for event_id, count in leads.all():
        result[event_id].leads = int(count)
    owned = await uow.session.execute(
        select(Signup.event_id, func.count())
        .where(
            Signup.event_id.in_(list(event_ids)), Signup.status.in_(SEATED),
            held_by_owner(Signup.platform, Signup.user_id),
        )
        .group_by(Signup.event_id)
    )  # fmt: skip
    for event_id, count in owned.all():
        result[event_id].owners = int(count)
    return result


async def seats_taken(uow: UnitOfWork, event_id: int) -> tuple[int, int]:
    """(people, cars) seated at the event."""
    people, cars = (
        await uow.session.execute(
            select(func.coalesce(func.sum(Signup.party), 0), func.coalesce(func.sum(Signup.cars), 0))
            .where(Signup.event_id == event_id, Signup.status.in_(SEATED))
        )
    ).one()  # fmt: skip
    return int(people), int(cars)


async def signups_in(uow: UnitOfWork, event_id: int, *statuses: str) -> list[Signup]:
    """The event's sign-ups in these states, in sign-up order."""
    return list(
        await uow.session.scalars(
            select(Signup)
            .where(Signup.event_id == event_id, Signup.status.in_(statuses))
            .order_by(Signup.seq)
        )
    )


def fits(event: Event, taken: tuple[int, int], party: int, cars: int) -> bool:
    if taken[0] + party > event.capacity:
        return False
    return event.car_capacity is None or taken[1] + cars <= event.car_capacity


async def waitlist_position(uow: UnitOfWork, signup: Signup) -> int:
    ahead = await uow.session.scalar(
        select(func.count()).where(
            Signup.event_id == signup.event_id,
            Signup.status == WAITLISTED,
            Signup.seq <= signup.seq,
        )
    )
    return int(ahead or 0)


def check_open_for_signup(uow: UnitOfWork, event: Event) -> None:
    if event.status == CANCELLED:
        raise EventCancelled(event.id, event.title)
    if uow.now >= event.starts_at:
        raise EventStarted(event.id, event.title)
    if event.status == CLOSED or uow.now >= event.deadline_at:
        raise SignupClosed(event.id, event.title)


def display_name(signup: Signup) -> str:
    return signup.nickname or signup.user_id


async def tell(ev: Events, uow: UnitOfWork, signup: Signup, key: str, kind: str, text: str) -> None:
    """A DM to someone who is not on QQ (QQ people are @-ed in the group instead)."""
    channel = DM_CHANNELS.get(signup.platform)
    if channel is None:
        return
    await ev.desk.notify_in(
        uow, key=outbox_key(key), kind=kind, channel=channel, address=signup.user_id,
        payload={"text": text}, any_hour=True,
    )  # fmt: skip


async def group_post(
    ev: Events, uow: UnitOfWork, key: str, event: Event, text: str, at: list[str]
) -> None:
    """A post in the event's QQ group @-ing the QQ people it is for."""
    await ev.desk.notify_in(
        uow, key=key, kind="group_post", channel="qq_group", address=event.group_id,
        any_hour=True, payload={"text": text, "at": at},
    )  # fmt: skip


async def promote(
    ev: Events, uow: UnitOfWork, event: Event, skip: int | None = None
) -> list[Signup]:
    """Promote every waitlisted entry that now fits, in waitlist order, and tell
    each: an @ in the group, or a DM off QQ (not `skip`, the sign-up being
    answered directly)."""
    if event.status == CANCELLED or uow.now >= event.starts_at:
        return []
    waiting = await signups_in(uow, event.id, WAITLISTED)
    if not waiting:
        return []
    taken = await seats_taken(uow, event.id)
    promoted = []
    info = EventInfo.of(event)
    for entry in waiting:
        if not fits(event, taken, entry.party, entry.cars):
            continue
        entry.status, entry.updated_at = SIGNED, uow.now
        taken = (taken[0] + entry.party, taken[1] + entry.cars)
        promoted.append(entry)
        if entry.id == skip:
            continue
        key = f"event:{event.id}:promoted:{entry.id}:{entry.seq}"
        text = ev.texts.promoted(info, entry.party, ev.tz)
        if entry.platform != QQ:
            await tell(ev, uow, entry, key, "event_promoted", text)
            continue
        await group_post(ev, uow, key, event, text, [entry.user_id])
    await uow.session.flush()
    return promoted


def reminder_key(event: Event, signup: Signup) -> str:
    """One DM reminder per event and person (the group post has its own key)."""
    return f"event:{event.id}:reminder:{signup.id}"
