"""荐友购车 (spec §3.3) through nonebug, as owners, friends, consultants and managers use it.

The desk fixture's clock stands at Friday 2026-11-27 10:00 Shanghai; 王顾问 (10001) is
the only consultant on duty, so every lead captured in a test is his. Every group
reply goes through `said`, which insists the full phone number is never in it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import (
    ActionFailed,
    Adapter,
    Bot,
    Event,
    GroupMessageEvent,
    MessageEvent,
)
from nonebug import App
from sqlalchemy import select

from bot.roles import MANAGER
from desk import SYSTEM, Actor, Desk, FrozenClock
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

OWNER = 20001
OTHER_OWNER = 20002
FRIEND = 30001
GROUP = 123456
PHONE = "13812345678"
MASKED = "138****5678"
STAFF = [
    pytest.param(CONSULTANT_QQ, id="consultant"),
    pytest.param(MANAGER_QQ, id="superuser"),
    pytest.param(ROSTER_MANAGER_QQ, id="roster-manager"),
]
CODE = re.compile(r"TJ[0-9A-Z]{5}")


def texts() -> ModuleType:
    from bot.plugins.referral import texts

    return texts


def usage(command: str) -> str:
    return texts().usage(command)


def dm(user: int, text: str, message_id: int | None = None) -> MessageEvent:
    return private_event(text, user_id=user, message_id=message_id)


def group(user: int, text: str, message_id: int | None = None) -> MessageEvent:
    return group_event(text, user_id=user, group_id=GROUP, message_id=message_id)


WHERE = [pytest.param(dm, id="dm"), pytest.param(group, id="group")]


async def said(app: App, event: MessageEvent) -> str:
    """The bot's one reply, as text. In a group it may @ the asker and never shows a phone."""
    message = await reply_to(app, event)
    types = [segment.type for segment in message]
    if isinstance(event, GroupMessageEvent):
        assert types in (["text"], ["at", "text"]), message
        assert PHONE not in str(message) and "138 1234 5678" not in str(message)
    else:
        assert types == ["text"], message
    return message.extract_plain_text()


async def deliver(app: App, event: Event) -> None:
    """A notice or request: the bot answers nothing (nonebug fails on any API call)."""
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)


async def deliver_invite(app: App, event: Event, name: str | None = "小刘") -> None:
    """An invite the bot attributes: it asks the QQ client for the friend's name
    (`None`: the client fails to tell) and answers nothing."""
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "get_group_member_info",
            {"group_id": GROUP, "user_id": FRIEND},
            result={"user_id": FRIEND, "nickname": name, "card": ""} if name else None,
            exception=None if name else ActionFailed(retcode=100, message="no such member"),
        )


def _event(data: dict[str, Any]) -> Event:
    event = Adapter.json_to_event(data)
    assert event is not None
    return event


def member_joined(
    user: int, operator: int, *, sub_type: str = "invite", time: int = 1_790_000_100
) -> Event:
    return _event({
        "time": time, "self_id": SELF_ID, "post_type": "notice", "notice_type": "group_increase",
        "sub_type": sub_type, "group_id": GROUP, "operator_id": operator, "user_id": user,
    })  # fmt: skip


def member_left(user: int, *, time: int = 1_790_000_200) -> Event:
    return _event({
        "time": time, "self_id": SELF_ID, "post_type": "notice", "notice_type": "group_decrease",
        "sub_type": "leave", "group_id": GROUP, "operator_id": user, "user_id": user,
    })  # fmt: skip


def join_request(user: int, comment: str, flag: str = "flag-1") -> Event:
    return _event({
        "time": 1_790_000_000, "self_id": SELF_ID, "post_type": "request", "request_type": "group",
        "sub_type": "add", "group_id": GROUP, "user_id": user, "comment": comment, "flag": flag,
    })  # fmt: skip


async def referrals(desk: Desk) -> list[Any]:
    from features.referral.models import Referral

    async def step(uow: Any) -> list[Any]:
        return list(await uow.session.scalars(select(Referral).order_by(Referral.id)))

    return await desk.read(step)


async def wang(desk: Desk) -> Actor:
    member = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert member is not None
    return member.actor()


