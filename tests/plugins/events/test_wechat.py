"""Event sign-ups over WeChat (spec §3 intro, §3.2) through nonebug: Official
Account followers sign up, cancel and list their sign-ups by DM; they are told
of a promotion, a reminder or a cancellation by an OA customer-service DM (QQ
people keep their group @); WeCom app staff may use the manager commands a QQ
DM allows. Events are the adapter's own models (bot.adapters.wechat.event),
bots the adapter's Bot class.

The desk clock stands at Friday 2026-11-27 10:00 Shanghai.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from functools import partial
from io import BytesIO
from itertools import count
from types import ModuleType

import pytest
from nonebot.adapters.onebot.v11 import Bot as QQBot
from nonebot.adapters.onebot.v11 import Message as QQMessage
from nonebug import App
from openpyxl import load_workbook

from bot.adapters.wechat import Bot as WeChatBot
from bot.adapters.wechat import Message, MessageSegment, OAMessageEvent, WeComMessageEvent
from bot.adapters.wechat.event import MessageEvent as WeChatMessageEvent
from bot.roles import MANAGER
from bot.texts import ROLE_REFUSAL
from desk import SYSTEM, Desk, FrozenClock, OutboxItem
from features.events import jobs
from tests.support.chat import _Anything, ask, ask_charted, handler_errors, reply_to
from tests.support.clock import at
from tests.support.nonebot_env import MANAGER_QQ, SELF_ID, adapter, group_event, private_event

pytestmark = pytest.mark.usefixtures("desk")

GROUP = 123456
OWNER = 20001
OA_SELF = "oa:wx1234567890abcdef"
WECOM_SELF = "wecom:wwcorp0001:1000002"
FOLLOWER = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
OTHER_FOLLOWER = "o6_bmjrPTlm6_2sgVt7hMZOPfL2N"
WECOM_MANAGER = "zhaoliu"
_msg_ids = count(9_100_000_000)
CREATE_TRIP = "发起活动 周末自驾游 周六上午10点 4S店门口 {seats}人 截止 周五18点"


def texts() -> ModuleType:
    from bot.plugins.events import texts

    return texts


def usage(command: str) -> str:
    return texts().USAGE_PREFIX + texts().USAGE[command]


def oa_dm(text: str, openid: str = FOLLOWER, *, msg_id: int | None = None) -> OAMessageEvent:
    """An Official Account follower's text message, as the adapter builds it."""
    return OAMessageEvent(
        self_id=OA_SELF, to_user="gh_0123456789ab", from_user=openid, create_time=1_790_000_000,
        raw={}, msg_id=next(_msg_ids) if msg_id is None else msg_id, msg_type="text",
        message=Message(MessageSegment.text(text)),
    )  # fmt: skip


def wecom_dm(text: str, user: str = WECOM_MANAGER) -> WeComMessageEvent:
    return WeComMessageEvent(
        self_id=WECOM_SELF, to_user="wwcorp0001", from_user=user, create_time=1_790_000_000,
        raw={}, msg_id=next(_msg_ids), msg_type="text", agent_id=1000002,
        message=Message(MessageSegment.text(text)),
    )  # fmt: skip


async def wechat_ask(app: App, event: WeChatMessageEvent) -> str:
    """The bot's one answer to a WeChat DM: `bot.send` on the event's own app."""
    caught = _Anything()
    async with app.test_matcher() as ctx:
        self_id, platform = (OA_SELF, "oa") if event.platform == "oa" else (WECOM_SELF, "wecom")
        bot = ctx.create_bot(base=WeChatBot, adapter=adapter(), self_id=self_id, platform=platform)
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, caught, result=[{"errcode": 0}])  # pyright: ignore[reportArgumentType]
    assert isinstance(caught.value, str), caught.value
    return caught.value


async def create(app: App, seats: int = 20, group: int = GROUP) -> int:
    event = group_event(CREATE_TRIP.format(seats=seats), user_id=MANAGER_QQ, group_id=group)
    reply = await ask(app, event)
    assert reply.startswith("已发起活动 #"), reply
    return int(reply.removeprefix("已发起活动 #").split("「")[0])


