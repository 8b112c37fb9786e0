"""Event sign-ups (spec §3.2): the rules and the state. Pure: no NoneBot.

Seats are decided under a lock on the event's row (`with_for_update`; SQLite's
one writer serialises anyway), counting the seats taken inside the same
transaction, so concurrent sign-ups for the last seat never overbook.

Rules worth knowing:
- A party fits when its people fit the seats left and, on an event that caps
  cars, its stated cars (`1车`) fit the cars left. A party that does not fit
  goes to the waitlist (候补), in order of arrival.
- Whenever seats free up (a cancellation, a smaller party), the waitlist is
  walked in order and every entry that now fits is promoted: the first that
  fits, then the next that still fits, and so on. A party too big for the
  seats left keeps its place while smaller ones behind it may go first.
- Signing up again for the same event: with no size given (or the same), the
  person is told their status; with a new size, a sign-up is changed when the
  new size fits (else it is kept as it was), and a waitlist entry keeps its
  place with the new size. After cancelling, signing up again joins the back.
- Promotion also happens after the deadline or 关闭报名 (the event still
  happens), but not once the event has started or when it is cancelled.
- A sign-up by someone not on the staff and not already a customer (a lead at
  stage "won") is captured as a lead with channel `event:<id>` in the same
  transaction; `lead_created` records whether that made a new lead.
- People are told apart by platform and id: QQ people are @-ed in the event's
  group (promotion, reminder, cancellation); Official Account followers (and
  WeCom staff) get a DM each instead, as the group cannot reach them.
- A new event of a QQ group linked to WeCom customer groups (activities.toml
  `wecom_groups`) is also queued as a mass-send task for each of them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from sqlalchemy import func, or_, select, update

from bot.plugins.events import texts
from bot.plugins.events.export import build_signup_sheet
from bot.plugins.events.models import (
    ATTENDED,
    CANCELLED,
    CLOSED,
    NO_SHOW,
    OPEN,
    QQ,
    SEATED,
    SIGNED,
    WAITLISTED,
    WECHAT_OA,
    WECOM,
    WITHDRAWN,
    Event,
    Signup,
)
from bot.timeparse import TimeParseError, parse_when
from desk import Desk
from desk.config_file import config_path, load_toml
from desk.phone import mask_phones_in_text
from desk.privacy import Person
from desk.store import UnitOfWork

_QQ_ID = re.compile(r"^[1-9][0-9]{4,11}$")
_EVENT_NO = re.compile(r"^[#＃]?(\d{1,9})$")
_CAPACITY = re.compile(r"^(\d{1,6})(?:人|位|名)?$")
_CARS = re.compile(r"^(\d{1,6})(?:车|辆|辆车)$")
_PARTY = re.compile(r"^(\d{1,6})(?:人|位)$")
_BARE_NUMBER = re.compile(r"^\d{1,6}$")
# A token made only of time words and digits ("14:00", "上午10点"): it may extend
# the time the library read from the tokens before it; a place ("3号门") may not.
_TIME_FRAGMENT = re.compile(r"^[0-9:：.点分半时整刻上下中午晚早凌晨傍夜号日月年周星期礼拜一二三四五六七八九十天今明后本这个]+$")  # fmt: skip
_DEADLINE_WORD = "截止"
# desk.capture's pattern of a WeChat handle: anything else is not captured.
_WECHAT_ID = re.compile(r"^[\w@.\-:=+/]{1,128}$")
# People who are not on QQ are told by a DM on their own platform's outbox channel.
DM_CHANNELS = {"wecom": "wecom", "wechat_oa": "wechat_oa"}
MAX_KEY = 128  # desk outbox keys


def outbox_key(key: str) -> str:
    """`key`, or a digest of it when a long platform id makes it too long for the outbox."""
    if len(key) <= MAX_KEY:
        return key
    return key[:60] + ":" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


# -- config -------------------------------------------------------------------


class EventsConfigError(ValueError):
    """config/events.toml is unreadable or invalid; the message names the key."""


def _id_text(value: object) -> object:
    """A QQ group written as a TOML number or string."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class EventsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reminder_hour: Annotated[int, Field(ge=0, le=23)] = 18
    no_show_grace_hours: Annotated[float, Field(ge=0, le=72)] = 3
    max_party: Annotated[int, Field(ge=1, le=100)] = 10
    max_capacity: Annotated[int, Field(ge=1, le=100_000)] = 500
    max_title_chars: Annotated[int, Field(ge=2, le=64)] = 30
    max_place_chars: Annotated[int, Field(ge=2, le=64)] = 40
    max_note_chars: Annotated[int, Field(ge=0, le=200)] = 100
    max_days_ahead: Annotated[int, Field(ge=1, le=3650)] = 365
    list_limit: Annotated[int, Field(ge=1, le=50)] = 10
    recent_limit: Annotated[int, Field(ge=1, le=50)] = 5
    # QQ groups whose events Official Account followers may sign up for (besides
    # the groups linked to WeCom customer groups, whose announcements say so).
    oa_groups: frozenset[
        Annotated[str, BeforeValidator(_id_text), Field(pattern=r"^[1-9][0-9]{4,11}$")]
    ] = frozenset()

    @model_validator(mode="after")
    def _party_fits_an_event(self) -> Self:
        if self.max_party > self.max_capacity:
            raise ValueError(
                f"max_party ({self.max_party}) must not exceed max_capacity ({self.max_capacity})"
            )
        return self


def load_config(path: Path | None = None) -> EventsConfig:
    """Read and validate config/events.toml (DESK_CONFIG_DIR/events.toml when there)."""
    return load_toml(
        EventsConfig, path or config_path("events.toml"), "events config", EventsConfigError
    )


