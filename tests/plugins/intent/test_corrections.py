"""Staff correct the intent detector in the group, in one tap (issue 13), through nonebug:
`线索` quote-replying a customer's message, `不是线索` quote-replying the bot's
acknowledgement, `意向复盘` for the managers. The OneBot adapter fills `event.reply`
from get_msg before the plugins see the event; here the events carry it already
(tests/e2e/test_intent_corrections.py goes through the adapter's get_msg).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType
from typing import cast

import pytest
from nonebot.adapters.onebot.v11 import Bot, GroupMessageEvent, Message, MessageSegment
from nonebot.adapters.onebot.v11.event import Reply, Sender
from nonebug import App

from bot.adapters.wechat import Message as WeChatMessage
from bot.adapters.wechat import MessageSegment as WeChatSegment
from bot.adapters.wechat import WeComMessageEvent
from desk import SYSTEM, Desk, FrozenClock, LeadView
from desk.phone import extract_phones
from tests.support.chat import _Anything, ask, handler_errors, no_reply
from tests.support.fake_wechat import AGENT_ID
from tests.support.nonebot_env import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    ROSTER_MANAGER_QQ,
    SELF_ID,
    adapter,
    group_event,
    private_event,
)
from tests.support.wechat_callbacks import next_msg_id
from tests.support.wechat_chat import WECOM_SELF, wecom_bot

pytestmark = pytest.mark.usefixtures("desk")

PROSPECT = 20001
OWNER = 20002
GROUP = 123456
ACK_ID = 7001  # the message id the QQ client gives the bot's acknowledgement


def texts() -> ModuleType:
    from bot.plugins.intent import texts

    return texts


@pytest.fixture(autouse=True)
def _no_handler_crash() -> Iterator[None]:
    errors = handler_errors()
    yield
    assert not errors, f"a handler raised: {errors!r}"


def quote(
    text: str, quoted: GroupMessageEvent | None = None, *, user_id: int = CONSULTANT_QQ,
    message_id: int | None = None, sender: int | None = None, quoted_text: str = "",
) -> GroupMessageEvent:  # fmt: skip
    """A group message quote-replying `quoted` (or the message `message_id` of
    `sender`), as the adapter hands it on: the reply segment gone, event.reply set."""
    event = group_event(text, user_id=user_id, group_id=GROUP)
    if quoted is not None:
        message_id, sender = quoted.message_id, quoted.user_id
        quoted_text = quoted.get_plaintext()
    assert message_id is not None and sender is not None
    event.reply = Reply(
        time=1_790_000_000, message_type="group", message_id=message_id, real_id=message_id,
        sender=Sender(user_id=sender, nickname=f"用户{sender}"), message=Message(quoted_text),
    )  # fmt: skip
    event.to_me = sender == SELF_ID
    return event


async def acknowledged(app: App, event: GroupMessageEvent, message_id: int = ACK_ID) -> str:
    """The bot's group reply to `event`, sent as the message `message_id`."""
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": GROUP, "message": Message([
                MessageSegment.at(event.user_id), MessageSegment.text(texts().GROUP_ACK)
            ])},
            result={"message_id": message_id},
        )  # fmt: skip
    return texts().GROUP_ACK


async def leads(desk: Desk) -> list[LeadView]:
    return [(await desk.lead(SYSTEM, i)).lead for i in range(1, 20) if await desk.lead_exists(i)]


async def kinds_told(desk: Desk) -> list[tuple[str, int | None]]:
    return [(n.kind, n.lead_id) for n in await desk.claim_notifications(limit=100)]


# --- 线索 -----------------------------------------------------------------------------------


async def test_an_owners_quote_reply_does_nothing(app: App, desk: Desk) -> None:
    said = group_event("明天下午我有空", user_id=PROSPECT, group_id=GROUP)
    await no_reply(app, said)  # the detector missed it
    await no_reply(app, quote("线索", said, user_id=OWNER))
    assert await leads(desk) == []


