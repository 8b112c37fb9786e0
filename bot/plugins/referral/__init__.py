"""荐友购车 (spec §3.3), the chat front: owners refer friends by phone, by a personal
code or by inviting them into an owner group; the friend becomes a lead with the
owner as referrer; visits and deals earn points and rewards. The rules are
features/referral; this module turns events into its calls and its results into
replies (texts.py). Phones are never shown in a group: replies mask them.

Platforms: QQ (groups and DMs), the Official Account (followers' DMs: 推荐码
also hands out the owner's WeCom QR, whose adds carry the code) and WeCom
(customer-contact and customer-group events carry a code in their `state`;
the WeCom app's own users are staff and take no part). People are keyed by
`bot.people.Origin.handle`."""

import asyncio

import nonebot
from nonebot import get_driver, on_message, on_notice, on_request
from nonebot.adapters import Bot, Event
from nonebot.adapters.onebot.v11 import Bot as OneBotBot
from nonebot.adapters.onebot.v11 import (
    GroupDecreaseNoticeEvent,
    GroupIncreaseNoticeEvent,
    GroupRequestEvent,
    MessageSegment,
)
from nonebot.log import logger
from nonebot.rule import Rule
from nonebot.typing import T_State

from bot import front
from bot.adapters.wechat import ExternalChatChangeEvent, ExternalContactChangeEvent
from bot.adapters.wechat.client import WeChatError
from bot.commands import split_command
from bot.desk_runtime import DeskDep, get_desk, when_desk_opens
from bot.front import Call, CommandTable
from bot.people import Origin, staff_member
from bot.platform import is_message, origin_of
from bot.plugins.referral import texts
from bot.prefilter import register_interest
from bot.roles import CONSULTANT, MANAGER
from bot.sending import reply
from desk import Desk
from desk.errors import valid_id
from features.referral import attribution, codes, ledger, reports, rewards
from features.referral.config import load_config
from features.referral.errors import InvalidReferral, ReferralError, ReferralRefused
from features.referral.models import SOURCE_JOIN
from features.referral.people import Referrals, platform_key

# Loaded at import: a broken config/referral.toml stops the start (bot.loader).
CONFIG = load_config()
CODE_PATTERN = codes.code_pattern(CONFIG)
CONTACT_ADDED = frozenset({"add_external_contact", "add_half_external_contact"})


def _find_code(text: str) -> str | None:
    return codes.find_code(text, CODE_PATTERN, CONFIG.code_prefix)


def _has_code(text: str) -> bool:
    return _find_code(text) is not None


register_interest(_has_code)


def referrals_for(desk: Desk) -> Referrals:
    """What the use cases run on, built per call (CONFIG read now: tests replace it)."""
    return Referrals(desk, CONFIG, texts.WORDING)


def _on_desk_open(desk: Desk) -> None:
    rewards.attach(referrals_for(desk))


when_desk_opens(_on_desk_open)


async def _is_staff_qq(desk: Desk, qq: str) -> bool:
    """Roster members and SUPERUSERS: they take no part in referrals."""
    return qq in get_driver().config.superusers or await desk.member_by(qq_id=qq) is not None


async def _sender_is_staff(bot: Bot, event: Event, origin: Origin) -> bool:
    """The WeCom app's users are all staff; elsewhere the roles of bot.front (the
    roster, and SUPERUSERS on QQ only)."""
    return origin.platform == "wecom" or CONSULTANT in await front.roles_of(bot, event)


def _event_key(origin: Origin) -> str:
    return origin.event_key or f"{origin.platform}:{origin.self_id}:msg:{origin.user_id}"


async def _answer(bot: Bot, event: Event, origin: Origin, text: str, *, at: bool = True) -> None:
    """Reply; in a QQ group, @ the asker first."""
    if at and origin.group_id is not None and isinstance(bot, OneBotBot):
        await reply(bot, event, MessageSegment.at(origin.user_id) + MessageSegment.text(text))
    else:
        await reply(bot, event, text)


async def _customer(bot: Bot, event: Event, call: Call, refusal: str) -> Origin | None:
    """Who asks, or None once refused: staff take no part in referrals (the WeCom
    app's users, consultants, managers)."""
    origin = origin_of(bot, event)
    if origin.platform == "wecom" or CONSULTANT in call.roles:
        await _answer(bot, event, origin, refusal)
        return None
    return origin


