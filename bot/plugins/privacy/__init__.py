"""个人信息 (spec §7, PIPL): 我的信息 shows a person what is kept about them;
删除我的信息 erases it after a confirmation; a manager's 删除线索 <号> does the same
for a lead on request. All in DMs; the use cases are desk.privacy (via Desk),
the features erase their own rows through `Desk.add_personal_data`."""

import re

from nonebot import on_message
from nonebot.adapters import Bot, Event
from nonebot.rule import Rule

from bot import front
from bot.commands import split_command
from bot.desk_runtime import get_desk
from bot.front import Call, CommandTable
from bot.people import staff_member
from bot.platform import in_group, is_message, platform_of
from bot.plugins.privacy import texts
from bot.plugins.privacy.confirmations import (
    CONFIRM_MINUTES,
    HANDLE_KINDS,
    Account,
    Confirmations,
)
from bot.roles import MANAGER
from bot.sending import reply
from desk import Actor, LeadNotFound

CONFIRMATIONS = Confirmations(CONFIRM_MINUTES)
_LEAD_NO = re.compile(r"^[#＃]?(\d{1,9})$")
# Words that do not cancel a pending erasure: the confirmation, or a new request.
_KEEP_PENDING = frozenset({texts.CONFIRM_WORD, "删除我的信息", "删除线索"})


def _account(bot: Bot, event: Event) -> Account:
    return platform_of(bot, event), event.get_user_id()


async def _dm_only(bot: Bot, event: Event, word: str) -> bool:
    """In a group: tell the asker to DM instead (True), and do nothing else."""
    if in_group(event):
        await reply(bot, event, texts.DM_ONLY.format(word=word))
        return True
    return False


async def _own_handle(bot: Bot, event: Event) -> tuple[str, str] | None:
    """The desk handle of the asker's own account; None (answered) on the WeCom app."""
    kind = HANDLE_KINDS.get(platform_of(bot, event))
    if kind is None:
        await reply(bot, event, texts.STAFF_APP)
        return None
    return kind, event.get_user_id()


async def _manager_actor(bot: Bot, event: Event) -> Actor | None:
    if MANAGER not in await front.roles_of(bot, event):
        return None
    platform, user_id = _account(bot, event)
    member = await staff_member(get_desk(), platform, user_id)
    if member is None:  # a SUPERUSER off the roster
        return Actor(role="manager", label=f"{platform}:{user_id}")
    return Actor(role="manager", label=member.actor().label, member_id=member.id)


commands = CommandTable()


@commands.word("我的信息", desc=texts.USAGE["我的信息"], where="private")
async def _mine(bot: Bot, event: Event, call: Call) -> None:
    if await _dm_only(bot, event, call.word) or (handle := await _own_handle(bot, event)) is None:
        return
    desk = get_desk()
    data = await desk.describe_person(*handle)
    await reply(bot, event, texts.format_personal_data(data, desk.settings.tz))


@commands.word("删除我的信息", desc=texts.USAGE["删除我的信息"], where="private")
async def _erase_mine(bot: Bot, event: Event, call: Call) -> None:
    if await _dm_only(bot, event, call.word) or (handle := await _own_handle(bot, event)) is None:
        return
    desk = get_desk()
    summary = texts.erasure_summary(await desk.describe_person(*handle, audit=False))
    if summary is None:
        await reply(bot, event, texts.NOTHING_KEPT)
        return
    CONFIRMATIONS.ask(_account(bot, event), "self", desk.clock.now())
    await reply(bot, event, texts.CONFIRM_SELF.format(summary=summary, minutes=CONFIRM_MINUTES))


@commands.word("删除线索", role=MANAGER, desc=texts.USAGE["删除线索"], where="private")
async def _erase_lead(bot: Bot, event: Event, call: Call) -> None:
    if await _dm_only(bot, event, call.word):
        return
    match = _LEAD_NO.match(call.args.strip())
    if match is None or int(match.group(1)) == 0:
        await reply(bot, event, texts.USAGE_LEAD)
        return
    lead_id, desk = int(match.group(1)), get_desk()
    if not await desk.lead_exists(lead_id):
        await reply(bot, event, texts.LEAD_NOT_FOUND.format(lead_id=lead_id))
        return
    CONFIRMATIONS.ask(_account(bot, event), lead_id, desk.clock.now())
    await reply(bot, event, texts.CONFIRM_LEAD.format(lead_id=lead_id, minutes=CONFIRM_MINUTES))


# Hidden from 帮助: it only answers a pending 删除我的信息 / 删除线索.
@commands.word(texts.CONFIRM_WORD, desc=texts.USAGE["确认删除"], hidden=True)
async def _confirm(bot: Bot, event: Event, call: Call) -> None:
    if in_group(event):
        return  # a confirmation counts in the DM only; the group hears nothing of it
    desk = get_desk()
    pending = CONFIRMATIONS.take(_account(bot, event), desk.clock.now())
    if pending is None:
        await reply(bot, event, texts.NOTHING_PENDING.format(minutes=CONFIRM_MINUTES))
        return
    if pending.target == "self":
        handle = await _own_handle(bot, event)
        if handle is None:
            return
        erasure = await desk.erase_person(*handle)
        lead_note = texts.ERASED_SELF_LEAD if erasure.consultant_told else ""
        await reply(bot, event, texts.ERASED_SELF.format(lead=lead_note))
        return
    actor = await _manager_actor(bot, event)  # still a manager now?
    if actor is None:
        await reply(bot, event, front.refusal(MANAGER))
        return
    try:
        erasure = await desk.erase_lead(actor, pending.target)
    except LeadNotFound:
        await reply(bot, event, texts.LEAD_NOT_FOUND.format(lead_id=pending.target))
        return
    template = texts.ERASED_LEAD if erasure.consultant_told else texts.ERASED_LEAD_NO_CONSULTANT
    await reply(bot, event, template.format(lead_id=pending.target, rows=erasure.rows))


commands.matcher(priority=5, block=True)

__plugin_meta__ = commands.metadata(texts.PLUGIN_NAME, texts.PLUGIN_DESCRIPTION)


async def _cancels_pending(bot: Bot, event: Event) -> bool:
    """A DM from someone with an erasure waiting, that is not its confirmation."""
    if not is_message(event) or in_group(event):
        return False
    if not CONFIRMATIONS.waiting(_account(bot, event)):
        return False
    parsed = split_command(event.get_plaintext(), _KEEP_PENDING)
    return parsed is None


# Before every other plugin and not blocking: "算了" or any command cancels the
# erasure, and a command still does what it says.
cancel = on_message(rule=Rule(_cancels_pending), priority=1, block=False)


@cancel.handle()
async def _cancel(bot: Bot, event: Event) -> None:
    if CONFIRMATIONS.take(_account(bot, event), get_desk().clock.now()) is not None:
        await reply(bot, event, texts.CANCELLED)