# -- errors and parsing (pure) --------------------------------------------------


class EventError(Exception):
    """A refusal the user reads: the message is the reply."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class UsageError(EventError):
    """Wrong arguments: the reply is the command's usage line."""

    def __init__(self, command: str) -> None:
        super().__init__(texts.USAGE_PREFIX + texts.USAGE[command])
        self.command = command


def clean_text(text: str, limit: int) -> str | None:
    """`text` stripped when it is printable and at most `limit` characters, else None."""
    text = text.strip()
    if not text or len(text) > limit:
        return None
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
            return None
    return text


def clean_nickname(name: str | None, fallback: str) -> str:
    """A display name safe to store and show: control characters dropped, short."""
    kept = "".join(
        ch for ch in (name or "") if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    kept = " ".join(kept.split())[:32]
    return kept or fallback


def parse_event_no(token: str) -> int | None:
    m = _EVENT_NO.match(token.strip())
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def when_text(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return texts.WHEN.format(
        month=local.month, day=local.day, weekday=texts.WEEKDAYS[local.weekday()],
        hour=local.hour, minute=local.minute,
    )  # fmt: skip


@dataclass(frozen=True)
class NewEvent:
    title: str
    starts_at: datetime
    place: str
    capacity: int
    car_capacity: int | None
    deadline_at: datetime


def _parse_time(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    try:
        return parse_when(text, now, tz)
    except TimeParseError:
        raise EventError(texts.BAD_TIME.format(text=text[:20])) from None


def _time_then_place(tokens: list[str], now: datetime, tz: ZoneInfo) -> tuple[datetime, str]:
    """The time is the longest run of leading tokens the library reads as one time
    ("12月1号 14:00"); the rest, at least one token, is the place."""
    when = _parse_time(tokens[0], now, tz)
    used = 1
    while used < len(tokens) - 1 and _TIME_FRAGMENT.match(tokens[used]):
        try:
            when = parse_when(" ".join(tokens[: used + 1]), now, tz)
        except TimeParseError:
            break
        used += 1
    return when, " ".join(tokens[used:])


def parse_new_event(args: str, now: datetime, tz: ZoneInfo, config: EventsConfig) -> NewEvent:
    """'周末自驾游 周六上午10点 4S店门口 20人 8车 截止 周五18点' → a NewEvent."""
    tokens = args.split()
    deadline_text: str | None = None
    for i, token in enumerate(tokens[1:], start=1):
        if token.startswith(_DEADLINE_WORD):
            head = token[len(_DEADLINE_WORD) :].lstrip(":：")
            deadline_text = " ".join(([head] if head else []) + tokens[i + 1 :])
            tokens = tokens[:i]
            if not deadline_text:
                raise UsageError("发起活动")
            break
    if len(tokens) < 4:
        raise UsageError("发起活动")
    title, rest = tokens[0], tokens[1:]
    cars: int | None = None
    if m := _CARS.match(rest[-1]):
        cars, rest = int(m.group(1)), rest[:-1]
    m = _CAPACITY.match(rest[-1]) if rest else None
    if m is None or len(rest) < 3:
        raise UsageError("发起活动")
    capacity, rest = int(m.group(1)), rest[:-1]
    checked_title = clean_text(title, config.max_title_chars)
    if checked_title is None:
        raise EventError(texts.BAD_TITLE.format(limit=config.max_title_chars))
    starts_at, place = _time_then_place(rest, now, tz)
    checked_place = clean_text(place, config.max_place_chars)
    if checked_place is None:
        raise EventError(texts.BAD_PLACE.format(limit=config.max_place_chars))
    if not 1 <= capacity <= config.max_capacity:
        raise EventError(texts.BAD_CAPACITY.format(limit=config.max_capacity))
    if cars is not None and not 1 <= cars <= capacity:
        raise EventError(texts.BAD_CARS)
    if starts_at <= now:
        raise EventError(texts.START_PAST.format(when=when_text(starts_at, tz)))
    if starts_at > now + timedelta(days=config.max_days_ahead):
        raise EventError(texts.START_TOO_FAR.format(days=config.max_days_ahead))
    deadline_at = starts_at if deadline_text is None else _parse_time(deadline_text, now, tz)
    if deadline_at > starts_at:
        raise EventError(
            texts.DEADLINE_AFTER_START.format(
                deadline=when_text(deadline_at, tz), start=when_text(starts_at, tz)
            )
        )
    if deadline_at <= now:
        raise EventError(texts.DEADLINE_PAST.format(deadline=when_text(deadline_at, tz)))
    return NewEvent(checked_title, starts_at, checked_place, capacity, cars, deadline_at)


@dataclass(frozen=True)
class SignupArgs:
    event_id: int
    party: int | None  # None: not stated
    cars: int | None
    note: str | None


def parse_signup_args(args: str, config: EventsConfig) -> SignupArgs:
    """'3 2人 1车 带孩子' → event 3, 2 people, 1 car, note 带孩子."""
    tokens = args.split()
    event_id = parse_event_no(tokens[0]) if tokens else None
    if event_id is None:
        raise UsageError("报名")
    party: int | None = None
    cars: int | None = None
    index = 1
    while index < len(tokens):
        token = tokens[index]
        if party is None and (m := _PARTY.match(token)):
            party = int(m.group(1))
        elif party is None and index == 1 and _BARE_NUMBER.match(token):
            party = int(token)  # "报名 3 2": two people
        elif cars is None and (m := _CARS.match(token)):
            cars = int(m.group(1))
        else:
            break
        index += 1
    if party is not None and not 1 <= party <= config.max_party:
        raise EventError(texts.BAD_PARTY.format(limit=config.max_party))
    if cars is not None and not 0 <= cars <= config.max_party:
        raise EventError(texts.BAD_PARTY.format(limit=config.max_party))
    if cars is not None and cars > (party or 1):
        raise EventError(texts.CARS_OVER_PARTY)
    note: str | None = None
    rest = " ".join(tokens[index:])
    if rest:
        note = clean_text(rest, config.max_note_chars)
        if note is None:
            raise EventError(texts.BAD_NOTE.format(limit=config.max_note_chars))
        # The list is exported into the group's files: a phone typed here is kept masked.
        note = mask_phones_in_text(note)
    return SignupArgs(event_id, party, cars, note)


def parse_attendance_args(args: str) -> tuple[int, list[str]]:
    """'3 20001 20002' → (3, QQ ids); the @ mentions come from the message itself."""
    tokens = args.split()
    event_id = parse_event_no(tokens[0]) if tokens else None
    if event_id is None:
        raise UsageError("到场")
    ids = [t.lstrip("@") for t in tokens[1:] if _QQ_ID.match(t.lstrip("@"))]
    return event_id, ids


# -- views --------------------------------------------------------------------


@dataclass
class Tally:
    """Sums per sign-up status of one event."""

    people: dict[str, int] = field(default_factory=dict)
    parties: dict[str, int] = field(default_factory=dict)
    cars: dict[str, int] = field(default_factory=dict)
    leads: int = 0

    def seated_people(self) -> int:
        return sum(self.people.get(s, 0) for s in SEATED)

    def seated_parties(self) -> int:
        return sum(self.parties.get(s, 0) for s in SEATED)

    def seated_cars(self) -> int:
        return sum(self.cars.get(s, 0) for s in SEATED)


@dataclass(frozen=True)
class SignupOutcome:
    """What a sign-up did: `status` is the sign-up's status afterwards."""

    kind: str  # signed | waitlisted | already | updated | kept | waitlist_updated
    status: str
    position: int | None
    text: str
    lead_id: int | None = None
    lead_created: bool = False
    promoted: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignupRequest:
    event_id: int
    user_id: str  # on `platform`: a QQ id, a WeCom userid, an OA openid
    nickname: str | None = None
    group_id: str | None = None  # where it was asked; None in a DM
    party: int | None = None
    cars: int | None = None
    note: str | None = None
    is_staff: bool = False
    message_key: str | None = None  # the platform message, for the capture's idempotency
    platform: str = QQ


@dataclass(frozen=True)
class Export:
    filename: str
    data: bytes


# -- the service ----------------------------------------------------------------


class Events:
    """Every use case of the events plugin: one desk transaction each."""

    def __init__(self, desk: Desk, config: EventsConfig) -> None:
        self.desk = desk
        self.config = config
        self.tz: ZoneInfo = desk.settings.tz

    def _when(self, at: datetime) -> str:
        return when_text(at, self.tz)

    # -- helpers inside a transaction -------------------------------------------
    async def _event(
        self, uow: UnitOfWork, event_id: int, group_id: str | None, *, lock: bool = False
    ) -> Event:
        """The event, visible from where the asker is: in a group, only that group's."""
        query = select(Event).where(Event.id == event_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        event = await uow.session.scalar(query)
        if event is None or (group_id is not None and event.group_id != group_id):
            raise EventError(texts.NO_EVENT.format(id=event_id))
        return event

    async def _tallies(self, uow: UnitOfWork, event_ids: Sequence[int]) -> dict[int, Tally]:
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
        return result

    async def _seats_taken(self, uow: UnitOfWork, event_id: int) -> tuple[int, int]:
        people, cars = (
            await uow.session.execute(
                select(func.coalesce(func.sum(Signup.party), 0), func.coalesce(func.sum(Signup.cars), 0))
                .where(Signup.event_id == event_id, Signup.status.in_(SEATED))
            )
        ).one()  # fmt: skip
        return int(people), int(cars)

    @staticmethod
    def _fits(event: Event, taken: tuple[int, int], party: int, cars: int) -> bool:
        if taken[0] + party > event.capacity:
            return False
        return event.car_capacity is None or taken[1] + cars <= event.car_capacity

    async def _position(self, uow: UnitOfWork, signup: Signup) -> int:
        ahead = await uow.session.scalar(
            select(func.count()).where(
                Signup.event_id == signup.event_id,
                Signup.status == WAITLISTED,
                Signup.seq <= signup.seq,
            )
        )
        return int(ahead or 0)

    async def _tell(self, uow: UnitOfWork, signup: Signup, key: str, kind: str, text: str) -> None:
        """A DM to someone who is not on QQ (QQ people are @-ed in the group instead)."""
        channel = DM_CHANNELS.get(signup.platform)
        if channel is None:
            return
        await self.desk.notify_in(
            uow, key=outbox_key(key), kind=kind, channel=channel, address=signup.user_id,
            payload={"text": text}, any_hour=True,
        )  # fmt: skip

    async def _promote(
        self, uow: UnitOfWork, event: Event, skip: int | None = None
    ) -> list[Signup]:
        """Promote every waitlisted entry that now fits, in waitlist order, and tell
        each: an @ in the group, or a DM off QQ (not `skip`, the sign-up being
        answered directly)."""
        if event.status == CANCELLED or uow.now >= event.starts_at:
            return []
        waiting = list(
            await uow.session.scalars(
                select(Signup)
                .where(Signup.event_id == event.id, Signup.status == WAITLISTED)
                .order_by(Signup.seq)
            )
        )
        if not waiting:
            return []
        taken = await self._seats_taken(uow, event.id)
        promoted = []
        for entry in waiting:
            if not self._fits(event, taken, entry.party, entry.cars):
                continue
            entry.status, entry.updated_at = SIGNED, uow.now
            taken = (taken[0] + entry.party, taken[1] + entry.cars)
            promoted.append(entry)
            if entry.id == skip:
                continue
            key = f"event:{event.id}:promoted:{entry.id}:{entry.seq}"
            text = texts.PROMOTED_POST.format(
                id=event.id, title=event.title, party=entry.party,
                when=self._when(event.starts_at), place=event.place,
            )  # fmt: skip
            if entry.platform != QQ:
                await self._tell(uow, entry, key, "event_promoted", text)
                continue
            await self.desk.notify_in(
                uow, key=key, kind="group_post", channel="qq_group", address=event.group_id,
                any_hour=True, payload={"text": text, "at": [entry.user_id]},
            )  # fmt: skip
        await uow.session.flush()
        return promoted

    def _closed_for_signup(self, uow: UnitOfWork, event: Event) -> str | None:
        if event.status == CANCELLED:
            return texts.EVENT_CANCELLED.format(id=event.id, title=event.title)
        if uow.now >= event.starts_at:
            return texts.EVENT_STARTED.format(id=event.id, title=event.title)
        if event.status == CLOSED or uow.now >= event.deadline_at:
            return texts.SIGNUP_CLOSED.format(id=event.id, title=event.title)
        return None

    # -- use cases ------------------------------------------------------------------
    async def create(
        self, *, group_id: str, created_by: str, args: str, source_key: str | None = None,
        wecom_groups: Sequence[tuple[str, str]] = (),
    ) -> tuple[int, str]:  # fmt: skip
        """发起活动: (event id, reply). The same source message twice makes one event.
        `wecom_groups`: (chat id, sender userid) of the WeCom customer groups linked
        to this QQ group; each gets the announcement as a mass-send task."""
        new = parse_new_event(args, self.desk.clock.now(), self.tz, self.config)

        async def step(uow: UnitOfWork) -> tuple[int, str]:
            if source_key is not None:
                seen = await uow.session.scalar(select(Event).where(Event.source_key == source_key))
                if seen is not None:
                    return seen.id, texts.CREATED_AGAIN.format(id=seen.id, title=seen.title)
            if new.starts_at <= uow.now or new.deadline_at <= uow.now:
                raise EventError(texts.START_PAST.format(when=self._when(new.starts_at)))
            event = Event(
                group_id=group_id, title=new.title, place=new.place, starts_at=new.starts_at,
                deadline_at=new.deadline_at, capacity=new.capacity, car_capacity=new.car_capacity,
                status=OPEN, created_by=created_by, created_at=uow.now, source_key=source_key,
            )  # fmt: skip
            uow.session.add(event)
            await uow.session.flush()
            cars = texts.CARS_SUFFIX.format(cars=new.car_capacity) if new.car_capacity else ""
            announcement = texts.WECOM_ANNOUNCEMENT.format(
                id=event.id, title=new.title, when=self._when(new.starts_at), place=new.place,
                capacity=new.capacity, cars=cars, deadline=self._when(new.deadline_at),
            )  # fmt: skip
            for chat_id, sender in wecom_groups:
                await self.desk.notify_in(
                    uow, key=outbox_key(f"event:{event.id}:wecom:{chat_id}"),
                    kind="wecom_mass_send", channel="wecom_group", address=chat_id,
                    payload={"text": announcement, "sender": sender}, any_hour=True,
                    not_before=uow.now,
                )  # fmt: skip
            return event.id, texts.CREATED.format(
                id=event.id, title=new.title, when=self._when(new.starts_at), place=new.place,
                capacity=new.capacity, cars=cars, deadline=self._when(new.deadline_at),
            )  # fmt: skip

        return await self.desk.write(step)

    async def event_group(self, event_id: int) -> str | None:
        """The QQ group an event belongs to (None: no such event), to decide whether
        someone asking by DM may see it."""

        async def step(uow: UnitOfWork) -> str | None:
            return await uow.session.scalar(select(Event.group_id).where(Event.id == event_id))

        return await self.desk.read(step)

    async def open_events(self, group_id: str) -> str:
        """活动: this group's events that have not started, soonest first."""

        async def step(uow: UnitOfWork) -> str:
            events = list(
                await uow.session.scalars(
                    select(Event)
                    .where(Event.group_id == group_id, Event.status != CANCELLED, Event.starts_at > uow.now)
                    .order_by(Event.starts_at, Event.id)
                    .limit(self.config.list_limit)
                )
            )  # fmt: skip
            if not events:
                return texts.NO_OPEN_EVENTS
            tallies = await self._tallies(uow, [e.id for e in events])
            lines = [texts.OPEN_EVENTS_HEADER]
            for event in events:
                tally = tallies[event.id]
                left = event.capacity - tally.seated_people()
                seats = texts.SEATS_LEFT.format(left=left) if left > 0 else texts.SEATS_FULL
                if event.car_capacity is not None:
                    seats += texts.CARS_LEFT.format(
                        left=max(0, event.car_capacity - tally.seated_cars())
                    )
                if waiting := tally.parties.get(WAITLISTED, 0):
                    seats += texts.WAITLIST_SUFFIX.format(count=waiting)
                if event.status == CLOSED or uow.now >= event.deadline_at:
                    seats += texts.SIGNUP_CLOSED_TAG
                lines.append(
                    texts.EVENT_LINE.format(
                        id=event.id,
                        title=event.title,
                        when=self._when(event.starts_at),
                        place=event.place,
                        seats=seats,
                    )  # fmt: skip
                )
            return "\n".join(lines)

        return await self.desk.read(step)

    async def _should_capture(self, req: SignupRequest) -> bool:
        """A prospect becomes a lead; staff and customers (a won lead) do not. WeCom
        app users are staff; an Official Account follower is never on the roster."""
        if req.is_staff:
            return False
        if req.platform == WECHAT_OA:
            if not _WECHAT_ID.match(req.user_id):
                return False
            lead = await self.desk.find_lead(wechat_openid=req.user_id)
            return lead is None or lead.stage != "won"
        if req.platform != QQ or not _QQ_ID.match(req.user_id):
            return False
        if await self.desk.member_by(qq_id=req.user_id) is not None:
            return False
        lead = await self.desk.find_lead(qq_id=req.user_id)
        return lead is None or lead.stage != "won"

    @staticmethod
    def _capture_fields(req: SignupRequest, event: Event, nickname: str) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "channel": f"event:{event.id}", "message": f"报名活动 {event.title}",
        }  # fmt: skip
        if req.platform == WECHAT_OA:  # not in the group: no name, no group
            fields["wechat_openid"] = req.user_id
        else:
            fields |= {"qq_id": req.user_id, "name": nickname, "group_id": event.group_id}
        if req.message_key:
            fields["event_key"] = req.message_key
        return fields

    @staticmethod
    def _mine(event_id: int, platform: str, user_id: str) -> Any:
        return (
            (Signup.event_id == event_id) & (Signup.platform == platform)
            & (Signup.user_id == user_id)
        )  # fmt: skip

    async def sign_up(self, req: SignupRequest) -> SignupOutcome:
        """报名: committed before the outcome is returned (the reply says 已报名)."""
        capture = await self._should_capture(req)
        fallback = texts.PLATFORM_PERSON.get(req.platform, req.user_id)
        nickname = clean_nickname(req.nickname, fallback)

        async def step(uow: UnitOfWork) -> SignupOutcome:
            event = await self._event(uow, req.event_id, req.group_id, lock=True)
            signup = await uow.session.scalar(
                select(Signup).where(self._mine(event.id, req.platform, req.user_id))
            )
            if signup is not None and signup.status != WITHDRAWN:
                return await self._sign_up_again(uow, event, signup, req)
            if refusal := self._closed_for_signup(uow, event):
                raise EventError(refusal)
            party = req.party or 1
            cars = req.cars or 0
            self._check_size(event, party, cars)
            taken = await self._seats_taken(uow, event.id)
            status = SIGNED if self._fits(event, taken, party, cars) else WAITLISTED
            seq = (
                int(
                    await uow.session.scalar(
                        select(func.coalesce(func.max(Signup.seq), 0)).where(
                            Signup.event_id == event.id
                        )
                    )
                    or 0
                )
                + 1
            )
            if signup is None:
                signup = Signup(
                    event_id=event.id, platform=req.platform, user_id=req.user_id,
                    lead_created=False,
                )  # fmt: skip
                uow.session.add(signup)
            signup.nickname, signup.party, signup.cars, signup.note = (
                nickname,
                party,
                cars,
                req.note,
            )
            signup.status, signup.seq = status, seq
            signup.created_at = signup.updated_at = uow.now
            if capture and signup.lead_id is None:
                result = await self.desk.capture_in(
                    uow, **self._capture_fields(req, event, nickname)
                )
                signup.lead_id, signup.lead_created = result.lead.id, result.created
            await uow.session.flush()
            fill = self._fill(event, party, cars)
            if status == SIGNED:
                text = texts.SIGNED.format(
                    **fill, when=self._when(event.starts_at), place=event.place
                )
                return SignupOutcome(
                    "signed", SIGNED, None, text, signup.lead_id, signup.lead_created
                )
            position = await self._position(uow, signup)
            text = texts.WAITLISTED.format(**fill, position=position)
            return SignupOutcome(
                "waitlisted", WAITLISTED, position, text, signup.lead_id, signup.lead_created
            )

        return await self.desk.write(step)

    def _fill(self, event: Event, party: int, cars: int) -> dict[str, Any]:
        return {
            "id": event.id,
            "title": event.title,
            "party": party,
            "cars": texts.CARS_PART.format(cars=cars) if cars else "",
        }

    def _check_size(self, event: Event, party: int, cars: int) -> None:
        if party > event.capacity:
            raise EventError(
                texts.PARTY_TOO_BIG.format(id=event.id, capacity=event.capacity, party=party)
            )
        if event.car_capacity is not None and cars > event.car_capacity:
            raise EventError(texts.CARS_TOO_MANY.format(id=event.id, limit=event.car_capacity))

    async def _sign_up_again(
        self, uow: UnitOfWork, event: Event, signup: Signup, req: SignupRequest
    ) -> SignupOutcome:
        """The same person again: their status, or a changed party size."""
        fill = self._fill(event, signup.party, signup.cars)
        same = (req.party is None or req.party == signup.party) and (
            req.cars is None or req.cars == signup.cars
        )
        if signup.status in (ATTENDED, NO_SHOW) or (same and signup.status == SIGNED):
            text = (
                texts.ALREADY_ATTENDED.format(**fill)
                if signup.status == ATTENDED
                else texts.ALREADY_DONE.format(**fill)
                if signup.status == NO_SHOW
                else texts.ALREADY_SIGNED.format(**fill)
            )
            return SignupOutcome("already", signup.status, None, text, signup.lead_id)
        if same:
            position = await self._position(uow, signup)
            text = texts.ALREADY_WAITLISTED.format(**fill, position=position)
            return SignupOutcome("already", WAITLISTED, position, text, signup.lead_id)
        if refusal := self._closed_for_signup(uow, event):
            raise EventError(refusal)
        party = req.party if req.party is not None else signup.party
        cars = req.cars if req.cars is not None else signup.cars
        if cars > party:
            raise EventError(texts.CARS_OVER_PARTY)
        self._check_size(event, party, cars)
        new_fill = self._fill(event, party, cars)
        if signup.status == SIGNED:
            people, car_count = await self._seats_taken(uow, event.id)
            taken = (people - signup.party, car_count - signup.cars)
            if not self._fits(event, taken, party, cars):
                text = texts.UPDATE_DOES_NOT_FIT.format(**new_fill, old_party=signup.party)
                return SignupOutcome("kept", SIGNED, None, text, signup.lead_id)
            signup.party, signup.cars, signup.updated_at = party, cars, uow.now
            signup.note = req.note or signup.note
            await uow.session.flush()
            promoted = await self._promote(uow, event)
            text = texts.UPDATED.format(**new_fill) + self._promoted_suffix(promoted)
            names = tuple(p.user_id for p in promoted)
            return SignupOutcome("updated", SIGNED, None, text, signup.lead_id, promoted=names)
        signup.party, signup.cars, signup.updated_at = party, cars, uow.now
        signup.note = req.note or signup.note
        await uow.session.flush()
        promoted = await self._promote(uow, event, skip=signup.id)
        if signup.status == SIGNED:
            text = texts.SIGNED.format(
                **new_fill, when=self._when(event.starts_at), place=event.place
            )
            return SignupOutcome("signed", SIGNED, None, text, signup.lead_id)
        position = await self._position(uow, signup)
        text = texts.WAITLIST_UPDATED.format(**new_fill, position=position)
        return SignupOutcome("waitlist_updated", WAITLISTED, position, text, signup.lead_id)

    @staticmethod
    def _promoted_suffix(promoted: list[Signup]) -> str:
        if not promoted:
            return ""
        return texts.PROMOTED_SUFFIX.format(
            names="、".join(p.nickname or p.user_id for p in promoted)
        )

    async def cancel_signup(
        self, event_id: int, user_id: str, group_id: str | None, platform: str = QQ
    ) -> str:
        """取消报名: the first waitlisted entries that now fit are promoted and told."""

        async def step(uow: UnitOfWork) -> str:
            event = await self._event(uow, event_id, group_id, lock=True)
            signup = await uow.session.scalar(
                select(Signup).where(self._mine(event.id, platform, user_id))
            )
            if signup is None or signup.status == WITHDRAWN:
                return texts.NOT_SIGNED_UP.format(id=event.id)
            if event.status == CANCELLED:
                return texts.EVENT_CANCELLED.format(id=event.id, title=event.title)
            if uow.now >= event.starts_at:
                return texts.EVENT_STARTED.format(id=event.id, title=event.title)
            was = signup.status
            signup.status, signup.updated_at = WITHDRAWN, uow.now
            await uow.session.flush()
            promoted = await self._promote(uow, event)
            done = texts.WAITLIST_CANCELLED if was == WAITLISTED else texts.SIGNUP_CANCELLED
            return done.format(id=event.id, title=event.title) + self._promoted_suffix(promoted)

        return await self.desk.write(step)

    async def my_signups(self, user_id: str, group_id: str | None, platform: str = QQ) -> str:
        """我的报名: newest events first; in a group only that group's events."""

        async def step(uow: UnitOfWork) -> str:
            query = (
                select(Signup, Event)
                .join(Event, Event.id == Signup.event_id)
                .where(Signup.platform == platform, Signup.user_id == user_id)
                .order_by(Event.starts_at.desc(), Event.id.desc())
                .limit(self.config.list_limit)
            )
            if group_id is not None:
                query = query.where(Event.group_id == group_id)
            rows = (await uow.session.execute(query)).all()
            if not rows:
                return texts.NO_SIGNUPS
            lines = [texts.MY_SIGNUPS_HEADER]
            for signup, event in rows:
                if event.status == CANCELLED:
                    status = texts.EVENT_CANCELLED_STATUS
                elif signup.status == WAITLISTED:
                    position = await self._position(uow, signup)
                    status = texts.STATUS[WAITLISTED].format(position=position)
                else:
                    status = texts.STATUS[signup.status]
                lines.append(
                    texts.MY_SIGNUP_LINE.format(
                        id=event.id,
                        title=event.title,
                        when=self._when(event.starts_at),
                        party=signup.party,
                        status=status,
                    )  # fmt: skip
                )
            return "\n".join(lines)

        return await self.desk.read(step)

    async def mark_attended(
        self, event_id: int, user_ids: Iterable[str], group_id: str | None
    ) -> str:
        """到场: signed-up people (or no-shows) marked as attended, from the event's day on."""
        wanted = list(dict.fromkeys(u for u in user_ids if _QQ_ID.match(u)))[:200]
        if not wanted:
            raise EventError(texts.ATTEND_NOBODY.format(id=event_id))

        async def step(uow: UnitOfWork) -> str:
            event = await self._event(uow, event_id, group_id, lock=True)
            if event.status == CANCELLED:
                return texts.EVENT_CANCELLED.format(id=event.id, title=event.title)
            day_start, _ = uow.calendar.day_bounds(uow.calendar.local_date(event.starts_at))
            if uow.now < day_start:
                return texts.ATTEND_TOO_EARLY.format(id=event.id, when=self._when(event.starts_at))
            rows = {
                s.user_id: s
                for s in await uow.session.scalars(
                    select(Signup).where(
                        Signup.event_id == event.id,
                        Signup.platform == QQ,
                        Signup.user_id.in_(wanted),
                    )  # fmt: skip
                )
            }
            marked, unknown = [], []
            for user_id in wanted:
                signup = rows.get(user_id)
                if signup is None or signup.status not in SEATED:
                    unknown.append(signup.nickname if signup and signup.nickname else user_id)
                    continue
                if signup.status != ATTENDED:
                    signup.status, signup.updated_at = ATTENDED, uow.now
                marked.append(signup.nickname or user_id)
            lines = []
            if marked:
                lines.append(
                    texts.ATTENDED.format(id=event.id, count=len(marked), names="、".join(marked))
                )
            else:
                lines.append(texts.ATTEND_NONE_MARKED.format(id=event.id))
            if unknown:
                lines.append(texts.ATTEND_NOT_SIGNED.format(names="、".join(unknown)))
            return "\n".join(lines)

        return await self.desk.write(step)

    async def close(self, event_id: int, group_id: str | None) -> str:
        """关闭报名: no new sign-ups; the event still happens."""

        async def step(uow: UnitOfWork) -> str:
            event = await self._event(uow, event_id, group_id, lock=True)
            if event.status == CANCELLED:
                return texts.EVENT_CANCELLED.format(id=event.id, title=event.title)
            if event.status == CLOSED:
                return texts.ALREADY_CLOSED.format(id=event.id, title=event.title)
            event.status = CLOSED
            return texts.CLOSED.format(id=event.id, title=event.title)

        return await self.desk.write(step)

    async def cancel_event(self, event_id: int, group_id: str | None) -> str:
        """取消活动: one group post @-ing everyone signed up or waitlisted; no reminder."""

        async def step(uow: UnitOfWork) -> str:
            event = await self._event(uow, event_id, group_id, lock=True)
            if event.status == CANCELLED:
                return texts.ALREADY_CANCELLED.format(id=event.id, title=event.title)
            if uow.now >= event.starts_at:
                return texts.CANCEL_STARTED.format(id=event.id, title=event.title)
            event.status = CANCELLED
            signups = list(
                await uow.session.scalars(
                    select(Signup)
                    .where(Signup.event_id == event.id, Signup.status.in_((SIGNED, WAITLISTED)))
                    .order_by(Signup.seq)
                )
            )
            told = [s.user_id for s in signups if s.platform == QQ]
            elsewhere = [s for s in signups if s.platform != QQ]
            text = texts.CANCEL_POST.format(
                id=event.id, title=event.title, when=self._when(event.starts_at),
                place=event.place,
            )  # fmt: skip
            await self.desk.cancel_notification_in(uow, f"event:{event.id}:reminder")
            if told:
                await self.desk.notify_in(
                    uow, key=f"event:{event.id}:cancelled", kind="group_post", channel="qq_group",
                    address=event.group_id, any_hour=True, payload={"text": text, "at": told},
                )  # fmt: skip
            for signup in elsewhere:
                await self.desk.cancel_notification_in(uow, self._reminder_key(event, signup))
                key = f"event:{event.id}:cancelled:{signup.id}"
                await self._tell(uow, signup, key, "event_cancelled", text)
            if elsewhere:
                suffix = texts.CANCELLED_TOLD_ALL.format(
                    count=len(signups), group=len(told), dm=len(elsewhere)
                )
            else:
                suffix = texts.CANCELLED_TOLD.format(count=len(told)) if told else ""
            return texts.CANCELLED.format(id=event.id, title=event.title, told=suffix)

        return await self.desk.write(step)

    async def stats(self, event_id: int | None, group_id: str | None) -> str:
        """活动统计: one event's numbers, or the recent events of the group (all in a DM)."""

        async def step(uow: UnitOfWork) -> str:
            if event_id is None:
                return await self._recent(uow, group_id)
            event = await self._event(uow, event_id, group_id)
            tally = (await self._tallies(uow, [event.id]))[event.id]
            cars = (
                texts.STATS_CARS.format(cars=tally.seated_cars(), car_capacity=event.car_capacity)
                if event.car_capacity is not None
                else ""
            )
            return texts.STATS.format(
                id=event.id, title=event.title, state=texts.STATE_TAGS.get(event.status, ""),
                when=self._when(event.starts_at), capacity=event.capacity, cars=cars,
                signed_people=tally.seated_people(), signed_parties=tally.seated_parties(),
                wait_people=tally.people.get(WAITLISTED, 0), wait_parties=tally.parties.get(WAITLISTED, 0),
                cancelled=tally.parties.get(WITHDRAWN, 0),
                attended_people=tally.people.get(ATTENDED, 0), attended_parties=tally.parties.get(ATTENDED, 0),
                no_show_people=tally.people.get(NO_SHOW, 0), no_show_parties=tally.parties.get(NO_SHOW, 0),
                leads=tally.leads,
            )  # fmt: skip

        return await self.desk.read(step)

    async def _recent(self, uow: UnitOfWork, group_id: str | None) -> str:
        query = select(Event).order_by(Event.starts_at.desc(), Event.id.desc())
        if group_id is not None:
            query = query.where(Event.group_id == group_id)
        events = list(await uow.session.scalars(query.limit(self.config.recent_limit)))
        if not events:
            return texts.NO_RECENT
        tallies = await self._tallies(uow, [e.id for e in events])
        lines = [texts.RECENT_HEADER]
        for event in events:
            tally = tallies[event.id]
            lines.append(
                texts.RECENT_LINE.format(
                    id=event.id,
                    title=event.title,
                    when=self._when(event.starts_at),
                    signed=tally.seated_people(),
                    wait=tally.parties.get(WAITLISTED, 0),
                    attended=tally.people.get(ATTENDED, 0),
                    leads=tally.leads,
                    state=texts.STATE_TAGS.get(event.status, ""),
                )  # fmt: skip
            )
        return "\n".join(lines)

    async def export(self, event_id: int, group_id: str | None) -> Export:
        """导出报名: every sign-up of the event as an .xlsx (QQ ids, never phones; an
        Official Account follower shows as 公众号用户 with no QQ)."""

        async def step(uow: UnitOfWork) -> Export:
            event = await self._event(uow, event_id, group_id)
            signups = list(
                await uow.session.scalars(
                    select(Signup).where(Signup.event_id == event.id).order_by(Signup.seq)
                )
            )
            rows, waiting = [], 0
            for number, signup in enumerate(signups, start=1):
                if signup.status == WAITLISTED:
                    waiting += 1
                    status = texts.STATUS[WAITLISTED].format(position=waiting)
                else:
                    status = texts.STATUS[signup.status]
                on_qq = signup.platform == QQ
                name = signup.nickname or texts.PLATFORM_PERSON.get(signup.platform, "")
                # Masked on the way out as well: notes stored before masking was added,
                # nicknames like "张三13812345678".
                rows.append(
                    (
                        number, mask_phones_in_text(name), signup.user_id if on_qq else "",
                        signup.party, signup.cars, status, mask_phones_in_text(signup.note or ""),
                        uow.calendar.local(signup.created_at).strftime("%Y-%m-%d %H:%M"),
                    )
                )  # fmt: skip
            title = mask_phones_in_text(
                f"#{event.id} {event.title} {self._when(event.starts_at)} {event.place}"
            )
            data = build_signup_sheet(texts.SHEET_TITLE, title, texts.SHEET_HEADER, rows)
            return Export(texts.EXPORT_NAME.format(id=event.id), data)

        return await self.desk.read(step)

    # -- scheduled jobs (Desk.add_schedule) ---------------------------------------
    async def remind(self, uow: UnitOfWork) -> int:
        """Queue the day-before reminder of events starting tomorrow (local date), at or
        after the configured hour; once per event (its key and `reminded_at`)."""
        local_now = uow.calendar.local(uow.now)
        if local_now.hour < self.config.reminder_hour:
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
            signups = list(
                await uow.session.scalars(
                    select(Signup)
                    .where(Signup.event_id == event.id, Signup.status == SIGNED)
                    .order_by(Signup.seq)
                )
            )
            if not signups:
                continue
            text = texts.REMINDER_POST.format(
                id=event.id, title=event.title, when=self._when(event.starts_at),
                place=event.place,
            )  # fmt: skip
            people = [s.user_id for s in signups if s.platform == QQ]
            if people:
                await self.desk.notify_in(
                    uow, key=f"event:{event.id}:reminder", kind="group_post", channel="qq_group",
                    address=event.group_id, any_hour=True, payload={"text": text, "at": people},
                )  # fmt: skip
            for signup in signups:
                if signup.platform != QQ:
                    key = self._reminder_key(event, signup)
                    await self._tell(uow, signup, key, "event_reminder", text)
            queued += 1
        return queued

    @staticmethod
    def _reminder_key(event: Event, signup: Signup) -> str:
        """One DM reminder per event and person (the group post has its own key)."""
        return f"event:{event.id}:reminder:{signup.id}"

    async def mark_no_shows(self, uow: UnitOfWork) -> int:
        """After an event (start + grace), those still only signed up did not come."""
        cutoff = uow.now - timedelta(hours=self.config.no_show_grace_hours)
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

    # -- personal data (desk.privacy) ------------------------------------------------------
    @staticmethod
    def _accounts(person: Person) -> list[tuple[str, str]]:
        """(Signup.platform, user_id) pairs of the person."""
        kinds = {"qq": QQ, "wechat_openid": WECHAT_OA, "wecom_external": WECOM}
        return [(kinds[k], v) for k, v in person.handles if k in kinds]

    def _signed_by(self, person: Person) -> Any:
        """The condition matching the person's sign-ups on any platform; None when
        they have no account a sign-up could be under."""
        accounts = self._accounts(person)
        if not accounts:
            return None
        return or_(*((Signup.platform == p) & (Signup.user_id == u) for p, u in accounts))

    async def erase_person(self, uow: UnitOfWork, person: Person) -> dict[str, int]:
        """Sign-ups keep their seats' history (counts, attendance) under the person's
        token, without nickname or note; a seat for an event still to come is given
        up, and the waitlist moves up as on 取消报名."""
        mine = self._signed_by(person)
        if mine is None:
            return {}
        signups = list(await uow.session.scalars(select(Signup).where(mine).order_by(Signup.id)))
        withdrawn = 0
        for signup in signups:
            if signup.status in (SIGNED, WAITLISTED):
                event = await self._event(uow, signup.event_id, None, lock=True)
                if event.status != CANCELLED and uow.now < event.starts_at:
                    signup.status = WITHDRAWN
                    withdrawn += 1
                    await uow.session.flush()
                    await self._promote(uow, event)
            signup.user_id, signup.nickname, signup.note = person.token, None, None
            signup.updated_at = uow.now
        await uow.session.flush()
        return {"signups": len(signups), "signups_withdrawn": withdrawn}

    async def describe_person(self, uow: UnitOfWork, person: Person) -> dict[str, Any] | None:
        mine = self._signed_by(person)
        if mine is None:
            return None
        rows = (
            await uow.session.execute(
                select(Signup, Event)
                .join(Event, Event.id == Signup.event_id)
                .where(mine)
                .order_by(Event.starts_at.desc())
                .limit(self.config.list_limit)
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

    def schedules(self) -> list[Callable[[UnitOfWork], Awaitable[int]]]:
        return [self.remind, self.mark_no_shows]
