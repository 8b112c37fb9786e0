"""Owner-group activities (spec §3.1) through nonebug, as owners and managers type them.

The desk fixture's clock stands at Friday 2026-11-27 10:00 Shanghai. 20001 is a car
owner (no roster, no superuser); 90001 a SUPERUSER manager, 90002 a roster manager.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import (
    ActionFailed,
    Adapter,
    Bot,
    GroupMessageEvent,
    Message,
    MessageSegment,
)
from nonebot.adapters.onebot.v11.event import NoticeEvent
from nonebug import App
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.roles import MANAGER
from bot.texts import ROLE_REFUSAL
from desk import SYSTEM, ConfigError, Desk, FrozenClock
from desk.store import UnitOfWork
from features.activities.config import load_config
from features.activities.topics import default_topic
from tests.support.chat import (
    ask,
    charted,
    database_locked,
    handler_errors,
    no_handler_raises,
    no_reply,
    reply_to,
)
from tests.support.clock import at
from tests.support.nonebot_env import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    ROSTER_MANAGER_QQ,
    SELF_ID,
    adapter,
    group_event,
    private_event,
    restarted,
)

pytestmark = pytest.mark.usefixtures("desk")

GROUP = 123456
OTHER_GROUP = 654321
OWNER = 20001
MANAGERS = [pytest.param(MANAGER_QQ, id="superuser"), pytest.param(ROSTER_MANAGER_QQ, id="roster")]
MANAGER_COMMANDS = ("设置话题", "话题计划", "取消话题", "群统计")
MEMBER_COMMANDS = ("签到", "积分", "积分榜", "话题")
GROUP_COMMANDS = ("签到", "积分榜", "话题", *MANAGER_COMMANDS)


def texts() -> ModuleType:
    from bot.plugins.activities import texts

    return texts


def usage(cmd: str) -> str:
    return texts().USAGE_PREFIX + texts().USAGE[cmd]


def at_reply(user: int, text: str) -> Message:
    return Message([MessageSegment.at(user), MessageSegment.text(text)])


def say(text: str, user: int = OWNER, group: int = GROUP, **kw: Any) -> GroupMessageEvent:
    return group_event(text, user_id=user, group_id=group, **kw)


@pytest.fixture(autouse=True)
def _clean_counter() -> Iterator[None]:
    """Counts other test modules' messages left in memory must not reach this desk."""
    from features.activities.counter import COUNTER

    with no_handler_raises(COUNTER):
        yield


class _Caught:
    value: Any = None

    def __eq__(self, other: object) -> bool:
        self.value = other
        return True

    __hash__ = None  # type: ignore[assignment]


def member_ids(members: int) -> list[int]:
    """A group of `members` people: the bot and the manager, then members 50001…"""
    return [SELF_ID, MANAGER_QQ, *range(50001, 50001 + members - 2)][:members]


async def group_stats(
    app: App, args: str = "", *, user: int = MANAGER_QQ, group: int = GROUP,
    members: int | None = 88,
) -> str:  # fmt: skip
    """The 群统计 reply; the bot asks the QQ client for the member count first."""
    caught = _Caught()
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, say(f"群统计 {args}".strip(), user=user, group=group))
        if members is None:
            failure = ActionFailed(status="failed", retcode=100, msg="no such group")
            ctx.should_call_api("get_group_member_list", {"group_id": group}, exception=failure)
        else:
            listed = [{"group_id": group, "user_id": qq} for qq in member_ids(members)]
            ctx.should_call_api("get_group_member_list", {"group_id": group}, result=listed)
        ctx.should_call_api(
            "send_group_msg", {"group_id": group, "message": caught}, result={"message_id": 1}
        )
    assert isinstance(caught.value, Message)
    text, _ = charted(caught.value)
    return text


def stats_text(label: str = "今日", members: int | str = 88, **figures: int) -> str:
    values = {"joined": 0, "left": 0, "speakers": 0, "messages": 0, "checkins": 0} | figures
    return texts().STATS.format(label=label, members=members, **values)


