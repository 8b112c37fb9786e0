"""荐友购车 (spec §3.3): owners refer friends by phone, by a personal code or by
inviting them into an owner group; the friend becomes a lead with the owner as
referrer; visits and deals earn points and rewards. The rules live in
service.py; this module turns QQ events into its calls and its answers into
replies. Phones are never shown in a group: replies mask them."""

from nonebot import get_driver, on_message, on_notice, on_request
from nonebot.adapters.onebot.v11 import (
    Bot,
    GroupDecreaseNoticeEvent,
    GroupIncreaseNoticeEvent,
    GroupMessageEvent,
    GroupRequestEvent,
    Message,
    MessageEvent,
    MessageSegment,
)
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule
from nonebot.typing import T_State

from bot.commands import split_command
from bot.desk_runtime import DeskDep, when_desk_opens
from bot.plugins.referral import texts
from bot.plugins.referral.models import SOURCE_JOIN
from bot.plugins.referral.service import (
    ReferralService,
    code_pattern,
    find_code,
    load_config,
    service_for,
)
from bot.prefilter import register_interest
from bot.roles import CONSULTANT, MANAGER, asker_roles
from bot.rules import CommandArgText, on_command_word
from bot.sending import reply
from desk import Desk
from desk.errors import valid_id

COMMANDS = {
    "推荐": texts.USAGE_REFER,
    "推荐码": texts.USAGE_CODE,
    "我的推荐": texts.USAGE_MINE,
    "推荐榜": texts.USAGE_BOARD,
    "奖励台账": texts.USAGE_LEDGER,
}

__plugin_meta__ = PluginMetadata(
    name=texts.PLUGIN_NAME,
    description=texts.PLUGIN_DESCRIPTION,
    usage="\n".join(COMMANDS.values()),
    extra={
        "commands": [
            {"cmd": cmd, "desc": desc, "role": "manager" if cmd == "奖励台账" else "member"}
            for cmd, desc in COMMANDS.items()
        ]
    },
)

# Loaded at import: a broken config/referral.toml stops the start (bot.loader).
CONFIG = load_config()
CODE_PATTERN = code_pattern(CONFIG)


def _has_code(text: str) -> bool:
    return find_code(text, CODE_PATTERN, CONFIG.code_prefix) is not None


register_interest(_has_code)


def _on_desk_open(desk: Desk) -> None:
    service_for(desk, CONFIG)


when_desk_opens(_on_desk_open)


def _service(desk: Desk) -> ReferralService:
    return service_for(desk, CONFIG)


async def _is_staff(desk: Desk, qq: str) -> bool:
    """Roster members and SUPERUSERS: they take no part in referrals."""
    return qq in get_driver().config.superusers or await desk.member_by(qq_id=qq) is not None


def _name(event: MessageEvent) -> str | None:
    return (event.sender.card or event.sender.nickname) if event.sender else None


def _group_id(event: MessageEvent) -> str | None:
    return str(event.group_id) if isinstance(event, GroupMessageEvent) else None


def _event_key(bot: Bot, event: MessageEvent) -> str:
    return f"qq:{bot.self_id}:msg:{event.message_id}"


async def _answer(bot: Bot, event: MessageEvent, text: str, *, at: bool = True) -> None:
    """Reply; in a group, @ the asker first."""
    if at and isinstance(event, GroupMessageEvent):
        await reply(bot, event, Message(MessageSegment.at(event.user_id)) + text)
    else:
        await reply(bot, event, text)


def _usage(command: str) -> str:
    return texts.USAGE_PREFIX + COMMANDS[command]


# -- commands ------------------------------------------------------------------------------

refer_command = on_command_word("推荐", priority=10, block=True)


@refer_command.handle()
async def _refer(
    bot: Bot, event: MessageEvent, desk: DeskDep, args: str = CommandArgText()
) -> None:
    if CONSULTANT in await asker_roles(bot, event):
        await _answer(bot, event, texts.STAFF_CANNOT_REFER)
        return
    answer = await _service(desk).refer(
        referrer_qq=str(event.user_id), referrer_name=_name(event), args=args,
        group_id=_group_id(event), event_key=_event_key(bot, event),
    )  # fmt: skip
    if answer is None:
        return  # the same message delivered again: already answered
    await _answer(bot, event, answer or _usage("推荐"))


code_command = on_command_word("推荐码", priority=10, block=True)


@code_command.handle()
async def _code(bot: Bot, event: MessageEvent, desk: DeskDep) -> None:
    if CONSULTANT in await asker_roles(bot, event):
        await _answer(bot, event, texts.STAFF_NO_CODE)
        return
    await _answer(bot, event, await _service(desk).my_code(str(event.user_id), _name(event)))


mine_command = on_command_word("我的推荐", priority=10, block=True)


@mine_command.handle()
async def _mine(bot: Bot, event: MessageEvent, desk: DeskDep) -> None:
    await _answer(bot, event, await _service(desk).my_referrals(str(event.user_id)))


board_command = on_command_word("推荐榜", priority=10, block=True)


@board_command.handle()
async def _board(bot: Bot, event: MessageEvent, desk: DeskDep) -> None:
    await _answer(bot, event, await _service(desk).leaderboard(), at=False)


