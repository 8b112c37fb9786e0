"""Owner-group activities (spec §3.1): 签到 and 积分, 积分榜, 话题 (a manager posts one
now or on a persisted schedule), 群统计; joins and leaves are recorded (a lead who
leaves is a churn signal for the consultant) and messages counted without text.

The chat front only: parse, call a use case of features.activities, answer with
texts.py. The rules live in features/activities, the numbers in config/activities.toml.

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
from nonebot.rule import Rule

from bot.adapters.wechat import ExternalChatChangeEvent
from bot.charts import Charted
from bot.charts.reply import reply_charted
from bot.desk_runtime import DeskDep, get_desk, when_desk_opens
from bot.front import Call, CommandTable
from bot.platform import in_group, is_message, origin_of
from bot.plugins.activities import texts
from bot.plugins.activities.parsing import parse_topic_args
from bot.prefilter import register_observer
from bot.roles import MANAGER
from bot.sending import reply
from desk import Desk, UnitOfWork
from features import points
from features.activities import checkin, counting, members, privacy, stats, topics
from features.activities.config import load_config, wecom_links
from features.activities.plans import TopicError

# Loaded at import: a broken config/activities.toml stops the start (bot.loader).
CONFIG = load_config()

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
    counting.count_message(str(event.group_id), str(event.user_id), day, event.message_id)


register_observer(_count)


def wecom_groups_of(qq_group: str) -> Sequence[tuple[str, str]]:
    """(chat id, sender) of the WeCom customer groups linked to a QQ group (also used
    by the events plugin for its announcements)."""
    return wecom_links(CONFIG, qq_group)


class _TopicJob:
    """The minute job posting scheduled topics for one desk (one object per desk, so
    `Desk.add_schedule` registers it once)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def __call__(self, uow: UnitOfWork) -> int:
        return await topics.run_topic_schedules(self.desk, uow, texts.topic_post, wecom_groups_of)


def _on_desk(desk: Desk) -> None:
    desk.add_schedule(counting.flush_counts)
    desk.add_schedule(_TopicJob(desk))
    desk.add_personal_data("activities", privacy.erase_person, privacy.describe_person)
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
        await desk.write(counting.flush_counts)
    except Exception as exc:  # a lost minute of counts must not block the shutdown
        logger.warning(f"message counts not saved at shutdown: {exc!r}")


# -- helpers ----------------------------------------------------------------------------------


def _message_key(bot: Bot, event: GroupMessageEvent) -> str:
    return f"qq:{bot.self_id}:msg:{event.message_id}"


def _at(event: GroupMessageEvent, text: str) -> Message:
    return MessageSegment.at(event.user_id) + MessageSegment.text(text)


async def _group_event(
    bot: Bot, event: Event, call: Call | None = None
) -> GroupMessageEvent | None:
    """The QQ group message behind a group command, or None once answered: a word
    taking no arguments (`call` given) gets its usage line first, then outside a
    group the group-only line (the table checked the role)."""
    if call is not None and call.args:
        await reply(bot, event, texts.usage(call.word))
        return None
    if not in_group(event):
        await reply(bot, event, texts.GROUP_ONLY)
        return None
    return event if isinstance(event, GroupMessageEvent) else None


commands = CommandTable()  # one matcher for every command word below


# -- 签到 / 积分 / 积分榜 ----------------------------------------------------------------------


@commands.word("签到", desc=texts.USAGE["签到"], where="group")
async def _checkin(bot: Bot, event: Event, call: Call) -> None:
    # Words after 签到 ("签到 今天好冷") are a greeting, not a wrong argument.
    if (group := await _group_event(bot, event)) is None:
        return
    name = (group.sender.card or group.sender.nickname) if group.sender else None
    result = await checkin.check_in(
        get_desk(), CONFIG.checkin, group_id=str(group.group_id), qq=str(group.user_id),
        name=name, message_key=_message_key(bot, group),
    )  # fmt: skip
    if result.status == "duplicate":
        return  # the same message again: it had its answer
    await reply(bot, event, _at(group, texts.checkin(result)))


@commands.word("积分", desc=texts.USAGE["积分"])
async def _points(bot: Bot, event: Event, call: Call) -> None:
    if call.args:
        await reply(bot, event, texts.usage(call.word))
        return
    if not is_message(event):
        return
    origin = origin_of(bot, event)
    view = await checkin.my_points(get_desk(), origin.user_id, origin.group_id, user=origin.handle)
    if isinstance(event, GroupMessageEvent):
        await reply(bot, event, _at(event, texts.points(view, in_group=True)))
    else:
        await reply(bot, event, texts.points(view, in_group=False))


@commands.word("积分榜", desc=texts.USAGE["积分榜"], where="group")
async def _board(bot: Bot, event: Event, call: Call) -> None:
    if (group := await _group_event(bot, event, call)) is None:
        return
    rows = await checkin.leaderboard(get_desk(), str(group.group_id), CONFIG.leaderboard.size)
    await reply(bot, event, texts.board(rows))


# -- 话题 / 设置话题 / 话题计划 / 取消话题 ----------------------------------------------------------


@commands.word("话题", desc=texts.USAGE["话题"], where="group")
async def _topic(bot: Bot, event: Event, call: Call) -> None:
    if (group := await _group_event(bot, event, call)) is None:
        return
    text = await topics.todays_topic(get_desk(), CONFIG.topics, str(group.group_id))
    await reply(bot, event, texts.TOPIC_TODAY.format(text=text))


