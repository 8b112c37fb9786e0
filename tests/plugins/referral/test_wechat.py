"""荐友购车 on WeChat through nonebug: Official Account followers use 推荐码 (with the
owner's WeCom QR), 推荐 and 我的推荐 and quote codes; WeCom customer contacts and
customer-group joins whose `state` is a code are attributed to the code's owner;
the WeCom app's users are staff.

Bots are the WeChat adapter's own Bot class on nonebug's fake adapter: a reply is
`bot.send(event, text)`, an action (`add_contact_way`, `get_group_chat`) an API call
nonebug checks. The desk fixture: 王顾问 (QQ 10001) is the consultant on duty.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any, cast

import pytest
from nonebug import App
from sqlalchemy import select

from bot.adapters.wechat import Event as WeChatEvent
from bot.adapters.wechat import (
    Message,
    MessageSegment,
    OAMessageEvent,
    WeComMessageEvent,
)
from bot.adapters.wechat.callback import parse_xml
from bot.adapters.wechat.client import ApiError, NetworkError, WeChatError
from bot.adapters.wechat.event import parse_event
from bot.roles import MANAGER
from desk import SYSTEM, Actor, Desk
from desk.models import OutboxMessage
from tests.features.referral.conftest import referrals
from tests.support.chat import _Anything, handler_errors
from tests.support.fake_wechat import AGENT_ID
from tests.support.nonebot_env import CONSULTANT_QQ, private_event
from tests.support.wechat_callbacks import external_chat_change, external_contact_add, next_msg_id
from tests.support.wechat_chat import OA_SELF, WECOM_SELF, oa_bot, wecom_bot

pytestmark = pytest.mark.usefixtures("desk")

OWNER = "o_owner_0000000000000000001"  # an Official Account follower's openid
FRIEND = "o_friend_000000000000000002"
CUSTOMER = "wmCustomer00000000000000001"  # a WeCom external userid
CHAT = "wrChat000000000000000000001"
PHONE = "13812345678"
QR = "https://wework.qpic.cn/wwpic/qr-owner-1"
BAD_INPUT = ["", "x" * 5000, "😀🚗🎉", "'; DROP TABLE referrals; --", "a\x00b", "[CQ:at,qq=all]"]


def texts() -> ModuleType:
    from bot.plugins.referral import texts

    return texts


def referral(desk: Desk) -> Any:
    """What the referral use cases run on, as the chat front builds it."""
    import bot.plugins.referral as plugin

    return plugin.referrals_for(desk)


@pytest.fixture
def contact_users(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """config/referral.toml with `[wecom] contact_users = ["zhangsan"]`."""
    import bot.plugins.referral as plugin

    users = ["zhangsan"]
    config = plugin.CONFIG.model_copy(
        update={"wecom": plugin.CONFIG.wecom.model_copy(update={"contact_users": tuple(users)})}
    )
    monkeypatch.setattr(plugin, "CONFIG", config)
    yield users


# -- events -------------------------------------------------------------------------------------


def _dm(openid_or_userid: str, text: str) -> dict[str, Any]:
    return {
        "to_user": "gh_0123456789ab", "from_user": openid_or_userid,
        "create_time": 1_790_000_000, "raw": {}, "msg_id": next_msg_id(), "msg_type": "text",
        "message": Message(MessageSegment.text(text)),
    }  # fmt: skip


def oa(openid: str, text: str) -> WeChatEvent:
    """A follower's text to the Official Account (any text, "\x00" included)."""
    return OAMessageEvent(self_id=OA_SELF, **_dm(openid, text))


def wecom(userid: str, text: str) -> WeChatEvent:
    """A staff member's text to the WeCom app."""
    return WeComMessageEvent(self_id=WECOM_SELF, agent_id=AGENT_ID, **_dm(userid, text))


def contact_added(external: str, state: str | None, change: str = "add_external_contact") -> Any:
    xml = external_contact_add("zhangsan", external, state).replace("add_external_contact", change)
    event = parse_event("wecom", WECOM_SELF, parse_xml(xml))
    assert event is not None
    return event


def chat_changed(detail: str, members: tuple[str, ...]) -> Any:
    event = parse_event(
        "wecom", WECOM_SELF, parse_xml(external_chat_change(CHAT, detail, members=members))
    )
    assert event is not None
    return event


# -- driving the bot ---------------------------------------------------------------------------------