def notice(
    kind: str, user: int, *, group: int = GROUP, sub_type: str = "", operator: int = 0,
    time: int = 1_790_000_100,
) -> NoticeEvent:  # fmt: skip
    sub = sub_type or ("approve" if kind == "group_increase" else "leave")
    event = Adapter.json_to_event(
        {
            "time": time,
            "self_id": SELF_ID,
            "post_type": "notice",
            "notice_type": kind,
            "sub_type": sub,
            "group_id": group,
            "user_id": user,
            "operator_id": operator,
        }  # fmt: skip
    )
    assert isinstance(event, NoticeEvent)
    return event


async def deliver(app: App, *events: Any) -> None:
    """Events the bot takes in silence (notices, plain chat)."""
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        for event in events:
            ctx.receive_event(bot, event)


async def points_of(desk: Desk, qq: int) -> int:
    from features.points import balance, qq_user

    return await desk.read(lambda uow: balance(uow, qq_user(qq)))


async def count_rows(desk: Desk, table: Any) -> int:
    async def step(uow: UnitOfWork) -> int:
        return int(await uow.session.scalar(select(func.count()).select_from(table)) or 0)

    return await desk.read(step)


async def group_posts(desk: Desk) -> list[Any]:
    """Group posts due now (claimed, so each is seen once)."""
    return await desk.claim_notifications(["qq_group"])


def checkin_done(rank: int, points: int, streak: int, total: int, bonus: int = 0) -> str:
    bonus_text = texts().CHECKIN_BONUS.format(bonus=bonus) if bonus else ""
    return texts().CHECKIN_DONE.format(
        rank=rank, points=points, bonus=bonus_text, streak=streak, total=total
    )


# --- 签到 ----------------------------------------------------------------------------------------


async def test_first_checkin_of_the_day(app: App, desk: Desk) -> None:
    reply = await reply_to(app, say("签到"))
    assert reply == at_reply(OWNER, checkin_done(rank=1, points=5, streak=1, total=5))
    assert "签到成功！今日第1名" in reply.extract_plain_text()
    assert await points_of(desk, OWNER) == 5


async def test_checkin_on_a_locked_database_gets_the_busy_reply(app: App, desk: Desk) -> None:
    """In the group: no "签到成功", no points, and one short line to try again."""
    from bot.hooks import install_busy_reply
    from bot.notify_texts import BUSY

    install_busy_reply()
    errors = handler_errors()
    async with database_locked(desk):
        reply = await ask(app, say("签到"), raises=OperationalError)
    assert reply == BUSY
    assert [type(e) for e in errors] == [OperationalError]
    errors.clear()  # the handler did raise: that is what this test is about
    assert await points_of(desk, OWNER) == 0
    again = await reply_to(app, say("签到"))  # the lock gone, it counts
    assert "签到成功" in again.extract_plain_text()


async def test_checkin_with_slash_and_a_greeting(app: App) -> None:
    reply = await reply_to(app, say("/签到 今天好冷"))
    assert reply == at_reply(OWNER, checkin_done(rank=1, points=5, streak=1, total=5))


async def test_second_checkin_the_same_day_gives_nothing(app: App, desk: Desk) -> None:
    await reply_to(app, say("签到"))
    desk_clock_note = await reply_to(app, say("签到"))
    expected = texts().CHECKIN_ALREADY.format(rank=1, streak=1, total=5)
    assert desk_clock_note == at_reply(OWNER, expected)
    assert "今天已经签到过了" in expected
    assert await points_of(desk, OWNER) == 5


async def test_the_same_message_twice_checks_in_once(app: App, desk: Desk) -> None:
    from features.points import PointsEntry

    event = say("签到", message_id=4242)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": GROUP, "message": at_reply(OWNER, checkin_done(1, 5, 1, 5))},
            result={"message_id": 1},
        )
        ctx.receive_event(bot, event.model_copy())  # redelivered: silence
    assert await points_of(desk, OWNER) == 5
    assert await count_rows(desk, PointsEntry) == 1


