"""Purchase intent (spec §3.4) through nonebug: a prospect's question becomes a lead for the
consultant on duty (王顾问, 10001), the asker hears back once a day, phones stay out of groups.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType

import pytest
from nonebot.adapters.onebot.v11 import Bot, GroupMessageEvent, Message, MessageSegment
from nonebug import App

from desk import SYSTEM, Desk, FrozenClock, LeadView
from tests.support.chat import handler_errors, no_reply, reply_to
from tests.support.nonebot_env import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    ROSTER_MANAGER_QQ,
    SELF_ID,
    adapter,
    group_event,
    private_event,
)

pytestmark = pytest.mark.usefixtures("desk")

PROSPECT = 20001
GROUP = 123456
PHONE = "13812345678"
MASKED = "138****5678"


def texts() -> ModuleType:
    """The plugin's texts module, imported once the session has loaded the plugins."""
    from bot.plugins.intent import texts

    return texts


def at_reply(user: int, text: str) -> Message:
    """The group acknowledgement: an @ to the asker, then the text."""
    return Message([MessageSegment.at(user), MessageSegment.text(text)])


@pytest.fixture(autouse=True)
def _no_handler_crash() -> Iterator[None]:
    errors = handler_errors()
    yield
    assert not errors, f"a handler raised: {errors!r}"


async def all_leads(desk: Desk) -> list[LeadView]:
    return [(await desk.lead(SYSTEM, i)).lead for i in range(1, 20) if await desk.lead_exists(i)]


async def only_lead(desk: Desk) -> LeadView:
    leads = await all_leads(desk)
    assert len(leads) == 1, leads
    return leads[0]


async def actions(desk: Desk, lead_id: int) -> list[str]:
    return [entry.action for entry in (await desk.lead(SYSTEM, lead_id)).timeline]


# --- a prospect in a group -----------------------------------------------------------------------


async def test_group_intent_becomes_a_lead_and_gets_an_at_reply(app: App, desk: Desk) -> None:
    event = group_event("这车落地多少钱？", user_id=PROSPECT, group_id=GROUP)
    assert await reply_to(app, event) == at_reply(PROSPECT, texts().GROUP_ACK)

    lead = await only_lead(desk)
    assert (lead.channel, lead.source) == ("qq_group", f"qq_group:{GROUP}")
    assert lead.group_id == str(GROUP)
    assert (lead.first_message, lead.name, lead.stage, lead.level) == (
        "这车落地多少钱？", f"用户{PROSPECT}", "new", "N",
    )  # fmt: skip
    assert await desk.find_lead(qq_id=str(PROSPECT)) == lead
    wang = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert wang is not None and lead.consultant_id == wang.id

    # the consultant is told by DM (through the outbox), with the context
    [note] = await desk.claim_notifications()
    assert (note.kind, note.recipient_id, note.lead_id) == ("new_lead", wang.id, lead.id)
    assert note.payload["message"] == "这车落地多少钱？"
    assert note.payload["source"] == f"qq_group:{GROUP}"


async def test_one_group_reply_a_day(app: App, desk: Desk, desk_clock: FrozenClock) -> None:
    first = group_event("现在有优惠吗？", user_id=PROSPECT, group_id=GROUP)
    assert await reply_to(app, first) == at_reply(PROSPECT, texts().GROUP_ACK)
    await no_reply(app, group_event("周末能试驾吗？", user_id=PROSPECT, group_id=GROUP))

    lead = await only_lead(desk)  # the same person: the lead is refreshed, not doubled
    assert await actions(desk, lead.id) == ["created", "seen_again"]

    desk_clock.advance(timedelta(days=1))
    again = group_event("首付多少？", user_id=PROSPECT, group_id=GROUP)
    assert await reply_to(app, again) == at_reply(PROSPECT, texts().GROUP_ACK)
    assert len(await all_leads(desk)) == 1


async def test_another_asker_gets_an_own_reply(app: App, desk: Desk) -> None:
    await reply_to(app, group_event("落地多少钱？", user_id=PROSPECT, group_id=GROUP))
    other = group_event("落地多少钱？", user_id=PROSPECT + 1, group_id=GROUP)
    assert await reply_to(app, other) == at_reply(PROSPECT + 1, texts().GROUP_ACK)
    assert len(await all_leads(desk)) == 2