def expect_calls(ctx: Any, api: list[tuple[str, dict, Any]] | None) -> None:
    """Tell nonebug the API calls to expect, in order: (action, data, result or exception)."""
    for action, data, result in api or []:
        if isinstance(result, Exception):
            ctx.should_call_api(action, data, exception=result)
        else:
            ctx.should_call_api(action, data, result=result)


async def ask(app: App, event: WeChatEvent, *, with_wecom: bool = False,
              api: list[tuple[str, dict, Any]] | None = None) -> str:  # fmt: skip
    """The bot's one text answer to a WeChat DM (the OA's, or the WeCom app's). With
    `with_wecom` the WeCom app's bot is connected too; `api`: the calls expected
    first, as (action, data, result or exception)."""
    caught = _Anything()
    async with app.test_matcher() as ctx:
        if event.platform == "oa":
            bot = oa_bot(ctx)
            if with_wecom:
                wecom_bot(ctx)
        else:
            bot = wecom_bot(ctx)
        ctx.receive_event(bot, event)
        expect_calls(ctx, api)
        ctx.should_call_send(event, cast(str, caught), result=[{"errcode": 0}])
    assert isinstance(caught.value, str), caught.value
    return caught.value


async def silent(app: App, event: WeChatEvent) -> None:
    """Every plugin sees the event and none answers (nonebug fails on any call)."""
    async with app.test_matcher() as ctx:
        bot = oa_bot(ctx) if event.platform == "oa" else wecom_bot(ctx)
        ctx.receive_event(bot, event)


async def notice(app: App, event: Any, api: list[tuple[str, dict, Any]] | None = None) -> None:
    """A WeCom notice to the referral plugin's matchers (only: other plugins may read
    the same group); the expected API calls, no reply."""
    import bot.plugins.referral as plugin

    async with app.test_matcher([plugin.contact_added, plugin.chat_changed]) as ctx:
        bot = wecom_bot(ctx)
        ctx.receive_event(bot, event)
        expect_calls(ctx, api)


# -- reading state ----------------------------------------------------------------------------


async def codes(desk: Desk) -> list[Any]:
    from features.referral.models import ReferralCode

    async def step(uow: Any) -> list[Any]:
        return list(await uow.session.scalars(select(ReferralCode)))

    return await desk.read(step)


async def owner_code(desk: Desk, owner: str = f"wechat:{OWNER}") -> str:
    from features.referral.codes import own_code

    return (await own_code(referral(desk), owner, None)).code


def group_chat(*members: dict[str, Any]) -> dict[str, Any]:
    """externalcontact/groupchat/get's group_chat, as the adapter returns it."""
    staff = {"userid": "zhangsan", "type": 1, "join_scene": 1}
    return {
        "chat_id": CHAT,
        "name": "车主群",
        "owner": "zhangsan",
        "member_list": [staff, *members],
    }


# -- Official Account: 推荐码 --------------------------------------------------------------------------


async def test_code_without_wecom_is_the_code_alone_with_a_line_saying_so(
    app: App, desk: Desk
) -> None:
    answer = await ask(app, oa(OWNER, "推荐码"))
    [row] = await codes(desk)
    assert row.owner == f"wechat:{OWNER}" and row.contact_qr is None
    assert f"您的专属推荐码：{row.code}" in answer and f"发送推荐码 {row.code}" in answer
    assert texts().CODE_NO_WECOM in answer and "http" not in answer
    assert "200 积分" in answer  # the rewards, as on QQ


async def test_code_without_contact_users_has_no_qr_even_with_wecom(app: App, desk: Desk) -> None:
    answer = await ask(app, oa(OWNER, "推荐码"), with_wecom=True)  # no API call expected
    assert texts().CODE_NO_WECOM in answer


async def test_code_on_wechat_comes_with_the_owners_wecom_qr_made_once(
    app: App, desk: Desk, contact_users: list[str]
) -> None:
    code = await owner_code(desk)
    call = (
        "add_contact_way",
        {"state": code, "user_ids": contact_users, "remark": f"推荐码 {code}"},
        {"errcode": 0, "config_id": "cfg-1", "qr_code": QR},
    )
    first = await ask(app, oa(OWNER, "推荐码"), with_wecom=True, api=[call])
    assert code in first and QR in first and texts().CODE_NO_WECOM not in first
    [row] = await codes(desk)
    assert (row.contact_config_id, row.contact_qr) == ("cfg-1", QR)
    again = await ask(app, oa(OWNER, "/推荐码"), with_wecom=True)  # stored: no second QR
    assert again == first