async def code_of(app: App, owner: int) -> str:
    found = CODE.search(await said(app, dm(owner, "推荐码")))
    assert found is not None
    return found.group(0)


async def points_of(desk: Desk, qq: int) -> int:
    from features import points

    return await desk.read(lambda uow: points.balance(uow, f"qq:{qq}"))


# -- 推荐 ----------------------------------------------------------------------------------------


async def test_referral_by_dm_makes_a_lead_and_tells_the_consultant(app: App, desk: Desk) -> None:
    answer = await said(app, dm(OWNER, f"推荐 张先生 {PHONE} 轩逸"))
    assert answer.startswith("感谢推荐！已登记：张先生 138****5678")
    assert "200 积分" in answer and "保养套餐一次" in answer

    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None
    assert (lead.channel, lead.referrer, lead.name, lead.car_model, lead.stage) == (
        "referral", f"qq:{OWNER}", "张先生", "轩逸", "new",
    )  # fmt: skip
    wang_member = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert wang_member is not None and lead.consultant_id == wang_member.id
    [note] = await desk.claim_notifications()
    assert (note.kind, note.recipient_id, note.lead_id) == ("new_lead", wang_member.id, lead.id)
    assert f"QQ {OWNER}" in note.payload["message"]
    [row] = await referrals(desk)
    assert (row.referrer, row.phone, row.source, row.lead_id) == (
        f"qq:{OWNER}", PHONE, "command", lead.id,
    )  # fmt: skip


async def test_referral_in_a_group_masks_the_phone_and_suggests_a_dm(app: App, desk: Desk) -> None:
    message = await reply_to(app, group(OWNER, "/推荐 李女士 138 1234 5678"))
    assert message[0].type == "at" and message[0].data["qq"] == str(OWNER)
    answer = await said(app, group(OWNER, "推荐 王女士 139 1234 5678"))
    assert "139****5678" in answer and "私聊" in answer and "13912345678" not in answer
    assert len(await referrals(desk)) == 2


async def test_a_referred_friends_own_consultant_stays(app: App, desk: Desk) -> None:
    # The owner's own lead is 李顾问's (assigned by a manager): the friend goes to him too.
    own = await desk.capture(channel="qq_dm", qq_id=str(OWNER))
    other = await desk.member_by(qq_id="10002")
    assert other is not None
    await desk.assign(SYSTEM, own.lead.id, other.id)
    await said(app, dm(OWNER, f"推荐 张先生 {PHONE}"))
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None and lead.consultant_id == other.id


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("text", ["推荐", "推荐 张先生", "/推荐   "])
async def test_referral_usage(app: App, desk: Desk, where: Any, text: str) -> None:
    assert (await said(app, where(OWNER, text))).endswith(usage("推荐"))
    assert await referrals(desk) == []


BAD_REFERRALS = [
    ("推荐 张先生 123", "BAD_PHONE"),
    ("推荐 张先生 1381234567x", "BAD_PHONE"),
    ("推荐 😀😀 😀", "BAD_PHONE"),
    (f"推荐 😀{PHONE}", "USAGE"),
    ("推荐 '; DROP TABLE referrals;-- 1", "BAD_PHONE"),
    (f"推荐 Robert');DROP/**/TABLE/**/leads;--{'x' * 10} {PHONE}", "BAD_NAME"),
    (f"推荐 张\x00 {PHONE}", "BAD_NAME"),
    ("推荐 [CQ:at,qq=all] [CQ:at,qq=all]", "BAD_PHONE"),
    (f"推荐 张先生 {PHONE} " + "轩逸" * 100, "BAD_MODEL"),
    ("推荐 " + "张" * 1990, "USAGE"),
    ("推荐 " + "x" * 5000, None),  # too long to be a command: chat
]


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize(("text", "expected"), BAD_REFERRALS)
async def test_bad_referrals_get_a_line_and_change_nothing(
    app: App, desk: Desk, where: Any, text: str, expected: str | None
) -> None:
    errors = handler_errors()
    if expected is None:
        await no_reply(app, where(OWNER, text))
    else:
        answer = await said(app, where(OWNER, text))
        want = usage("推荐") if expected == "USAGE" else getattr(texts(), expected)
        assert answer.endswith(want)
    assert errors == []
    assert await referrals(desk) == []


