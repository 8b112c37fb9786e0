"""Staff correct the intent detector in chat, in one tap (issue 13):

- `线索` quote-replying a customer's group message: their lead, from that message
  (the key the automatic capture used: a message captured already, or 线索 twice,
  has one effect). Consultants and managers only; anyone else: silence.
- `线索 <手机号> <说明>` in a DM or the WeCom app (after forwarding the customer's
  message: WeCom tells an app nothing of a forwarded message's original sender,
  so the phone is the handle).
- `不是线索` quote-replying the bot's acknowledgement (or the customer's message):
  the lead is withdrawn (无效线索, only from 新线索), the consultant told by DM,
  and the bot leaves that person's chat alone until staff capture them again.
- `意向复盘` (managers, DM): the past week's corrections, ready for the labelled data;
  on Monday morning the managers are told how many there were.

Each correction is kept as a labelled example (features.intent.corrections).
"""

from dataclasses import replace

from nonebot import on_message
from nonebot.adapters import Bot, Event
from nonebot.adapters.onebot.v11.event import Reply
from nonebot.rule import Rule
from nonebot.typing import T_State

from bot import front
from bot.desk_runtime import get_desk, when_desk_opens
from bot.formatting import stage_name
from bot.front import Call, CommandTable
from bot.people import Origin, staff_member
from bot.platform import in_group, is_message, origin_of, platform_of, quoted, tells_of_a_lead
from bot.plugins.intent import texts
from bot.roles import CONSULTANT, MANAGER
from bot.sending import reply
from desk import Actor, Desk, DeskError, InvalidInput, InvalidTransition
from desk.capture import mended_text
from desk.phone import extract_phones
from features.intent import corrections

commands = CommandTable()
when_desk_opens(corrections.register)


def _off_staff(bot: Bot, event: Event, call: Call) -> bool:
    """Someone off the staff: their words are chat, passed on in silence."""
    return CONSULTANT not in call.roles


async def _actor(bot: Bot, event: Event, desk: Desk, roles: set[str]) -> Actor:
    """The staff member as the desk records them (a SUPERUSER off the roster by id)."""
    platform, user_id = platform_of(bot, event), event.get_user_id()
    member = await staff_member(desk, platform, user_id)
    if member is None:
        return Actor(role="manager", label=f"{platform}:{user_id}")
    actor = member.actor()
    if MANAGER in roles and actor.role != "manager":  # a SUPERUSER on the roster
        actor = Actor(role="manager", label=actor.label, member_id=actor.member_id)
    return actor


def _reason(exc: DeskError) -> str:
    return exc.message if isinstance(exc, InvalidInput) else "请检查后重试"


def _quoted_origin(origin: Origin, message: Reply) -> Origin:
    """The quoted message as if it had arrived: its sender, its platform key."""
    return replace(origin, user_id=str(message.sender.user_id), message_id=str(message.message_id))


# -- 线索: a lead the bot missed ---------------------------------------------------------


async def _tells_of_a_lead(event: Event, state: T_State) -> bool:
    # The desk chat's 线索 <号> hands these on (bot/plugins/deskchat: the same test).
    if not is_message(event):
        return False
    found = front.parse(event)
    return found is not None and found[0] == "线索" and tells_of_a_lead(event, found[1])


# After the desk chat's table (priority 5), before the intent detector (50).
lead_capture = on_message(rule=Rule(_tells_of_a_lead), priority=6, block=True)


@lead_capture.handle()
async def _capture_lead(bot: Bot, event: Event) -> None:
    roles = await front.roles_of(bot, event)
    if CONSULTANT not in roles:
        return  # an owner's quote-reply: nothing happens
    desk = get_desk()
    actor = await _actor(bot, event, desk, roles)
    message = quoted(event)
    if message is not None:
        line = await _capture_quoted(bot, desk, actor, origin_of(bot, event), message)
    else:
        line = await _capture_note(bot, event, desk, actor)
    await reply(bot, event, line)