async def qq_says(app: App, text: str, user: int = OWNER) -> str:
    """A QQ owner in the group; the reply @s them first."""
    message = await reply_to(app, group_event(text, user_id=user, group_id=GROUP))
    assert isinstance(message, QQMessage) and message[0].type == "at", message
    return message.extract_plain_text().strip()


async def outbox(desk: Desk, channel: str) -> list[OutboxItem]:
    """Notifications due now on `channel` (claimed, so each is seen once)."""
    return await desk.claim_notifications([channel], limit=100)


@pytest.fixture(autouse=True)
def _no_handler_crash() -> Iterator[None]:
    errors = handler_errors()
    yield
    assert not errors, f"a handler raised: {errors!r}"


@pytest.fixture(autouse=True)
def _group_published_to_the_oa(monkeypatch: pytest.MonkeyPatch) -> None:
    """GROUP's events are open to Official Account followers (events.toml oa_groups)."""
    import bot.plugins.events as events

    config = events.CONFIG.model_copy(update={"oa_groups": frozenset({str(GROUP)})})
    monkeypatch.setattr(events, "CONFIG", config)


@pytest.fixture
async def wecom_manager(desk: Desk) -> str:
    await desk.add_member(
        SYSTEM, name="赵经理", role="manager", wecom_userid=WECOM_MANAGER, dm_channel="wecom"
    )
    return WECOM_MANAGER


# --- an Official Account follower signs up ----------------------------------------------------


async def test_a_follower_signs_up_and_becomes_a_lead(app: App, desk: Desk) -> None:
    event_id = await create(app)
    reply = await wechat_ask(app, oa_dm(f"报名 {event_id} 2人 带孩子"))
    assert reply.startswith(f"已报名活动 #{event_id}「周末自驾游」，2人。"), reply
    lead = await desk.find_lead(wechat_openid=FOLLOWER)
    assert lead is not None and (lead.channel, lead.source) == ("event", f"event:{event_id}")
    assert lead.name is None  # an OA follower gives no name
    stats = await ask_charted(app, private_event(f"活动统计 {event_id}", user_id=MANAGER_QQ))
    assert "报名：2人（1组）" in stats and "新线索：1" in stats


async def test_the_same_oa_message_twice_signs_up_once(app: App, desk: Desk) -> None:
    event_id = await create(app)
    first = oa_dm(f"报名 {event_id}", msg_id=4242)
    assert (await wechat_ask(app, first)).startswith(f"已报名活动 #{event_id}")
    again = await wechat_ask(app, first.model_copy())
    assert again.startswith(f"您已报名活动 #{event_id}"), again
    stats = await ask_charted(app, private_event(f"活动统计 {event_id}", user_id=MANAGER_QQ))
    assert "报名：1人（1组）" in stats and "新线索：1" in stats


async def test_a_customer_following_the_oa_is_not_captured_again(app: App, desk: Desk) -> None:
    won = (await desk.capture(channel="wechat_oa", wechat_openid=FOLLOWER, name="老车主")).lead.id
    await desk.follow_up(SYSTEM, won, "已联系")
    await desk.record_order(SYSTEM, won)
    await desk.record_deal(SYSTEM, won)
    event_id = await create(app)
    assert (await wechat_ask(app, oa_dm(f"报名 {event_id}"))).startswith(f"已报名活动 #{event_id}")
    assert (await desk.lead(SYSTEM, won)).timeline[-1].action == "deal"
    stats = await ask_charted(app, private_event(f"活动统计 {event_id}", user_id=MANAGER_QQ))
    assert "新线索：0" in stats