async def test_cq_codes_in_a_name_stay_text(app: App, desk: Desk) -> None:
    answer = await said(app, group(OWNER, f"推荐 [CQ:at,qq=all] {PHONE}"))
    assert "[CQ:at,qq=all]" in answer  # sent as text: nobody is @-ed
    assert len(await referrals(desk)) == 1


@pytest.mark.parametrize("staff", STAFF)
@pytest.mark.parametrize("where", WHERE)
async def test_staff_may_not_refer(app: App, desk: Desk, staff: int, where: Any) -> None:
    assert (await said(app, where(staff, f"推荐 张先生 {PHONE}"))).endswith(
        texts().STAFF_CANNOT_REFER
    )
    assert await desk.find_lead(phone=PHONE) is None


async def test_no_self_referral(app: App, desk: Desk) -> None:
    await desk.capture(channel="qq_dm", qq_id=str(OWNER), phone=PHONE)
    assert await said(app, dm(OWNER, f"推荐 我自己 {PHONE}")) == texts().SELF_REFERRAL
    assert await referrals(desk) == []


async def test_no_self_referral_with_a_second_phone_of_ones_own(app: App, desk: Desk) -> None:
    await desk.capture(channel="qq_dm", qq_id=str(OWNER), phone="13900001111")
    await desk.capture(channel="phone_in", qq_id=str(OWNER), phone=PHONE)  # the same person
    assert await said(app, dm(OWNER, f"推荐 老婆 {PHONE}")) == texts().SELF_REFERRAL
    assert await referrals(desk) == []


@pytest.mark.parametrize("stage", ["new", "won"], ids=["existing-lead", "existing-customer"])
async def test_no_referring_someone_already_known(app: App, desk: Desk, stage: str) -> None:
    known = await desk.capture(channel="walk_in", phone=PHONE, name="张三丰")
    if stage == "won":
        actor = await wang(desk)
        await desk.record_visit(actor, known.lead.id, "到店")
        await desk.record_deal(actor, known.lead.id, "成交")
    answer = await said(app, group(OWNER, f"推荐 张先生 {PHONE}"))
    assert answer.endswith(texts().ALREADY_KNOWN)
    assert "张三丰" not in answer and "王顾问" not in answer  # no details given away
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None and lead.referrer is None and lead.stage == stage
    assert await referrals(desk) == []


async def test_one_phone_once(app: App, desk: Desk) -> None:
    await said(app, dm(OWNER, f"推荐 张先生 {PHONE}"))
    again = await said(app, dm(OTHER_OWNER, f"推荐 小张 +86 {PHONE}"))
    assert again == texts().ALREADY_KNOWN
    [row] = await referrals(desk)
    assert row.referrer == f"qq:{OWNER}"


async def test_the_same_message_delivered_twice_is_one_referral(app: App, desk: Desk) -> None:
    first = group(OWNER, f"推荐 张先生 {PHONE}", message_id=4242)
    assert "已登记" in await said(app, first)
    await no_reply(app, group(OWNER, f"推荐 张先生 {PHONE}", message_id=4242))
    assert len(await referrals(desk)) == 1


# -- 推荐码 and a friend quoting it ---------------------------------------------------------------


async def test_my_code_is_made_once_and_explains_its_use(app: App, desk: Desk) -> None:
    answer = await said(app, group(OWNER, "推荐码"))
    code = CODE.search(answer)
    assert code is not None
    assert "私聊" in answer and "备注" in answer and "验证信息" in answer
    assert await code_of(app, OWNER) == code.group(0)
    assert await code_of(app, OTHER_OWNER) != code.group(0)


@pytest.mark.parametrize("staff", STAFF)
async def test_staff_have_no_code(app: App, staff: int) -> None:
    assert await said(app, dm(staff, "推荐码")) == texts().STAFF_NO_CODE


