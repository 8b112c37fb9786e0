"""Owner-group activities (spec §3.1): check-ins and points, topics (now or on a
schedule), member joins and leaves, message counts and group statistics.

A QQ group may be linked to WeCom customer groups of the same owners
(`[[wecom_groups]]` in config/activities.toml): its topics are also queued for
them as mass-send tasks (channel "wecom_group"; the group owner confirms each
in WeCom). Joins and leaves of those customer groups are recorded under
"wecom:<chat id>".

Pure: no NoneBot. Each use case is one `desk.write` / `desk.read`; the rules
(points, streaks, the topic schedule) are data in config/activities.toml.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from sqlalchemy import func, select, update

from bot.plugins.activities import texts
from bot.plugins.activities.counter import COUNTER
from bot.plugins.activities.models import Checkin, GroupActivity, MemberChange, Topic, TopicSchedule
from bot.points import award, balance, group_rank, group_ranking, qq_user
from bot.timeparse import TimeParseError, parse_when
from desk import Desk, mask_phone
from desk.config_file import config_path, load_toml
from desk.privacy import Person
from desk.reports import Period
from desk.store import UnitOfWork, insert_ignore, serialize_on, upsert_adding

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[3] / "config" / "activities.toml"


# -- config ---------------------------------------------------------------------


class ConfigError(ValueError):
    """config/activities.toml is unreadable or invalid; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckinConfig(_Section):
    base_points: Annotated[int, Field(ge=0, le=1000)] = 5
    streak_bonus_per_day: Annotated[int, Field(ge=0, le=1000)] = 1
    streak_bonus_cap: Annotated[int, Field(ge=0, le=10_000)] = 5
    weekly_bonus: Annotated[int, Field(ge=0, le=10_000)] = 10


class LeaderboardConfig(_Section):
    size: Annotated[int, Field(ge=1, le=50)] = 10


TopicText = Annotated[str, Field(min_length=1, max_length=400)]


class TopicsConfig(_Section):
    max_chars: Annotated[int, Field(ge=10, le=400)] = 200
    max_days_ahead: Annotated[int, Field(ge=1, le=3660)] = 366
    max_schedules_per_group: Annotated[int, Field(ge=1, le=500)] = 20
    defaults: Annotated[list[TopicText], Field(min_length=1)]


def _id_text(value: object) -> object:
    """A QQ group number may be written with or without quotes in TOML."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class WeComGroupLink(_Section):
    """A WeCom customer group of the same owners as a QQ group, and the staff member
    who owns it (mass-sends go out in the owner's name, after they confirm)."""

    qq_group: Annotated[str, BeforeValidator(_id_text), Field(pattern=r"^[1-9][0-9]{4,11}$")]
    chat_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,128}$")]
    sender: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@\-]{1,64}$")]


class ActivitiesConfig(_Section):
    checkin: CheckinConfig = CheckinConfig()
    leaderboard: LeaderboardConfig = LeaderboardConfig()
    topics: TopicsConfig
    wecom_groups: list[WeComGroupLink] = []

    @model_validator(mode="after")
    def _links_once(self) -> ActivitiesConfig:
        seen = set()
        for link in self.wecom_groups:
            if (link.qq_group, link.chat_id) in seen:
                raise ValueError(
                    f"wecom_groups: {link.chat_id} is linked to QQ group {link.qq_group} twice"
                )
            seen.add((link.qq_group, link.chat_id))
        return self


def wecom_links(config: ActivitiesConfig, qq_group: str) -> list[tuple[str, str]]:
    """(chat id, sender) of the WeCom customer groups linked to a QQ group."""
    return [(g.chat_id, g.sender) for g in config.wecom_groups if g.qq_group == qq_group]


Links = Callable[[str], Sequence[tuple[str, str]]]
MAX_KEY = 128  # desk outbox keys


def outbox_key(key: str) -> str:
    """`key`, or a digest of it when a long chat id makes it too long for the outbox."""
    if len(key) <= MAX_KEY:
        return key
    return key[:60] + ":" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