# -- commands ------------------------------------------------------------------------------

commands = CommandTable()  # one matcher for every command word below


@commands.word("推荐", desc=texts.USAGE["推荐"])
async def _refer(bot: Bot, event: Event, call: Call) -> None:
    if (origin := await _customer(bot, event, call, texts.STAFF_CANNOT_REFER)) is None:
        return
    try:
        request = attribution.parse_refer_args(call.args)
        done = await attribution.refer(
            referrals_for(get_desk()), request, referrer=origin.handle,
            referrer_name=origin.nickname, group_id=origin.group_id, event_key=_event_key(origin),
        )  # fmt: skip
    except (InvalidReferral, ReferralRefused) as refused:
        if isinstance(refused, ReferralRefused) and refused.reason == "duplicate":
            return  # the same message delivered again: already answered
        await _answer(bot, event, origin, texts.refer_refused(refused))
        return
    answer = texts.referred(done.name, done.phone, CONFIG, in_group=origin.group_id is not None)
    await _answer(bot, event, origin, answer)


@commands.word("推荐码", desc=texts.USAGE["推荐码"])
async def _code(bot: Bot, event: Event, call: Call) -> None:
    if (origin := await _customer(bot, event, call, texts.STAFF_NO_CODE)) is None:
        return
    r = referrals_for(get_desk())
    own = await codes.own_code(r, origin.handle, origin.nickname)
    if origin.platform != "wechat_oa":
        await _answer(bot, event, origin, texts.your_code(own.code, CONFIG))
        return
    qr, no_qr = own.contact_qr, None
    if qr is None:
        qr, no_qr = await _contact_qr(r, own.code)
    await _answer(bot, event, origin, texts.your_code_wechat(own.code, qr, no_qr, CONFIG))


# One QR per code even when an owner asks twice at once (a second would be an orphan).
_qr_locks: dict[str, asyncio.Lock] = {}


def _wecom_bot() -> Bot | None:
    """The WeCom app's bot (the OA bot cannot make contact ways), if connected."""
    for self_id, bot in nonebot.get_bots().items():
        if self_id.startswith("wecom:"):
            return bot
    return None


async def _contact_qr(r: Referrals, code: str) -> tuple[str | None, str | None]:
    """(the QR of a WeCom contact way with state = `code`, made and stored once;
    else None and the line saying why there is none)."""
    wecom = _wecom_bot()
    users = list(r.config.wecom.contact_users)
    if wecom is None or not users:
        return None, texts.CODE_NO_WECOM
    global _qr_locks
    if len(_qr_locks) > 1000:  # drop the idle ones
        _qr_locks = {c: lock for c, lock in _qr_locks.items() if lock.locked()}
    async with _qr_locks.setdefault(code, asyncio.Lock()):
        own = await codes.code_by(r, code)
        if own is not None and own.contact_qr:
            return own.contact_qr, None  # made while this ask waited
        try:
            way = await wecom.call_api(
                "add_contact_way", state=code, user_ids=users,
                remark=texts.CONTACT_WAY_REMARK.format(code=code),
            )  # fmt: skip
        except WeChatError:  # the customer-contact secret is not set
            return None, texts.CODE_NO_WECOM
        except Exception as exc:  # a timeout may have made one: an orphan QR, harmless
            logger.warning(f"referral: no WeCom contact way for code {code}: {exc!r}")
            return None, texts.CODE_QR_LATER
        config_id = way.get("config_id") if isinstance(way, dict) else None
        qr = way.get("qr_code") if isinstance(way, dict) else None
        if not isinstance(config_id, str) or not isinstance(qr, str):
            logger.warning(f"referral: contact way for code {code} came back without a QR")
            return None, texts.CODE_QR_LATER
        stored = await codes.save_contact_way(r, code, config_id, qr)
    return (stored, None) if stored else (None, texts.CODE_QR_LATER)


@commands.word("我的推荐", desc=texts.USAGE["我的推荐"])
async def _mine(bot: Bot, event: Event, call: Call) -> None:
    origin = origin_of(bot, event)
    mine = await reports.my_referrals(referrals_for(get_desk()), origin.handle)
    await _answer(bot, event, origin, texts.my_referrals(mine))