@pytest.mark.parametrize(
    "text",
    [
        f"我电话{PHONE}，落地价多少？",
        "想试驾，电话 138 1234 5678",
        "报价发我 +86 138-1234-5678 谢谢",
    ],
)
async def test_phone_is_captured_and_masked_in_the_group(app: App, desk: Desk, text: str) -> None:
    # reply_to fails on any other API call: this is every message the group gets
    message = await reply_to(app, group_event(text, user_id=PROSPECT, group_id=GROUP))
    assert message == at_reply(PROSPECT, texts().GROUP_ACK_PHONE.format(masked=MASKED))
    assert PHONE not in str(message) and "1234 5678" not in str(message)
    assert MASKED in message.extract_plain_text()

    lead = await only_lead(desk)
    assert lead.phone == PHONE
    assert await desk.find_lead(phone=PHONE) == lead


async def test_phone_is_never_echoed_on_a_second_message(app: App, desk: Desk) -> None:
    await reply_to(app, group_event("落地多少钱？", user_id=PROSPECT, group_id=GROUP))
    await no_reply(
        app, group_event(f"我的号码 {PHONE}，有优惠吗", user_id=PROSPECT, group_id=GROUP)
    )
    assert (await only_lead(desk)).phone == PHONE  # filled in on the existing lead


# --- a prospect in a DM ------------------------------------------------------------------------------


async def test_dm_intent_becomes_a_lead(app: App, desk: Desk) -> None:
    event = private_event("想试驾一下，周末可以吗？", user_id=PROSPECT)
    assert await reply_to(app, event) == Message(MessageSegment.text(texts().DM_ACK))
    lead = await only_lead(desk)
    assert (lead.channel, lead.source, lead.group_id) == ("qq_dm", "qq_dm", None)
    assert lead.first_message == "想试驾一下，周末可以吗？"
    assert await desk.find_lead(qq_id=str(PROSPECT)) == lead
    await no_reply(app, private_event("能分期吗？首付多少", user_id=PROSPECT))  # once a day


async def test_dm_with_phone(app: App, desk: Desk) -> None:
    event = private_event(f"{PHONE} 置换的话能优惠多少？", user_id=PROSPECT)
    expected = texts().DM_ACK_PHONE.format(masked=MASKED)
    assert await reply_to(app, event) == Message(MessageSegment.text(expected))
    assert (await only_lead(desk)).phone == PHONE


# --- what is not a lead -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "油价又涨了，92都快8块了",
        "今日油价",
        "加满一箱油四百多，肉疼",
        "今天回老家，过路费花了180",
        "上周保养花了680，你们都多少",
        "我去年落地23万，现在降了两万，心疼",
        "提车作业🎉🎉🎉",
        "成交了没",
        "今天大家签到了吗",
    ],
)
async def test_owner_chat_is_not_a_lead(app: App, desk: Desk, text: str) -> None:
    await no_reply(app, group_event(text, user_id=PROSPECT, group_id=GROUP))
    await no_reply(app, private_event(text, user_id=PROSPECT))
    assert await all_leads(desk) == []


@pytest.mark.parametrize("staff", [CONSULTANT_QQ, ROSTER_MANAGER_QQ, MANAGER_QQ])
async def test_staff_asking_prices_is_not_a_lead(app: App, desk: Desk, staff: int) -> None:
    await no_reply(app, group_event("这车落地多少钱？", user_id=staff, group_id=GROUP))
    await no_reply(app, group_event("多少钱", user_id=staff, group_id=GROUP))
    assert await all_leads(desk) == []


async def test_a_consultants_command_about_prices_is_not_a_lead(app: App, desk: Desk) -> None:
    await desk.capture(
        channel="qq_group:123456", qq_id="30001", name="张先生", message="落地多少钱"
    )
    reply = await reply_to(app, private_event("跟进 1 客户问落地多少钱", user_id=CONSULTANT_QQ))
    assert reply.extract_plain_text().startswith("已记录 #1 跟进")  # deskchat's answer, alone
    assert len(await all_leads(desk)) == 1


