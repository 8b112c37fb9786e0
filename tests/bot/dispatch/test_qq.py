"""The dispatcher's QQ transport: DMs, and features' group posts (topics, reminders,
waitlist promotions) paced through the group send queue, @-mentions first; never
resent after anything that may have arrived; one message claimed at a time."""

from __future__ import annotations

from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import ActionFailed, Bot, Message, MessageSegment, NetworkError
from nonebug import App
from sqlalchemy import select

from desk import Desk, FrozenClock
from desk.models import OutboxMessage
from tests.support.nonebot_env import SELF_ID, adapter


async def queue_post(desk: Desk, key: str, payload: dict) -> None:
    await desk.notify(key=key, kind="group_post", channel="qq_group", address="123456",
                      payload=payload, any_hour=True)  # fmt: skip


async def status_of(desk: Desk, key: str) -> str:
    async with desk.db.reader() as session:
        status = await session.scalar(select(OutboxMessage.status).where(OutboxMessage.key == key))
        assert status is not None
        return status


async def deliver(app: App, desk: Desk, expect: Message, **outcome) -> None:
    from bot.dispatch import deliver_one, qq

    [item] = await desk.claim_notifications(list(qq.CHANNELS))
    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.should_call_api("send_group_msg", {"group_id": 123456, "message": expect}, **outcome)
        await deliver_one(desk, qq.senders(bot, desk.settings.tz), item)


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
    from bot.dispatch import deliver_one, qq

    await queue_post(desk, "empty", {"text": ""})
    [item] = await desk.claim_notifications(list(qq.CHANNELS))
    async with app.test_api() as ctx:  # no API call expected at all
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        await deliver_one(desk, qq.senders(bot, desk.settings.tz), item)
    assert await status_of(desk, "empty") == "dead"


async def queue_dm(
    desk: Desk, key: str, address: str = "30001", text: str = "您的积分到账啦"
) -> None:
    await desk.notify(key=key, kind="owner_dm", channel="qq", address=address,
                      payload={"text": text}, any_hour=True)  # fmt: skip


async def deliver_dm(app: App, desk: Desk, failure: Exception) -> None:
    from bot.dispatch import deliver_one, qq

    [item] = await desk.claim_notifications(list(qq.CHANNELS), 1)
    async with app.test_api() as ctx:  # exactly one send: no retry in the same breath
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.should_call_api(
            "send_private_msg",
            {"user_id": 30001, "message": Message(MessageSegment.text("您的积分到账啦"))},
            exception=failure,
        )
        await deliver_one(desk, qq.senders(bot, desk.settings.tz), item)


@pytest.mark.parametrize(
    "failure",
    [
        ActionFailed(status="failed", retcode=100, msg="SEND_MSG_API_ERROR"),  # go-cqhttp
        ActionFailed(status="failed", retcode=200, message="发送消息失败"),
        ActionFailed(status="failed"),  # no retcode at all
    ],
)
async def test_a_dm_the_client_failed_is_never_sent_again(
    app: App, desk: Desk, desk_clock: FrozenClock, failure: ActionFailed
) -> None:
    await queue_dm(desk, "reward:1")
    await deliver_dm(app, desk, failure)
    assert await status_of(desk, "reward:1") == "uncertain"  # it may have arrived
    desk_clock.advance(days=1)
    assert await desk.claim_notifications(["qq"]) == []


async def test_a_dm_the_client_refused_as_a_request_is_retried_or_given_up(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    await queue_dm(desk, "token")
    await deliver_dm(app, desk, ActionFailed(status="failed", retcode=1403, msg="token"))
    assert await status_of(desk, "token") == "pending"  # surely not sent: retried later
    await queue_dm(desk, "no-api")
    desk_clock.advance(hours=1)  # past the first one's backoff: claimed first again
    await deliver_dm(app, desk, ActionFailed(status="failed", retcode=1403, msg="token"))
    await deliver_dm(app, desk, ActionFailed(status="failed", retcode=1404, msg="no such API"))
    assert await status_of(desk, "no-api") == "dead"  # refused again every time


async def test_a_post_the_client_failed_is_neither_retried_nor_resent(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    await queue_post(desk, "topic:2", {"text": "今日话题：冬季用车"})
    failure = ActionFailed(status="failed", retcode=100, msg="SEND_MSG_API_ERROR")
    await deliver(app, desk, Message("今日话题：冬季用车"), exception=failure)
    assert await status_of(desk, "topic:2") == "uncertain"
    desk_clock.advance(days=1)
    assert await desk.claim_notifications(["qq_group"]) == []


class SlowClient(Bot):
    """A QQ client whose every send takes `seconds` of the desk's clock; `crash_on`
    stops the process (as a kill would) while sending to that address."""

    def __init__(self, desk: Desk, clock: FrozenClock, seconds: float, crash_on: int = 0) -> None:
        super().__init__(adapter(), str(SELF_ID))
        self.desk, self.clock, self.seconds, self.crash_on = desk, clock, seconds, crash_on
        self.sent: list[tuple[int, str, bool]] = []  # (address, status, lease still held)

    async def call_api(self, api: str, **data: Any) -> Any:
        user_id = data["user_id"]
        async with self.desk.db.reader() as session:
            row = (await session.scalars(
                select(OutboxMessage).where(OutboxMessage.address == str(user_id))
            )).one()  # fmt: skip
        now = self.clock.now()
        self.sent.append(
            (user_id, row.status, row.lease_until is not None and row.lease_until > now)
        )
        self.clock.advance(seconds=self.seconds)
        if user_id == self.crash_on:
            raise Crashed
        return {"message_id": len(self.sent)}


class Crashed(BaseException):
    """The process died: nothing after this runs."""


async def deliver_everything(desk: Desk, bot: Bot) -> None:
    from bot.dispatch import deliver_round, qq

    while await deliver_round(desk, qq.senders(bot, desk.settings.tz)):
        pass


async def test_a_slow_batch_sends_every_message_within_its_own_lease(
    desk: Desk, desk_clock: FrozenClock
) -> None:
    for n in range(4):
        await queue_dm(desk, f"dm:{n}", address=str(30001 + n))
    # Each send takes more than half a lease (e.g. the client's 30 s API timeout, again
    # and again): a message claimed with the ones before it would be sent after its
    # lease ran out, when any claim may already have marked it uncertain.
    client = SlowClient(desk, desk_clock, desk.settings.outbox.lease_seconds * 0.6)
    await deliver_everything(desk, client)
    assert [(status, held) for _, status, held in client.sent] == [("sending", True)] * 4
    assert [await status_of(desk, f"dm:{n}") for n in range(4)] == ["sent"] * 4


async def test_a_crash_mid_batch_leaves_only_the_message_in_flight_uncertain(
    desk: Desk, desk_clock: FrozenClock
) -> None:
    for n in range(3):
        await queue_dm(desk, f"dm:{n}", address=str(30001 + n))
    with pytest.raises(Crashed):
        await deliver_everything(desk, SlowClient(desk, desk_clock, 1, crash_on=30002))
    desk_clock.advance(seconds=desk.settings.outbox.lease_seconds + 1)
    restarted = SlowClient(desk, desk_clock, 1)
    await deliver_everything(desk, restarted)
    assert [address for address, _, _ in restarted.sent] == [30003]
    assert [await status_of(desk, f"dm:{n}") for n in range(3)] == ["sent", "uncertain", "sent"]