async def test_a_redelivery_after_midnight_is_still_the_same_checkin(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    event = say("签到", message_id=4343)
    await reply_to(app, event)
    desk_clock.set(at(11, 28, 0, 1))
    await no_reply(app, event.model_copy())
    assert await points_of(desk, OWNER) == 5


async def test_ranks_follow_the_order_of_checkins_per_group(app: App) -> None:
    for place, user in enumerate((20001, 20002, 20003), 1):
        reply = await reply_to(app, say("签到", user=user))
        assert reply == at_reply(user, checkin_done(rank=place, points=5, streak=1, total=5))
    # Another group has its own first place; points are the person's, across groups.
    reply = await reply_to(app, say("签到", user=20003, group=OTHER_GROUP))
    assert reply == at_reply(20003, checkin_done(rank=1, points=5, streak=1, total=10))


async def test_streak_grows_day_by_day_and_resets_after_a_gap(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    expected = [(5, 0), (6, 1), (7, 2), (8, 3), (9, 4), (10, 5), (20, 15), (10, 5)]
    total = 0
    for day, (points, bonus) in enumerate(expected):
        desk_clock.set(at(11, 27, 10) + timedelta(days=day))
        total += points
        reply = await reply_to(app, say("签到"))
        assert reply == at_reply(OWNER, checkin_done(1, points, day + 1, total, bonus)), day
    assert total == 75  # day 7: base 5 + streak bonus capped at 5 + weekly bonus 10
    desk_clock.advance(days=2)  # a day missed
    reply = await reply_to(app, say("签到"))
    assert reply == at_reply(OWNER, checkin_done(1, 5, 1, total + 5))
    assert await points_of(desk, OWNER) == total + 5


async def test_checkin_in_a_dm_points_to_the_group(app: App, desk: Desk) -> None:
    assert await ask(app, private_event("签到", user_id=OWNER)) == texts().GROUP_ONLY
    assert await points_of(desk, OWNER) == 0


# --- 积分 / 积分榜 -----------------------------------------------------------------------------------


async def test_points_in_the_group(app: App, desk_clock: FrozenClock) -> None:
    await reply_to(app, say("签到", user=20002))
    await reply_to(app, say("签到"))
    desk_clock.advance(days=1)
    await reply_to(app, say("签到"))  # 5 + 6 = 11: ahead of 20002
    reply = await reply_to(app, say("积分"))
    assert reply == at_reply(OWNER, texts().POINTS_GROUP.format(total=11, streak=2, rank="第1名"))
    reply = await reply_to(app, say("积分", user=20002))
    # Yesterday's check-in keeps the streak alive until today ends.
    assert reply == at_reply(20002, texts().POINTS_GROUP.format(total=5, streak=1, rank="第2名"))
    desk_clock.advance(days=1)
    reply = await reply_to(app, say("积分", user=20002))
    assert reply == at_reply(20002, texts().POINTS_GROUP.format(total=5, streak=0, rank="第2名"))


async def test_points_in_a_dm_show_the_total_only(app: App) -> None:
    await reply_to(app, say("签到"))
    assert await ask(app, private_event("积分", user_id=OWNER)) == texts().POINTS_DM.format(total=5)


async def test_points_before_any_checkin(app: App) -> None:
    assert await reply_to(app, say("积分")) == at_reply(OWNER, texts().POINTS_NONE)
    assert await ask(app, private_event("积分", user_id=OWNER)) == texts().POINTS_NONE


async def test_leaderboard_best_first_with_names_or_masked_ids(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    from features.points import award, qq_user

    def carded() -> GroupMessageEvent:
        event = say("签到", user=20002)
        event.sender.card = "张车主"  # the group card wins over the nickname
        return event

    await reply_to(app, carded())
    await reply_to(app, say("签到"))
    desk_clock.advance(days=1)
    await reply_to(app, carded())  # 11 points
    # Points earned here without a check-in (e.g. a referral): no name known.
    await desk.write(lambda uow: award(uow, qq_user(31234567), 30, "referral_visit", "k1", str(GROUP)))  # fmt: skip
    # Someone from another group only: not on this board.
    await reply_to(app, say("签到", user=20009, group=OTHER_GROUP))
    board = await ask(app, say("积分榜"))
    assert board == "\n".join(
        [texts().BOARD_HEADER, "1. 用户****4567  30分", "2. 张车主  11分", "3. 用户20001  5分"]
    )
    assert "31234567" not in board


async def test_a_phone_in_a_group_card_is_masked_on_the_board(app: App) -> None:
    event = say("签到")
    event.sender.card = "张三 13812345678"
    await reply_to(app, event)
    board = await ask(app, say("积分榜"))
    assert board.splitlines()[1] == "1. 张三 138****5678  5分"
    assert "13812345678" not in board


async def test_leaderboard_is_limited_to_ten(app: App) -> None:
    for user in range(20001, 20013):
        await reply_to(app, say("签到", user=user))
    board = (await ask(app, say("积分榜"))).splitlines()
    assert len(board) == 11 and board[-1] == "10. 用户20010  5分"


async def test_empty_leaderboard(app: App) -> None:
    assert await ask(app, say("积分榜")) == texts().BOARD_EMPTY


# --- 话题 / 设置话题 ---------------------------------------------------------------------------------


async def test_default_topic_rotates_by_day(app: App, desk_clock: FrozenClock) -> None:
    from bot.plugins.activities import CONFIG

    today = default_topic(CONFIG.topics, at(11, 27, 10).date())
    assert await ask(app, say("话题")) == texts().TOPIC_TODAY.format(text=today)
    desk_clock.advance(days=1)
    tomorrow = default_topic(CONFIG.topics, at(11, 28, 10).date())
    assert tomorrow != today
    assert await ask(app, say("话题")) == texts().TOPIC_TODAY.format(text=tomorrow)


@pytest.mark.parametrize("manager", MANAGERS)
async def test_set_topic_now_posts_it_and_makes_it_todays(
    app: App, desk: Desk, manager: int
) -> None:
    reply = await ask(app, say("设置话题 冬季用车 你们都怎么预热？", user=manager))
    assert reply == texts().TOPIC_POSTED.format(text="冬季用车 你们都怎么预热？")
    [post] = await group_posts(desk)
    assert (post.channel, post.address, post.kind) == ("qq_group", str(GROUP), "group_post")
    assert post.payload["text"] == texts().TOPIC_POST.format(text="冬季用车 你们都怎么预热？")
    assert await ask(app, say("话题")) == texts().TOPIC_TODAY.format(
        text="冬季用车 你们都怎么预热？"
    )
    # Another group keeps its own (default) topic.
    assert "冬季用车 你们" not in await ask(app, say("话题", group=OTHER_GROUP))


async def test_set_topic_twice_the_latest_wins(app: App, desk: Desk) -> None:
    await ask(app, say("设置话题 第一个", user=MANAGER_QQ))
    await ask(app, say("设置话题 第二个", user=MANAGER_QQ))
    assert len(await group_posts(desk)) == 2
    assert await ask(app, say("话题")) == texts().TOPIC_TODAY.format(text="第二个")


async def test_set_topic_message_twice_posts_once(app: App, desk: Desk) -> None:
    event = say("设置话题 保养经验", user=MANAGER_QQ, message_id=5151)
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": GROUP, "message": Message(texts().TOPIC_POSTED.format(text="保养经验"))},
            result={"message_id": 1},
        )
        ctx.receive_event(bot, event.model_copy())
    assert len(await group_posts(desk)) == 1


@pytest.mark.parametrize("cmd", MANAGER_COMMANDS)
@pytest.mark.parametrize("user", [OWNER, CONSULTANT_QQ])
async def test_manager_commands_refuse_others(app: App, desk: Desk, cmd: str, user: int) -> None:
    from features.activities.models import TopicSchedule

    args = {"设置话题": " 油耗 明天上午9点", "取消话题": " 1", "群统计": " 本周"}.get(cmd, "")
    expected = ROLE_REFUSAL[MANAGER]
    assert await ask(app, say(cmd + args, user=user)) == expected
    assert await ask(app, private_event(cmd + args, user_id=user)) == expected
    assert await group_posts(desk) == []
    assert await count_rows(desk, TopicSchedule) == 0


@pytest.mark.parametrize("cmd", GROUP_COMMANDS)
async def test_group_commands_in_a_dm(app: App, cmd: str) -> None:
    assert await ask(app, private_event(cmd, user_id=MANAGER_QQ)) == texts().GROUP_ONLY


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param("", "usage", id="empty"),
        pytest.param("明天上午9点", "usage", id="only-a-time"),
        pytest.param("每天上午9点", "usage", id="only-a-recurrence"),
        pytest.param("\x00", "usage", id="nul"),
        pytest.param("长" * 201, "too_long", id="too-long"),
        pytest.param("保养 今天上午9点", "past", id="past"),
        pytest.param("保养 每天", "bad_time", id="recurrence-without-time"),
        pytest.param("保养 每周八上午9点", "bad_time", id="unreadable-time"),
        pytest.param("保养 2030年1月1日", "too_far", id="too-far"),
    ],
)
async def test_set_topic_wrong_input(app: App, desk: Desk, args: str, expected: str) -> None:
    from features.activities.models import Topic, TopicSchedule

    lines = {
        "usage": usage("设置话题"),
        "too_long": texts().TOPIC_TOO_LONG.format(max=200),
        "past": texts().TOPIC_PAST.format(when="11-27 周五 09:00"),
        "bad_time": texts().TOPIC_BAD_TIME.format(text=args.split()[-1] if args else ""),
        "too_far": texts().TOPIC_TOO_FAR.format(days=366),
    }
    assert await ask(app, say(f"设置话题 {args}", user=MANAGER_QQ)) == lines[expected]
    assert await group_posts(desk) == []
    assert await count_rows(desk, Topic) == 0
    assert await count_rows(desk, TopicSchedule) == 0