ledger_command = on_command_word("奖励台账", priority=10, block=True)


@ledger_command.handle()
async def _ledger(
    bot: Bot, event: MessageEvent, desk: DeskDep, args: str = CommandArgText()
) -> None:
    if MANAGER not in await asker_roles(bot, event):
        await _answer(bot, event, texts.LEDGER_MANAGERS_ONLY)
        return
    service = _service(desk)
    words = args.split()
    if not words:
        await _answer(bot, event, await service.ledger(), at=False)
    elif words == ["全部"]:
        await _answer(bot, event, await service.ledger(show_all=True), at=False)
    elif words[0] == "发放" and len(words) == 2 and words[1].lstrip("#＃").isdigit():
        number = int(words[1].lstrip("#＃"))
        if not valid_id(number):
            await _answer(bot, event, texts.LEDGER_NOT_FOUND.format(id=words[1][:12]))
            return
        member = await desk.member_by(qq_id=str(event.user_id))
        by = member.name if member else f"QQ {event.user_id}"
        await _answer(bot, event, await service.fulfil(number, by))
    else:
        await _answer(bot, event, _usage("奖励台账"))


# -- a friend quotes a code -------------------------------------------------------------------

_CODE_KEY = "referral_code"


async def _quotes_code(event: MessageEvent, state: T_State) -> bool:
    text = event.get_plaintext()
    if split_command(text, COMMANDS) is not None:
        return False  # an owner's own command, not a friend quoting a code
    code = find_code(text, CODE_PATTERN, CONFIG.code_prefix)
    state[_CODE_KEY] = code
    return code is not None


# Early and non-blocking: the message still reaches every other plugin.
code_quoted = on_message(rule=Rule(_quotes_code), priority=1, block=False)


@code_quoted.handle()
async def _attribute(bot: Bot, event: MessageEvent, state: T_State, desk: DeskDep) -> None:
    if await _is_staff(desk, str(event.user_id)):
        return
    group_id = _group_id(event)
    outcome = await _service(desk).attribute_code(
        state[_CODE_KEY], friend_qq=str(event.user_id), friend_name=_name(event),
        group_id=group_id, event_key=_event_key(bot, event),
    )  # fmt: skip
    referrer = outcome.referrer_name or texts.AN_OWNER
    if outcome.attributed:
        line = texts.CODE_THANKS_GROUP if group_id else texts.CODE_THANKS_DM
        await _answer(bot, event, line.format(referrer=referrer))
    elif group_id is None and outcome.reason == "own":
        await _answer(bot, event, texts.CODE_OWN_DM)
    elif group_id is None and outcome.reason == "known":
        await _answer(bot, event, texts.CODE_ALREADY_KNOWN_DM)


async def _join_request_with_code(event: GroupRequestEvent, state: T_State) -> bool:
    if event.sub_type != "add" or not event.comment:
        return False
    state[_CODE_KEY] = find_code(event.comment, CODE_PATTERN, CONFIG.code_prefix)
    return state[_CODE_KEY] is not None


join_request = on_request(rule=Rule(_join_request_with_code), priority=5, block=False)


@join_request.handle()
async def _join_request(bot: Bot, event: GroupRequestEvent, state: T_State, desk: DeskDep) -> None:
    # No reply: a join request cannot be answered with text.
    if await _is_staff(desk, str(event.user_id)):
        return
    await _service(desk).attribute_code(
        state[_CODE_KEY], friend_qq=str(event.user_id), friend_name=None,
        group_id=str(event.group_id), event_key=f"qq:{bot.self_id}:request:{event.flag}"[:160],
        source=SOURCE_JOIN,
    )  # fmt: skip


# -- group membership ------------------------------------------------------------------------------


async def _joined(event: GroupIncreaseNoticeEvent) -> bool:
    return event.sub_type in ("invite", "approve") and event.user_id != event.self_id


# Non-blocking: the activities plugin listens to the same notices.
member_joined = on_notice(rule=Rule(_joined), priority=5, block=False)


@member_joined.handle()
async def _member_joined(bot: Bot, event: GroupIncreaseNoticeEvent, desk: DeskDep) -> None:
    service = _service(desk)
    friend, group = str(event.user_id), str(event.group_id)
    if event.sub_type == "approve":
        await service.joined(group_id=group, friend_qq=friend)
        return
    inviter = str(event.operator_id)
    if event.operator_id in (0, event.self_id) or await _is_staff(desk, inviter):
        return  # invited by staff or the bot: nobody to reward
    if await _is_staff(desk, friend):
        return
    await service.invited(
        group_id=group, friend_qq=friend, inviter_qq=inviter,
        event_key=f"qq:{bot.self_id}:increase:{group}:{friend}:{event.time}",
    )  # fmt: skip


async def _left(event: GroupDecreaseNoticeEvent) -> bool:
    return event.user_id != event.self_id


member_left = on_notice(rule=Rule(_left), priority=5, block=False)


@member_left.handle()
async def _member_left(event: GroupDecreaseNoticeEvent, desk: DeskDep) -> None:
    await _service(desk).left_group(group_id=str(event.group_id), friend_qq=str(event.user_id))