async def test_people_on_qq_and_oa_are_told_apart(app: App, desk: Desk) -> None:
    event_id = await create(app)
    assert (await qq_says(app, f"报名 {event_id}")).startswith(f"已报名活动 #{event_id}")
    assert (await wechat_ask(app, oa_dm(f"报名 {event_id}"))).startswith(f"已报名活动 #{event_id}")
    mine = await wechat_ask(app, oa_dm("我的报名"))
    assert mine.startswith("您的报名：") and f"#{event_id} 周末自驾游" in mine
    assert await wechat_ask(app, oa_dm("我的报名", OTHER_FOLLOWER)) == texts().NO_SIGNUPS
    assert await wechat_ask(app, oa_dm(f"取消报名 {event_id}")) == texts().SIGNUP_CANCELLED.format(
        id=event_id, title="周末自驾游"
    )
    # the QQ owner's sign-up is untouched
    assert (await qq_says(app, f"报名 {event_id}")).startswith(f"您已报名活动 #{event_id}")
    stats = await ask_charted(app, private_event(f"活动统计 {event_id}", user_id=MANAGER_QQ))
    assert "报名：1人（1组）" in stats and "取消：1组" in stats


async def test_cancelling_for_an_unknown_or_foreign_sign_up(app: App, desk: Desk) -> None:
    event_id = await create(app)
    await qq_says(app, f"报名 {event_id}")
    assert await wechat_ask(app, oa_dm(f"取消报名 {event_id}")) == texts().NOT_SIGNED_UP.format(
        id=event_id
    )
    assert await wechat_ask(app, oa_dm("报名 999")) == texts().NO_EVENT.format(id=999)


async def test_a_promoted_follower_gets_an_oa_dm_not_a_group_at(app: App, desk: Desk) -> None:
    event_id = await create(app, seats=1)
    await qq_says(app, f"报名 {event_id}")
    waiting = await wechat_ask(app, oa_dm(f"报名 {event_id}"))
    assert waiting.startswith(f"活动 #{event_id}「周末自驾游」名额已满，已为您登记候补第 1 位")
    await qq_says(app, f"取消报名 {event_id}")
    [dm] = await outbox(desk, "wechat_oa")
    assert (dm.kind, dm.address) == ("event_promoted", FOLLOWER)
    assert dm.payload["text"].startswith(f"活动 #{event_id}「周末自驾游」有空位了")
    assert await outbox(desk, "qq_group") == []  # nobody @-ed in the group
    mine = await wechat_ask(app, oa_dm("我的报名"))
    assert "｜1人｜已报名" in mine


async def test_a_promoted_qq_owner_is_still_at_in_the_group(app: App, desk: Desk) -> None:
    event_id = await create(app, seats=1)
    await wechat_ask(app, oa_dm(f"报名 {event_id}"))
    await qq_says(app, f"报名 {event_id}")  # waitlisted
    await wechat_ask(app, oa_dm(f"取消报名 {event_id}"))
    [post] = await outbox(desk, "qq_group")
    assert post.payload["at"] == [str(OWNER)] and post.address == str(GROUP)
    assert await outbox(desk, "wechat_oa") == []