@pytest.mark.parametrize(
    ("failure", "line"),
    [
        (WeChatError("WECOM_CONTACT_SECRET is not set"), "CODE_NO_WECOM"),
        (ApiError("externalcontact/add_contact_way", 41054, "not allowed"), "CODE_QR_LATER"),
        (NetworkError("externalcontact/add_contact_way", "timeout", uncertain=True), "CODE_QR_LATER"),
    ],
)  # fmt: skip
async def test_a_qr_that_cannot_be_made_leaves_the_code_and_says_why(
    app: App, desk: Desk, contact_users: list[str], failure: Exception, line: str
) -> None:
    errors = handler_errors()
    code = await owner_code(desk)
    data = {"state": code, "user_ids": contact_users, "remark": f"推荐码 {code}"}
    answer = await ask(
        app, oa(OWNER, "推荐码"), with_wecom=True, api=[("add_contact_way", data, failure)]
    )
    assert code in answer and getattr(texts(), line) in answer and "http" not in answer
    assert errors == [] and (await codes(desk))[0].contact_qr is None
    # asked again later, the QR is made then
    ok = {"errcode": 0, "config_id": "cfg-2", "qr_code": QR}
    answer = await ask(
        app, oa(OWNER, "推荐码"), with_wecom=True, api=[("add_contact_way", data, ok)]
    )
    assert QR in answer


async def test_a_qr_answer_without_a_qr_is_not_stored(
    app: App, desk: Desk, contact_users: list[str]
) -> None:
    code = await owner_code(desk)
    data = {"state": code, "user_ids": contact_users, "remark": f"推荐码 {code}"}
    answer = await ask(
        app, oa(OWNER, "推荐码"), with_wecom=True,
        api=[("add_contact_way", data, {"errcode": 0, "config_id": "cfg-3"})],
    )  # fmt: skip
    assert texts().CODE_QR_LATER in answer and (await codes(desk))[0].contact_qr is None


# -- Official Account: a follower quotes a code --------------------------------------------------


async def test_a_follower_quoting_a_code_becomes_the_owners_referral(app: App, desk: Desk) -> None:
    code = await owner_code(desk)
    message = oa(FRIEND, f"朋友给的推荐码{code}")
    answer = await ask(app, message)
    assert answer == texts().CODE_THANKS_DM.format(referrer=texts().AN_OWNER)
    lead = await desk.find_lead(wechat_openid=FRIEND)
    assert lead is not None and lead.referrer == f"wechat:{OWNER}" and lead.channel == "referral"
    [row] = await referrals(desk)
    assert (row.friend, row.source, row.lead_id) == (f"wechat:{FRIEND}", "code", lead.id)
    await silent(app, message)  # WeChat delivers the same message again: one effect
    assert len(await referrals(desk)) == 1


async def test_own_code_and_known_followers_are_not_attributed(app: App, desk: Desk) -> None:
    code = await owner_code(desk)
    assert await ask(app, oa(OWNER, code)) == texts().CODE_OWN_DM
    await desk.capture(channel="wechat_oa", wechat_openid=FRIEND, message="问价")
    assert await ask(app, oa(FRIEND, code)) == texts().CODE_ALREADY_KNOWN_DM
    assert await referrals(desk) == []
    lead = await desk.find_lead(wechat_openid=FRIEND)
    assert lead is not None and lead.referrer is None  # first valid referrer wins: none here


async def test_a_qq_friend_may_quote_a_wechat_owners_code(app: App, desk: Desk) -> None:
    from tests.support.chat import ask as qq_ask

    code = await owner_code(desk)
    assert "推荐的朋友" in await qq_ask(app, private_event(code, user_id=30001))
    lead = await desk.find_lead(qq_id="30001")
    assert lead is not None and lead.referrer == f"wechat:{OWNER}"


async def test_wecom_staff_quoting_a_code_is_not_attributed(app: App, desk: Desk) -> None:
    code = await owner_code(desk)
    await silent(app, wecom("zhangsan", f"客户的推荐码 {code}"))
    assert await referrals(desk) == []


# -- Official Account: 推荐 and 我的推荐 ------------------------------------------------------------


