"""帮助: lists the commands the asker may use (spec §3), built from every loaded
plugin's metadata.

The convention every plugin follows to appear in 帮助:

    __plugin_meta__ = PluginMetadata(
        name="车友活动",                      # section title in the list
        description="签到、积分、活动报名",
        usage="签到 —— 每日签到",
        extra={"commands": [
            {"cmd": "签到", "desc": "每天签到，连续签到有积分", "role": "member"},
            {"cmd": "线索统计", "desc": "线索统计 [今日|本周|本月|本季|本年]",
             "role": "manager", "where": "private"},
        ]},
    )

- cmd:    the command word, without "/" (every command works with or without it).
- desc:   one line in Simplified Chinese. A line starting with the command word is
          shown as is (a usage line); otherwise it is shown as "cmd —— desc".
- role:   the least role that may use it: "member" (everyone), "consultant" or
          "manager" (see bot.roles: a manager sees everything).
- where:  optional, "any" (default), "group" or "private": shown as a hint.
- hidden: optional, true keeps the command out of 帮助.

A malformed entry is skipped with a warning; it never breaks 帮助.
"帮助 <命令>" shows one command's line.
"""

from nonebot import get_loaded_plugins
from nonebot.adapters import Bot, Event
from nonebot.plugin import PluginMetadata

from bot.platform import platform_of
from bot.plugins.help import texts
from bot.plugins.help.catalog import build_catalog, render_list, render_one, visible
from bot.roles import asker_roles
from bot.rules import CommandArgText, on_command_word
from bot.sending import reply

__plugin_meta__ = PluginMetadata(
    name=texts.PLUGIN_NAME,
    description=texts.PLUGIN_DESCRIPTION,
    usage=texts.HELP_DESC,
    extra={"commands": [{"cmd": "帮助", "desc": texts.HELP_DESC, "role": "member"}]},
)

help_command = on_command_word("帮助", priority=1, block=True)


def help_text(roles: set[str], asked: str = "", *, has_groups: bool = True) -> str:
    """`has_groups` False (WeChat: the WeCom app and the Official Account are DMs
    only) leaves out the commands that work in a group only."""
    catalog = build_catalog((p.id_, p.metadata) for p in get_loaded_plugins())
    entries = [e for e in visible(catalog, roles) if has_groups or e.where != "group"]
    return render_one(entries, asked) if asked else render_list(entries)


@help_command.handle()
async def _help(bot: Bot, event: Event, asked: str = CommandArgText()) -> None:
    roles = await asker_roles(bot, event)
    await reply(bot, event, help_text(roles, asked, has_groups=platform_of(bot, event) == "qq"))
