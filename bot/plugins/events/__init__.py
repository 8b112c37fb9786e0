"""Event sign-ups (spec §3.2): managers create events in an owner group,
members sign up (waitlisted when full), the day before everyone signed up is
reminded, attendance and no-shows are recorded, and the list exports to a
spreadsheet. Rules live in service.py; this module parses, checks who asks,
and replies.

Any adapter: QQ groups and DMs, WeCom app DMs (staff) and Official Account
DMs (prospects: 报名, 取消报名, 我的报名 by event number, as in a QQ DM).
Only events the asker can see may be signed up for: in a group that group's;
by QQ DM those of the groups the asker is a member of (asked of the QQ client);
on the Official Account those published there (`_published_to_oa`); staff any.
A new event in a QQ group linked to WeCom customer groups (activities.toml
`wecom_groups`) is also queued for those groups as a mass-send."""

import base64

from nonebot import on_message, require
from nonebot.adapters import Bot, Event
from nonebot.adapters.onebot.v11 import ActionFailed, GroupMessageEvent, MessageSegment
from nonebot.log import logger
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule
from nonebot.typing import T_State

from bot.desk_runtime import DeskDep, when_desk_opens
from bot.people import Origin, staff_member
from bot.platform import is_message, origin_of
from bot.plugins.events import texts
from bot.plugins.events.service import (
    EventError,
    Events,
    SignupRequest,
    UsageError,
    load_config,
    parse_attendance_args,
    parse_event_no,
    parse_signup_args,
)
from bot.roles import asker_roles
from bot.rules import parse_word_command
from bot.sending import reply
from desk import Desk

# The WeCom customer groups linked to a QQ group are configured with the activities.
require("bot.plugins.activities")
from bot.plugins.activities import wecom_groups_of  # noqa: E402
from bot.plugins.activities.service import recorded_member  # noqa: E402

# (command, role, where)
COMMANDS = (
    ("发起活动", "manager", "group"),
    ("活动", "member", "group"),
    ("报名", "member", "any"),
    ("取消报名", "member", "any"),
    ("我的报名", "member", "any"),
    ("到场", "manager", "any"),
    ("关闭报名", "manager", "any"),
    ("取消活动", "manager", "any"),
    ("活动统计", "manager", "any"),
    ("导出报名", "manager", "any"),
)
WORDS = frozenset(c for c, _, _ in COMMANDS)
ROLE = {c: r for c, r, _ in COMMANDS}

__plugin_meta__ = PluginMetadata(
    name="活动报名",
    description="群里发起自驾游、试驾会等活动，成员报名、候补、提醒、签到、导出名单",
    usage="\n".join(texts.USAGE[c] for c, _, _ in COMMANDS),
    extra={
        "commands": [
            {"cmd": c, "desc": texts.DESCRIPTIONS[c], "role": role, "where": where}
            for c, role, where in COMMANDS
        ]
    },
)

# Loaded at import: a broken config/events.toml stops the start (bot.loader).
CONFIG = load_config()


def _register(desk: Desk) -> None:
    events = Events(desk, CONFIG)
    for step in events.schedules():
        desk.add_schedule(step)
    desk.add_personal_data("events", events.erase_person, events.describe_person)


when_desk_opens(_register)

_STATE_KEY = "events_command"


async def _is_events_command(event: Event, state: T_State) -> bool:
    if not is_message(event):
        return False
    parsed = parse_word_command(event.get_plaintext(), WORDS)
    if parsed is None:
        return False
    if parsed.word in ("活动", "我的报名") and parsed.args:
        return False  # "活动 有什么优惠吗" is chat (maybe a purchase intent), not the list
    state[_STATE_KEY] = (parsed.word, parsed.args)
    return True


events_command = on_message(rule=Rule(_is_events_command), priority=10, block=True)


def _mentioned(bot: Bot, event: Event) -> list[str]:
    """QQ ids @-ed in the message (not @全体成员, not the bot); none off QQ."""
    ids = []
    for segment in event.get_message():
        if segment.type == "at":
            qq = str(segment.data.get("qq", ""))
            if qq.isdigit() and qq != str(bot.self_id):
                ids.append(qq)
    return ids


@events_command.handle()
async def _handle(bot: Bot, event: Event, state: T_State, desk: DeskDep) -> None:
    word, args = state[_STATE_KEY]
    origin = origin_of(bot, event)
    roles = await asker_roles(bot, event)
    if ROLE[word] not in roles:
        await _answer(bot, event, origin, texts.NOT_MANAGER)
        return
    service = Events(desk, CONFIG)
    try:
        if word == "导出报名":
            await _export(bot, event, origin, service, args)
            return
        text = await _run(word, args, origin, bot, event, service, roles, desk)
    except EventError as exc:
        text = exc.text
    if text is not None:
        at_asker = origin.group_id is not None and word in ("报名", "取消报名", "我的报名")
        await _answer(bot, event, origin, text, at_asker=at_asker)


async def _nickname(desk: Desk, origin: Origin) -> str | None:
    """The name a sign-up shows: the QQ group card or nickname, a WeCom staff member's
    roster name; an Official Account gives none (the service says 公众号用户)."""
    if origin.platform == "wecom":
        member = await staff_member(desk, origin.platform, origin.user_id)
        return member.name if member else None
    return origin.nickname


