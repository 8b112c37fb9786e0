"""Event sign-ups (spec §3.2) through nonebug, as managers and owners type them.

The desk clock stands at Friday 2026-11-27 10:00 Shanghai, so 周六上午10点 is
tomorrow morning. 90001 is a (superuser) manager, 20001… are owners, 10001 a
consultant (staff, never a lead).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from io import BytesIO
from itertools import count
from types import ModuleType
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import (
    Adapter,
    Bot,
    GroupMessageEvent,
    Message,
    MessageEvent,
    PrivateMessageEvent,
)
from nonebug import App
from openpyxl import load_workbook

from bot.roles import MANAGER
from bot.texts import ROLE_REFUSAL
from desk import SYSTEM, Desk, FrozenClock, OutboxItem
from tests.support.chat import (
    _Anything,
    ask,
    ask_charted,
    dm_after_member_check,
    handler_errors,
    no_reply,
    not_matched,
    reply_to,
)
from tests.support.clock import at
from tests.support.nonebot_env import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    ROSTER_MANAGER_QQ,
    SELF_ID,
    adapter,
    private_event,
    restarted,
)

pytestmark = pytest.mark.usefixtures("desk")

GROUP = 123456
OTHER_GROUP = 654321
OWNER = 20001
_ids = count(50_000)
CREATE_TRIP = "发起活动 周末自驾游 周六上午10点 4S店门口 20人 8车 截止 周五18点"
MANAGER_COMMANDS = ("发起活动", "到场", "关闭报名", "取消活动", "活动统计", "导出报名")


def texts() -> ModuleType:
    from bot.plugins.events import texts

    return texts


def usage(command: str) -> str:
    return texts().USAGE_PREFIX + texts().USAGE[command]


def group_msg(
    text: str, user: int = OWNER, *, group: int = GROUP, mentions: tuple[int, ...] = (),
    message_id: int | None = None, nickname: str | None = None,
) -> GroupMessageEvent:  # fmt: skip
    """A group message; `mentions` become @ segments after the text, as QQ sends them."""
    message: list[dict[str, Any]] = [{"type": "text", "data": {"text": text}}]
    for qq in mentions:
        message += [
            {"type": "at", "data": {"qq": str(qq)}},
            {"type": "text", "data": {"text": " "}},
        ]
    event = Adapter.json_to_event(
        {
            "time": 1_790_000_000, "self_id": SELF_ID, "post_type": "message",
            "message_type": "group", "sub_type": "normal",
            "message_id": next(_ids) if message_id is None else message_id,
            "group_id": group, "user_id": user, "anonymous": None, "message": message,
            "raw_message": text, "font": 0,
            "sender": {"user_id": user, "nickname": nickname or f"车主{user}", "card": "", "role": "member"},
        }
    )  # fmt: skip
    assert isinstance(event, GroupMessageEvent)
    return event


def dm(text: str, user: int = OWNER) -> PrivateMessageEvent:
    return private_event(text, user_id=user)


async def said_to(app: App, event: MessageEvent) -> str:
    """A reply that @s the asker first (报名, 取消报名, 我的报名 in a group): its text."""
    message = await reply_to(app, event)
    assert message[0].type == "at" and message[0].data["qq"] == str(event.user_id), message
    return message.extract_plain_text().strip()


async def create(
    app: App, args: str = CREATE_TRIP.removeprefix("发起活动 "), group: int = GROUP
) -> int:
    reply = await ask(app, group_msg(f"发起活动 {args}", MANAGER_QQ, group=group))
    assert reply.startswith("已发起活动 #"), reply
    return int(reply.removeprefix("已发起活动 #").split("「")[0])


async def sign_up(app: App, user: int, args: str, *, nickname: str | None = None) -> str:
    return await said_to(app, group_msg(f"报名 {args}", user, nickname=nickname))


async def group_posts(desk: Desk) -> list[OutboxItem]:
    return await desk.claim_notifications(["qq_group"], limit=100)


@pytest.fixture(autouse=True)
def _no_handler_crash() -> Iterator[None]:
    errors = handler_errors()
    yield
    assert not errors, f"a handler raised: {errors!r}"


# -- 发起活动 / 活动 ----------------------------------------------------------------


async def test_manager_creates_an_event_and_members_see_it(app: App) -> None:
    reply = await ask(app, group_msg(CREATE_TRIP, MANAGER_QQ))
    assert reply == (
        "已发起活动 #1「周末自驾游」\n时间：11-28 周六 10:00\n地点：4S店门口\n"
        "名额：20，限 8 辆车\n报名截止：11-27 周五 18:00\n"
        "发送「报名 1」报名，「报名 1 2人」带朋友一起。"
    )
    listing = await ask(app, group_msg("活动"))
    assert listing == (
        "本群活动（发送「报名 活动号」报名）：\n"
        "#1 周末自驾游｜11-28 周六 10:00｜4S店门口｜剩余 20 位，车位剩余 8"
    )
    # another group sees none of it
    assert await ask(app, group_msg("活动", group=OTHER_GROUP)) == texts().NO_OPEN_EVENTS


async def test_time_with_a_space_and_default_deadline(app: App) -> None:
    reply = await ask(
        app, group_msg("/发起活动 试驾会 12月1号 14:00 展厅 二楼 10", ROSTER_MANAGER_QQ)
    )
    assert "时间：12-01 周二 14:00\n地点：展厅 二楼\n名额：10\n报名截止：12-01 周二 14:00" in reply


async def test_saturday_said_on_a_sunday_is_the_coming_saturday(
    app: App, desk_clock: FrozenClock
) -> None:
    desk_clock.set(at(12, 6, 18, 40))  # a Sunday evening: "周六" is no longer yesterday
    reply = await ask(
        app, group_msg("发起活动 试驾会 周六上午10点 店里 20人 截止 周五18点", MANAGER_QQ)
    )
    assert "时间：12-12 周六 10:00\n" in reply, reply
    assert "报名截止：12-11 周五 18:00\n" in reply, reply


async def test_same_create_message_twice_makes_one_event(app: App) -> None:
    first = group_msg(CREATE_TRIP, MANAGER_QQ)
    again = group_msg(CREATE_TRIP, MANAGER_QQ, message_id=first.message_id)
    assert (await ask(app, first)).startswith("已发起活动 #1")
    assert await ask(app, again) == "活动 #1「周末自驾游」已经发起过了。"
    assert (await ask(app, group_msg("活动"))).count("#") == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", "usage"),
        ("试驾会", "usage"),
        ("试驾会 周六上午10点 展厅", "usage"),  # no capacity
        ("试驾会 周六上午10点 20", "usage"),  # no place
        (
            "试驾会 随便哪天 展厅 20",
            "没看懂时间「随便哪天」，可以写成：明天下午3点、周六上午10点、12月1号 14:00。",
        ),
        (
            "试驾会 昨天下午3点 展厅 20",
            "活动时间 11-26 周四 15:00 已经过去了，请写一个将来的时间。",
        ),
        (
            "试驾会 周六上午10点 展厅 20 截止 周日上午10点",
            "报名截止时间 11-29 周日 10:00 晚于活动开始时间 11-28 周六 10:00，请改早一些。",
        ),
        (
            "试驾会 周六上午10点 展厅 20 截止 今天上午8点",
            "报名截止时间 11-27 周五 08:00 已经过去了。",
        ),
        ("试驾会 周六上午10点 展厅 20 截止", "usage"),
        ("试驾会 周六上午10点 展厅 0", "名额应为 1 到 500 之间的数字，例如 20 或 20人。"),
        ("试驾会 周六上午10点 展厅 9999", "名额应为 1 到 500 之间的数字，例如 20 或 20人。"),
        ("试驾会 周六上午10点 展厅 5 8车", "车辆数应为 1 到名额之间的数字，例如 8车。"),
        ("超" * 31 + " 周六上午10点 展厅 5", "活动标题最多 30 个字，且不能含特殊字符。"),
    ],
)
async def test_create_refusals(app: App, args: str, expected: str) -> None:
    reply = await ask(app, group_msg(f"发起活动 {args}", MANAGER_QQ))
    assert reply == (usage("发起活动") if expected == "usage" else expected)
    assert await ask(app, group_msg("活动")) == texts().NO_OPEN_EVENTS


async def test_group_only_commands_in_a_dm(app: App) -> None:
    assert await ask(app, dm(CREATE_TRIP, MANAGER_QQ)) == texts().GROUP_ONLY
    assert await ask(app, dm("活动")) == texts().GROUP_ONLY


@pytest.mark.parametrize("user", [OWNER, CONSULTANT_QQ])
@pytest.mark.parametrize("command", MANAGER_COMMANDS)
async def test_manager_commands_refuse_others(app: App, user: int, command: str) -> None:
    await create(app)
    assert await ask(app, group_msg(f"{command} 1", user)) == ROLE_REFUSAL[MANAGER]
    assert await ask(app, dm(f"{command} 1", user)) == ROLE_REFUSAL[MANAGER]
    assert "剩余 20 位" in await ask(app, group_msg("活动"))  # nothing changed


async def test_chat_starting_with_the_list_word_is_not_the_command(app: App) -> None:
    from bot.plugins.events import events_command

    await not_matched(
        app, events_command, group_msg("活动 有什么优惠吗"), group_msg("报名的人多吗")
    )


# -- 报名 / 我的报名 / 取消报名 ---------------------------------------------------------


async def test_sign_up_is_committed_and_shown(app: App, desk: Desk) -> None:
    await create(app)
    reply = await sign_up(app, OWNER, "1 2人 带孩子")
    assert reply == "已报名活动 #1「周末自驾游」，2人。\n时间：11-28 周六 10:00\n地点：4S店门口"
    assert "剩余 18 位" in await ask(app, group_msg("活动"))
    assert (
        await said_to(app, group_msg("我的报名"))
        == "您的报名：\n#1 周末自驾游｜11-28 周六 10:00｜2人｜已报名"
    )
    # the same person again: told, not counted twice
    assert await sign_up(app, OWNER, "#1") == "您已报名活动 #1「周末自驾游」（2人），无需重复报名。"
    # a new size that fits changes the sign-up
    assert (
        await sign_up(app, OWNER, "1 3人 1车") == "已把活动 #1「周末自驾游」的报名改为 3人、1车。"
    )
    assert "剩余 17 位，车位剩余 7" in await ask(app, group_msg("活动"))
    # in a DM, by number, with the list of the asker's sign-ups
    assert (
        await ask(app, dm("我的报名")) == "您的报名：\n#1 周末自驾游｜11-28 周六 10:00｜3人｜已报名"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", "usage"),
        ("abc", "usage"),
        ("🚗🚗", "usage"),
        ("1; DROP TABLE events;--", "usage"),
        ("[CQ:at,qq=all]", "usage"),
        ("\x00", "usage"),
        ("99", "没有找到活动 #99。"),
        ("1 0人", "人数应为 1 到 10 之间，例如 2人。"),
        ("1 11人", "人数应为 1 到 10 之间，例如 2人。"),
        ("1 2人 3车", "车辆数不能多于人数。"),
        ("1 备注\x00", "备注最多 100 个字，且不能含特殊字符。"),
        ("1 " + "长" * 101, "备注最多 100 个字，且不能含特殊字符。"),
    ],
)
async def test_sign_up_bad_input_changes_nothing(app: App, args: str, expected: str) -> None:
    await create(app)
    reply = await said_to(app, group_msg(f"报名 {args}"))
    assert reply == (usage("报名") if expected == "usage" else expected)
    assert "剩余 20 位" in await ask(app, group_msg("活动"))
    assert await said_to(app, group_msg("我的报名")) == texts().NO_SIGNUPS


@pytest.mark.parametrize(
    "junk", ["", "🚗", "x' OR 1=1 --", "[CQ:at,qq=all]", "\x00", "-1", "0", "#", "1 2"]
)
@pytest.mark.parametrize("command", ["取消报名", "关闭报名", "取消活动", "导出报名", "活动统计"])
async def test_event_number_commands_reject_junk(app: App, command: str, junk: str) -> None:
    await create(app)
    if command == "活动统计" and junk == "":
        return  # the recent-events summary
    message = group_msg(f"{command} {junk}", MANAGER_QQ)
    reply = (await reply_to(app, message)).extract_plain_text().strip()
    assert reply == usage(command)
    assert "剩余 20 位" in await ask(app, group_msg("活动"))


async def test_very_long_message_is_ignored(app: App) -> None:
    await create(app)
    await no_reply(app, group_msg("报名 1 " + "x" * 5000))
    assert "剩余 20 位" in await ask(app, group_msg("活动"))


async def test_an_event_of_another_group_is_not_found_there(app: App) -> None:
    await create(app, group=OTHER_GROUP)
    assert await sign_up(app, OWNER, "1") == "没有找到活动 #1。"
    assert await ask(app, group_msg("活动统计 1", MANAGER_QQ)) == "没有找到活动 #1。"
    # by DM, the number is enough for a member of the event's group
    assert (await dm_after_member_check(app, dm("报名 1"), OTHER_GROUP)).startswith("已报名活动 #1")


async def test_full_event_waitlists_and_cancel_promotes_those_that_fit(
    app: App, desk: Desk
) -> None:
    await create(app, "小型试驾会 周六上午10点 展厅 2")
    assert (await sign_up(app, 20001, "1 2人")).startswith("已报名")
    assert await sign_up(app, 20002, "1", nickname="小王") == (
        "活动 #1「小型试驾会」名额已满，已为您登记候补第 1 位（1人），有空位会@您。"
    )
    assert "候补第 2 位（2人）" in await sign_up(app, 20003, "1 2人")
    assert "候补第 3 位（1人）" in await sign_up(app, 20004, "1", nickname="小李")
    assert await said_to(app, group_msg("我的报名", 20004)) == (
        "您的报名：\n#1 小型试驾会｜11-28 周六 10:00｜1人｜候补第3位"
    )
    assert "已满，候补 3 组" in await ask(app, group_msg("活动"))
    await group_posts(desk)  # nothing else pending

    reply = await said_to(app, group_msg("取消报名 1", 20001))
    # two seats free: 小王 (1) fits, 20003's party of 2 then does not, 小李 (1) does
    assert reply == "已取消活动 #1「小型试驾会」的报名。\n候补的 小王、小李 已转为报名成功。"
    posts = await group_posts(desk)
    assert [(p.key, p.address, p.payload["at"]) for p in posts] == [
        ("event:1:promoted:2:2", str(GROUP), ["20002"]),
        ("event:1:promoted:4:4", str(GROUP), ["20004"]),
    ]
    assert (
        posts[0]
        .payload["text"]
        .startswith("活动 #1「小型试驾会」有空位了，您已从候补转为报名成功（1人）。")
    )
    assert await said_to(app, group_msg("我的报名", 20003)) == (
        "您的报名：\n#1 小型试驾会｜11-28 周六 10:00｜2人｜候补第1位"
    )
    assert await said_to(app, group_msg("我的报名", 20001)) == (
        "您的报名：\n#1 小型试驾会｜11-28 周六 10:00｜2人｜已取消"
    )
    # cancelling twice, or never signed up
    assert await said_to(app, group_msg("取消报名 1", 20001)) == "您没有报名活动 #1。"
    assert await said_to(app, group_msg("取消报名 1", 20009)) == "您没有报名活动 #1。"


async def test_a_waitlisted_person_may_cancel(app: App, desk: Desk) -> None:
    await create(app, "小型试驾会 周六上午10点 展厅 1")
    await sign_up(app, 20001, "1")
    await sign_up(app, 20002, "1")
    assert (
        await said_to(app, group_msg("取消报名 1", 20002)) == "已取消活动 #1「小型试驾会」的候补。"
    )
    assert await group_posts(desk) == []


async def test_deadline_closes_sign_up(app: App, desk_clock: FrozenClock) -> None:
    await create(app)  # sign-up closes Friday 18:00
    desk_clock.set(at(11, 27, 17, 59))
    assert (await sign_up(app, 20001, "1")).startswith("已报名")
    desk_clock.set(at(11, 27, 18, 0))
    assert await sign_up(app, 20002, "1") == "活动 #1「周末自驾游」报名已截止。"
    assert "（报名已截止）" in await ask(app, group_msg("活动"))
    # a person already signed up is told their status, not refused
    assert await sign_up(app, 20001, "1") == "您已报名活动 #1「周末自驾游」（1人），无需重复报名。"
    assert await sign_up(app, 20001, "1 2人") == "活动 #1「周末自驾游」报名已截止。"


async def test_close_and_cancel_event(app: App, desk: Desk) -> None:
    await create(app, "小型试驾会 周六上午10点 展厅 1")
    await sign_up(app, 20001, "1")
    await sign_up(app, 20002, "1")  # waitlisted
    assert (
        await ask(app, group_msg("关闭报名 1", MANAGER_QQ)) == "活动 #1「小型试驾会」已停止报名。"
    )
    assert (
        await ask(app, group_msg("关闭报名 1", MANAGER_QQ))
        == "活动 #1「小型试驾会」报名已经是关闭的。"
    )
    assert await sign_up(app, 20003, "1") == "活动 #1「小型试驾会」报名已截止。"

    assert await ask(app, dm("取消活动 1", ROSTER_MANAGER_QQ)) == (
        "已取消活动 #1「小型试驾会」，已在群里通知 2 位报名的成员。"
    )
    posts = await group_posts(desk)
    assert [(p.key, p.address, p.payload["at"]) for p in posts] == [
        ("event:1:cancelled", str(GROUP), ["20001", "20002"])
    ]
    assert "取消了" in posts[0].payload["text"]
    assert (
        await ask(app, group_msg("取消活动 1", MANAGER_QQ)) == "活动 #1「小型试驾会」已经取消过了。"
    )
    assert await sign_up(app, 20004, "1") == "活动 #1「小型试驾会」已取消。"
    assert await ask(app, group_msg("活动")) == texts().NO_OPEN_EVENTS
    assert await said_to(app, group_msg("我的报名", 20001)) == (
        "您的报名：\n#1 小型试驾会｜11-28 周六 10:00｜1人｜活动已取消"
    )
    # no reminder for a cancelled event
    await desk.run_schedules()
    assert await group_posts(desk) == []


# -- reminders -------------------------------------------------------------------------


def reminders(posts: list[OutboxItem]) -> list[OutboxItem]:
    return [p for p in posts if p.key.endswith(":reminder")]


async def test_reminder_the_day_before_once(app: App, desk: Desk, desk_clock: FrozenClock) -> None:
    await create(app)
    await sign_up(app, 20001, "1")
    await sign_up(app, 20002, "1 2人")
    await desk.run_schedules()  # Friday 10:00: before the reminder hour
    assert reminders(await group_posts(desk)) == []
    desk_clock.set(at(11, 27, 18, 0))
    await desk.run_schedules()
    posts = reminders(await group_posts(desk))
    assert [(p.key, p.address, p.payload["at"]) for p in posts] == [
        ("event:1:reminder", str(GROUP), ["20001", "20002"])
    ]
    assert (
        posts[0]
        .payload["text"]
        .startswith("明天的活动提醒：#1「周末自驾游」\n时间：11-28 周六 10:00\n地点：4S店门口")
    )
    desk_clock.advance(minutes=1)
    await desk.run_schedules()
    assert reminders(await group_posts(desk)) == []


async def test_reminder_survives_a_restart(app: App, desk: Desk, desk_clock: FrozenClock) -> None:
    await create(app)
    await sign_up(app, 20001, "1")
    desk_clock.set(at(11, 27, 20, 30))  # the bot was down at 18:00
    async with restarted(desk, desk_clock) as fresh:
        await fresh.run_schedules()
        posts = reminders(await group_posts(fresh))
        assert [(p.key, p.payload["at"]) for p in posts] == [("event:1:reminder", ["20001"])]


async def test_no_reminder_for_an_event_two_days_away(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    await create(app, "车友会 周日上午10点 展厅 20")
    await sign_up(app, 20001, "1")
    desk_clock.set(at(11, 27, 19, 0))
    await desk.run_schedules()
    assert reminders(await group_posts(desk)) == []
    desk_clock.set(at(11, 28, 18, 0))
    await desk.run_schedules()
    assert [p.key for p in reminders(await group_posts(desk))] == ["event:1:reminder"]


# -- attendance, statistics, leads ---------------------------------------------------------


async def test_attendance_and_no_shows_after_the_event(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    await create(app)
    for user in (20001, 20002, 20003):
        await sign_up(app, user, "1", nickname=f"车友{user}")
    assert await ask(app, group_msg("到场 1", MANAGER_QQ, mentions=(20001,))) == (
        "活动 #1 在 11-28 周六 10:00，当天才能登记到场。"
    )
    desk_clock.set(at(11, 28, 10, 20))
    reply = await ask(app, group_msg("到场 1", MANAGER_QQ, mentions=(20001, SELF_ID, 29999)))
    assert reply == "活动 #1 已登记到场 1 人：车友20001\n未报名（未登记）：29999"
    assert await ask(app, dm("到场 1 20002", MANAGER_QQ)) == "活动 #1 已登记到场 1 人：车友20002"
    assert (
        await ask(app, group_msg("到场 1", MANAGER_QQ))
        == "请 @ 到场的成员或写上QQ号，例如：到场 1 @张三。"
    )
    desk_clock.set(at(11, 28, 12, 59))
    await desk.run_schedules()
    stats = await ask_charted(app, group_msg("活动统计 1", MANAGER_QQ))
    assert "到场：2人（2组）\n未到场：0人（0组）" in stats
    desk_clock.set(at(11, 28, 13, 0))  # start + 3 hours' grace
    await desk.run_schedules()
    await desk.run_schedules()  # idempotent
    stats = await ask_charted(app, group_msg("活动统计 1", MANAGER_QQ))
    assert "报名：3人（3组）/ 名额 20，车辆 0/8\n" in stats
    assert "到场：2人（2组）\n未到场：1人（1组）\n" in stats
    assert await said_to(app, group_msg("我的报名", 20003)) == (
        "您的报名：\n#1 周末自驾游｜11-28 周六 10:00｜1人｜未到场"
    )
    # a late arrival marked afterwards is attended after all
    await ask(app, group_msg("到场 1", MANAGER_QQ, mentions=(20003,)))
    assert "到场：3人（3组）\n未到场：0人（0组）" in await ask_charted(
        app, group_msg("活动统计 1", MANAGER_QQ)
    )


async def test_prospects_become_leads_staff_and_customers_do_not(app: App, desk: Desk) -> None:
    await create(app)
    await sign_up(app, 30001, "1", nickname="张先生")
    lead = await desk.find_lead(qq_id="30001")
    assert lead is not None
    assert (lead.channel, lead.source, lead.name, lead.group_id) == (
        "event",
        "event:1",
        "张先生",
        str(GROUP),
    )
    assert lead.first_message == "报名活动 周末自驾游"
    # staff: no lead
    await sign_up(app, CONSULTANT_QQ, "1")
    assert await desk.find_lead(qq_id=str(CONSULTANT_QQ)) is None
    await sign_up(app, MANAGER_QQ, "1")  # a superuser manager
    assert await desk.find_lead(qq_id=str(MANAGER_QQ)) is None
    # a customer (won) is not captured again; an open lead is seen again, not duplicated
    won = (await desk.capture(channel="walk_in", qq_id="30002", name="老车主")).lead.id
    await desk.follow_up(SYSTEM, won, "已联系")
    await desk.record_order(SYSTEM, won)
    await desk.record_deal(SYSTEM, won)
    await sign_up(app, 30002, "1")
    assert (await desk.lead(SYSTEM, won)).timeline[-1].action == "deal"
    await desk.capture(channel="qq_group:123456", qq_id="30003", name="李女士")
    await sign_up(app, 30003, "1")
    stats = await ask_charted(app, group_msg("活动统计 1", MANAGER_QQ))
    assert "报名：5人（5组）" in stats and stats.endswith("新线索：1")


async def test_an_owners_sign_up_is_kept_and_makes_no_lead(app: App, desk: Desk) -> None:
    """An owner (imported, 设为车主 or won) signs up like anyone; 活动统计 counts them
    apart from the new customers, and only the new customer becomes a lead."""
    await desk.mark_owner(SYSTEM, qq_id="30001", name="老车主")
    await create(app)
    assert (await sign_up(app, 30001, "1 2人")).startswith("已报名活动 #1「周末自驾游」，2人")
    await sign_up(app, 30002, "1")
    assert await desk.find_lead(qq_id="30001") is None
    assert await desk.find_lead(qq_id="30002") is not None
    stats = await ask_charted(app, group_msg("活动统计 1", MANAGER_QQ))
    assert "报名：3人（2组）" in stats and "其中：车主 1 组 · 新客户 1 组" in stats, stats
    assert stats.endswith("新线索：1")


async def test_statistics_of_recent_events(app: App) -> None:
    await create(app)
    await create(app, "小型试驾会 周六下午3点 展厅 1")
    await sign_up(app, 30001, "2")
    await sign_up(app, 30002, "2")
    await sign_up(app, 30003, "2")
    await said_to(app, group_msg("取消报名 2", 30001))  # 30002 promoted
    stats = await ask_charted(app, group_msg("活动统计 2", MANAGER_QQ))
    assert stats == (
        "活动 #2「小型试驾会」统计\n时间：11-28 周六 15:00\n报名：1人（1组）/ 名额 1\n"
        "其中：车主 0 组 · 新客户 1 组\n候补：1人（1组）\n取消：1组\n到场：0人（0组）\n未到场：0人（0组）\n新线索：3"
    )
    summary = await ask_charted(app, group_msg("活动统计", MANAGER_QQ))
    assert summary == (
        "最近的活动：\n"
        "#2 小型试驾会｜11-28 周六 15:00｜报名1人 候补1组 到场0人 新线索3\n"
        "#1 周末自驾游｜11-28 周六 10:00｜报名0人 候补0组 到场0人 新线索0"
    )
    assert await ask(app, group_msg("活动统计", MANAGER_QQ, group=OTHER_GROUP)) == texts().NO_RECENT


# -- 导出报名 ---------------------------------------------------------------------------


async def _export(app: App, event: MessageEvent, api: str, target: dict[str, Any]) -> bytes:
    caught = _Anything()
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            api, {**target, "file": caught, "name": "活动1报名名单.xlsx"}, result=None
        )
    assert isinstance(caught.value, str) and caught.value.startswith("base64://")
    return base64.b64decode(caught.value.removeprefix("base64://"))


async def test_export_uploads_the_list(app: App) -> None:
    await create(app, "小型试驾会 周六上午10点 展厅 2")
    await sign_up(app, 20001, '1 2人 =HYPERLINK("x")', nickname="张三")
    await sign_up(app, 20002, "1", nickname="李四")
    await said_to(app, group_msg("取消报名 1", 20001))
    await sign_up(app, 20003, "1 2人", nickname="王五")
    data = await _export(
        app, group_msg("导出报名 1", MANAGER_QQ), "upload_group_file", {"group_id": GROUP}
    )
    sheet = load_workbook(BytesIO(data)).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "#1 小型试驾会 11-28 周六 10:00 展厅"
    assert rows[1] == ["序号", "昵称", "QQ", "人数", "车辆", "状态", "备注", "报名时间"]
    assert rows[2:] == [
        [1, "张三", "20001", 2, 0, "已取消", '\'=HYPERLINK("x")', "2026-11-27 10:00"],
        [2, "李四", "20002", 1, 0, "已报名", None, "2026-11-27 10:00"],
        [3, "王五", "20003", 2, 0, "候补第1位", None, "2026-11-27 10:00"],
    ]
    # in a DM, to the manager
    data = await _export(
        app, dm("导出报名 1", MANAGER_QQ), "upload_private_file", {"user_id": MANAGER_QQ}
    )
    assert load_workbook(BytesIO(data)).active is not None


async def test_export_failure_is_told(app: App) -> None:
    await create(app)
    event = group_msg("导出报名 1", MANAGER_QQ)
    caught = _Anything()
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "upload_group_file", {"group_id": GROUP, "file": _Anything(), "name": "活动1报名名单.xlsx"},
            exception=RuntimeError("not supported"),
        )  # fmt: skip
        ctx.should_call_api(
            "send_group_msg", {"group_id": GROUP, "message": caught}, result={"message_id": 1}
        )
    assert isinstance(caught.value, Message)
    assert caught.value.extract_plain_text() == texts().EXPORT_FAILED


async def test_export_of_an_unknown_event(app: App) -> None:
    assert await ask(app, group_msg("导出报名 7", MANAGER_QQ)) == "没有找到活动 #7。"


def test_help_lists_member_and_manager_commands() -> None:
    from bot.plugins.help import help_text

    member = help_text({"member"})
    assert "报名 <活动号> [N人] [备注]" in member and "取消报名" in member
    assert "发起活动" not in member and "导出报名" not in member
    manager = help_text({"member", "consultant", "manager"})
    assert "发起活动 <标题> <时间> <地点> <名额> [截止 <时间>]" in manager
