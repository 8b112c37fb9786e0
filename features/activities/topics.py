"""话题: today's topic of a group, a topic posted now or on a schedule (rows the
minute job posts when due, so they survive restarts), the group's open
schedules, and cancelling one.

A topic goes to the QQ group through the outbox and, as mass-sends, to the WeCom
customer groups linked to it (features.activities.mass_send). The post's words
are the front's: it passes `render(topic) -> post text`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select

from desk import Desk, UnitOfWork
from desk.store import insert_ignore
from features.activities.config import TopicsConfig
from features.activities.mass_send import Link, Links, queue_mass_sends
from features.activities.models import Topic, TopicSchedule
from features.activities.plans import Plan, TopicError, next_occurrence

Render = Callable[[str], str]  # a topic -> the text posted to the groups

MAX_DUE_PER_RUN = 200


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


async def _post(
    desk: Desk, uow: UnitOfWork, *, group_id: str, day: date, text: str, by: str, key: str,
    render: Render, links: Sequence[Link], not_before: datetime | None = None,
) -> bool:  # fmt: skip
    """Make `text` the day's topic and queue its posts, once per `key`."""
    new = await insert_ignore(
        uow, Topic, ["source_key"], group_id=group_id, day=day, text=text, set_by=by,
        source_key=key, at=uow.now,
    )  # fmt: skip
    if new:
        post = render(text)
        await desk.notify_in(
            uow, key=key, kind="group_post", channel="qq_group", address=group_id,
            payload={"text": post}, any_hour=True,
        )  # fmt: skip
        await queue_mass_sends(desk, uow, key, post, links, not_before=not_before)
    return new


async def post_topic_now(
    desk: Desk, group_id: str, text: str, *, by: str, message_key: str, render: Render,
    links: Sequence[Link] = (),
) -> bool:  # fmt: skip
    """Today's topic, posted into the group through the outbox (and queued for the
    linked WeCom customer groups); False when this message was handled before."""

    async def step(uow: UnitOfWork) -> bool:
        return await _post(
            desk, uow, group_id=group_id, day=uow.calendar.local_date(uow.now), text=text, by=by,
            key=f"topic:{message_key}", render=render, links=links,
        )  # fmt: skip

    return await desk.write(step)


@dataclass(frozen=True)
class ScheduleView:
    id: int
    text: str
    repeat: str  # once | daily | weekly
    next_at: datetime  # UTC
    local_time: str  # "09:00"
    weekday: int | None  # 0 = Monday, weekly only

    @classmethod
    def of(cls, row: TopicSchedule) -> ScheduleView:
        return cls(row.id, row.text, row.repeat, row.next_at, row.local_time, row.weekday)


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


async def run_topic_schedules(
    desk: Desk, uow: UnitOfWork, render: Render, links: Links | None = None
) -> int:
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
        if day == today and await _post(
            desk, uow, group_id=row.group_id, day=day, text=row.text, by=row.created_by,
            key=f"topic:{row.id}:{day.isoformat()}", render=render,
            links=links(row.group_id) if links is not None else (), not_before=row.next_at,
        ):  # fmt: skip
            row.posts += 1
            queued += 1
        if row.repeat == "once":
            row.active = False
        else:
            clock = time.fromisoformat(row.local_time)
            row.next_at = next_occurrence(uow.now, tz, clock, row.weekday)
    return queued