async def queue_mass_sends(
    desk: Desk, uow: UnitOfWork, key: str, text: str, links: Sequence[tuple[str, str]],
    not_before: datetime | None = None,
) -> int:  # fmt: skip
    """One mass-send task per linked WeCom customer group, in the caller's transaction
    (delivered by bot.adapters.wechat.delivery; the owner confirms it in WeCom)."""
    for chat_id, sender in links:
        await desk.notify_in(
            uow, key=outbox_key(f"{key}:wecom:{chat_id}"), kind="wecom_mass_send",
            channel="wecom_group", address=chat_id, payload={"text": text, "sender": sender},
            any_hour=True, not_before=not_before,
        )  # fmt: skip
    return len(links)


def load_config(path: Path | None = None) -> ActivitiesConfig:
    """Read and validate config/activities.toml; a bad file raises ConfigError naming the key."""
    return load_toml(
        ActivitiesConfig, path or config_path("activities.toml"), "activities config", ConfigError
    )


# -- text hygiene ----------------------------------------------------------------------


def clean_text(text: str) -> str:
    """User text fit to store and post: no control characters (NUL breaks PostgreSQL)
    but line breaks, no lone surrogates, trimmed."""
    kept = (
        ch
        for ch in text or ""
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )
    return "".join(kept).strip()


# A run of 7+ digits in a group card ("张三 138 1234 5678" is common): maybe a phone.
_LONG_NUMBER = re.compile(r"\d(?:[ -]?\d){6,}")


def clean_name(name: str | None) -> str | None:
    """A group card or nickname to keep for 积分榜: one line, short, and any phone
    number in it masked (phone numbers are never posted to a group)."""
    one_line = " ".join(clean_text(name or "").split())
    masked = _LONG_NUMBER.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group())), one_line)
    return masked[:32] or None


def masked_qq(user_id: str) -> str:
    """用户****1234: enough to tell members apart, not a full id (and never a phone)."""
    digits = re.sub(r"\D", "", user_id)
    return texts.MASKED_QQ.format(tail=digits[-4:] or "????")


# -- check-in and points -------------------------------------------------------------


def checkin_points(cfg: CheckinConfig, streak: int) -> tuple[int, int]:
    """(points, of which streak bonus) for the `streak`-th consecutive day."""
    bonus = min((streak - 1) * cfg.streak_bonus_per_day, cfg.streak_bonus_cap)
    if cfg.weekly_bonus and streak % 7 == 0:
        bonus += cfg.weekly_bonus
    return cfg.base_points + bonus, bonus


@dataclass(frozen=True)
class CheckinResult:
    status: Literal["new", "already", "duplicate"]
    rank: int = 0
    streak: int = 0
    points: int = 0
    bonus: int = 0
    total: int = 0


def _current_streak(last: Checkin | None, today: date) -> int:
    """The streak still alive today: the last check-in was today or yesterday."""
    if last is None or last.day < today - timedelta(days=1):
        return 0
    return last.streak


async def _last_checkin(uow: UnitOfWork, group_id: str, user: str) -> Checkin | None:
    return await uow.session.scalar(
        select(Checkin)
        .where(Checkin.group_id == group_id, Checkin.user_id == user)
        .order_by(Checkin.day.desc())
        .limit(1)
    )


async def check_in(
    desk: Desk, cfg: CheckinConfig, *, group_id: str, qq: str, name: str | None, message_key: str
) -> CheckinResult:
    """Today's check-in in this group: points once per person, group and local day."""
    user = qq_user(qq)

    async def step(uow: UnitOfWork) -> CheckinResult:
        s = uow.session
        today = uow.calendar.local_date(uow.now)
        if await s.scalar(select(Checkin.id).where(Checkin.message_key == message_key)):
            return CheckinResult("duplicate")  # the same message delivered again
        last = await _last_checkin(uow, group_id, user)
        if last is not None and last.day == today:
            total = await balance(uow, user)
            return CheckinResult("already", last.rank, last.streak, 0, 0, total)
        streak = last.streak + 1 if last and last.day == today - timedelta(days=1) else 1
        # Places are given one at a time per group and day (the unique (group, day,
        # rank) backs it: a clash would fail and desk.write run this step again).
        await serialize_on(uow, "checkin-rank", group_id, today.isoformat())
        taken = await s.scalar(
            select(func.max(Checkin.rank)).where(Checkin.group_id == group_id, Checkin.day == today)
        )
        rank = int(taken or 0) + 1
        points, bonus = checkin_points(cfg, streak)
        s.add(
            Checkin(
                group_id=group_id, user_id=user, day=today, streak=streak, points=points,
                rank=rank, name=clean_name(name), message_key=message_key, at=uow.now,
            )
        )  # fmt: skip
        await s.flush()
        await award(uow, user, points, "checkin", f"checkin:{group_id}:{user}:{today}", group_id)
        return CheckinResult("new", rank, streak, points, bonus, await balance(uow, user))

    return await desk.write(step)