@pytest.mark.parametrize(
    "topic", ["🚗🚗 晒晒爱车 😀", "'; DROP TABLE activity_topics; --", "[CQ:at,qq=all] 大家好"]
)
async def test_odd_topics_are_posted_as_plain_text(app: App, desk: Desk, topic: str) -> None:
    assert await ask(app, say(f"设置话题 {topic}", user=MANAGER_QQ)) == texts().TOPIC_POSTED.format(
        text=topic
    )
    [post] = await group_posts(desk)
    assert post.payload["text"] == texts().TOPIC_POST.format(text=topic)
    from bot.dispatch.qq import group_post

    assert [seg.type for seg in group_post(post.payload)] == ["text"]  # no @全体 from a CQ code
    assert await ask(app, say("话题")) == texts().TOPIC_TODAY.format(text=topic)


async def test_scheduled_topic_is_posted_at_its_time_once(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    reply = await ask(app, say("设置话题 冬季保养经验 明天上午9点", user=MANAGER_QQ))
    assert reply == texts().TOPIC_SCHEDULED.format(
        id=1, when="11-28 周六 09:00", text="冬季保养经验"
    )
    await desk.run_schedules()
    assert await group_posts(desk) == []
    desk_clock.set(at(11, 28, 8, 59))
    await desk.run_schedules()
    assert await group_posts(desk) == []
    desk_clock.set(at(11, 28, 9, 0))
    await desk.run_schedules()
    [post] = await group_posts(desk)
    assert post.address == str(GROUP)
    assert post.payload["text"] == texts().TOPIC_POST.format(text="冬季保养经验")
    await desk.run_schedules()
    desk_clock.advance(days=1)
    await desk.run_schedules()
    assert await group_posts(desk) == []
    desk_clock.set(at(11, 28, 12))
    assert await ask(app, say("话题")) == texts().TOPIC_TODAY.format(text="冬季保养经验")


async def test_scheduled_topic_survives_a_restart(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    await ask(app, say("设置话题 自驾路线推荐 周六上午10点", user=MANAGER_QQ))
    async with restarted(desk, desk_clock) as fresh:
        desk_clock.set(at(11, 28, 10, 0))
        await fresh.run_schedules()
        await fresh.run_schedules()
        [post] = await group_posts(fresh)
        assert post.payload["text"] == texts().TOPIC_POST.format(text="自驾路线推荐")
        assert await group_posts(fresh) == []


async def test_a_queued_topic_post_survives_a_restart(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    """Queued but not delivered when the bot stopped: the new process delivers it."""
    await ask(app, say("设置话题 油耗晒单", user=MANAGER_QQ))
    async with restarted(desk, desk_clock) as fresh:
        [post] = await group_posts(fresh)
        assert post.payload["text"] == texts().TOPIC_POST.format(text="油耗晒单")


async def test_a_stale_one_off_topic_is_not_posted_days_late(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    await ask(app, say("设置话题 周末活动预告 明天上午9点", user=MANAGER_QQ))
    desk_clock.set(at(11, 29, 9, 30))  # the bot was down all of Saturday
    await desk.run_schedules()
    assert await group_posts(desk) == []
    assert await ask(app, say("话题计划", user=MANAGER_QQ)) == texts().PLANS_EMPTY


async def test_daily_topic_plan_list_and_cancel(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    reply = await ask(app, say("设置话题 早安，今天开什么车？ 每天上午9点", user=MANAGER_QQ))
    assert reply == texts().TOPIC_SCHEDULED.format(
        id=1, when="每天 09:00", text="早安，今天开什么车？"
    )
    await ask(app, say("设置话题 周一用车提醒 每周一上午8点半", user=ROSTER_MANAGER_QQ))
    plans = await ask(app, say("话题计划", user=MANAGER_QQ))
    assert plans == "\n".join(
        [
            texts().PLANS_HEADER,
            "#1 每天 09:00：早安，今天开什么车？",
            "#2 每周一 08:30：周一用车提醒",
        ]
    )
    await desk.run_schedules()  # Friday 10:00: today's 09:00 is gone, nothing now
    assert await group_posts(desk) == []
    keys = []
    for day in (28, 29, 30):
        desk_clock.set(at(11, day, 9, 5))
        await desk.run_schedules()
        await desk.run_schedules()
        keys += [post.key for post in await group_posts(desk)]
    assert keys == ["topic:1:2026-11-28", "topic:1:2026-11-29", "topic:2:2026-11-30", "topic:1:2026-11-30"]  # fmt: skip
    assert await ask(app, say("取消话题 1", user=MANAGER_QQ)) == texts().PLAN_CANCELLED.format(id=1)
    assert await ask(app, say("取消话题 1", user=MANAGER_QQ)) == texts().PLAN_NOT_FOUND.format(id=1)
    desk_clock.set(at(12, 1, 9, 5))
    await desk.run_schedules()
    assert await group_posts(desk) == []
    assert await ask(app, say("话题计划", user=MANAGER_QQ)) == "\n".join(
        [texts().PLANS_HEADER, "#2 每周一 08:30：周一用车提醒"]
    )


async def test_cancel_another_groups_plan_is_not_found(app: App) -> None:
    await ask(app, say("设置话题 保养经验 明天上午9点", user=MANAGER_QQ, group=OTHER_GROUP))
    assert await ask(app, say("取消话题 #1", user=MANAGER_QQ)) == texts().PLAN_NOT_FOUND.format(
        id=1
    )
    assert "保养经验" in await ask(app, say("话题计划", user=MANAGER_QQ, group=OTHER_GROUP))


@pytest.mark.parametrize("args", ["", "abc", "-1", "0", "１", "99999999999999", "1 2"])
async def test_cancel_topic_wrong_args(app: App, args: str) -> None:
    assert await ask(app, say(f"取消话题 {args}", user=MANAGER_QQ)) == usage("取消话题")


# --- joins, leaves, message counts and 群统计 --------------------------------------------------------


async def test_group_stats_counts_joins_leaves_speakers_messages_checkins(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    await deliver(
        app,
        notice("group_increase", 30001),
        notice(
            "group_increase", 30002, sub_type="invite", operator=10001
        ),  # by staff: no referral lookup
        notice("group_decrease", 30003, time=1_790_000_200),
        notice("group_decrease", 30003, time=1_790_000_200),  # redelivered
        notice("group_increase", SELF_ID),  # the bot itself: not a member change
        notice("group_decrease", 30004, group=OTHER_GROUP),
    )
    chat = [
        say("今天天气不错"),
        say("是啊", user=20002),
        say("哈哈"),
        say("在吗", group=OTHER_GROUP),
    ]
    for event in chat:
        await no_reply(app, event)
    await reply_to(app, say("签到", user=20002))
    # 20001: 2 messages, 20002: 2, the manager's 群统计 itself: 1.
    text = await group_stats(app)
    assert text == stats_text(joined=2, left=1, speakers=3, messages=5, checkins=1)

    desk_clock.set(at(11, 28, 10))  # Saturday, same week and month
    assert await group_stats(app, "今日") == stats_text(speakers=1, messages=1)
    assert await group_stats(app, "本周") == stats_text(
        "本周", joined=2, left=1, speakers=3, messages=7, checkins=1
    )
    assert await group_stats(app, "本月", members=90) == stats_text(
        "本月", members=90, joined=2, left=1, speakers=3, messages=8, checkins=1
    )
    desk_clock.set(at(12, 1, 10))
    assert await group_stats(app, "本月") == stats_text("本月", speakers=1, messages=1)


async def test_counts_flushed_by_the_minute_job_are_durable(app: App, desk: Desk) -> None:
    from features.activities.counter import COUNTER
    from features.activities.models import GroupActivity

    await deliver(app, say("早"), say("早", user=20002))
    assert COUNTER.pending() == 2
    await desk.run_schedules()
    assert COUNTER.pending() == 0

    async def total(uow: UnitOfWork) -> int:
        return int(await uow.session.scalar(select(func.sum(GroupActivity.messages))) or 0)

    assert await desk.read(total) == 2


async def test_the_bots_own_and_redelivered_messages_are_not_counted(app: App) -> None:
    await deliver(app, say("我是机器人", user=SELF_ID))
    event = say("一条消息", message_id=9090)
    await deliver(app, event, event.model_copy())
    assert await group_stats(app) == stats_text(speakers=2, messages=2)  # with 群统计 itself


async def test_group_stats_when_the_client_cannot_tell_the_member_count(app: App) -> None:
    assert await group_stats(app, members=None) == stats_text(
        members="未知", speakers=1, messages=1
    )


@pytest.mark.parametrize("manager", MANAGERS)
async def test_group_stats_for_roster_and_superuser_managers(app: App, manager: int) -> None:
    assert await group_stats(app, "今天", user=manager) == stats_text(speakers=1, messages=1)


@pytest.mark.parametrize("args", ["本季", "昨天", "abc", "今日 本周", "🚗", "\x00"])
async def test_group_stats_wrong_period(app: App, args: str) -> None:
    assert await ask(app, say(f"群统计 {args}", user=MANAGER_QQ)) == usage("群统计")


async def test_a_lead_leaving_the_group_tells_the_consultant(app: App, desk: Desk) -> None:
    lead = (await desk.capture(channel="qq_group:123456", qq_id="30005", name="赵先生")).lead
    await desk.claim_notifications(["qq"])  # the new-lead DM
    leave = notice("group_decrease", 30005, time=1_790_000_300)
    await deliver(app, leave, leave.model_copy())
    [signal] = await desk.claim_notifications(["qq"])
    assert (signal.kind, signal.address, signal.lead_id) == (
        "lead_signal",
        str(CONSULTANT_QQ),
        lead.id,
    )
    assert signal.payload["signal"] == "left_group"
    detail = await desk.lead(SYSTEM, lead.id)
    assert [e.action for e in detail.timeline].count("signal") == 1


async def test_a_stranger_leaving_tells_nobody(app: App, desk: Desk) -> None:
    await deliver(app, notice("group_decrease", 30006, sub_type="kick", operator=MANAGER_QQ))
    assert await desk.claim_notifications(["qq"]) == []
    assert await group_stats(app) == stats_text(left=1, speakers=1, messages=1)


# --- every command, odd input --------------------------------------------------------------------

BAD_ARGS = [
    pytest.param("🚗😀", id="emoji"),
    pytest.param("'; DROP TABLE points_balances; --", id="sql"),
    pytest.param("\x00", id="nul"),
    pytest.param("[CQ:at,qq=all]", id="cq-code"),
    pytest.param("<script>alert(1)</script>", id="html"),
]


@pytest.mark.parametrize("args", BAD_ARGS)
@pytest.mark.parametrize("cmd", ["积分", "积分榜", "话题", "话题计划", "取消话题", "群统计"])
async def test_bad_arguments_get_the_usage_line(app: App, desk: Desk, cmd: str, args: str) -> None:
    assert await ask(app, say(f"{cmd} {args}", user=MANAGER_QQ)) == usage(cmd)
    assert await group_posts(desk) == []


@pytest.mark.parametrize("cmd", [*MEMBER_COMMANDS, *MANAGER_COMMANDS])
async def test_a_huge_message_is_not_a_command(app: App, desk: Desk, cmd: str) -> None:
    await no_reply(app, say(f"{cmd} " + "长" * 5000, user=MANAGER_QQ))
    await no_reply(app, private_event(f"{cmd} " + "x" * 5000, user_id=OWNER))
    assert await points_of(desk, MANAGER_QQ) == 0
    assert await group_posts(desk) == []


@pytest.mark.parametrize("args", BAD_ARGS)
async def test_checkin_ignores_whatever_follows(app: App, desk: Desk, args: str) -> None:
    assert await reply_to(app, say(f"签到 {args}")) == at_reply(OWNER, checkin_done(1, 5, 1, 5))
    assert await points_of(desk, OWNER) == 5


async def test_plain_chat_gets_no_reply(app: App) -> None:
    for text in ("签到了吗大家", "积分怎么算的", "今天的话题是什么", "群统计一下"):
        await no_reply(app, say(text))


# --- help and config ---------------------------------------------------------------------------------


def test_help_lists_member_and_manager_commands() -> None:
    from bot.plugins.help import help_text

    member = help_text({"member"})
    assert "积分榜" in member and "话题 ——" in member
    assert "设置话题" not in member and "群统计" not in member
    manager = help_text({"member", "consultant", "manager"})
    assert "设置话题 <内容> [时间]" in manager and "群统计 [今日|本周|本月]" in manager


def test_the_shipped_config_is_valid() -> None:
    cfg = load_config()
    assert cfg.checkin.base_points == 5 and len(cfg.topics.defaults) >= 3


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ("[checkin]\nbase_points = -1\n[topics]\ndefaults = ['a']\n", "checkin.base_points"),
        ("[topics]\ndefaults = []\n", "topics.defaults"),
        ("[topics]\ndefaults = ['a']\nmystery = 1\n", "topics.mystery"),
        ("[checkin\n", "cannot read"),
    ],
)
def test_a_bad_config_names_the_key(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, body: str, names: str
) -> None:
    (tmp_path / "activities.toml").write_text(body, encoding="utf-8")
    monkeypatch.setenv("DESK_CONFIG_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        load_config()


def test_config_dir_without_the_file_uses_the_default(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESK_CONFIG_DIR", str(tmp_path))
    cfg = load_config()  # config/activities.toml's values:
    assert cfg.checkin.base_points == 5 and cfg.topics.max_chars == 200
    assert cfg.topics.defaults[0] == "用车心得：说说你的爱车最让你满意的一点"
    assert len(cfg.topics.defaults) == 7
    (tmp_path / "activities.toml").write_text(
        "[checkin]\nbase_points = 8\n[topics]\ndefaults = ['只有一个话题']\n", encoding="utf-8"
    )
    cfg = load_config()  # the directory's own file, once it has one
    assert (cfg.checkin.base_points, cfg.topics.defaults) == (8, ["只有一个话题"])


async def test_group_stats_tell_owners_from_prospects(app: App, desk: Desk) -> None:
    """Once owners are known (imported, 设为车主 or won), 群成员 splits into owners,
    prospects and staff (the bot, the manager)."""
    for qq in ("50001", "50002", "50003"):
        await desk.mark_owner(SYSTEM, qq_id=qq)
    await desk.mark_owner(SYSTEM, qq_id="59999")  # an owner outside this group
    assert await group_stats(app, members=10) == stats_text(
        members="10（车主 3 · 意向客户 5 · 员工 2）", speakers=1, messages=1
    )