async def test_a_friend_quoting_a_code_by_dm_is_attributed(app: App, desk: Desk) -> None:
    code = await code_of(app, OWNER)
    answer = await said(app, dm(FRIEND, f"你好，我是老张介绍的，推荐码{code.lower()}"))
    assert answer == texts().CODE_THANKS_DM.format(referrer=f"用户{OWNER}")
    lead = await desk.find_lead(qq_id=str(FRIEND))
    assert lead is not None
    assert (lead.channel, lead.referrer, lead.name) == ("referral", f"qq:{OWNER}", f"用户{FRIEND}")
    [row] = await referrals(desk)
    assert (row.source, row.friend, row.lead_id) == ("code", f"qq:{FRIEND}", lead.id)
    # quoted again: a known customer now, nothing more is recorded
    assert await said(app, dm(FRIEND, code)) == texts().CODE_ALREADY_KNOWN_DM
    assert len(await referrals(desk)) == 1


async def test_a_friend_quoting_a_code_in_a_group_is_attributed(app: App, desk: Desk) -> None:
    code = await code_of(app, OWNER)
    answer = await said(app, group(FRIEND, f"{code} 老张让我报这个"))
    assert answer == texts().CODE_THANKS_GROUP.format(referrer=f"用户{OWNER}")
    lead = await desk.find_lead(qq_id=str(FRIEND))
    assert lead is not None and lead.referrer == f"qq:{OWNER}" and lead.group_id == str(GROUP)


def test_the_prefilter_lets_a_quoted_code_through() -> None:
    from bot.prefilter import wanted

    assert wanted("推荐码TJ7K3MQ") and wanted("tj7k3mq 老张介绍的")
    assert not wanted("今天天气不错") and not wanted("TJHAPPY")


async def test_ones_own_code_is_ignored(app: App, desk: Desk) -> None:
    code = await code_of(app, OWNER)
    await no_reply(app, group(OWNER, f"我的推荐码是 {code}，买车的朋友报这个"))
    assert await said(app, dm(OWNER, code)) == texts().CODE_OWN_DM
    assert await desk.find_lead(qq_id=str(OWNER)) is None
    assert await referrals(desk) == []


@pytest.mark.parametrize("where", WHERE)
async def test_an_unknown_code_is_ignored(app: App, desk: Desk, where: Any) -> None:
    await code_of(app, OWNER)
    await no_reply(app, where(FRIEND, "TJ2345A"))
    assert await desk.find_lead(qq_id=str(FRIEND)) is None


async def test_a_known_friend_is_not_attributed(app: App, desk: Desk) -> None:
    await desk.capture(channel="qq_dm", qq_id=str(FRIEND))
    code = await code_of(app, OWNER)
    await no_reply(app, group(FRIEND, code))
    assert await said(app, dm(FRIEND, code)) == texts().CODE_ALREADY_KNOWN_DM
    lead = await desk.find_lead(qq_id=str(FRIEND))
    assert lead is not None and lead.referrer is None
    assert await referrals(desk) == []


@pytest.mark.parametrize("staff", STAFF)
async def test_staff_quoting_a_code_are_ignored(app: App, desk: Desk, staff: int) -> None:
    code = await code_of(app, OWNER)
    await no_reply(app, group(staff, f"客户可以报 {code}"))
    assert await referrals(desk) == []


async def test_a_join_request_with_a_code_is_attributed(app: App, desk: Desk) -> None:
    code = await code_of(app, OWNER)
    await deliver(app, join_request(FRIEND, f"老车主推荐 {code}"))
    await deliver(app, join_request(FRIEND, f"老车主推荐 {code}"))  # delivered twice
    lead = await desk.find_lead(qq_id=str(FRIEND))
    assert lead is not None and lead.referrer == f"qq:{OWNER}" and lead.group_id == str(GROUP)
    [row] = await referrals(desk)
    assert row.source == "join"
    await deliver(app, join_request(FRIEND + 1, "想进群看看", flag="flag-2"))
    assert await desk.find_lead(qq_id=str(FRIEND + 1)) is None


# -- invites ---------------------------------------------------------------------------------