@dataclass(frozen=True)
class PointsView:
    total: int
    streak: int  # in this group; 0 in a DM
    rank: int | None  # in this group; None in a DM or when not ranked


async def my_points(
    desk: Desk, qq: str, group_id: str | None, *, user: str | None = None
) -> PointsView:
    """`user`: a bot.points handle of another platform ("wechat:<openid>"); else the QQ id's."""
    user = user or qq_user(qq)

    async def step(uow: UnitOfWork) -> PointsView:
        total = await balance(uow, user)
        if group_id is None:
            return PointsView(total, 0, None)
        today = uow.calendar.local_date(uow.now)
        streak = _current_streak(await _last_checkin(uow, group_id, user), today)
        return PointsView(total, streak, await group_rank(uow, group_id, user))

    return await desk.read(step)


async def leaderboard(desk: Desk, group_id: str, size: int) -> list[tuple[str, int]]:
    """(shown name, total points), best first: the group card or nickname seen at
    the member's last check-in here, else a masked QQ id."""

    async def step(uow: UnitOfWork) -> list[tuple[str, int]]:
        ranking = await group_ranking(uow, group_id, size)
        users = [user for user, _ in ranking]
        latest = (
            select(func.max(Checkin.id))
            .where(
                Checkin.group_id == group_id, Checkin.user_id.in_(users), Checkin.name.is_not(None)
            )
            .group_by(Checkin.user_id)
        )
        rows = await uow.session.execute(
            select(Checkin.user_id, Checkin.name).where(Checkin.id.in_(latest))
        )
        names = {user: name for user, name in rows.all() if name}
        return [(names.get(user) or masked_qq(user), total) for user, total in ranking]

    return await desk.read(step)


# -- topics --------------------------------------------------------------------------------


def default_topic(cfg: TopicsConfig, day: date) -> str:
    return cfg.defaults[day.toordinal() % len(cfg.defaults)]


async def todays_topic(desk: Desk, cfg: TopicsConfig, group_id: str) -> str:
    """The topic a manager set (or a schedule posted) for today, else the day's default."""

    async def step(uow: UnitOfWork) -> str:
        today = uow.calendar.local_date(uow.now)
        text = await uow.session.scalar(
            select(Topic.text)
            .where(Topic.group_id == group_id, Topic.day == today)
            .order_by(Topic.id.desc())
            .limit(1)
        )
        return text or default_topic(cfg, today)

    return await desk.read(step)


class TopicError(ValueError):
    """A 设置话题 the bot cannot do; `kind` picks the line in texts, `params` fill it."""

    def __init__(self, kind: str, **params: object) -> None:
        super().__init__(kind)
        self.kind = kind
        self.params = params


Repeat = Literal["once", "daily", "weekly"]


@dataclass(frozen=True)
class Plan:
    """When a topic is posted: once at `at`, or daily / weekly at a local time."""

    repeat: Repeat
    at: datetime  # the first post, UTC
    local_time: time
    weekday: int | None = None  # 0 = Monday, weekly only


# Deciding whether the trailing word is a time at all (the parsing is jionlp's):
# a time is made of these characters only, with at least one unit among them.
# "冬季保养" or "周末自驾路线" are topics, although jionlp would read a date in them.
_TIME_CHARS = frozenset(
    "0123456789０１２３４５６７８９:：.一二三四五六七八九十零〇两半"
    "点时分秒钟刻整号日月年周星期礼拜天末今明后前大上下中午晚早夜凌晨傍每个"
)
_TIME_UNITS = frozenset("点时:：天周期拜号日月早晚午夜晨后每")
_RECURRING = re.compile(r"^每(?:(?P<daily>天|日)|(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天1-7]))(?P<rest>.*)$")  # fmt: skip
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


def looks_like_time(word: str) -> bool:
    return bool(word) and set(word) <= _TIME_CHARS and bool(set(word) & _TIME_UNITS)