async def test_a_consultants_quote_reply_captures_the_customer_once(app: App, desk: Desk) -> None:
    said = group_event("明天下午我有空", user_id=PROSPECT, group_id=GROUP)
    await no_reply(app, said)

    line = await ask(app, quote("线索", said))
    [lead] = await leads(desk)
    assert line == texts().CAPTURED.format(lead_id=lead.id)
    assert (lead.first_message, lead.group_id, lead.name) == (
        "明天下午我有空", str(GROUP), f"用户{PROSPECT}",
    )  # fmt: skip
    assert await desk.find_lead(qq_id=str(PROSPECT)) == lead
    assert await kinds_told(desk) == [("new_lead", lead.id)]  # the consultant, as for any lead

    again = await ask(app, quote("线索", said, user_id=ROSTER_MANAGER_QQ))
    assert again == texts().ALREADY.format(lead_id=lead.id)
    assert len(await leads(desk)) == 1
    assert await kinds_told(desk) == []


async def test_a_message_captured_automatically_is_not_captured_again(app: App, desk: Desk) -> None:
    said = group_event("这车落地多少钱？", user_id=PROSPECT, group_id=GROUP)
    await acknowledged(app, said)
    [lead] = await leads(desk)
    assert await ask(app, quote("线索", said, user_id=MANAGER_QQ)) == texts().ALREADY.format(
        lead_id=lead.id
    )
    assert [e.action for e in (await desk.lead(SYSTEM, lead.id)).timeline] == ["created"]


async def test_staff_and_bot_messages_are_refused(app: App, desk: Desk) -> None:
    staff_said = group_event("明天店里有活动", user_id=ROSTER_MANAGER_QQ, group_id=GROUP)
    assert await ask(app, quote("线索", staff_said)) == texts().QUOTED_STAFF
    bot_said = quote("线索", message_id=99, sender=SELF_ID, quoted_text="欢迎新朋友")
    assert await ask(app, bot_said) == texts().QUOTED_BOT
    assert await leads(desk) == []


async def test_a_plain_lead_number_still_shows_the_lead(app: App, desk: Desk) -> None:
    # 线索 <号> is the desk chat's (a DM-only list); only a quote or a phone is a capture
    assert "私聊" in await ask(app, group_event("线索 1", user_id=CONSULTANT_QQ, group_id=GROUP))


# --- 不是线索 --------------------------------------------------------------------------------


