"""Event sign-ups (spec §3.2), the chat front: managers create events in an owner
group, members sign up (waitlisted when full), the day before everyone signed up
is reminded, attendance and no-shows are recorded, and the list exports to a
spreadsheet. The rules and the state are features.events; this module reads the
words, calls a use case and words its result (texts.py).

Any adapter: QQ groups and DMs, WeCom app DMs (staff) and Official Account
DMs (prospects: 报名, 取消报名, 我的报名 by event number, as in a QQ DM).
Only events the asker can see may be signed up for: in a group that group's;
by QQ DM those of the groups the asker is a member of (asked of the QQ client);
on the Official Account those published there (`_published_to_oa`); staff any.
A new event in a QQ group linked to WeCom customer groups (activities.toml
`wecom_groups`) is also queued for those groups as a mass-send."""

import base64
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from nonebot import require
from nonebot.adapters import Bot, Event
from nonebot.adapters.onebot.v11 import ActionFailed, GroupMessageEvent, MessageSegment
from nonebot.log import logger

from bot.charts import Charted
from bot.charts.reply import reply_charted
from bot.desk_runtime import get_desk, when_desk_opens
from bot.front import Call, CommandTable, Handler
from bot.people import Origin, staff_member
from bot.platform import origin_of
from bot.plugins.events import texts
from bot.roles import CONSULTANT, MANAGER
from bot.sending import reply
from bot.timeparse import TimeParseError, parse_when
from desk import Desk
from desk.phone import mask_phones_in_text
from desk.roster import QQ_ID
from features.activities.members import recorded_member
from features.events import jobs, manage, reports, signups
from features.events.config import load_config
from features.events.core import Events
from features.events.errors import (
    BadTime,
    EventError,
    EventNotFound,
    NotOnOA,
    NotYourGroup,
    UsageError,
)
from features.events.export import build_signup_sheet, signup_list
from features.events.manage import EventDraft
from features.events.signups import SignupArgs, SignupRequest, check_signup_args

# The WeCom customer groups linked to a QQ group are configured with the activities.
require("bot.plugins.activities")
from bot.plugins.activities import wecom_groups_of  # noqa: E402

# Loaded at import: a broken config/events.toml stops the start (bot.loader).
CONFIG = load_config()


def events_for(desk: Desk) -> Events:
    """The context of the use cases: the desk, this config, this plugin's words."""
    return Events(desk, CONFIG, texts.NOTICES)


when_desk_opens(lambda desk: jobs.register(events_for(desk)))

# -- reading the words --------------------------------------------------------------

_EVENT_NO = re.compile(r"^[#＃]?(\d{1,9})$")
_CAPACITY = re.compile(r"^(\d{1,6})(?:人|位|名)?$")
_CARS = re.compile(r"^(\d{1,6})(?:车|辆|辆车)$")
_PARTY = re.compile(r"^(\d{1,6})(?:人|位)$")
_BARE_NUMBER = re.compile(r"^\d{1,6}$")
# A token made only of time words and digits ("14:00", "上午10点"): it may extend
# the time the library read from the tokens before it; a place ("3号门") may not.
_TIME_FRAGMENT = re.compile(r"^[0-9:：.点分半时整刻上下中午晚早凌晨傍夜号日月年周星期礼拜一二三四五六七八九十天今明后本这个]+$")  # fmt: skip
_DEADLINE_WORD = "截止"


def parse_event_no(token: str) -> int | None:
    m = _EVENT_NO.match(token.strip())
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def _event_no(word: str, args: str) -> int:
    event_id = parse_event_no(args)
    if event_id is None:
        raise UsageError(word)
    return event_id