def next_occurrence(after: datetime, tz: ZoneInfo, at: time, weekday: int | None) -> datetime:
    """The first local `at` (on `weekday`, if given) strictly after `after`, in UTC."""
    day = after.astimezone(tz).date()
    for offset in range(9):
        candidate_day = day + timedelta(days=offset)
        if weekday is not None and candidate_day.weekday() != weekday:
            continue
        candidate = datetime.combine(candidate_day, at, tzinfo=tz).astimezone(UTC)
        if candidate > after:
            return candidate
    raise AssertionError("a week always has the day")


def parse_plan(word: str, now: datetime, tz: ZoneInfo, cfg: TopicsConfig) -> Plan:
    """'明天上午9点' (once), '每天上午9点', '每周一上午9点' → a Plan; TopicError otherwise."""
    recurring = _RECURRING.match(word)
    try:
        if recurring:
            rest = recurring.group("rest")
            clock = parse_when(rest, now, tz).astimezone(tz).time().replace(second=0, microsecond=0)
            raw_day = recurring.group("weekday")
            weekday = None
            if raw_day:
                weekday = int(raw_day) - 1 if raw_day.isdigit() else _WEEKDAYS[raw_day]
            repeat: Repeat = "daily" if weekday is None else "weekly"
            return Plan(repeat, next_occurrence(now, tz, clock, weekday), clock, weekday)
        at = parse_when(word, now, tz)
    except TimeParseError:
        raise TopicError("bad_time", text=word[:20]) from None
    if at <= now:
        local = at.astimezone(tz)
        raise TopicError("past", when=f"{local.month}月{local.day}日 {local:%H:%M}")
    if at > now + timedelta(days=cfg.max_days_ahead):
        raise TopicError("too_far", days=cfg.max_days_ahead)
    return Plan("once", at, at.astimezone(tz).time().replace(second=0, microsecond=0))


def parse_topic_args(
    args: str, now: datetime, tz: ZoneInfo, cfg: TopicsConfig
) -> tuple[str, Plan | None]:
    """'<内容> [时间]' → (topic, plan or None for now). The time is the last one or
    two words when they read as a time ('明天上午9点', '12月1号 14:00')."""
    text = clean_text(args)
    when = None
    for words in (2, 1):
        split = re.match(rf"^(.*?)\s+(\S+(?:\s+\S+){{{words - 1}}})$", text, re.S)
        if split is None:
            continue
        candidate = "".join(split.group(2).split())
        if looks_like_time(candidate) or _RECURRING.match(candidate):
            text, when = split.group(1).strip(), candidate
            break
    if not text or looks_like_time(text) or _RECURRING.match(text):
        raise TopicError("usage")  # no topic, or only a time
    if len(text) > cfg.max_chars:
        raise TopicError("too_long", max=cfg.max_chars)
    plan = parse_plan(when, now, tz, cfg) if when else None
    return text, plan


def topic_post(text: str) -> dict[str, object]:
    return {"text": texts.TOPIC_POST.format(text=text)}


async def post_topic_now(
    desk: Desk, group_id: str, text: str, *, by: str, message_key: str,
    links: Sequence[tuple[str, str]] = (),
) -> bool:  # fmt: skip
    """Today's topic, posted into the group through the outbox (and queued for the
    linked WeCom customer groups); False when this message was handled before."""

    async def step(uow: UnitOfWork) -> bool:
        key = f"topic:{message_key}"
        new = await insert_ignore(
            uow, Topic, ["source_key"], group_id=group_id, day=uow.calendar.local_date(uow.now),
            text=text, set_by=by, source_key=key, at=uow.now,
        )  # fmt: skip
        if new:
            await desk.notify_in(
                uow, key=key, kind="group_post", channel="qq_group", address=group_id,
                payload=topic_post(text), any_hour=True,
            )  # fmt: skip
            await queue_mass_sends(desk, uow, key, texts.TOPIC_POST.format(text=text), links)
        return new

    return await desk.write(step)


