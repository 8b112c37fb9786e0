"""A plugin written only against NoneBot's base types: it answers "echo <text>"
on any platform, to show the WeChat adapter runs such plugins unchanged."""

from nonebot import on_message
from nonebot.adapters import Bot, Event
from nonebot.plugin import PluginMetadata
from nonebot.rule import to_me

__plugin_meta__ = PluginMetadata(
    name="echo",
    description="test fixture: repeats a DM",
    usage="echo <text>",
    extra={"commands": [{"cmd": "echo", "desc": "repeat", "role": "member", "where": "private"}]},
)

echo = on_message(rule=to_me(), priority=10, block=True)


@echo.handle()
async def _(bot: Bot, event: Event) -> None:
    text = event.get_plaintext().strip()
    if text.startswith("echo "):
        await bot.send(event, f"回声：{text[5:]}（{event.get_user_id()}）")