async def _run(
    word: str, args: str, origin: Origin, bot: Bot, event: Event, service: Events,
    roles: set[str], desk: Desk,
) -> str | None:  # fmt: skip
    user_id, group_id, platform = origin.user_id, origin.group_id, origin.platform
    if word in ("发起活动", "活动") and group_id is None:
        return texts.GROUP_ONLY
    if word == "发起活动":
        if not args:
            raise UsageError(word)
        _, text = await service.create(
            group_id=str(group_id), created_by=user_id, args=args, source_key=origin.event_key,
            wecom_groups=wecom_groups_of(str(group_id)),
        )  # fmt: skip
        return text
    if word == "活动":
        return await service.open_events(str(group_id))
    if word == "我的报名":
        return await service.my_signups(user_id, group_id, platform)
    if word == "报名":
        parsed = parse_signup_args(args, service.config)
        scope = await _signup_scope(bot, origin, service, parsed.event_id, roles)
        outcome = await service.sign_up(
            SignupRequest(
                event_id=parsed.event_id, user_id=user_id, nickname=await _nickname(desk, origin),
                group_id=scope, party=parsed.party, cars=parsed.cars, note=parsed.note,
                is_staff="consultant" in roles or platform == "wecom",
                message_key=origin.event_key, platform=platform,
            )
        )  # fmt: skip
        return outcome.text
    if word == "到场":
        event_id, typed = parse_attendance_args(args)
        return await service.mark_attended(event_id, _mentioned(bot, event) + typed, group_id)
    if word == "活动统计":
        if not args:
            return await service.stats(None, group_id)
        event_id = parse_event_no(args)
        if event_id is None:
            raise UsageError(word)
        return await service.stats(event_id, group_id)
    event_id = parse_event_no(args)
    if event_id is None:
        raise UsageError(word)
    if word == "取消报名":
        return await service.cancel_signup(event_id, user_id, group_id, platform)
    if word == "关闭报名":
        return await service.close(event_id, group_id)
    if word == "取消活动":
        return await service.cancel_event(event_id, group_id)
    return None


def _published_to_oa(group_id: str) -> bool:
    """Official Account followers may sign up for the events of QQ groups linked to
    WeCom customer groups (the announcement there says 报名请在公众号发送) and of
    the groups events.toml lists in `oa_groups`."""
    return group_id in CONFIG.oa_groups or bool(wecom_groups_of(group_id))


async def _in_group(bot: Bot, desk: Desk, group_id: str, user_id: str) -> bool:
    """Whether a QQ user is a member of a QQ group: the QQ client knows; when it
    cannot answer, the group's records do (bot.plugins.activities)."""
    try:
        await bot.call_api("get_group_member_info", group_id=int(group_id), user_id=int(user_id))
    except ActionFailed:  # the client's answer: no such member
        return False
    except Exception as exc:  # no answer (offline, timeout, not supported)
        logger.info(f"group membership asked of the records: {type(exc).__name__}")
        return await recorded_member(desk, group_id, user_id)
    return True


async def _signup_scope(
    bot: Bot, origin: Origin, service: Events, event_id: int, roles: set[str]
) -> str | None:
    """The group whose events the asker may sign up for (None: any event), or an
    EventError that tells nothing about someone else's event."""
    if origin.group_id is not None:
        return origin.group_id
    if "consultant" in roles or origin.platform == "wecom":
        return None  # staff sign up (or accompany) for any event
    group_id = await service.event_group(event_id)
    if group_id is None:
        raise EventError(texts.NO_EVENT.format(id=event_id))
    if origin.platform == "wechat_oa":
        if _published_to_oa(group_id):
            return group_id
        raise EventError(texts.NOT_ON_OA.format(id=event_id))
    if origin.user_id.isdigit() and await _in_group(bot, service.desk, group_id, origin.user_id):
        return group_id
    raise EventError(texts.NOT_YOUR_GROUP.format(id=event_id))


async def _export(bot: Bot, event: Event, origin: Origin, service: Events, args: str) -> None:
    event_id = parse_event_no(args)
    if event_id is None:
        raise UsageError("导出报名")
    if origin.platform != "qq":  # the file goes out through the QQ client's upload
        await _answer(bot, event, origin, texts.EXPORT_QQ_ONLY)
        return
    export = await service.export(event_id, origin.group_id)
    file = "base64://" + base64.b64encode(export.data).decode("ascii")
    try:
        if isinstance(event, GroupMessageEvent):
            await bot.call_api(
                "upload_group_file", group_id=event.group_id, file=file, name=export.filename
            )
        else:
            await bot.call_api(
                "upload_private_file", user_id=int(origin.user_id), file=file,
                name=export.filename,
            )  # fmt: skip
    except Exception as exc:  # the client may not support uploads, or the upload failed
        logger.warning(f"sign-up export of event {event_id} not uploaded: {exc!r}")
        await _answer(bot, event, origin, texts.EXPORT_FAILED)


async def _answer(
    bot: Bot, event: Event, origin: Origin, text: str, *, at_asker: bool = False
) -> None:
    if at_asker:  # only in a QQ group
        await reply(bot, event, MessageSegment.at(origin.user_id) + MessageSegment.text(text))
    else:
        await reply(bot, event, text)