@dataclass(frozen=True)
class ScheduleView:
    id: int
    text: str
    repeat: str
    next_at: datetime
    local_time: str
    weekday: int | None

    @classmethod
    def of(cls, row: TopicSchedule) -> ScheduleView:
        return cls(row.id, row.text, row.repeat, row.next_at, row.local_time, row.weekday)

    def when(self, tz: ZoneInfo) -> str:
        if self.repeat == "daily":
            return texts.WHEN_DAILY.format(time=self.local_time)
        if self.repeat == "weekly" and self.weekday is not None:
            return texts.WHEN_WEEKLY.format(
                weekday=texts.WEEKDAYS[self.weekday], time=self.local_time
            )
        local = self.next_at.astimezone(tz)
        return texts.WHEN_ONCE.format(
            date=f"{local.month}月{local.day}日", weekday=texts.WEEKDAYS[local.weekday()],
            time=local.strftime("%H:%M"),
        )  # fmt: skip


async def schedule_topic(
    desk: Desk, cfg: TopicsConfig, group_id: str, text: str, plan: Plan, *, by: str,
    message_key: str,
) -> ScheduleView | None:  # fmt: skip
    """A schedule row: the minute job posts it when due (it survives restarts).
    None when this message was handled before; TopicError when the group has too many."""

    async def step(uow: UnitOfWork) -> ScheduleView | None:
        s = uow.session
        if await s.scalar(select(TopicSchedule.id).where(TopicSchedule.message_key == message_key)):
            return None
        open_count = await s.scalar(
            select(func.count())
            .select_from(TopicSchedule)
            .where(TopicSchedule.group_id == group_id, TopicSchedule.active.is_(True))
        )
        if int(open_count or 0) >= cfg.max_schedules_per_group:
            raise TopicError("too_many", max=cfg.max_schedules_per_group)
        row = TopicSchedule(
            group_id=group_id, text=text, repeat=plan.repeat,
            local_time=plan.local_time.strftime("%H:%M"), weekday=plan.weekday,
            next_at=plan.at, active=True, created_by=by, message_key=message_key,
            created_at=uow.now, posts=0,
        )  # fmt: skip
        s.add(row)
        await s.flush()
        return ScheduleView.of(row)

    return await desk.write(step)


async def list_schedules(desk: Desk, group_id: str) -> list[ScheduleView]:
    async def step(uow: UnitOfWork) -> list[ScheduleView]:
        rows = await uow.session.scalars(
            select(TopicSchedule)
            .where(TopicSchedule.group_id == group_id, TopicSchedule.active.is_(True))
            .order_by(TopicSchedule.next_at, TopicSchedule.id)
        )
        return [ScheduleView.of(row) for row in rows]

    return await desk.read(step)


async def cancel_schedule(desk: Desk, group_id: str, schedule_id: int) -> bool:
    """Stop a schedule of this group; False when there is no such open schedule."""

    async def step(uow: UnitOfWork) -> bool:
        row = await uow.session.scalar(
            select(TopicSchedule)
            .where(
                TopicSchedule.id == schedule_id,
                TopicSchedule.group_id == group_id,
                TopicSchedule.active.is_(True),
            )
            .with_for_update()
        )
        if row is None:
            return False
        row.active = False
        return True

    return await desk.write(step)


MAX_DUE_PER_RUN = 200


async def run_topic_schedules(desk: Desk, uow: UnitOfWork, links: Links | None = None) -> int:
    """The minute job: queue each due topic post (key topic:<schedule>:<local date>,
    so a rerun or a second process queues it once) and make it that day's topic;
    `links(group)` names the WeCom customer groups that get it too."""
    tz = uow.settings.tz
    today = uow.calendar.local_date(uow.now)
    due = await uow.session.scalars(
        select(TopicSchedule)
        .where(TopicSchedule.active.is_(True), TopicSchedule.next_at <= uow.now)
        .order_by(TopicSchedule.next_at, TopicSchedule.id)
        .limit(MAX_DUE_PER_RUN)
        .with_for_update()
    )
    queued = 0
    for row in list(due):
        day = uow.calendar.local_date(row.next_at)
        # A post due on a day the bot was down is stale: skipped, not posted late.
        if day == today:
            key = f"topic:{row.id}:{day.isoformat()}"
            if await insert_ignore(
                uow, Topic, ["source_key"], group_id=row.group_id, day=day, text=row.text,
                set_by=row.created_by, source_key=key, at=uow.now,
            ):  # fmt: skip
                await desk.notify_in(
                    uow, key=key, kind="group_post", channel="qq_group", address=row.group_id,
                    payload=topic_post(row.text), any_hour=True,
                )  # fmt: skip
                if links is not None:
                    await queue_mass_sends(
                        desk, uow, key, texts.TOPIC_POST.format(text=row.text),
                        links(row.group_id), not_before=row.next_at,
                    )  # fmt: skip
                row.posts += 1
                queued += 1
        if row.repeat == "once":
            row.active = False
        else:
            clock = time.fromisoformat(row.local_time)
            row.next_at = next_occurrence(uow.now, tz, clock, row.weekday)
    return queued