async def test_intent_is_scored_and_the_roster_read_once_per_message(
    app: App, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-filter's interest and the plugin's rule share one score; the staff
    check is the front's roles lookup, shared with every command table."""
    import bot.plugins.intent as intent_plugin
    import bot.roles

    scored: list[str] = []
    looked_up: list[str] = []
    detect, staff_member = intent_plugin.detect_intent, bot.roles.staff_member

    def counting_detect(text: str, vocabulary: object) -> object:
        scored.append(text)
        return detect(text, vocabulary)  # type: ignore[arg-type]

    async def counting_staff_member(*args: object) -> object:
        looked_up.append(str(args[-1]))
        return await staff_member(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(intent_plugin, "detect_intent", counting_detect)
    monkeypatch.setattr(intent_plugin, "_scored", {})  # no score kept from earlier tests
    monkeypatch.setattr(bot.roles, "staff_member", counting_staff_member)
    event = group_event("这车落地多少钱？", user_id=PROSPECT, group_id=GROUP)
    assert await reply_to(app, event) == at_reply(PROSPECT, texts().GROUP_ACK)
    assert scored == ["这车落地多少钱？"]
    assert looked_up == [str(PROSPECT)]


# --- the same message twice --------------------------------------------------------------------------


async def deliver_twice(app: App, event: GroupMessageEvent) -> None:
    """The prospect's message arrives twice (a QQ client's redelivery): one reply only."""
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": GROUP, "message": at_reply(PROSPECT, texts().GROUP_ACK)},
            result={"message_id": 1},
        )
        ctx.receive_event(bot, event.model_copy())


async def test_the_same_message_twice_is_one_lead(app: App, desk: Desk) -> None:
    """No dedupe filter installed (as in these tests): the desk's event key does it."""
    await deliver_twice(
        app, group_event("这车落地多少钱？", user_id=PROSPECT, group_id=GROUP, message_id=777)
    )
    lead = await only_lead(desk)
    assert await actions(desk, lead.id) == ["created"]  # not even a 撞单 entry
    assert len(await desk.claim_notifications()) == 1


async def test_the_same_message_twice_next_day_is_still_one_capture(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    """A redelivery after the daily reply window: the event key still holds, no new reply."""
    event = group_event("这车落地多少钱？", user_id=PROSPECT, group_id=GROUP, message_id=778)
    await reply_to(app, event)
    desk_clock.advance(timedelta(days=1))
    await no_reply(app, event.model_copy())
    assert await actions(desk, (await only_lead(desk)).id) == ["created"]


async def test_the_dedupe_filter_drops_the_copy_first(app: App, desk: Desk) -> None:
    from bot.hooks import install_dedupe, uninstall_dedupe

    install_dedupe()
    try:
        await deliver_twice(
            app, group_event("首付多少？", user_id=PROSPECT, group_id=GROUP, message_id=779)
        )
    finally:
        uninstall_dedupe()
    assert await actions(desk, (await only_lead(desk)).id) == ["created"]


# --- odd input never crashes ---------------------------------------------------------------------------


async def test_a_long_message_keeps_a_short_note(app: App, desk: Desk) -> None:
    text = "这车落地多少钱？" + "啊" * 10_240
    assert await reply_to(app, group_event(text, user_id=PROSPECT)) == at_reply(
        PROSPECT, texts().GROUP_ACK
    )
    assert (await only_lead(desk)).first_message == text[:500]


@pytest.mark.parametrize(
    "text",
    [
        "🚗🚗这车落地多少钱？😀",
        "'; DROP TABLE leads;-- 落地多少钱？",
        "落地多少钱？<script>alert(1)</script>",
    ],
)
async def test_odd_text_with_intent_is_stored_verbatim(app: App, desk: Desk, text: str) -> None:
    assert await reply_to(app, group_event(text, user_id=PROSPECT)) == at_reply(
        PROSPECT, texts().GROUP_ACK
    )
    assert (await only_lead(desk)).first_message == text


async def test_unstorable_text_is_ignored_quietly(app: App, desk: Desk) -> None:
    await no_reply(app, group_event("落地多少钱？\x00", user_id=PROSPECT))
    assert await all_leads(desk) == []


async def test_prospect_message_starting_with_a_command_word_is_still_a_lead(
    app: App, desk: Desk
) -> None:
    """'今日 有什么优惠吗？' from an owner is not the 今日 command: it reaches the intent plugin."""
    event = group_event("今日 有什么优惠吗？想置换一台", user_id=PROSPECT, group_id=GROUP)
    assert await reply_to(app, event) == at_reply(PROSPECT, texts().GROUP_ACK)
    lead = await only_lead(desk)
    assert lead.first_message == "今日 有什么优惠吗？想置换一台"