def _parse_time(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    try:
        return parse_when(text, now, tz)
    except TimeParseError:
        raise BadTime(text) from None


def _time_then_place(tokens: list[str], now: datetime, tz: ZoneInfo) -> tuple[datetime, str]:
    """The time is the longest run of leading tokens the library reads as one time
    ("12月1号 14:00"); the rest, at least one token, is the place."""
    when = _parse_time(tokens[0], now, tz)
    used = 1
    while used < len(tokens) - 1 and _TIME_FRAGMENT.match(tokens[used]):
        try:
            when = parse_when(" ".join(tokens[: used + 1]), now, tz)
        except TimeParseError:
            break
        used += 1
    return when, " ".join(tokens[used:])


def parse_new_event(args: str, now: datetime, tz: ZoneInfo) -> EventDraft:
    """'周末自驾游 周六上午10点 4S店门口 20人 8车 截止 周五18点' → a draft
    (features.events.manage checks it)."""
    tokens = args.split()
    deadline_text: str | None = None
    for i, token in enumerate(tokens[1:], start=1):
        if token.startswith(_DEADLINE_WORD):
            head = token[len(_DEADLINE_WORD) :].lstrip(":：")
            deadline_text = " ".join(([head] if head else []) + tokens[i + 1 :])
            tokens = tokens[:i]
            if not deadline_text:
                raise UsageError("发起活动")
            break
    if len(tokens) < 4:
        raise UsageError("发起活动")
    title, rest = tokens[0], tokens[1:]
    cars: int | None = None
    if m := _CARS.match(rest[-1]):
        cars, rest = int(m.group(1)), rest[:-1]
    m = _CAPACITY.match(rest[-1]) if rest else None
    if m is None or len(rest) < 3:
        raise UsageError("发起活动")
    capacity, rest = int(m.group(1)), rest[:-1]
    starts_at, place = _time_then_place(rest, now, tz)
    deadline_at = None if deadline_text is None else _parse_time(deadline_text, now, tz)
    return EventDraft(title, starts_at, place, capacity, cars, deadline_at)


def parse_signup_args(args: str) -> SignupArgs:
    """'3 2人 1车 带孩子' → event 3, 2 people, 1 car, note 带孩子 (checked)."""
    tokens = args.split()
    event_id = parse_event_no(tokens[0]) if tokens else None
    if event_id is None:
        raise UsageError("报名")
    party: int | None = None
    cars: int | None = None
    index = 1
    while index < len(tokens):
        token = tokens[index]
        if party is None and (m := _PARTY.match(token)):
            party = int(m.group(1))
        elif party is None and index == 1 and _BARE_NUMBER.match(token):
            party = int(token)  # "报名 3 2": two people
        elif cars is None and (m := _CARS.match(token)):
            cars = int(m.group(1))
        else:
            break
        index += 1
    return check_signup_args(event_id, party, cars, " ".join(tokens[index:]), CONFIG)


def parse_attendance_args(args: str) -> tuple[int, list[str]]:
    """'3 20001 20002' → (3, QQ ids); the @ mentions come from the message itself."""
    tokens = args.split()
    event_id = parse_event_no(tokens[0]) if tokens else None
    if event_id is None:
        raise UsageError("到场")
    return event_id, [t.lstrip("@") for t in tokens[1:] if QQ_ID.match(t.lstrip("@"))]


def _mentioned(bot: Bot, event: Event) -> list[str]:
    """QQ ids @-ed in the message (not @全体成员, not the bot); none off QQ."""
    ids = []
    for segment in event.get_message():
        if segment.type == "at":
            qq = str(segment.data.get("qq", ""))
            if qq.isdigit() and qq != str(bot.self_id):
                ids.append(qq)
    return ids


# -- the commands -------------------------------------------------------------------

Reply = Callable[[Bot, Event, Call, Origin, Desk], Awaitable[str | Charted | None]]


def _answering(*, at_asker: bool = False) -> Callable[[Reply], Handler]:
    """A handler that answers with the text its use case's result (or refusal) is
    worded as; `at_asker`: in a group the reply @-s the asker."""

    def wrap(produce: Reply) -> Handler:
        async def handler(bot: Bot, event: Event, call: Call) -> None:
            origin, desk = origin_of(bot, event), get_desk()
            try:
                text = await produce(bot, event, call, origin, desk)
            except EventError as exc:
                text = texts.error_text(exc, desk.settings.tz)
            if text is not None:
                await _answer(bot, event, origin, text, at_asker=at_asker)

        return handler

    return wrap


commands = CommandTable()


@commands.word("发起活动", role=MANAGER, desc=texts.DESCRIPTIONS["发起活动"], where="group")
@_answering()
async def _create(bot: Bot, event: Event, call: Call, origin: Origin, desk: Desk) -> str:
    if origin.group_id is None:
        return texts.GROUP_ONLY
    if not call.args:
        raise UsageError(call.word)
    draft = parse_new_event(call.args, desk.clock.now(), desk.settings.tz)
    result = await manage.create(
        events_for(desk), draft, group_id=origin.group_id, created_by=origin.user_id,
        source_key=origin.event_key, wecom_groups=wecom_groups_of(origin.group_id),
    )  # fmt: skip
    return texts.created(result, desk.settings.tz)


@commands.word("活动", desc=texts.DESCRIPTIONS["活动"], where="group", bare=True)
@_answering()
async def _list(bot: Bot, event: Event, call: Call, origin: Origin, desk: Desk) -> str:
    if origin.group_id is None:
        return texts.GROUP_ONLY
    found = await reports.open_events(events_for(desk), origin.group_id)
    return texts.open_events(found, desk.settings.tz)


@commands.word("报名", desc=texts.DESCRIPTIONS["报名"])
@_answering(at_asker=True)
async def _sign_up(bot: Bot, event: Event, call: Call, origin: Origin, desk: Desk) -> str:
    parsed = parse_signup_args(call.args)
    ev = events_for(desk)
    staff = CONSULTANT in call.roles or origin.platform == "wecom"
    scope = await _signup_scope(bot, origin, ev, parsed.event_id, staff)
    outcome = await signups.sign_up(
        ev,
        SignupRequest(
            event_id=parsed.event_id, user_id=origin.user_id, nickname=await _nickname(desk, origin),
            group_id=scope, party=parsed.party, cars=parsed.cars, note=parsed.note,
            is_staff=staff, message_key=origin.event_key, platform=origin.platform,
            fallback_name=texts.PLATFORM_PERSON.get(origin.platform),
        ),
    )  # fmt: skip
    return texts.signup(outcome, desk.settings.tz)


@commands.word("取消报名", desc=texts.DESCRIPTIONS["取消报名"])
@_answering(at_asker=True)
async def _cancel_signup(bot: Bot, event: Event, call: Call, origin: Origin, desk: Desk) -> str:
    result = await signups.cancel_signup(
        events_for(desk), _event_no(call.word, call.args), origin.user_id, origin.group_id,
        origin.platform,
    )  # fmt: skip
    return texts.signup_cancelled(result)


@commands.word("我的报名", desc=texts.DESCRIPTIONS["我的报名"], bare=True)
@_answering(at_asker=True)
async def _mine(bot: Bot, event: Event, call: Call, origin: Origin, desk: Desk) -> str:
    mine = await signups.my_signups(
        events_for(desk), origin.user_id, origin.group_id, origin.platform
    )
    return texts.my_signups(mine, desk.settings.tz)


@commands.word("到场", role=MANAGER, desc=texts.DESCRIPTIONS["到场"])
@_answering()
async def _attended(bot: Bot, event: Event, call: Call, origin: Origin, desk: Desk) -> str:
    event_id, typed = parse_attendance_args(call.args)
    result = await manage.mark_attended(
        events_for(desk), event_id, _mentioned(bot, event) + typed, origin.group_id
    )
    return texts.attendance(result)


@commands.word("关闭报名", role=MANAGER, desc=texts.DESCRIPTIONS["关闭报名"])
@_answering()
async def _close(bot: Bot, event: Event, call: Call, origin: Origin, desk: Desk) -> str:
    event_id = _event_no(call.word, call.args)
    return texts.closed(await manage.close(events_for(desk), event_id, origin.group_id))


@commands.word("取消活动", role=MANAGER, desc=texts.DESCRIPTIONS["取消活动"])
@_answering()
async def _cancel_event(bot: Bot, event: Event, call: Call, origin: Origin, desk: Desk) -> str:
    event_id = _event_no(call.word, call.args)
    return texts.cancelled(await manage.cancel_event(events_for(desk), event_id, origin.group_id))


@commands.word("活动统计", role=MANAGER, desc=texts.DESCRIPTIONS["活动统计"])
@_answering()
async def _stats(bot: Bot, event: Event, call: Call, origin: Origin, desk: Desk) -> Charted:
    tz = desk.settings.tz
    if not call.args:  # the recent events of the group (of all groups in a DM)
        found = await reports.recent(events_for(desk), origin.group_id)
        return Charted(texts.recent(found, tz), texts.recent_chart(found))
    event_id = _event_no(call.word, call.args)
    result = await reports.stats(events_for(desk), event_id, origin.group_id)
    return Charted(texts.stats(result, tz), texts.stats_chart(result))


@commands.word("导出报名", role=MANAGER, desc=texts.DESCRIPTIONS["导出报名"])
@_answering()
async def _export(bot: Bot, event: Event, call: Call, origin: Origin, desk: Desk) -> str | None:
    """Every sign-up of the event as an .xlsx uploaded to the chat (QQ ids, never phones)."""
    event_id = _event_no(call.word, call.args)
    if origin.platform != "qq":  # the file goes out through the QQ client's upload
        return texts.EXPORT_QQ_ONLY
    found = await signup_list(events_for(desk), event_id, origin.group_id)
    # Masked on the way out: a title or place typed with a phone in it.
    caption = mask_phones_in_text(texts.sheet_caption(found.event, desk.settings.tz))
    data = build_signup_sheet(
        texts.SHEET_TITLE, caption, texts.SHEET_HEADER, texts.sheet_rows(found)
    )
    name = texts.EXPORT_NAME.format(id=found.event.id)
    file = "base64://" + base64.b64encode(data).decode("ascii")
    try:
        if isinstance(event, GroupMessageEvent):
            await bot.call_api("upload_group_file", group_id=event.group_id, file=file, name=name)
        else:
            await bot.call_api(
                "upload_private_file", user_id=int(origin.user_id), file=file, name=name
            )
    except Exception as exc:  # the client may not support uploads, or the upload failed
        logger.warning(f"sign-up export of event {event_id} not uploaded: {exc!r}")
        return texts.EXPORT_FAILED
    return None


events_command = commands.matcher(priority=10, block=True)

__plugin_meta__ = commands.metadata(texts.PLUGIN_NAME, texts.PLUGIN_DESCRIPTION)


# -- who may sign up for what ---------------------------------------------------------


async def _nickname(desk: Desk, origin: Origin) -> str | None:
    """The name a sign-up shows: the QQ group card or nickname, a WeCom staff member's
    roster name; an Official Account gives none (shown as 公众号用户)."""
    if origin.platform == "wecom":
        member = await staff_member(desk, origin.platform, origin.user_id)
        return member.name if member else None
    return origin.nickname


def _published_to_oa(group_id: str) -> bool:
    """Official Account followers may sign up for the events of QQ groups linked to
    WeCom customer groups (the announcement there says 报名请在公众号发送) and of
    the groups events.toml lists in `oa_groups`."""
    return group_id in CONFIG.oa_groups or bool(wecom_groups_of(group_id))


async def _in_group(bot: Bot, desk: Desk, group_id: str, user_id: str) -> bool:
    """Whether a QQ user is a member of a QQ group: the QQ client knows; when it
    cannot answer, the group's records do (features.activities.members)."""
    try:
        await bot.call_api("get_group_member_info", group_id=int(group_id), user_id=int(user_id))
    except ActionFailed:  # the client's answer: no such member
        return False
    except Exception as exc:  # no answer (offline, timeout, not supported)
        logger.info(f"group membership asked of the records: {type(exc).__name__}")
        return await recorded_member(desk, group_id, user_id)
    return True


async def _signup_scope(
    bot: Bot, origin: Origin, ev: Events, event_id: int, staff: bool
) -> str | None:
    """The group whose events the asker may sign up for (None: any event), or a
    refusal that tells nothing about someone else's event."""
    if origin.group_id is not None:
        return origin.group_id
    if staff:
        return None  # staff sign up (or accompany) for any event
    group_id = await signups.event_group(ev, event_id)
    if group_id is None:
        raise EventNotFound(event_id)
    if origin.platform == "wechat_oa":
        if _published_to_oa(group_id):
            return group_id
        raise NotOnOA(event_id)
    if origin.user_id.isdigit() and await _in_group(bot, ev.desk, group_id, origin.user_id):
        return group_id
    raise NotYourGroup(event_id)


async def _answer(
    bot: Bot, event: Event, origin: Origin, text: str | Charted, *, at_asker: bool = False
) -> None:
    if isinstance(text, Charted):  # statistics: @ nobody
        await reply_charted(bot, event, text)
    elif at_asker and origin.group_id is not None:  # only in a QQ group
        await reply(bot, event, MessageSegment.at(origin.user_id) + MessageSegment.text(text))
    else:
        await reply(bot, event, text)