# -- members and message counts ------------------------------------------------------------


async def record_member_change(
    desk: Desk, *, group_id: str, user_id: str, change: Literal["join", "leave"],
    sub_type: str, operator_id: str | None, event_key: str,
) -> bool:  # fmt: skip
    """A join or leave, once per event; False for a redelivered event."""

    async def step(uow: UnitOfWork) -> bool:
        return await insert_ignore(
            uow, MemberChange, ["event_key"], group_id=group_id, user_id=user_id, change=change,
            sub_type=sub_type[:16], operator_id=operator_id, event_key=event_key, at=uow.now,
        )  # fmt: skip

    return await desk.write(step)


async def recorded_member(desk: Desk, group_id: str, user_id: str) -> bool:
    """Whether the records say a person is in a group: they joined (and did not
    leave since), or they spoke there (after their latest recorded leave). Joins
    before the bot came are not recorded: a silent old member is not known here."""

    async def step(uow: UnitOfWork) -> bool:
        last = await uow.session.scalar(
            select(MemberChange)
            .where(MemberChange.group_id == group_id, MemberChange.user_id == user_id)
            .order_by(MemberChange.at.desc(), MemberChange.id.desc())
            .limit(1)
        )
        spoke: date | None = await uow.session.scalar(
            select(func.max(GroupActivity.day)).where(
                GroupActivity.group_id == group_id, GroupActivity.user_id == user_id
            )
        )
        if last is None:
            return spoke is not None
        if last.change == "join":
            return True
        return spoke is not None and spoke > uow.calendar.local_date(last.at)

    return await desk.read(step)


# WeCom customer groups: member ids of customers start with these; others are staff.
EXTERNAL_PREFIXES = ("wm", "wo")
JOIN_SCENES = {0: "invite", 1: "link", 3: "qrcode"}
QUIT_SCENES = {0: "leave", 1: "kick"}
WECOM_CHANGES: dict[str, Literal["join", "leave"]] = {
    "add_member": "join",
    "del_member": "leave",
}


def wecom_group_id(chat_id: str) -> str:
    return f"wecom:{chat_id}"


def is_external(member_id: str) -> bool:
    return member_id.startswith(EXTERNAL_PREFIXES)


def wecom_change_key(chat_id: str, detail: str, member_id: str, create_time: int) -> str:
    """One key per customer-group event and member (a redelivered callback has one effect)."""
    key = f"wecom:chat:{chat_id}:{detail}:{member_id}:{create_time}"
    if len(key) <= 160:
        return key
    return "wecom:chat:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WeComGroupChange:
    """A change_external_chat add_member / del_member callback, as the service needs it."""

    chat_id: str
    detail: str  # add_member | del_member
    member_ids: tuple[str, ...]
    create_time: int
    scene: int | None  # join_scene or quit_scene


async def record_wecom_group_change(desk: Desk, change: WeComGroupChange) -> list[str]:
    """Record the customers (not staff) who joined or left a WeCom customer group, once
    per callback; returns the external user ids the callback named (new or not)."""
    kind = WECOM_CHANGES.get(change.detail)
    members = list(dict.fromkeys(m for m in change.member_ids if is_external(m)))
    if kind is None or not members:
        return []
    scenes = JOIN_SCENES if kind == "join" else QUIT_SCENES
    sub_type = scenes.get(change.scene, "unknown") if change.scene is not None else "unknown"
    group_id = wecom_group_id(change.chat_id)

    async def step(uow: UnitOfWork) -> None:
        for member in members:
            await insert_ignore(
                uow, MemberChange, ["event_key"], group_id=group_id, user_id=member,
                change=kind, sub_type=sub_type, operator_id=None, at=uow.now,
                event_key=wecom_change_key(change.chat_id, change.detail, member, change.create_time),
            )  # fmt: skip

    await desk.write(step)
    return members