async def test_the_reminder_ats_qq_people_and_dms_each_follower_once(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    from bot.plugins.events import events_for

    event_id = await create(app)
    await qq_says(app, f"报名 {event_id}")
    await wechat_ask(app, oa_dm(f"报名 {event_id}"))
    await wechat_ask(app, oa_dm(f"报名 {event_id}", OTHER_FOLLOWER))
    desk_clock.set(at(11, 27, 18, 5))
    remind = partial(jobs.remind, events_for(desk))
    assert await desk.write(remind) == 1
    assert await desk.write(remind) == 0  # once per event
    [post] = await outbox(desk, "qq_group")
    assert post.payload["at"] == [str(OWNER)]
    dms = await outbox(desk, "wechat_oa")
    assert sorted(str(d.address) for d in dms) == sorted([FOLLOWER, OTHER_FOLLOWER])
    assert {d.kind for d in dms} == {"event_reminder"}
    assert all(d.payload["text"].startswith("明天的活动提醒") for d in dms)
    assert len({d.key for d in dms}) == 2  # one key per event and person


async def test_cancelling_the_event_tells_followers_by_dm(app: App, desk: Desk) -> None:
    event_id = await create(app)
    await qq_says(app, f"报名 {event_id}")
    await wechat_ask(app, oa_dm(f"报名 {event_id}"))
    reply = await ask(app, group_event(f"取消活动 {event_id}", user_id=MANAGER_QQ))
    assert reply == texts().CANCELLED.format(
        id=event_id, title="周末自驾游",
        told=texts().CANCELLED_TOLD_ALL.format(count=2, group=1, dm=1),
    )  # fmt: skip
    [post] = await outbox(desk, "qq_group")
    assert post.payload["at"] == [str(OWNER)]
    [dm] = await outbox(desk, "wechat_oa")
    assert (dm.kind, dm.address) == ("event_cancelled", FOLLOWER)
    assert "取消了" in dm.payload["text"]


async def test_the_export_shows_followers_without_a_qq(app: App, desk: Desk) -> None:
    event_id = await create(app)
    await qq_says(app, f"报名 {event_id}")
    await wechat_ask(app, oa_dm(f"报名 {event_id}"))
    caught = _Anything()
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=QQBot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, private_event(f"导出报名 {event_id}", user_id=MANAGER_QQ))
        ctx.should_call_api(
            "upload_private_file",
            {"user_id": MANAGER_QQ, "file": caught, "name": f"活动{event_id}报名名单.xlsx"},
            result={},
        )
    data = base64.b64decode(str(caught.value).removeprefix("base64://"))
    sheet = load_workbook(BytesIO(data)).active
    assert sheet is not None
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=3)]
    assert [(r[1], r[2]) for r in rows] == [(f"用户{OWNER}", str(OWNER)), ("公众号用户", None)]


# --- what followers may not do --------------------------------------------------------------


@pytest.mark.parametrize("command", ["发起活动 周末自驾游 周六上午10点 门口 20人", "到场 1", "关闭报名 1", "取消活动 1", "活动统计", "导出报名 1"])  # fmt: skip
async def test_manager_commands_refuse_followers(app: App, desk: Desk, command: str) -> None:
    assert await wechat_ask(app, oa_dm(command)) == ROLE_REFUSAL[MANAGER]


async def test_the_group_list_is_for_the_group(app: App) -> None:
    assert await wechat_ask(app, oa_dm("活动")) == texts().GROUP_ONLY


@pytest.mark.parametrize(
    "args",
    [
        "",
        "abc",
        "0",
        "🚗😀",
        "'; DROP TABLE event_signups; --",
        "\x00",
        "[CQ:at,qq=all]",
    ],
)
async def test_bad_sign_up_arguments_from_a_follower(app: App, desk: Desk, args: str) -> None:
    await create(app)
    reply = await wechat_ask(app, oa_dm(f"报名 {args}"))
    assert reply == usage("报名")
    assert await desk.find_lead(wechat_openid=FOLLOWER) is None


async def test_a_huge_message_is_no_command(app: App, desk: Desk) -> None:
    event_id = await create(app)
    async with app.test_matcher() as ctx:  # no answer at all
        bot = ctx.create_bot(base=WeChatBot, adapter=adapter(), self_id=OA_SELF, platform="oa")
        ctx.receive_event(bot, oa_dm(f"报名 {event_id} " + "9" * 5000))
    assert await desk.find_lead(wechat_openid=FOLLOWER) is None


async def test_a_bad_note_changes_nothing(app: App, desk: Desk) -> None:
    event_id = await create(app)
    reply = await wechat_ask(app, oa_dm(f"报名 {event_id} 2人 " + "长" * 500))
    assert reply == texts().BAD_NOTE.format(limit=100)
    assert await desk.find_lead(wechat_openid=FOLLOWER) is None


# --- WeCom staff ---------------------------------------------------------------------------------