async def test_a_follower_refers_a_friend_by_phone(app: App, desk: Desk) -> None:
    answer = await ask(app, oa(OWNER, f"推荐 张先生 {PHONE} 轩逸"))
    assert answer.startswith("感谢推荐！已登记：张先生 138****5678")
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None and lead.referrer == f"wechat:{OWNER}" and lead.car_model == "轩逸"
    assert f"微信 {OWNER}" in (lead.first_message or "")
    mine = await ask(app, oa(OWNER, "我的推荐"))
    assert "张先生 138****5678 · 跟进中" in mine and PHONE not in mine
    assert await ask(app, oa(FRIEND, f"推荐 李女士 {PHONE}")) == texts().ALREADY_KNOWN


@pytest.mark.parametrize("bad", BAD_INPUT)
async def test_bad_referrals_on_wechat_get_a_clear_line_and_change_nothing(
    app: App, desk: Desk, bad: str
) -> None:
    errors = handler_errors()
    if len(bad) > 2000:  # too long to be a command: chat
        await silent(app, oa(OWNER, f"推荐 {bad}"))
    else:
        answer = await ask(app, oa(OWNER, f"推荐 {bad}"))
        assert answer.startswith(("用法：", "手机号格式不对", "称呼请用")), answer
    if "\x00" in bad:
        assert await ask(app, oa(OWNER, f"推荐 {bad} {PHONE}")) == texts().BAD_NAME
    assert errors == [] and await referrals(desk) == []


@pytest.mark.parametrize("bad", BAD_INPUT)
async def test_plain_chat_on_wechat_is_ignored(app: App, desk: Desk, bad: str) -> None:
    errors = handler_errors()
    await silent(app, oa(FRIEND, bad))
    assert errors == [] and await referrals(desk) == []


async def test_rewards_reach_a_wechat_owner_through_the_official_account(
    app: App, desk: Desk
) -> None:
    await ask(app, oa(OWNER, f"推荐 张先生 {PHONE}"))
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None
    member = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert member is not None
    wang: Actor = member.actor()
    await desk.record_visit(wang, lead.id)
    await desk.record_deal(wang, lead.id)

    async def step(uow: Any) -> list[tuple[str, str, str]]:
        rows = await uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "referral_reward")
            .order_by(OutboxMessage.id)
        )
        return [(m.channel, m.address, m.payload["text"]) for m in rows]

    dms = await desk.read(step)
    assert [(c, a) for c, a, _ in dms] == [("wechat_oa", OWNER)] * 2
    assert "已到店" in dms[0][2] and "已成交" in dms[1][2]
    mine = await ask(app, oa(OWNER, "我的推荐"))
    assert "已成交" in mine and "+200积分" in mine


async def test_board_names_a_wechat_owner_without_showing_the_openid(app: App, desk: Desk) -> None:
    await ask(app, oa(OWNER, f"推荐 张先生 {PHONE}"))
    board = await ask(app, oa(FRIEND, "推荐榜"))
    assert f"微信车主·{OWNER[-4:]} —— 推荐 1 位" in board and OWNER not in board


# -- the WeCom app: staff ------------------------------------------------------------------------


async def test_wecom_staff_take_no_part_in_referrals(app: App, desk: Desk) -> None:
    assert await ask(app, wecom("zhangsan", f"推荐 张先生 {PHONE}")) == texts().STAFF_CANNOT_REFER
    assert await ask(app, wecom("zhangsan", "推荐码")) == texts().STAFF_NO_CODE
    assert await referrals(desk) == [] and await codes(desk) == []


async def test_the_ledger_on_wecom_is_for_roster_managers(app: App, desk: Desk) -> None:
    from bot.texts import ROLE_REFUSAL

    assert await ask(app, wecom("zhangsan", "奖励台账")) == ROLE_REFUSAL[MANAGER]
    await desk.add_member(SYSTEM, name="赵经理", wecom_userid="zhaojl", role="manager",
                          dm_channel="wecom")  # fmt: skip
    assert await ask(app, wecom("zhaojl", "奖励台账")) == texts().LEDGER_EMPTY_PENDING


# -- WeCom: a customer adds staff through an owner's QR ---------------------------------------------


async def test_a_contact_added_with_a_code_state_is_the_owners_referral(
    app: App, desk: Desk
) -> None:
    errors = handler_errors()
    code = await owner_code(desk)
    event = contact_added(CUSTOMER, code)
    await notice(app, event)
    lead = await desk.find_lead(wecom_external_userid=CUSTOMER)
    assert lead is not None and lead.referrer == f"wechat:{OWNER}" and lead.channel == "wecom"
    [row] = await referrals(desk)
    assert (row.friend, row.source) == (f"wecom:{CUSTOMER}", "wecom_contact")
    await notice(app, event)  # the same event again
    await notice(app, contact_added(CUSTOMER, code, "add_half_external_contact"))
    assert len(await referrals(desk)) == 1 and errors == []
    mine = await ask(app, oa(OWNER, "我的推荐"))
    assert "企业微信好友 · 跟进中" in mine


