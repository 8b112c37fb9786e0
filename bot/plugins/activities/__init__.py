"""Owner-group activities (spec §3.1): 签到 and 积分, 积分榜, 话题 (a manager posts one
now or on a persisted schedule), 群统计; joins and leaves are recorded (a lead who
leaves is a churn signal for the consultant) and messages counted without text.

Thin handlers: parse, check who may, call the service, answer. The rules live in
service.py, the lines in texts.py, the numbers in config/activities.toml.

Any adapter: the group commands need a QQ owner group (WeChat has no group
chat for the bot: a DM gets the "in the group" line); 积分 works in any DM.
WeCom customer groups (which push only member changes) have their joins and
leaves recorded, and get the topics of their linked QQ group as mass-sends.
"""

from collections.abc import Sequence

from nonebot import get_driver, on_notice
from nonebot.adapters import Bot, Event
from nonebot.adapters.onebot.v11 import (
    GroupDecreaseNoticeEvent,
    GroupIncreaseNoticeEvent,
    GroupMessageEvent,
    Message,
    MessageSegment,
)
from nonebot.log import logger
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule

from bot import points
from bot.adapters.wechat import ExternalChatChangeEvent
from bot.desk_runtime import DeskDep, get_desk, when_desk_opens
from bot.platform import in_group, is_message, origin_of
from bot.plugins.activities import service, texts
from bot.prefilter import register_observer
from bot.roles import MANAGER, asker_roles
from bot.rules import CommandTable
from bot.sending import reply
from desk import Desk
from desk.store import UnitOfWork

_GROUP = {"签到", "积分榜", "话题", "设置话题", "话题计划", "取消话题", "群统计"}
_MANAGER = {"设置话题", "话题计划", "取消话题", "群统计"}

__plugin_meta__ = PluginMetadata(
    name=texts.PLUGIN_NAME,
    description=texts.PLUGIN_DESCRIPTION,
    usage="\n".join(texts.USAGE.values()),
    extra={
        "commands": [
            {
                "cmd": cmd,
                "desc": desc,
                "role": "manager" if cmd in _MANAGER else "member",
                "where": "group" if cmd in _GROUP else "any",
            }
            for cmd, desc in texts.USAGE.items()
        ]
    },
)

# Loaded at import: a broken config/activities.toml stops the start (bot.loader).
CONFIG = service.load_config()

_PERIODS = {"": "today", "今日": "today", "今天": "today", "本周": "week", "本月": "month"}


# -- message counting: every group message, before the pre-filter, no I/O --------------


def _count(event: Event) -> None:
    if not isinstance(event, GroupMessageEvent) or event.user_id == event.self_id:
        return
    try:
        desk = get_desk()
    except RuntimeError:
        return  # not started yet
    day = desk.calendar.local_date(desk.clock.now())
    service.count_message(str(event.group_id), str(event.user_id), day, event.message_id)


register_observer(_count)


def wecom_groups_of(qq_group: str) -> Sequence[tuple[str, str]]:
    """(chat id, sender) of the WeCom customer groups linked to a QQ group (also used
    by the events plugin for its announcements)."""
    return service.wecom_links(CONFIG, qq_group)


class _TopicJob:
    """The minute job posting scheduled topics for one desk (one object per desk, so
    `Desk.add_schedule` registers it once)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def __call__(self, uow: UnitOfWork) -> int:
        return await service.run_topic_schedules(self.desk, uow, wecom_groups_of)


def _on_desk(desk: Desk) -> None:
    desk.add_schedule(service.flush_counts)
    desk.add_schedule(_TopicJob(desk))
    desk.add_personal_data("activities", service.erase_person, service.describe_person)
    desk.add_personal_data("points", points.erase_person, points.describe_person)


when_desk_opens(_on_desk)


@get_driver().on_shutdown
async def _flush_on_shutdown() -> None:
    """A restart keeps the last minute's message counts. NoneBot runs shutdown hooks
    in reverse order: this plugin's before the one that closes the desk."""
    try:
        desk = get_desk()
    except RuntimeError:
        return  # never opened
    try:
        await desk.write(service.flush_counts)
    except Exception as exc:  # a lost minute of counts must not block the shutdown
        logger.warning(f"message counts not saved at shutdown: {exc!r}")