def count_message(group_id: str, user_id: str, day: date, message_id: int) -> None:
    """The observer's part: one more message, in memory only."""
    COUNTER.add(group_id, user_id, day, message_id)


async def flush_counts(uow: UnitOfWork) -> int:
    """Add the counts gathered in memory to the database (the minute job, and 群统计
    first). Counts whose write fails go back for the next flush."""
    batch = COUNTER.take()
    rows = [
        {"group_id": group_id, "day": day, "user_id": user_id, "messages": n}
        for (group_id, day, user_id), n in sorted(batch.items())
    ]
    try:  # one executemany: a busy minute has thousands of counts, the writer waits on it
        await upsert_adding(uow, GroupActivity, ["group_id", "day", "user_id"], "messages", rows)
    except BaseException:
        COUNTER.restore(batch)
        raise
    return 0  # nothing queued for delivery


@dataclass(frozen=True)
class GroupStats:
    joined: int
    left: int
    speakers: int
    messages: int
    checkins: int


async def group_stats(desk: Desk, group_id: str, period: Period) -> GroupStats:
    async def step(uow: UnitOfWork) -> GroupStats:
        s = uow.session
        first = uow.calendar.local_date(period.start)
        last = uow.calendar.local_date(period.end - timedelta(microseconds=1))

        async def changed(change: str) -> int:
            return int(
                await s.scalar(
                    select(func.count(func.distinct(MemberChange.user_id))).where(
                        MemberChange.group_id == group_id,
                        MemberChange.change == change,
                        MemberChange.at >= period.start,
                        MemberChange.at < period.end,
                    )
                )
                or 0
            )

        in_days = (
            GroupActivity.group_id == group_id,
            GroupActivity.day >= first,
            GroupActivity.day <= last,
        )
        speakers, messages = (
            await s.execute(
                select(
                    func.count(func.distinct(GroupActivity.user_id)),
                    func.coalesce(func.sum(GroupActivity.messages), 0),
                ).where(*in_days)
            )
        ).one()
        checkins = await s.scalar(
            select(func.count()).where(
                Checkin.group_id == group_id, Checkin.day >= first, Checkin.day <= last
            )
        )
        return GroupStats(
            await changed("join"), await changed("leave"), int(speakers or 0), int(messages or 0),
            int(checkins or 0),
        )  # fmt: skip

    return await desk.read(step)


# -- personal data (desk.privacy) ---------------------------------------------------------


async def erase_person(uow: UnitOfWork, person: Person) -> dict[str, int]:
    """Check-ins, joins/leaves and message counts stay as counts (群统计 reads them)
    under the person's token; the name they checked in with goes."""
    await flush_counts(uow)  # this minute's counts first, so none reappear under their id
    ids, users = person.account_ids, person.referrer_handles
    counts = {}
    if users:
        result = await uow.session.execute(
            update(Checkin)
            .where(Checkin.user_id.in_(users))
            .values(user_id=person.token, name=None)
        )
        counts["checkins"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if ids:
        for column in (MemberChange.user_id, MemberChange.operator_id):
            result = await uow.session.execute(
                update(MemberChange).where(column.in_(ids)).values({column.key: person.token})
            )
            counts["member_changes"] = counts.get("member_changes", 0) + int(result.rowcount or 0)  # type: ignore[attr-defined]
        result = await uow.session.execute(
            update(GroupActivity).where(GroupActivity.user_id.in_(ids)).values(user_id=person.token)
        )
        counts["message_counts"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return counts


async def describe_person(uow: UnitOfWork, person: Person) -> dict[str, int] | None:
    ids, users = person.account_ids, person.referrer_handles
    checkins = messages = 0
    if users:
        checkins = int(
            await uow.session.scalar(
                select(func.count()).select_from(Checkin).where(Checkin.user_id.in_(users))
            )
            or 0
        )
    if ids:
        messages = int(
            await uow.session.scalar(
                select(func.coalesce(func.sum(GroupActivity.messages), 0)).where(
                    GroupActivity.user_id.in_(ids)
                )
            )
            or 0
        )
    if not checkins and not messages:
        return None
    return {"checkins": checkins, "messages": messages}
