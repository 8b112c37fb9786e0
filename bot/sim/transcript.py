"""Prints a simulated conversation readably: who said what, what the bot did where."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.sim.client import ApiCall

SEND_ACTIONS = {"send_group_msg", "send_private_msg", "send_msg"}
FORWARD_ACTIONS = {"send_group_forward_msg", "send_private_forward_msg", "send_forward_msg"}


def render_message(message: Any) -> str:
    """A OneBot message (CQ string, segment list or one segment) as readable text."""
    if isinstance(message, str):
        return message
    if isinstance(message, dict):
        message = [message]
    if not isinstance(message, list):
        return str(message)
    parts = []
    for seg in message:
        kind, data = seg.get("type"), seg.get("data") or {}
        if kind == "text":
            parts.append(str(data.get("text", "")))
        elif kind == "at":
            parts.append("@全体成员" if data.get("qq") == "all" else f"@{data.get('qq')}")
        elif kind == "reply":
            parts.append(f"[reply to {data.get('id')}]")
        elif kind == "node":
            parts.append(f"\n› {render_message(data.get('content', ''))}")
        else:
            parts.append(f"[{kind}]")
    return "".join(parts)


def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")


class Transcript:
    """Collects lines; `echo` (print by default) shows each as it happens."""

    def __init__(self, bot_name: str = "BOT", echo: Callable[[str], None] | None = print) -> None:
        self.bot_name = bot_name
        self.lines: list[str] = []
        self.echo = echo
        self.names: dict[int, str] = {}

    def _emit(self, line: str) -> None:
        self.lines.append(line)
        if self.echo is not None:
            self.echo(line)

    def said_in_group(self, group_id: int, user_id: int, nickname: str, text: str) -> None:
        self.names[user_id] = nickname
        self._emit(f"[group {group_id}] {nickname}({user_id}): {_indent(text)}")

    def said_in_private(self, user_id: int, nickname: str, text: str) -> None:
        self.names[user_id] = nickname
        self._emit(f"[DM {user_id}] {nickname}: {_indent(text)}")

    def note(self, text: str) -> None:
        self._emit(f"  … {text}")

    def api_call(self, call: ApiCall) -> None:
        params, action = call.params, call.action
        failed = call.response.get("status") not in ("ok", None) if call.response else True
        status = "" if not failed else f"  ✗ {call.response.get('message', 'no answer')}"
        if action in SEND_ACTIONS | FORWARD_ACTIONS:
            body = render_message(params.get("message", params.get("messages")))
            if action in FORWARD_ACTIONS:
                body = "[forward]" + body
            where = self._where(action, params)
            self._emit(f"[{where}] 🤖 {self.bot_name}: {_indent(body)}{status}")
            return
        shown = json.dumps(params, ensure_ascii=False)
        result = json.dumps(call.response.get("data"), ensure_ascii=False) if call.response else "—"
        if len(result) > 120:
            result = result[:117] + "..."
        self._emit(f"  [api] {action} {shown} → {result}{status}")

    def _where(self, action: str, params: dict[str, Any]) -> str:
        if (
            "group" in action
            or params.get("message_type") == "group"
            or ("group_id" in params and params.get("message_type") != "private")
        ):
            return f"group {params.get('group_id')}"
        user_id = str(params.get("user_id"))
        name = self.names.get(int(user_id)) if user_id.isdigit() else None
        return f"DM → {user_id}" + (f" {name}" if name else "")