# -- helpers ----------------------------------------------------------------------------------


def _message_key(bot: Bot, event: GroupMessageEvent) -> str:
    return f"qq:{bot.self_id}:msg:{event.message_id}"


def _usage(cmd: str) -> str:
    return texts.USAGE_PREFIX + texts.USAGE[cmd]


def _at(event: GroupMessageEvent, text: str) -> Message:
    return MessageSegment.at(event.user_id) + MessageSegment.text(text)


async def _allowed(bot: Bot, event: Event, cmd: str) -> bool:
    """Group-only commands in a (QQ) group, manager commands by managers; else say why."""
    if cmd in _MANAGER and MANAGER not in await asker_roles(bot, event):
        await reply(bot, event, texts.MANAGER_ONLY.format(cmd=cmd))
        return False
    if cmd in _GROUP and not in_group(event):
        await reply(bot, event, texts.GROUP_ONLY)
        return False
    return True


commands = CommandTable()  # one matcher for every command word below


# -- 签到 / 积分 / 积分榜 ----------------------------------------------------------------------


@commands.word("签到")
async def _checkin(bot: Bot, event: Event, word: str, args: str) -> None:
    desk = get_desk()
    # Words after 签到 ("签到 今天好冷") are a greeting, not a wrong argument.
    if not await _allowed(bot, event, "签到") or not isinstance(event, GroupMessageEvent):
        return
    name = (event.sender.card or event.sender.nickname) if event.sender else None
    result = await service.check_in(
        desk, CONFIG.checkin, group_id=str(event.group_id), qq=str(event.user_id), name=name,
        message_key=_message_key(bot, event),
    )  # fmt: skip
    if result.status == "duplicate":
        return  # the same message again: it had its answer
    if result.status == "already":
        text = texts.CHECKIN_ALREADY.format(
            rank=result.rank, streak=result.streak, total=result.total
        )
    else:
        bonus = texts.CHECKIN_BONUS.format(bonus=result.bonus) if result.bonus else ""
        text = texts.CHECKIN_DONE.format(
            rank=result.rank, points=result.points, bonus=bonus, streak=result.streak,
            total=result.total,
        )  # fmt: skip
    await reply(bot, event, _at(event, text))


@commands.word("积分")
async def _points(bot: Bot, event: Event, word: str, args: str) -> None:
    desk = get_desk()
    if args:
        await reply(bot, event, _usage("积分"))
        return
    if not is_message(event):
        return
    origin = origin_of(bot, event)
    view = await service.my_points(desk, origin.user_id, origin.group_id, user=origin.handle)
    if view.total == 0 and view.rank is None:
        text = texts.POINTS_NONE
    elif not isinstance(event, GroupMessageEvent):
        text = texts.POINTS_DM.format(total=view.total)
    else:
        rank = texts.POINTS_NO_RANK if view.rank is None else f"第{view.rank}名"
        text = texts.POINTS_GROUP.format(total=view.total, streak=view.streak, rank=rank)
    await reply(bot, event, _at(event, text) if isinstance(event, GroupMessageEvent) else text)


@commands.word("积分榜")
async def _board(bot: Bot, event: Event, word: str, args: str) -> None:
    desk = get_desk()
    if args:
        await reply(bot, event, _usage("积分榜"))
        return
    if not await _allowed(bot, event, "积分榜") or not isinstance(event, GroupMessageEvent):
        return
    rows = await service.leaderboard(desk, str(event.group_id), CONFIG.leaderboard.size)
    if not rows:
        await reply(bot, event, texts.BOARD_EMPTY)
        return
    lines = [texts.BOARD_HEADER]
    lines += [
        texts.BOARD_LINE.format(place=place, name=name, total=total)
        for place, (name, total) in enumerate(rows, 1)
    ]
    await reply(bot, event, "\n".join(lines))


# -- 话题 / 设置话题 / 话题计划 / 取消话题 ----------------------------------------------------------