async def test_a_wecom_manager_reads_the_stats(
    app: App, desk: Desk, wecom_manager: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[object] = []  # WeChat's transport sends no pictures: none is drawn
    monkeypatch.setattr("bot.charts.draw.render", drawn.append)
    event_id = await create(app)
    await wechat_ask(app, oa_dm(f"报名 {event_id}"))
    stats = await wechat_ask(app, wecom_dm(f"活动统计 {event_id}", wecom_manager))
    assert stats.startswith(f"活动 #{event_id}「周末自驾游」统计") and "新线索：1" in stats
    recent = await wechat_ask(app, wecom_dm("活动统计", wecom_manager))
    assert recent.startswith("最近的活动：")
    assert drawn == []


async def test_the_export_is_only_on_qq(app: App, desk: Desk, wecom_manager: str) -> None:
    event_id = await create(app)
    reply = await wechat_ask(app, wecom_dm(f"导出报名 {event_id}", wecom_manager))
    assert reply == texts().EXPORT_QQ_ONLY
    assert await wechat_ask(app, wecom_dm("导出报名", wecom_manager)) == usage("导出报名")


async def test_wecom_staff_off_the_roster_are_no_managers(app: App, desk: Desk) -> None:
    assert await wechat_ask(app, wecom_dm("活动统计", "stranger")) == ROLE_REFUSAL[MANAGER]


async def test_a_wecom_staff_sign_up_is_no_lead(app: App, desk: Desk, wecom_manager: str) -> None:
    event_id = await create(app, seats=1)
    await wechat_ask(app, wecom_dm(f"报名 {event_id}", wecom_manager))
    await wechat_ask(app, oa_dm(f"报名 {event_id}"))  # waitlisted
    assert await wechat_ask(app, wecom_dm(f"取消报名 {event_id}", wecom_manager)) == (
        texts().SIGNUP_CANCELLED.format(id=event_id, title="周末自驾游")
        + texts().PROMOTED_SUFFIX.format(names="公众号用户")
    )
    stats = await ask_charted(app, private_event(f"活动统计 {event_id}", user_id=MANAGER_QQ))
    assert "新线索：1" in stats  # the follower only
    [dm] = await outbox(desk, "wechat_oa")
    assert dm.address == FOLLOWER


# --- WeCom customer groups linked to the QQ group -----------------------------------------------


async def test_a_new_event_is_queued_for_the_linked_customer_groups(
    app: App, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.plugins.activities as activities
    from features.activities.config import WeComGroupLink

    links = [
        WeComGroupLink(qq_group=str(GROUP), chat_id="wrOgQhDgAAAa", sender="zhangsan"),
        WeComGroupLink(qq_group=str(GROUP), chat_id="wrOgQhDgAAAb", sender="lisi"),
        WeComGroupLink(qq_group="654321", chat_id="wrOgQhDgAAAc", sender="wangwu"),
    ]
    monkeypatch.setattr(
        activities, "CONFIG", activities.CONFIG.model_copy(update={"wecom_groups": links})
    )
    message = group_event(CREATE_TRIP.format(seats=20), user_id=MANAGER_QQ, group_id=GROUP)
    reply = await ask(app, message)
    event_id = int(reply.removeprefix("已发起活动 #").split("「")[0])
    assert (await ask(app, message.model_copy())).startswith(
        f"活动 #{event_id}「周末自驾游」已经发起过了"
    )
    tasks = await outbox(desk, "wecom_group")
    assert sorted((t.address, t.payload["sender"]) for t in tasks) == [
        ("wrOgQhDgAAAa", "zhangsan"), ("wrOgQhDgAAAb", "lisi"),
    ]  # fmt: skip
    assert {t.kind for t in tasks} == {"wecom_mass_send"}
    text = tasks[0].payload["text"]
    assert f"#{event_id}「周末自驾游」" in text and f"公众号发送「报名 {event_id}」" in text


async def test_an_event_of_an_unlinked_group_queues_no_mass_send(app: App, desk: Desk) -> None:
    await create(app)
    assert await outbox(desk, "wecom_group") == []