@commands.word("推荐榜", desc=texts.USAGE["推荐榜"])
async def _board(bot: Bot, event: Event, call: Call) -> None:
    origin = origin_of(bot, event)
    board = await reports.leaderboard(referrals_for(get_desk()))
    await _answer(bot, event, origin, texts.leaderboard(board), at=False)


@commands.word("奖励台账", role=MANAGER, desc=texts.USAGE["奖励台账"])
async def _ledger(bot: Bot, event: Event, call: Call) -> None:
    desk = get_desk()
    origin = origin_of(bot, event)
    r, tz = referrals_for(desk), desk.settings.tz
    words = call.args.split()
    if not words or words == ["全部"]:
        show_all = bool(words)
        entries = await ledger.ledger(r, show_all=show_all)
        await _answer(bot, event, origin, texts.ledger(entries, tz, show_all=show_all), at=False)
    elif words[0] == "发放" and len(words) == 2 and words[1].lstrip("#＃").isdigit():
        number = int(words[1].lstrip("#＃"))
        if not valid_id(number):
            await _answer(bot, event, origin, texts.LEDGER_NOT_FOUND.format(id=words[1][:12]))
            return
        member = await staff_member(desk, origin.platform, origin.user_id)
        by = member.name if member else texts.BY_ACCOUNT[origin.platform].format(id=origin.user_id)
        try:
            answer = texts.fulfilled(await ledger.fulfil(r, number, by))
        except ReferralError as refused:
            answer = texts.not_fulfilled(refused, tz)
        await _answer(bot, event, origin, answer)
    else:
        await _answer(bot, event, origin, texts.usage("奖励台账"))


command_matcher = commands.matcher(priority=10, block=True)

__plugin_meta__ = commands.metadata(texts.PLUGIN_NAME, texts.PLUGIN_DESCRIPTION)


# -- a friend quotes a code -------------------------------------------------------------------

_CODE_KEY = "referral_code"


async def _quotes_code(event: Event, state: T_State) -> bool:
    if not is_message(event):
        return False
    text = event.get_plaintext()
    if split_command(text, commands.words()) is not None:
        return False  # an owner's own command, not a friend quoting a code
    code = _find_code(text)
    state[_CODE_KEY] = code
    return code is not None


# Early and non-blocking: the message still reaches every other plugin.
code_quoted = on_message(rule=Rule(_quotes_code), priority=1, block=False)


@code_quoted.handle()
async def _attribute(bot: Bot, event: Event, state: T_State, desk: DeskDep) -> None:
    origin = origin_of(bot, event)
    if await _sender_is_staff(bot, event, origin):
        return
    outcome = await attribution.attribute_code(
        referrals_for(desk), state[_CODE_KEY], friend=origin.handle, friend_name=origin.nickname,
        group_id=origin.group_id, event_key=_event_key(origin),
    )  # fmt: skip
    referrer = outcome.referrer_name or texts.AN_OWNER
    in_group = origin.group_id is not None
    if outcome.attributed:
        line = texts.CODE_THANKS_GROUP if in_group else texts.CODE_THANKS_DM
        await _answer(bot, event, origin, line.format(referrer=referrer))
    elif not in_group and outcome.reason == "own":
        await _answer(bot, event, origin, texts.CODE_OWN_DM)
    elif not in_group and outcome.reason == "known":
        await _answer(bot, event, origin, texts.CODE_ALREADY_KNOWN_DM)


async def _join_request_with_code(event: GroupRequestEvent, state: T_State) -> bool:
    if event.sub_type != "add" or not event.comment:
        return False
    state[_CODE_KEY] = _find_code(event.comment)
    return state[_CODE_KEY] is not None


join_request = on_request(rule=Rule(_join_request_with_code), priority=5, block=False)


@join_request.handle()
async def _join_request(
    bot: OneBotBot, event: GroupRequestEvent, state: T_State, desk: DeskDep
) -> None:
    # No reply: a join request cannot be answered with text.
    if await _is_staff_qq(desk, str(event.user_id)):
        return
    await attribution.attribute_code(
        referrals_for(desk), state[_CODE_KEY], friend=f"qq:{event.user_id}", friend_name=None,
        group_id=str(event.group_id),
        event_key=platform_key("qq", bot.self_id, "request", event.flag), source=SOURCE_JOIN,
    )  # fmt: skip