async def test_an_invited_friend_becomes_the_inviters_referral(app: App, desk: Desk) -> None:
    await deliver_invite(app, member_joined(FRIEND, OWNER))
    await deliver_invite(app, member_joined(FRIEND, OWNER))  # the same notice again
    lead = await desk.find_lead(qq_id=str(FRIEND))
    assert lead is not None
    assert (lead.channel, lead.referrer, lead.group_id) == ("referral", f"qq:{OWNER}", str(GROUP))
    assert lead.name == "小刘"  # the consultant knows whom to greet
    [row] = await referrals(desk)
    assert (row.source, row.joined_at) == ("invite", desk.clock.now())


@pytest.mark.parametrize("inviter", [CONSULTANT_QQ, MANAGER_QQ, SELF_ID])
async def test_invites_by_staff_or_the_bot_attribute_nobody(
    app: App, desk: Desk, inviter: int
) -> None:
    await deliver(app, member_joined(FRIEND, inviter))
    assert await desk.find_lead(qq_id=str(FRIEND)) is None


async def test_joining_by_oneself_attributes_nobody(app: App, desk: Desk) -> None:
    await deliver(app, member_joined(FRIEND, OWNER, sub_type="approve"))
    assert await desk.find_lead(qq_id=str(FRIEND)) is None


async def test_an_invited_friend_is_attributed_without_a_name_too(app: App, desk: Desk) -> None:
    await deliver_invite(app, member_joined(FRIEND, OWNER), name=None)
    lead = await desk.find_lead(qq_id=str(FRIEND))
    assert lead is not None and lead.referrer == f"qq:{OWNER}" and lead.name is None


async def test_an_invited_friend_already_known_is_not_attributed(app: App, desk: Desk) -> None:
    await desk.capture(channel="qq_group", qq_id=str(FRIEND))
    await deliver_invite(app, member_joined(FRIEND, OWNER))
    lead = await desk.find_lead(qq_id=str(FRIEND))
    assert lead is not None and lead.referrer is None