async def _capture_quoted(
    bot: Bot, desk: Desk, actor: Actor, origin: Origin, message: Reply
) -> str:
    sender = message.sender.user_id
    if sender is None or str(sender) == origin.self_id:
        return texts.QUOTED_BOT
    if str(sender) in bot.config.superusers or await staff_member(desk, "qq", str(sender)):
        return texts.QUOTED_STAFF
    customer = _quoted_origin(origin, message)
    name = mended_text(message.sender.card or message.sender.nickname or "").strip()[:32]
    assert customer.event_key is not None  # a quoted message has its id
    what = corrections.Quoted(
        customer.event_key, customer.user_id, name or None,
        mended_text(message.message.extract_plain_text()), origin.group_id,
    )  # fmt: skip
    try:
        got = await corrections.capture_quoted(desk, actor, origin.platform, what)
    except DeskError as exc:
        return texts.NOT_CAPTURED.format(reason=_reason(exc))
    return (texts.CAPTURED if got.new else texts.ALREADY).format(lead_id=got.lead.id)


async def _capture_note(bot: Bot, event: Event, desk: Desk, actor: Actor) -> str:
    if in_group(event):
        return texts.NOTE_IN_GROUP  # a phone number is never asked for in a group
    found = front.parse(event)
    note = found[1] if found else ""
    if not extract_phones(note):
        return texts.NOTE_NEEDS_PHONE
    origin = origin_of(bot, event)
    try:
        got = await corrections.capture_note(
            desk, actor, origin.platform, mended_text(note), origin.event_key
        )
    except DeskError as exc:
        return texts.NOT_CAPTURED.format(reason=_reason(exc))
    return (texts.CAPTURED if got.new else texts.ALREADY).format(lead_id=got.lead.id)


# -- 不是线索 and 意向复盘 ------------------------------------------------------------------


@commands.word(
    "不是线索", role=CONSULTANT, desc=texts.USAGE["不是线索"], chat_for_others=_off_staff
)
async def _not_a_lead(bot: Bot, event: Event, call: Call) -> None:
    message = quoted(event)
    if message is None:
        await reply(bot, event, texts.NOT_LEAD_NEEDS_QUOTE)
        return
    desk = get_desk()
    origin = origin_of(bot, event)
    message_id = str(message.message_id)
    keys = [corrections.ack_key(origin.platform, origin.self_id, message_id)]
    key = replace(origin, message_id=message_id).event_key  # the customer's message itself
    keys += [key] if key else []
    actor = await _actor(bot, event, desk, call.roles)
    try:
        done = await corrections.withdraw(desk, actor, origin.platform, keys)
    except corrections.NotCorrectable:
        line = texts.NOT_LEAD_UNKNOWN
    except InvalidTransition as exc:
        line = (
            texts.ALREADY_WITHDRAWN.format(lead_id=exc.lead_id)
            if exc.stage == "invalid"
            else texts.NOT_WITHDRAWABLE.format(lead_id=exc.lead_id, stage=stage_name(exc.stage))
        )
    except DeskError as exc:
        line = texts.NOT_CAPTURED.format(reason=_reason(exc))
    else:
        line = texts.WITHDRAWN.format(lead_id=done.lead.id)
    await reply(bot, event, line)


@commands.word(
    "意向复盘", role=MANAGER, desc=texts.USAGE["意向复盘"], chat_for_others=_off_staff, bare=True
)
async def _review(bot: Bot, event: Event, call: Call) -> None:
    if in_group(event):
        await reply(bot, event, texts.REVIEW_DM_ONLY)  # customers' words stay out of groups
        return
    desk = get_desk()
    since, until = corrections.review_window(desk.clock.now())
    rows = await corrections.review(desk, since, until)
    await reply(bot, event, texts.review(rows, desk.settings.tz))


commands.matcher(priority=10, block=True)