# -- QQ group membership ---------------------------------------------------------------------------


async def _joined(event: GroupIncreaseNoticeEvent) -> bool:
    return event.sub_type in ("invite", "approve") and event.user_id != event.self_id


# Non-blocking: the activities plugin listens to the same notices.
member_joined = on_notice(rule=Rule(_joined), priority=5, block=False)


@member_joined.handle()
async def _member_joined(bot: OneBotBot, event: GroupIncreaseNoticeEvent, desk: DeskDep) -> None:
    r = referrals_for(desk)
    friend, group = str(event.user_id), str(event.group_id)
    if event.sub_type == "approve":
        await rewards.joined(r, group_id=group, friend=f"qq:{friend}")
        return
    inviter = str(event.operator_id)
    if event.operator_id in (0, event.self_id) or await _is_staff_qq(desk, inviter):
        return  # invited by staff or the bot: nobody to reward
    if await _is_staff_qq(desk, friend):
        return
    await attribution.invited(
        r, group_id=group, friend=f"qq:{friend}", inviter=f"qq:{inviter}",
        event_key=f"qq:{bot.self_id}:increase:{group}:{friend}:{event.time}",
        friend_name=await _member_name(bot, event.group_id, event.user_id),
    )  # fmt: skip


async def _member_name(bot: OneBotBot, group_id: int, user_id: int) -> str | None:
    """The new member's group card or nickname, so the consultant knows whom to greet;
    None when the QQ client cannot tell (the referral does not depend on it)."""
    try:
        info = await bot.get_group_member_info(group_id=group_id, user_id=user_id)
    except Exception as exc:
        logger.info(f"no name for new member {user_id} of {group_id}: {exc!r}")
        return None
    name = str(info.get("card") or info.get("nickname") or "").strip()
    return name[:32] or None


async def _left(event: GroupDecreaseNoticeEvent) -> bool:
    return event.user_id != event.self_id


member_left = on_notice(rule=Rule(_left), priority=5, block=False)


@member_left.handle()
async def _member_left(event: GroupDecreaseNoticeEvent, desk: DeskDep) -> None:
    await rewards.left_group(
        referrals_for(desk), group_id=str(event.group_id), friend=f"qq:{event.user_id}"
    )


# -- WeCom customer contacts and customer groups ------------------------------------------------


async def _contact_added(event: Event) -> bool:
    return (
        isinstance(event, ExternalContactChangeEvent)
        and event.change_type in CONTACT_ADDED
        and bool(event.state)
    )


# Non-blocking: other plugins may greet or record the same customer.
contact_added = on_notice(rule=Rule(_contact_added), priority=5, block=False)


@contact_added.handle()
async def _on_contact_added(bot: Bot, event: ExternalContactChangeEvent, desk: DeskDep) -> None:
    # No reply: a new contact is welcomed by WeCom itself (or by staff).
    await attribution.wecom_contact_added(
        referrals_for(desk), event.state, external_userid=event.external_user_id,
        event_key=platform_key(
            "wecom", "contact", event.staff_user_id, event.external_user_id, event.create_time
        ),
    )  # fmt: skip


async def _chat_members_changed(event: Event) -> bool:
    return (
        isinstance(event, ExternalChatChangeEvent)
        and event.change_type == "update"
        and event.update_detail in ("add_member", "del_member")
    )


chat_changed = on_notice(rule=Rule(_chat_members_changed), priority=5, block=False)


@chat_changed.handle()
async def _on_chat_changed(bot: Bot, event: ExternalChatChangeEvent, desk: DeskDep) -> None:
    r = referrals_for(desk)
    if event.update_detail == "del_member":
        await rewards.wecom_group_left(r, chat_id=event.chat_id, member_ids=event.member_ids)
        return
    # The join way's state is not in the event: the group's member list carries it.
    try:
        group = await bot.call_api("get_group_chat", chat_id=event.chat_id)
    except Exception as exc:
        logger.warning(f"referral: customer group {event.chat_id} not read: {exc!r}")
        return
    await attribution.wecom_group_joined(
        r, group, chat_id=event.chat_id, member_ids=event.member_ids,
        key_prefix=platform_key("wecom", "chat", event.chat_id, event.create_time),
    )  # fmt: skip
