"""A bare NoneBot2 bot: the baseline for bench/bot_bench.py.

FastAPI driver, OneBot v11 adapter (reverse WebSocket at /onebot/v11/ws), one
command 帮助 that replies with a fixed text about the size of the real bot's
help list. No desk, no plugins, no send queue, no duplicate filter.
Settings come from the environment (HOST, PORT, ONEBOT_ACCESS_TOKEN, LOG_LEVEL).

    .venv/bin/python bench/bare_bot.py
"""

from __future__ import annotations

import nonebot
from nonebot import on_command
from nonebot.adapters.onebot.v11 import Adapter

HELP_TEXT = "\n".join(
    [
        "你可以使用的命令（前面加不加 / 都可以）：",
        "【帮助】",
        "· 帮助 [命令] —— 列出你可以使用的命令，或查看某个命令的用法",
        "【购车意向】",
        "· 在群里或私聊问「落地多少钱」「能试驾吗」即可，顾问会私信您",
        "发送「帮助 <命令>」查看某个命令的用法。",
    ]
)


def setup() -> None:
    """nonebot.init, the adapter and the one command (bench/bot_breakdown.py calls this too)."""
    # Commands with or without "/", as in the real bot (bot.app.DEFAULT_COMMAND_START).
    nonebot.init(driver="~fastapi", command_start={"/", ""})
    nonebot.get_driver().register_adapter(Adapter)

    help_command = on_command("帮助", priority=1, block=True)

    @help_command.handle()
    async def _help() -> None:
        await help_command.finish(HELP_TEXT)


def main() -> None:
    setup()
    nonebot.run()


if __name__ == "__main__":
    main()
