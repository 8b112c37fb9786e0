"""Every reply of the help plugin, in one place for review."""

from __future__ import annotations

HEADER = "你可以使用的命令（前面加不加 / 都可以）："
SECTION = "【{name}】"
LINE = "· {line}{where}"
WHERE = {"group": "（群内）", "private": "（私聊）", "any": ""}
FOOTER = "发送「帮助 <命令>」查看某个命令的用法。"
NOTHING = "暂时没有你可以使用的命令。"
NOT_FOUND = "没有找到命令「{cmd}」，发送「帮助」查看可用命令。"
DETAIL = "{line}{where}\n—— 来自「{plugin}」"

PLUGIN_NAME = "帮助"
PLUGIN_DESCRIPTION = "列出你可以使用的命令"
HELP_DESC = "帮助 [命令] —— 列出你可以使用的命令，或查看某个命令的用法"
