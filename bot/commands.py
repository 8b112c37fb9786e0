"""Command words: with or without a leading '/', and only as a whole word
("推荐一下机油" is chat, not the command 推荐)."""

from __future__ import annotations

from collections.abc import Collection

MAX_COMMAND_TEXT = 2000  # longer messages are chat, not commands


def split_command(text: str, commands: Collection[str]) -> tuple[str, str] | None:
    """'/跟进 12 在比价' → ('跟进', '12 在比价'); None when no command word leads."""
    text = (text or "").strip()
    if not text or len(text) > MAX_COMMAND_TEXT:
        return None
    if text[0] in "/／":
        text = text[1:].lstrip()
    parts = text.split(maxsplit=1)  # any whitespace, the ideographic space too
    if not parts or parts[0] not in commands:
        return None
    return parts[0], parts[1].strip() if len(parts) > 1 else ""