@commands.word("话题")
async def _topic(bot: Bot, event: Event, word: str, args: str) -> None:
    desk = get_desk()
    if args:
        await reply(bot, event, _usage("话题"))
        return
    if not await _allowed(bot, event, "话题") or not isinstance(event, GroupMessageEvent):
        return
    text = await service.todays_topic(desk, CONFIG.topics, str(event.group_id))
    await reply(bot, event, texts.TOPIC_TODAY.format(text=text))


_TOPIC_ERRORS = {
    "too_long": texts.TOPIC_TOO_LONG,
    "bad_time": texts.TOPIC_BAD_TIME,
    "past": texts.TOPIC_PAST,
    "too_far": texts.TOPIC_TOO_FAR,
    "too_many": texts.TOPIC_TOO_MANY,
}


def _topic_error(exc: service.TopicError) -> str:
    line = _TOPIC_ERRORS.get(exc.kind)
    return _usage("设置话题") if line is None else line.format(**exc.params)


@commands.word("设置话题")
async def _set_topic(bot: Bot, event: Event, word: str, args: str) -> None:
    desk = get_desk()
    if not await _allowed(bot, event, "设置话题") or not isinstance(event, GroupMessageEvent):
        return
    group_id, by = str(event.group_id), f"qq:{event.user_id}"
    try:
        text, plan = service.parse_topic_args(
            args, desk.clock.now(), desk.settings.tz, CONFIG.topics
        )
        if plan is None:
            if await service.post_topic_now(
                desk, group_id, text, by=by, message_key=_message_key(bot, event),
                links=wecom_groups_of(group_id),
            ):  # fmt: skip
                await reply(bot, event, texts.TOPIC_POSTED.format(text=text))
            return
        view = await service.schedule_topic(
            desk, CONFIG.topics, group_id, text, plan, by=by, message_key=_message_key(bot, event)
        )
    except service.TopicError as exc:
        await reply(bot, event, _topic_error(exc))
        return
    if view is not None:
        when = view.when(desk.settings.tz)
        await reply(bot, event, texts.TOPIC_SCHEDULED.format(id=view.id, when=when, text=text))


@commands.word("话题计划")
async def _plans(bot: Bot, event: Event, word: str, args: str) -> None:
    desk = get_desk()
    if not await _allowed(bot, event, "话题计划") or not isinstance(event, GroupMessageEvent):
        return
    if args:
        await reply(bot, event, _usage("话题计划"))
        return
    views = await service.list_schedules(desk, str(event.group_id))
    if not views:
        await reply(bot, event, texts.PLANS_EMPTY)
        return
    tz = desk.settings.tz
    lines = [texts.PLANS_HEADER]
    lines += [texts.PLAN_LINE.format(id=v.id, when=v.when(tz), text=v.text) for v in views]
    await reply(bot, event, "\n".join(lines))


@commands.word("取消话题")
async def _cancel_plan(bot: Bot, event: Event, word: str, args: str) -> None:
    desk = get_desk()
    if not await _allowed(bot, event, "取消话题") or not isinstance(event, GroupMessageEvent):
        return
    number = args.strip().lstrip("#＃")
    if not number.isascii() or not number.isdigit() or not 0 < int(number) < 2**31:
        await reply(bot, event, _usage("取消话题"))
        return
    if await service.cancel_schedule(desk, str(event.group_id), int(number)):
        await reply(bot, event, texts.PLAN_CANCELLED.format(id=int(number)))
    else:
        await reply(bot, event, texts.PLAN_NOT_FOUND.format(id=int(number)))


# -- 群统计 --------------------------------------------------------------------------------------


async def _member_count(bot: Bot, group_id: int) -> int | None:
    """The group's size from the QQ client; None when it cannot tell."""
    try:
        info = await bot.call_api("get_group_info", group_id=group_id)
        count = info.get("member_count") if isinstance(info, dict) else None
        return count if isinstance(count, int) and count >= 0 else None
    except Exception as exc:  # the figure is a nicety: the statistics still answer
        logger.warning(f"get_group_info({group_id}) failed: {exc!r}")
        return None


