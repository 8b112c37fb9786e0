"""Outbox delivery of features' group posts (topics, reminders, waitlist promotions):
paced through the group send queue, @-mentions first, never resent after a timeout."""

from __future__ import annotations

from nonebot.adapters.onebot.v11 import Bot, Message, MessageSegment, NetworkError
from nonebug import App
from sqlalchemy import select

from desk import Desk
from desk.models import OutboxMessage
from tests.bot.conftest import SELF_ID, adapter


async def queue_post(desk: Desk, key: str, payload: dict) -> None:
    await desk.notify(key=key, kind="group_post", channel="qq_group", address="123456",
                      payload=payload, any_hour=True)  # fmt: skip


async def status_of(desk: Desk, key: str) -> str:
    async with desk.db.reader() as session:
        status = await session.scalar(select(OutboxMessage.status).where(OutboxMessage.key == key))
        assert status is not None
        return status


async def deliver(app: App, desk: Desk, expect: Message, **outcome) -> None:
    from bot.delivery import QQ_CHANNELS, deliver_one

    [item] = await desk.claim_notifications(QQ_CHANNELS)
    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.should_call_api("send_group_msg", {"group_id": 123456, "message": expect}, **outcome)
        await deliver_one(desk, bot, item)


async def test_a_post_mentions_its_people_then_says_its_text(app: App, desk: Desk) -> None:
    await queue_post(desk, "event:1:promoted:7", {"text": "候补转正啦", "at": [20001, "20002"]})
    expected = (
        MessageSegment.at(20001)
        + " "
        + MessageSegment.at(20002)
        + " "
        + MessageSegment.text("候补转正啦")
    )
    await deliver(app, desk, expected, result={"message_id": 5})
    assert await status_of(desk, "event:1:promoted:7") == "sent"


async def test_a_post_that_timed_out_is_not_sent_again(app: App, desk: Desk) -> None:
    await queue_post(desk, "topic:1:2026-11-27", {"text": "今日话题：冬季用车"})
    await deliver(
        app,
        desk,
        Message("今日话题：冬季用车"),
        exception=NetworkError("WebSocket call api timeout"),
    )
    assert await status_of(desk, "topic:1:2026-11-27") == "uncertain"
    assert await desk.claim_notifications(["qq_group"]) == []


async def test_a_post_without_text_is_given_up(app: App, desk: Desk) -> None:
    from bot.delivery import QQ_CHANNELS, deliver_one

    await queue_post(desk, "empty", {"text": ""})
    [item] = await desk.claim_notifications(QQ_CHANNELS)
    async with app.test_api() as ctx:  # no API call expected at all
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        await deliver_one(desk, bot, item)
    assert await status_of(desk, "empty") == "dead"
