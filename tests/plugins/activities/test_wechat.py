"""Owner-group activities over WeChat (spec §3 intro, §3.1) through nonebug:
WeCom customer groups' joins and leaves are recorded (a lead leaving is a
churn signal for the consultant), topics of a QQ group are queued as mass-sends
for its linked customer groups, and the group commands answer WeChat DMs with
the same lines as a QQ DM. Events are the adapter's own models, bots the
adapter's Bot class.

The desk clock stands at Friday 2026-11-27 10:00 Shanghai.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from nonebot.exception import ApiNotAvailable
from nonebug import App
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.adapters.wechat import Bot as WeChatBot
from bot.adapters.wechat import Event as WeChatEvent
from bot.adapters.wechat import ExternalChatChangeEvent, Message, MessageSegment, OAMessageEvent
from bot.adapters.wechat.event import MessageEvent as WeChatMessageEvent
from bot.roles import MANAGER
from bot.texts import ROLE_REFUSAL
from desk import SYSTEM, ConfigError, Desk, FrozenClock, OutboxItem
from desk.store import UnitOfWork
from features.activities.config import WeComGroupLink, load_config, wecom_links
from tests.support.chat import (
    _Anything,
    _Expected,
    ask,
    database_locked,
    handler_errors,
    no_handler_raises,
)
from tests.support.clock import at
from tests.support.nonebot_env import CONSULTANT_QQ, MANAGER_QQ, adapter, group_event

pytestmark = pytest.mark.usefixtures("desk")

GROUP = 123456
OA_SELF = "oa:wx1234567890abcdef"
WECOM_SELF = "wecom:wwcorp0001:1000002"
CHAT = "wrOgQhDgAAAcwMTB7KRzUTDbfbBRAAAA"
OTHER_CHAT = "wrOgQhDgAAAcwMTB7KRzUTDbfbBRBBBB"
FOLLOWER = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


def texts() -> ModuleType:
    from bot.plugins.activities import texts

    return texts


def chat_change(
    detail: str, *members: str, chat: str = CHAT, time: int = 1_790_000_100, scene: int = 3
) -> ExternalChatChangeEvent:
    """A change_external_chat callback as the adapter builds it."""
    joining = detail == "add_member"
    return ExternalChatChangeEvent(
        self_id=WECOM_SELF, to_user="wwcorp0001", from_user="sys", create_time=time, raw={},
        change_type="update", chat_id=chat, update_detail=detail, mem_change_cnt=len(members),
        member_ids=list(members), join_scene=scene if joining else None,
        quit_scene=None if joining else scene,
    )  # fmt: skip


def oa_dm(text: str) -> OAMessageEvent:
    return OAMessageEvent(
        self_id=OA_SELF, to_user="gh_0123456789ab", from_user=FOLLOWER, create_time=1_790_000_000,
        raw={}, msg_id=abs(hash(text)) % 10**12 + 1, msg_type="text",
        message=Message(MessageSegment.text(text)),
    )  # fmt: skip


def _bot(ctx: object, event: WeChatEvent) -> WeChatBot:
    self_id, platform = (OA_SELF, "oa") if event.platform == "oa" else (WECOM_SELF, "wecom")
    return ctx.create_bot(  # pyright: ignore[reportAttributeAccessIssue]
        base=WeChatBot, adapter=adapter(), self_id=self_id, platform=platform
    )


async def deliver(app: App, *events: WeChatEvent) -> None:
    """WeChat callbacks the bot takes in silence. (On a join the referral plugin reads
    the group's member list, for the join way's state: that read fails here, which
    it logs and shrugs off.)"""
    async with app.test_matcher() as ctx:
        bots: dict[str, WeChatBot] = {}
        for event in events:
            bot = bots.get(event.platform) or bots.setdefault(event.platform, _bot(ctx, event))
            ctx.receive_event(bot, event)
            if isinstance(event, ExternalChatChangeEvent) and event.update_detail == "add_member":
                unavailable = ApiNotAvailable("WeChat", "not in this test")
                ctx.should_call_api(
                    "get_group_chat", {"chat_id": event.chat_id}, exception=unavailable
                )


async def wechat_ask(
    app: App, event: WeChatMessageEvent, *, raises: type[Exception] | None = None
) -> str:
    caught = _Anything()
    async with app.test_matcher() as ctx:
        if raises is not None:  # a handler is expected to raise it: see tests.support.chat
            ctx.errors = _Expected(raises)
        ctx.receive_event(_bot(ctx, event), event)
        ctx.should_call_send(event, caught, result=[{"errcode": 0}])  # pyright: ignore[reportArgumentType]
    assert isinstance(caught.value, str), caught.value
    return caught.value


async def changes(desk: Desk) -> list[tuple[str, str, str, str]]:
    from features.activities.models import MemberChange

    async def step(uow: UnitOfWork) -> list[tuple[str, str, str, str]]:
        rows = await uow.session.execute(
            select(
                MemberChange.group_id, MemberChange.user_id, MemberChange.change,
                MemberChange.sub_type,
            ).order_by(MemberChange.id)
        )  # fmt: skip
        return [tuple(r) for r in rows.all()]  # pyright: ignore[reportReturnType]

    return await desk.read(step)


async def outbox(desk: Desk, channel: str) -> list[OutboxItem]:
    return await desk.claim_notifications([channel], limit=100)


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    from features.activities.counter import COUNTER

    with no_handler_raises(COUNTER):
        yield


@pytest.fixture
def linked(monkeypatch: pytest.MonkeyPatch) -> None:
    """QQ group 123456 linked to two customer groups; another QQ group to a third."""
    import bot.plugins.activities as activities

    link = WeComGroupLink
    links = [
        link(qq_group=str(GROUP), chat_id=CHAT, sender="zhangsan"),
        link(qq_group=str(GROUP), chat_id=OTHER_CHAT, sender="lisi"),
        link(qq_group="654321", chat_id="wrOgQhDgAAAcUNRELATED", sender="wangwu"),
    ]
    config = activities.CONFIG.model_copy(update={"wecom_groups": links})
    monkeypatch.setattr(activities, "CONFIG", config)


# --- customer-group joins and leaves -------------------------------------------------------------


async def test_customers_joining_are_recorded_once_staff_not(app: App, desk: Desk) -> None:
    join = chat_change("add_member", "wmA1", "zhangsan", "woB2", "wmA1")
    await deliver(app, join, join.model_copy())  # WeChat's retry of the same callback
    group = f"wecom:{CHAT}"
    assert await changes(desk) == [
        (group, "wmA1", "join", "qrcode"), (group, "woB2", "join", "qrcode"),
    ]  # fmt: skip
    await deliver(app, chat_change("add_member", "wmA1", time=1_790_009_999, scene=1))  # again
    assert (await changes(desk))[-1] == (group, "wmA1", "join", "link")


async def test_other_changes_are_not_member_changes(app: App, desk: Desk) -> None:
    await deliver(
        app,
        chat_change("change_name", "wmA1"),
        chat_change("change_owner", "wmA1"),
        chat_change("add_member", "zhangsan", "lisi"),  # staff only
        chat_change("del_member"),  # WeCom listed nobody
    )
    assert await changes(desk) == []


async def test_a_lead_leaving_a_customer_group_tells_the_consultant(app: App, desk: Desk) -> None:
    lead = (
        await desk.capture(channel="wecom_group", wecom_external_userid="wmLEAD01", name="钱先生")
    ).lead
    await outbox(desk, "qq")  # the new-lead DM
    leave = chat_change("del_member", "wmLEAD01", "wmSTRANGER", scene=0, time=1_790_000_300)
    await deliver(app, leave, leave.model_copy())
    [signal] = await outbox(desk, "qq")
    assert (signal.kind, signal.address, signal.lead_id) == (
        "lead_signal", str(CONSULTANT_QQ), lead.id,
    )  # fmt: skip
    assert signal.payload["signal"] == "left_group"
    assert signal.payload["note"] == texts().LEFT_WECOM_GROUP.format(chat_id=CHAT)
    detail = await desk.lead(SYSTEM, lead.id)
    assert [e.action for e in detail.timeline].count("signal") == 1
    group = f"wecom:{CHAT}"
    assert await changes(desk) == [
        (group, "wmLEAD01", "leave", "leave"), (group, "wmSTRANGER", "leave", "leave"),
    ]  # fmt: skip


async def test_a_kicked_stranger_tells_nobody(app: App, desk: Desk) -> None:
    await deliver(app, chat_change("del_member", "wmSTRANGER", scene=1))
    assert await outbox(desk, "qq") == []
    assert await changes(desk) == [(f"wecom:{CHAT}", "wmSTRANGER", "leave", "kick")]


async def test_a_very_long_chat_id_is_still_recorded_once(app: App, desk: Desk) -> None:
    chat = "wr" + "A" * 126
    join = chat_change("add_member", "wm" + "B" * 62, chat=chat)
    await deliver(app, join, join.model_copy())
    assert len(await changes(desk)) == 1


# --- topics as mass-sends ----------------------------------------------------------------------


@pytest.mark.usefixtures("linked")
async def test_a_topic_now_is_queued_for_each_linked_customer_group(app: App, desk: Desk) -> None:
    message = group_event("设置话题 冬季保养经验", user_id=MANAGER_QQ, group_id=GROUP)
    assert await ask(app, message) == texts().TOPIC_POSTED.format(text="冬季保养经验")
    [post] = await outbox(desk, "qq_group")
    tasks = await outbox(desk, "wecom_group")
    assert sorted((t.address, t.payload["sender"], t.kind) for t in tasks) == [
        (CHAT, "zhangsan", "wecom_mass_send"), (OTHER_CHAT, "lisi", "wecom_mass_send"),
    ]  # fmt: skip
    assert {t.payload["text"] for t in tasks} == {post.payload["text"]}
    await deliver_qq_again(app, message)
    assert await outbox(desk, "wecom_group") == []  # the same message: queued once


async def deliver_qq_again(app: App, message: object) -> None:
    from nonebot.adapters.onebot.v11 import Bot as QQBot

    from tests.support.nonebot_env import SELF_ID

    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=QQBot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, message.model_copy())  # pyright: ignore[reportAttributeAccessIssue]


@pytest.mark.usefixtures("linked")
async def test_a_scheduled_topic_is_queued_for_linked_groups_when_due(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    await ask(app, group_event("设置话题 自驾路线 明天上午9点", user_id=MANAGER_QQ))
    await desk.run_schedules()
    assert await outbox(desk, "wecom_group") == []
    desk_clock.set(at(11, 28, 9, 0))
    await desk.run_schedules()
    await desk.run_schedules()
    tasks = await outbox(desk, "wecom_group")
    assert sorted(t.address for t in tasks if t.address) == [CHAT, OTHER_CHAT]
    assert {t.payload["text"] for t in tasks} == {texts().TOPIC_POST.format(text="自驾路线")}


async def test_an_unlinked_group_queues_no_mass_send(app: App, desk: Desk) -> None:
    await ask(app, group_event("设置话题 冬季保养经验", user_id=MANAGER_QQ))
    assert len(await outbox(desk, "qq_group")) == 1
    assert await outbox(desk, "wecom_group") == []


# --- commands over WeChat DMs ------------------------------------------------------------------


@pytest.mark.parametrize("command", ["签到", "积分榜", "话题"])
async def test_group_commands_in_an_oa_dm(app: App, command: str) -> None:
    assert await wechat_ask(app, oa_dm(command)) == texts().GROUP_ONLY


@pytest.mark.parametrize("command", ["设置话题 冬季保养", "话题计划", "取消话题 1", "群统计"])
async def test_manager_commands_refuse_followers(app: App, command: str) -> None:
    assert await wechat_ask(app, oa_dm(command)) == ROLE_REFUSAL[MANAGER]


async def test_points_of_a_follower(app: App) -> None:
    assert await wechat_ask(app, oa_dm("积分")) == texts().POINTS_NONE
    assert await wechat_ask(app, oa_dm("积分 🚗")) == (texts().USAGE_PREFIX + texts().USAGE["积分"])


# --- config ----------------------------------------------------------------------------------------

TOPICS = "[topics]\ndefaults = ['a']\n"


def test_links_in_the_config(tmp_path: Path) -> None:
    path = tmp_path / "activities.toml"
    path.write_text(
        TOPICS + "[[wecom_groups]]\nqq_group = 123456\nchat_id = 'wrA'\nsender = 'zhangsan'\n"
        "[[wecom_groups]]\nqq_group = '123456'\nchat_id = 'wrB'\nsender = 'li.si'\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert wecom_links(config, "123456") == [("wrA", "zhangsan"), ("wrB", "li.si")]
    assert wecom_links(config, "654321") == []
    assert load_config().wecom_groups == []  # the shipped file links nothing


@pytest.mark.parametrize(
    ("links", "names"),
    [
        ("qq_group = 'abc'\nchat_id = 'wrA'\nsender = 'z'\n", "wecom_groups.0.qq_group"),
        ("qq_group = '123456'\nchat_id = 'wr A'\nsender = 'z'\n", "wecom_groups.0.chat_id"),
        ("qq_group = '123456'\nchat_id = 'wrA'\nsender = ''\n", "wecom_groups.0.sender"),
        ("qq_group = '123456'\nchat_id = 'wrA'\n", "wecom_groups.0.sender"),
        ("qq_group = '123456'\nchat_id = 'wrA'\nsender = 'z'\nmore = 1\n", "wecom_groups.0.more"),
        (
            "qq_group = '123456'\nchat_id = 'wrA'\nsender = 'z'\n[[wecom_groups]]\n"
            "qq_group = '123456'\nchat_id = 'wrA'\nsender = 'y'\n",
            "linked to QQ group 123456 twice",
        ),
    ],
)
def test_bad_links_name_the_key(tmp_path: Path, links: str, names: str) -> None:
    path = tmp_path / "activities.toml"
    path.write_text(TOPICS + "[[wecom_groups]]\n" + links, encoding="utf-8")
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        load_config(path)


async def test_a_wechat_message_on_a_locked_database_gets_the_busy_reply(
    app: App, desk: Desk
) -> None:
    """The busy reply reaches WeChat senders too, as the plain text WeChat takes."""
    from bot.hooks import install_busy_reply
    from bot.notify_texts import BUSY

    install_busy_reply()
    errors = handler_errors()
    async with database_locked(desk):
        reply = await wechat_ask(app, oa_dm("这车落地多少钱"), raises=OperationalError)
    assert reply == BUSY
    assert [type(e) for e in errors] == [OperationalError]
    errors.clear()  # the handler did raise: that is what this test is about
    assert await desk.find_lead(wechat_openid=FOLLOWER) is None