async def test_leaving_within_the_stay_window_voids_the_invite(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    await deliver_invite(app, member_joined(FRIEND, OWNER))
    desk_clock.advance(timedelta(days=10))
    await deliver(app, member_left(FRIEND))
    lead = await desk.find_lead(qq_id=str(FRIEND))
    assert lead is not None
    await desk.record_visit(await wang(desk), lead.id, "后来还是来了")
    await desk.run_schedules()
    assert await points_of(desk, OWNER) == 0
    mine = await said(app, dm(OWNER, "我的推荐"))
    assert "已失效" in mine and "共 0 位有效" in mine


# -- rewards, 我的推荐, 奖励台账 -------------------------------------------------------------------


async def test_rewards_follow_the_deal_and_the_ledger_settles_them(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    assert await said(app, dm(OWNER, "我的推荐")) == texts().MINE_NONE
    await said(app, dm(OWNER, f"推荐 张先生 {PHONE} 轩逸"))
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None
    assert "张先生 138****5678 · 跟进中" in await said(app, group(OWNER, "我的推荐"))

    actor = await wang(desk)
    await desk.follow_up(actor, lead.id, "约了明天到店", level="H")
    await desk.invite(actor, lead.id, desk_clock.now() + timedelta(days=1))
    desk_clock.advance(timedelta(days=1))
    await desk.record_visit(actor, lead.id, "看车试驾")
    assert await points_of(desk, OWNER) == 200
    mine = await said(app, group(OWNER, "我的推荐"))
    assert "张先生 138****5678 · 已到店 · +200积分" in mine and "推荐积分 200" in mine

    await desk.record_order(actor, lead.id, "交定金")
    await desk.record_deal(actor, lead.id, "提车")
    mine = await said(app, dm(OWNER, "我的推荐"))
    assert "已成交 · +200积分 · 奖励：保养套餐一次（价值1000元）（待发放）" in mine

    ledger = await said(app, group(MANAGER_QQ, "奖励台账"))
    number = re.search(r"#(\d+) 待发放", ledger)
    assert number is not None, ledger
    assert f"老张（QQ {OWNER}）" not in ledger  # the name QQ showed then: 用户20001
    assert f"用户{OWNER}（QQ {OWNER}）" in ledger and "张先生 138****5678" in ledger

    done = await said(app, dm(ROSTER_MANAGER_QQ, f"奖励台账 发放 {number.group(1)}"))
    assert done.startswith(f"已登记发放：#{number.group(1)}")
    again = await said(app, dm(MANAGER_QQ, f"/奖励台账 发放 #{number.group(1)}"))
    assert "周经理" in again and "无需重复登记" in again
    assert await said(app, dm(MANAGER_QQ, "奖励台账")) == texts().LEDGER_EMPTY_PENDING
    everything = await said(app, dm(MANAGER_QQ, "奖励台账 全部"))
    assert f"#{number.group(1)} 已发放" in everything and "周经理" in everything
    assert "（已发放）" in await said(app, dm(OWNER, "我的推荐"))


@pytest.mark.parametrize("who", [OWNER, CONSULTANT_QQ])
@pytest.mark.parametrize("text", ["奖励台账", "奖励台账 全部", "奖励台账 发放 1"])
async def test_the_ledger_is_for_managers(app: App, who: int, text: str) -> None:
    from bot.texts import ROLE_REFUSAL

    assert (await said(app, group(who, text))).endswith(ROLE_REFUSAL[MANAGER])


@pytest.mark.parametrize(
    "args",
    ["发放", "发放 abc", "发放 1 2", "全部 发放", "x" * 1500, "😀", "'; DROP TABLE referral_rewards;--",
     "\x00", "[CQ:at,qq=all]", "发放 -1"],
)  # fmt: skip
async def test_ledger_usage(app: App, args: str) -> None:
    errors = handler_errors()
    assert (await said(app, dm(MANAGER_QQ, f"奖励台账 {args}"))).endswith(usage("奖励台账"))
    assert errors == []


@pytest.mark.parametrize("number", ["99", "99999999999999999999"])
async def test_ledger_unknown_number(app: App, number: str) -> None:
    answer = await said(app, dm(MANAGER_QQ, f"奖励台账 发放 {number}"))
    assert "没有找到" in answer


# -- 推荐榜 ---------------------------------------------------------------------------------------


async def test_leaderboard_ranks_valid_referrals_without_phones(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    assert (await said(app, group(FRIEND, "推荐榜"))).count(texts().BOARD_EMPTY) == 2
    await said(app, dm(OTHER_OWNER, f"推荐 甲 {PHONE}"))
    desk_clock.advance(timedelta(days=10))  # into December: last month's referral
    await said(app, dm(OWNER, "推荐 乙 13900001111"))
    await said(app, dm(OWNER, "推荐 丙 13900002222"))
    board = await said(app, group(FRIEND, "推荐榜"))
    month, ever = board.split(texts().BOARD_HEADER_ALL)
    assert f"1. 用户{OWNER} —— 推荐 2 位" in month and f"用户{OTHER_OWNER}" not in month
    assert f"1. 用户{OWNER} —— 推荐 2 位" in ever and f"2. 用户{OTHER_OWNER} —— 推荐 1 位" in ever
    assert "1390000" not in board and "****" not in board


async def test_invite_only_referrers_show_a_masked_qq(app: App, desk: Desk) -> None:
    await deliver_invite(app, member_joined(FRIEND, OWNER))
    board = await said(app, group(FRIEND, "推荐榜"))
    assert "QQ好友 20****01" in board and str(OWNER) not in board


# -- bad input for the other commands ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["推荐码", "我的推荐", "推荐榜"])
@pytest.mark.parametrize(
    "args", ["", "x" * 1500, "😀", "'; DROP TABLE referrals;--", "\x00", "[CQ:at,qq=all]"]
)
async def test_other_commands_ignore_extra_words(
    app: App, desk: Desk, command: str, args: str
) -> None:
    errors = handler_errors()
    answer = await said(app, group(OWNER, f"{command} {args}"))
    if command == "推荐码":
        assert CODE.search(answer) is not None
    elif command == "我的推荐":
        assert answer == texts().MINE_NONE
    else:
        assert answer.count(texts().BOARD_EMPTY) == 2
    assert errors == []
    assert await referrals(desk) == []
