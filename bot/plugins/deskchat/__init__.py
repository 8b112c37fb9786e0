"""线索台 in chat: consultants record each step in one short line; managers
review, assign and see the funnel. One matcher dispatches every command word,
so ordinary chat costs one dictionary lookup."""

from nonebot import on_message
from nonebot.adapters import Bot, Event
from nonebot.matcher import Matcher
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule
from nonebot.typing import T_State

from bot.commands import MAX_COMMAND_TEXT, split_command
from bot.desk_runtime import DeskDep
from bot.platform import in_group, is_message, platform_of
from bot.plugins.deskchat import texts
from bot.plugins.deskchat.service import COMMANDS, CONSULTANT_COMMANDS, Asker, DeskChat
from bot.roles import is_superuser
from bot.sending import reply

__plugin_meta__ = PluginMetadata(
    name="线索台",
    description="顾问私聊记录跟进、邀约、到店、战败；经理审核、分配、看统计",
    usage="\n".join(texts.USAGE[c] for c in COMMANDS),
    extra={
        "commands": [
            {
                "cmd": c,
                "desc": texts.USAGE[c],
                "role": "consultant" if c in CONSULTANT_COMMANDS else "manager",
            }
            for c in COMMANDS
        ]
    },
)

_STATE_KEY = "deskchat_command"


async def _is_desk_command(event: Event, state: T_State) -> bool:
    if not is_message(event):
        return False
    text = event.get_plaintext().strip()
    parsed: tuple[str, str | None] | None = split_command(text, COMMANDS)
    if parsed is None and len(text) > MAX_COMMAND_TEXT:
        # Too long to be a command (bot.commands), yet it starts with one: a consultant
        # who pasted a long note is told so (args None), not left in silence.
        head = split_command(text[:MAX_COMMAND_TEXT], COMMANDS)
        parsed = None if head is None else (head[0], None)
    if parsed is None:
        return False
    state[_STATE_KEY] = parsed
    return True


# Not blocking by itself: an owner's group message that merely starts with a
# command word ("今日 有什么优惠吗？") must still reach the intent plugin.
desk_command = on_message(rule=Rule(_is_desk_command), priority=5, block=False)


@desk_command.handle()
async def _handle(bot: Bot, event: Event, matcher: Matcher, state: T_State, desk: DeskDep) -> None:
    command, args = state[_STATE_KEY]
    asker = Asker(
        user_id=event.get_user_id(),
        superuser=await is_superuser(bot, event),
        in_group=in_group(event),
        platform=platform_of(bot, event),
    )
    text = await DeskChat(desk).handle(asker, command, args)
    if text is None:
        return  # not for the desk: lower-priority plugins (intent) see the message
    matcher.stop_propagation()  # this run only: the matcher class stays non-blocking
    await reply(bot, event, text)
