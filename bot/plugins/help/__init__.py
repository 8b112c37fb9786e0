"""帮助: lists the commands the asker may use (spec §3), built from every loaded
plugin's metadata.

A plugin appears in 帮助 by declaring its commands in a `bot.front.CommandTable`
(word, role, desc, where, hidden) and putting `commands.help_entries()` in its
metadata's extra["commands"]: the table the pre-filter and the role check use.
- desc:   one line in Simplified Chinese. A line starting with the command word is
          shown as is (a usage line); otherwise it is shown as "cmd —— desc".
- role:   the least role that may use it (bot.roles: a manager sees everything).
- where:  "any", "group" or "private": shown as a hint.

A malformed entry is skipped with a warning; it never breaks 帮助.
"帮助 <命令>" shows one command's line.
"""

from nonebot import get_loaded_plugins
from nonebot.adapters import Bot, Event

from bot.front import Call, CommandTable
from bot.platform import platform_of
from bot.plugins.help import texts
from bot.plugins.help.catalog import build_catalog, render_list, render_one, visible
from bot.sending import reply


def help_text(roles: set[str], asked: str = "", *, has_groups: bool = True) -> str:
    """`has_groups` False (WeChat: the WeCom app and the Official Account are DMs
    only) leaves out the commands that work in a group only."""
    catalog = build_catalog((p.id_, p.metadata) for p in get_loaded_plugins())
    entries = [e for e in visible(catalog, roles) if has_groups or e.where != "group"]
    return render_one(entries, asked) if asked else render_list(entries)


commands = CommandTable()


@commands.word("帮助", desc=texts.HELP_DESC)
async def _help(bot: Bot, event: Event, call: Call) -> None:
    has_groups = platform_of(bot, event) == "qq"
    await reply(bot, event, help_text(call.roles, call.args, has_groups=has_groups))


help_command = commands.matcher(priority=1, block=True)

__plugin_meta__ = commands.metadata(texts.PLUGIN_NAME, texts.PLUGIN_DESCRIPTION)
