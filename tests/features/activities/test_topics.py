"""话题 without NoneBot: plans and their rules, a topic posted now (to the QQ group
and the linked WeCom customer groups), schedules and the minute job."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from desk import Desk, FrozenClock, UnitOfWork
from desk.models import OutboxMessage
from features.activities.config import ActivitiesConfig
from features.activities.mass_send import queue_mass_sends
from features.activities.plans import TopicError, next_occurrence, once, repeating, topic_text
from features.activities.topics import (
    cancel_schedule,
    list_schedules,
    post_topic_now,
    run_topic_schedules,
    schedule_topic,
    todays_topic,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SH).astimezone(UTC)  # Friday
LINKS = [("wrA", "zhangsan"), ("wrB", "lisi")]


def render(text: str) -> str:
    return f"<{text}>"


def local(dt: datetime) -> datetime:
    return dt.astimezone(SH)


async def outbox(desk: Desk) -> list[tuple[str, str, str, dict]]:
    async def step(uow: UnitOfWork) -> list[tuple[str, str, str, dict]]:
        rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(r.channel, r.address, r.key, r.payload) for r in rows]

    return await desk.read(step)


def test_next_occurrence() -> None:
    nine = time(9, 0)
    assert local(next_occurrence(NOW, SH, nine, None)).day == 28
    assert local(next_occurrence(NOW, SH, time(10, 1), None)).day == 27
    assert local(next_occurrence(NOW, SH, time(10, 0), None)).day == 28  # strictly after
    assert local(next_occurrence(NOW, SH, nine, 4)).day == 4  # next Friday, Dec 4
    assert local(next_occurrence(NOW, SH, time(11, 0), 4)).day == 27


def test_plans_and_their_rules(config: ActivitiesConfig) -> None:
    cfg = config.topics
    tomorrow = NOW + timedelta(days=1)
    assert once(tomorrow, NOW, SH, cfg).repeat == "once"
    with pytest.raises(TopicError) as past:
        once(NOW - timedelta(minutes=1), NOW, SH, cfg)
    assert past.value.kind == "past" and past.value.params["at"] == NOW - timedelta(minutes=1)
    with pytest.raises(TopicError) as far:
        once(NOW + timedelta(days=cfg.max_days_ahead + 1), NOW, SH, cfg)
    assert (far.value.kind, far.value.params) == ("too_far", {"days": cfg.max_days_ahead})
    weekly = repeating(time(9, 0, 30), 0, NOW, SH)
    assert (weekly.repeat, weekly.local_time, local(weekly.at).day) == ("weekly", time(9), 30)
    assert repeating(time(9), None, NOW, SH).repeat == "daily"


@pytest.mark.parametrize(
    ("text", "kind"), [("", "usage"), ("\x00 ", "usage"), ("长" * 201, "too_long")]
)
def test_topic_text_refused(config: ActivitiesConfig, text: str, kind: str) -> None:
    with pytest.raises(TopicError) as caught:
        topic_text(text, config.topics)
    assert caught.value.kind == kind


def test_topic_text_is_cleaned(config: ActivitiesConfig) -> None:
    assert topic_text(" 🚗\x00聊\u200d聊\x07\n车 ", config.topics) == "🚗聊\u200d聊\n车"


async def test_a_topic_now_goes_to_the_group_and_its_customer_groups(
    desk: Desk, config: ActivitiesConfig
) -> None:
    assert await todays_topic(desk, config.topics, "1") in config.topics.defaults
    new = await post_topic_now(
        desk, "1", "保养", by="qq:1", message_key="m1", render=render, links=LINKS
    )
    again = await post_topic_now(
        desk, "1", "保养", by="qq:1", message_key="m1", render=render, links=LINKS
    )
    assert (new, again) == (True, False)
    assert await todays_topic(desk, config.topics, "1") == "保养"
    assert await outbox(desk) == [
        ("qq_group", "1", "topic:m1", {"text": "<保养>"}),
        ("wecom_group", "wrA", "topic:m1:wecom:wrA", {"text": "<保养>", "sender": "zhangsan"}),
        ("wecom_group", "wrB", "topic:m1:wecom:wrB", {"text": "<保养>", "sender": "lisi"}),
    ]


async def test_mass_send_keys_stay_within_the_outbox_limit(desk: Desk) -> None:
    chat = "w" * 128

    async def step(uow: UnitOfWork) -> int:
        return await queue_mass_sends(desk, uow, "event:" + "x" * 60, "hi", [(chat, "zs")])

    assert await desk.write(step) == 1
    [(_, address, key, _)] = await outbox(desk)
    assert address == chat and len(key) <= 128


async def test_schedules_are_posted_by_the_minute_job(
    desk: Desk, clock: FrozenClock, config: ActivitiesConfig
) -> None:
    cfg = config.topics
    daily = repeating(time(9), None, NOW, SH)
    view = await schedule_topic(desk, cfg, "1", "早安", daily, by="qq:1", message_key="s1")
    assert view is not None and view.local_time == "09:00"
    assert await schedule_topic(desk, cfg, "1", "早安", daily, by="qq:1", message_key="s1") is None
    one = once(NOW + timedelta(hours=1), NOW, SH, cfg)
    second = await schedule_topic(desk, cfg, "1", "油耗", one, by="qq:1", message_key="s2")
    assert second is not None
    assert [v.text for v in await list_schedules(desk, "1")] == ["油耗", "早安"]

    async def job(uow: UnitOfWork) -> int:
        return await run_topic_schedules(desk, uow, render, lambda group: LINKS[:1])

    clock.set(NOW + timedelta(hours=1))
    assert await desk.write(job) == 1
    assert await desk.write(job) == 0  # a rerun queues nothing twice
    assert [v.text for v in await list_schedules(desk, "1")] == ["早安"]
    clock.set(datetime(2026, 11, 28, 9, 0, tzinfo=SH))
    assert await desk.write(job) == 1
    assert [(c, key) for c, _, key, _ in await outbox(desk)] == [
        ("qq_group", f"topic:{second.id}:2026-11-27"),
        ("wecom_group", f"topic:{second.id}:2026-11-27:wecom:wrA"),
        ("qq_group", f"topic:{view.id}:2026-11-28"),
        ("wecom_group", f"topic:{view.id}:2026-11-28:wecom:wrA"),
    ]
    assert await cancel_schedule(desk, "1", view.id)
    assert not await cancel_schedule(desk, "1", view.id)
    assert await list_schedules(desk, "1") == []


async def test_too_many_schedules(desk: Desk, config: ActivitiesConfig) -> None:
    cfg = config.topics.model_copy(update={"max_schedules_per_group": 1})
    plan = repeating(time(9), None, NOW, SH)
    await schedule_topic(desk, cfg, "1", "a", plan, by="qq:1", message_key="s1")
    with pytest.raises(TopicError) as caught:
        await schedule_topic(desk, cfg, "1", "b", plan, by="qq:1", message_key="s2")
    assert (caught.value.kind, caught.value.params) == ("too_many", {"max": 1})
    assert await cancel_schedule(desk, "2", 1) is False  # another group's number