@commands.word("设置话题", role=MANAGER, desc=texts.USAGE["设置话题"], where="group")
async def _set_topic(bot: Bot, event: Event, call: Call) -> None:
    if (group := await _group_event(bot, event)) is None:
        return
    desk, group_id, by = get_desk(), str(group.group_id), f"qq:{group.user_id}"
    tz = desk.settings.tz
    try:
        text, plan = parse_topic_args(call.args, desk.clock.now(), tz, CONFIG.topics)
        if plan is None:
            if await topics.post_topic_now(
                desk, group_id, text, by=by, message_key=_message_key(bot, group),
                render=texts.topic_post, links=wecom_groups_of(group_id),
            ):  # fmt: skip
                await reply(bot, event, texts.TOPIC_POSTED.format(text=text))
            return
        view = await topics.schedule_topic(
            desk, CONFIG.topics, group_id, text, plan, by=by, message_key=_message_key(bot, group)
        )
    except TopicError as exc:
        await reply(bot, event, texts.topic_error(exc, tz))
        return
    if view is not None:
        await reply(bot, event, texts.scheduled(view, tz))


@commands.word("话题计划", role=MANAGER, desc=texts.USAGE["话题计划"], where="group")
async def _plans(bot: Bot, event: Event, call: Call) -> None:
    if (group := await _group_event(bot, event)) is None:
        return
    if call.args:
        await reply(bot, event, texts.usage(call.word))
        return
    desk = get_desk()
    views = await topics.list_schedules(desk, str(group.group_id))
    await reply(bot, event, texts.plans(views, desk.settings.tz))


@commands.word("取消话题", role=MANAGER, desc=texts.USAGE["取消话题"], where="group")
async def _cancel_plan(bot: Bot, event: Event, call: Call) -> None:
    if (group := await _group_event(bot, event)) is None:
        return
    number = call.args.lstrip("#＃")
    if not number.isascii() or not number.isdigit() or not 0 < int(number) < 2**31:
        await reply(bot, event, texts.usage(call.word))
        return
    if await topics.cancel_schedule(get_desk(), str(group.group_id), int(number)):
        await reply(bot, event, texts.PLAN_CANCELLED.format(id=int(number)))
    else:
        await reply(bot, event, texts.PLAN_NOT_FOUND.format(id=int(number)))


# -- 群统计 --------------------------------------------------------------------------------------


async def _member_split(bot: Bot, desk: Desk, group_id: int) -> stats.MemberSplit | None:
    """The group's members from the QQ client, split into owners, staff and
    prospects; None when it cannot tell."""
    try:
        found = await bot.call_api("get_group_member_list", group_id=group_id)
    except Exception as exc:  # the figure is a nicety: the statistics still answer
        logger.warning(f"get_group_member_list({group_id}) failed: {exc!r}")
        return None
    if not isinstance(found, list):
        return None
    ids = [str(m["user_id"]) for m in found if isinstance(m, dict) and m.get("user_id")]
    staff = {str(bot.self_id), *get_driver().config.superusers}
    staff |= {qq for qq in ids if await desk.member_by(qq_id=qq) is not None}  # cached roster
    return await stats.member_split(desk, ids, staff)


@commands.word("群统计", role=MANAGER, desc=texts.USAGE["群统计"], where="group")
async def _stats(bot: Bot, event: Event, call: Call) -> None:
    if (group := await _group_event(bot, event)) is None:
        return
    name = _PERIODS.get(call.args)
    if name is None:
        await reply(bot, event, texts.usage(call.word))
        return
    desk = get_desk()
    period = desk.period(name)
    figures = await stats.group_stats(desk, str(group.group_id), period)
    split = await _member_split(bot, desk, group.group_id)
    answer = Charted(
        texts.stats(period.label, split, figures), texts.stats_chart(period.label, split, figures)
    )
    await reply_charted(bot, event, answer)


activities_command = commands.matcher(priority=10, block=True)

__plugin_meta__ = commands.metadata(texts.PLUGIN_NAME, texts.PLUGIN_DESCRIPTION)


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
    await members.record_member_change(
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
        event.update_detail in members.WECOM_CHANGES
    )


# Not blocking: the referral plugin may listen to the same callbacks.
customer_group_change = on_notice(rule=Rule(_is_customer_group_change), priority=10, block=False)


@customer_group_change.handle()
async def _customer_group_change(event: Event, desk: DeskDep) -> None:
    if not isinstance(event, ExternalChatChangeEvent) or event.update_detail is None:
        return
    leaving = event.update_detail == "del_member"
    change = members.WeComGroupChange(
        chat_id=event.chat_id, detail=event.update_detail, member_ids=tuple(event.member_ids),
        create_time=event.create_time, scene=event.quit_scene if leaving else event.join_scene,
    )  # fmt: skip
    customers = await members.record_wecom_group_change(desk, change)
    if not leaving:
        return
    group_id = members.wecom_group_id(event.chat_id)
    for member in customers:
        # Asked even for a redelivered callback: the signal's key makes it once.
        lead = await desk.find_lead(wecom_external_userid=member)
        if lead is not None:  # a customer leaving the owners' customer group: churn
            await desk.record_signal(
                lead.id, "left_group", note=texts.LEFT_WECOM_GROUP.format(chat_id=event.chat_id), context={"group_id": group_id},
                key=members.wecom_change_key(event.chat_id, "left", member, event.create_time),
            )  # fmt: skip