@commands.word("群统计")
async def _stats(bot: Bot, event: Event, word: str, args: str) -> None:
    desk = get_desk()
    if not await _allowed(bot, event, word) or not isinstance(event, GroupMessageEvent):
        return
    name = _PERIODS.get(args.strip())
    if name is None:
        await reply(bot, event, _usage("群统计"))
        return
    await desk.write(service.flush_counts)  # the counts of the last minute too
    period = desk.period(name)
    figures = await service.group_stats(desk, str(event.group_id), period)
    members = await _member_count(bot, event.group_id)
    text = texts.STATS.format(
        label=period.label, members=texts.MEMBERS_UNKNOWN if members is None else members,
        joined=figures.joined, left=figures.left, speakers=figures.speakers,
        messages=figures.messages, checkins=figures.checkins,
    )  # fmt: skip
    await reply(bot, event, text)


commands.matcher(priority=10, block=True)


# -- joins and leaves ---------------------------------------------------------------------------


async def _is_member_change(event: Event) -> bool:
    return isinstance(event, GroupIncreaseNoticeEvent | GroupDecreaseNoticeEvent)


# Not blocking: the referral plugin listens to the same notices.
member_change = on_notice(rule=Rule(_is_member_change), priority=10, block=False)


@member_change.handle()
async def _member_change(event: Event, desk: DeskDep) -> None:
    if not isinstance(event, GroupIncreaseNoticeEvent | GroupDecreaseNoticeEvent):
        return
    if event.user_id == event.self_id:
        return  # the bot itself joined, left or was removed
    change = "join" if isinstance(event, GroupIncreaseNoticeEvent) else "leave"
    self_id, group_id, user_id = event.self_id, event.group_id, event.user_id
    await service.record_member_change(
        desk, group_id=str(group_id), user_id=str(user_id), change=change,
        sub_type=event.sub_type, operator_id=str(event.operator_id) if event.operator_id else None,
        event_key=f"qq:{self_id}:member:{change}:{group_id}:{user_id}:{event.time}",
    )  # fmt: skip
    if change != "leave":
        return
    # Asked even for a redelivered leave: the signal's own key makes it once, and a
    # crash between the two writes must not lose it.
    lead = await desk.find_lead(qq_id=str(user_id))
    if lead is not None:  # a prospect or customer leaving an owner group: a churn signal
        await desk.record_signal(
            lead.id, "left_group", note=f"退出群 {group_id}", context={"group_id": str(group_id)},
            key=f"qq:{self_id}:leave:{group_id}:{user_id}:{event.time}",
        )  # fmt: skip


# -- WeCom customer groups: joins and leaves ---------------------------------------------------


async def _is_customer_group_change(event: Event) -> bool:
    return isinstance(event, ExternalChatChangeEvent) and (
        event.update_detail in service.WECOM_CHANGES
    )


# Not blocking: the referral plugin may listen to the same callbacks.
customer_group_change = on_notice(rule=Rule(_is_customer_group_change), priority=10, block=False)


@customer_group_change.handle()
async def _customer_group_change(event: Event, desk: DeskDep) -> None:
    if not isinstance(event, ExternalChatChangeEvent) or event.update_detail is None:
        return
    leaving = event.update_detail == "del_member"
    change = service.WeComGroupChange(
        chat_id=event.chat_id, detail=event.update_detail, member_ids=tuple(event.member_ids),
        create_time=event.create_time, scene=event.quit_scene if leaving else event.join_scene,
    )  # fmt: skip
    members = await service.record_wecom_group_change(desk, change)
    if not leaving:
        return
    group_id = service.wecom_group_id(event.chat_id)
    for member in members:
        # Asked even for a redelivered callback: the signal's key makes it once.
        lead = await desk.find_lead(wecom_external_userid=member)
        if lead is not None:  # a customer leaving the owners' customer group: churn
            await desk.record_signal(
                lead.id, "left_group", note=texts.LEFT_WECOM_GROUP.format(chat_id=event.chat_id), context={"group_id": group_id},
                key=service.wecom_change_key(event.chat_id, "left", member, event.create_time),
            )  # fmt: skip