async def test_a_half_added_contact_counts_too(app: App, desk: Desk) -> None:
    await notice(app, contact_added(CUSTOMER, await owner_code(desk), "add_half_external_contact"))
    assert len(await referrals(desk)) == 1


@pytest.mark.parametrize(
    "state", [None, "TJ2345Z", "channel-poster", "x TJ2345Z", "'; DROP TABLE leads; --"]
)
async def test_contacts_without_an_owners_code_are_left_alone(
    app: App, desk: Desk, state: str | None
) -> None:
    await owner_code(desk)
    await notice(app, contact_added(CUSTOMER, state))
    assert await referrals(desk) == []
    assert await desk.find_lead(wecom_external_userid=CUSTOMER) is None


async def test_other_contact_changes_and_known_customers_are_not_attributed(
    app: App, desk: Desk
) -> None:
    code = await owner_code(desk)
    await notice(app, contact_added(CUSTOMER, code, "del_external_contact"))
    assert await referrals(desk) == []
    await desk.capture(channel="wecom", wecom_external_userid=CUSTOMER, message="看车")
    await notice(app, contact_added(CUSTOMER, code))
    assert await referrals(desk) == []
    lead = await desk.find_lead(wecom_external_userid=CUSTOMER)
    assert lead is not None and lead.referrer is None


# -- WeCom: a customer joins a customer group through an owner's join way ------------------------------


async def test_a_group_join_with_a_code_state_is_the_owners_referral(app: App, desk: Desk) -> None:
    code = await owner_code(desk)
    other = await owner_code(desk, "qq:20002")
    chat = group_chat(
        {"userid": CUSTOMER, "type": 2, "join_scene": 3, "state": code},
        {"userid": "wmOther", "type": 2, "join_scene": 3, "state": other},  # not new: not named
        {"userid": "wmNoState", "type": 2, "join_scene": 3},
        {"userid": "lisi", "type": 1, "join_scene": 3, "state": code},  # staff
    )
    event = chat_changed("add_member", (CUSTOMER, "wmNoState", "lisi"))
    await notice(app, event, [("get_group_chat", {"chat_id": CHAT}, chat)])
    [row] = await referrals(desk)
    assert (row.friend, row.source, row.group_id) == (f"wecom:{CUSTOMER}", "wecom_group", CHAT)
    assert row.joined_at == desk.clock.now()
    lead = await desk.find_lead(wecom_external_userid=CUSTOMER)
    assert lead is not None and lead.referrer == f"wechat:{OWNER}"
    assert (lead.channel, lead.group_id) == ("wecom_group", CHAT)
    await notice(app, event, [("get_group_chat", {"chat_id": CHAT}, chat)])  # again: once
    assert len(await referrals(desk)) == 1


async def test_a_group_customer_who_leaves_early_voids_the_referral(app: App, desk: Desk) -> None:
    code = await owner_code(desk)
    chat = group_chat({"userid": CUSTOMER, "type": 2, "join_scene": 3, "state": code})
    await notice(
        app, chat_changed("add_member", (CUSTOMER,)), [("get_group_chat", {"chat_id": CHAT}, chat)]
    )
    await notice(app, chat_changed("del_member", (CUSTOMER,)))  # no group read needed
    [row] = await referrals(desk)
    assert (row.voided_at, row.void_reason) == (desk.clock.now(), "left_group")


async def test_a_group_that_cannot_be_read_changes_nothing(app: App, desk: Desk) -> None:
    errors = handler_errors()
    await owner_code(desk)
    failure = NetworkError("externalcontact/groupchat/get", "timeout", uncertain=True)
    await notice(
        app, chat_changed("add_member", (CUSTOMER,)),
        [("get_group_chat", {"chat_id": CHAT}, failure)],
    )  # fmt: skip
    for answer in ({}, {"member_list": "x"}, {"member_list": [None, 3, {"type": 2}]}):
        await notice(
            app, chat_changed("add_member", (CUSTOMER,)),
            [("get_group_chat", {"chat_id": CHAT}, answer)],
        )  # fmt: skip
    assert errors == [] and await referrals(desk) == []