async def test_not_a_lead_on_the_ack_withdraws_and_the_person_is_left_alone(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    said = group_event("这车落地多少钱？", user_id=PROSPECT, group_id=GROUP)
    await acknowledged(app, said)
    [lead] = await leads(desk)
    await kinds_told(desk)  # the new-lead DM

    line = await ask(app, quote("不是线索", message_id=ACK_ID, sender=SELF_ID))

    assert line == texts().WITHDRAWN.format(lead_id=lead.id)
    detail = await desk.lead(SYSTEM, lead.id)
    assert (detail.lead.stage, detail.timeline[-1].action) == ("invalid", "withdraw")
    assert await kinds_told(desk) == [("lead_withdrawn", lead.id)]  # the consultant's DM

    desk_clock.advance(timedelta(days=1))  # a new day: an ack would be due again
    await no_reply(app, group_event("落地价多少？", user_id=PROSPECT, group_id=GROUP))
    assert (await desk.lead(SYSTEM, lead.id)).lead.stage == "invalid"
    assert await kinds_told(desk) == []


async def test_a_lead_already_followed_up_is_not_withdrawn(app: App, desk: Desk) -> None:
    said = group_event("这车落地多少钱？", user_id=PROSPECT, group_id=GROUP)
    await acknowledged(app, said)
    [lead] = await leads(desk)
    wang = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert wang is not None
    await desk.follow_up(wang.actor(), lead.id, "电话联系了，在比价")

    line = await ask(app, quote("不是线索", message_id=ACK_ID, sender=SELF_ID))
    assert line == texts().NOT_WITHDRAWABLE.format(lead_id=lead.id, stage="跟进中")
    assert "战败" in line
    assert (await desk.lead(SYSTEM, lead.id)).lead.stage == "following"


async def test_not_a_lead_from_an_owner_or_without_a_quote(app: App, desk: Desk) -> None:
    said = group_event("这车落地多少钱？", user_id=PROSPECT, group_id=GROUP)
    await acknowledged(app, said)
    await no_reply(app, quote("不是线索", message_id=ACK_ID, sender=SELF_ID, user_id=OWNER))
    bare = group_event("不是线索", user_id=CONSULTANT_QQ, group_id=GROUP)
    assert await ask(app, bare) == texts().NOT_LEAD_NEEDS_QUOTE
    unknown = quote("不是线索", message_id=4242, sender=SELF_ID)
    assert await ask(app, unknown) == texts().NOT_LEAD_UNKNOWN
    assert [lead.stage for lead in await leads(desk)] == ["new"]


# --- 意向复盘 --------------------------------------------------------------------------------


async def test_the_weekly_review_lists_both_kinds_in_a_dm(app: App, desk: Desk) -> None:
    missed = group_event("明天下午我有空", user_id=PROSPECT, group_id=GROUP)
    await no_reply(app, missed)
    await ask(app, quote("线索", missed))
    wrong = group_event("这车落地多少钱？", user_id=OWNER, group_id=GROUP)
    await acknowledged(app, wrong)
    await ask(app, quote("不是线索", message_id=ACK_ID, sender=SELF_ID, user_id=ROSTER_MANAGER_QQ))

    in_group = group_event("意向复盘", user_id=MANAGER_QQ, group_id=GROUP)
    assert await ask(app, in_group) == texts().REVIEW_DM_ONLY
    refused = await ask(app, private_event("意向复盘", user_id=CONSULTANT_QQ))
    assert refused == "这个命令仅限销售经理使用。"

    review = await ask(app, private_event("意向复盘", user_id=MANAGER_QQ))
    assert "漏判→线索 群聊 王顾问：明天下午我有空" in review
    assert "误判→不是线索 群聊 周经理：这车落地多少钱？" in review
    assert review.endswith("1\tgroup\t明天下午我有空\n0\tgroup\t这车落地多少钱？")


# --- WeCom: 线索 <手机号> <原话> after forwarding ---------------------------------------------


async def test_wecom_staff_capture_by_phone_after_forwarding(app: App, desk: Desk) -> None:
    # WeCom tells the app nothing of a forwarded message's sender: the phone is the handle
    await desk.add_member(SYSTEM, name="赵顾问", wecom_userid="zhaoyi", dm_channel="wecom")
    event = WeComMessageEvent(
        self_id=WECOM_SELF, agent_id=AGENT_ID, to_user="ww0123", from_user="zhaoyi",
        create_time=1_790_000_000, raw={}, msg_id=next_msg_id(), msg_type="text",
        message=WeChatMessage(WeChatSegment.text("线索 13812345678 想周末来看看车")),
    )  # fmt: skip
    caught = _Anything()
    async with app.test_matcher() as ctx:
        ctx.receive_event(wecom_bot(ctx), event)
        ctx.should_call_send(event, cast(str, caught), result=[{"errcode": 0}])
    line = caught.value

    lead = await desk.find_lead(phone="13812345678")
    assert lead is not None and line == texts().CAPTURED.format(lead_id=lead.id)
    assert (lead.channel, lead.first_message) == ("wecom", "13812345678 想周末来看看车")
    review = await ask(app, private_event("意向复盘", user_id=MANAGER_QQ))
    assert "赵顾问：138****5678 想周末来看看车" in review
    # the labelled data's phones are made up (features/intent/labelled/README.md)
    assert review.endswith("1\tdm\t13800005678 想周末来看看车")
    assert extract_phones("13800005678") == ["13800005678"]


async def test_not_a_lead_on_the_customers_own_message_withdraws_too(app: App, desk: Desk) -> None:
    said = group_event("这车落地多少钱？", user_id=PROSPECT, group_id=GROUP)
    await acknowledged(app, said)
    [lead] = await leads(desk)
    line = await ask(app, quote("不是线索", said, user_id=ROSTER_MANAGER_QQ))
    assert line == texts().WITHDRAWN.format(lead_id=lead.id)
    assert (await desk.lead(SYSTEM, lead.id)).lead.stage == "invalid"
