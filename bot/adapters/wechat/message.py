"""Messages of the WeChat adapter: text everywhere, markdown on WeCom only.

Incoming non-text messages (image, voice, ...) become one segment of their
type carrying the raw fields, so a plugin sees them as "no text".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nonebot.adapters import Message as BaseMessage
from nonebot.adapters import MessageSegment as BaseMessageSegment
from typing_extensions import override

TEXT_LIMIT_BYTES = 2000  # WeCom text/markdown take 2048 bytes; OA text about as much


class MessageSegment(BaseMessageSegment["Message"]):
    @classmethod
    @override
    def get_message_class(cls) -> type[Message]:
        return Message

    @override
    def __str__(self) -> str:
        if self.type in ("text", "markdown"):
            return str(self.data.get("text", ""))
        return ""

    @override
    def is_text(self) -> bool:
        return self.type == "text"

    @staticmethod
    def text(text: str) -> MessageSegment:
        return MessageSegment("text", {"text": text})

    @staticmethod
    def markdown(text: str) -> MessageSegment:
        """WeCom markdown (shown in the WeCom app; the OA sends it as plain text)."""
        return MessageSegment("markdown", {"text": text})

    @staticmethod
    def other(msg_type: str, fields: dict[str, Any]) -> MessageSegment:
        return MessageSegment(msg_type, dict(fields))


class Message(BaseMessage[MessageSegment]):
    @classmethod
    @override
    def get_segment_class(cls) -> type[MessageSegment]:
        return MessageSegment

    @staticmethod
    @override
    def _construct(msg: str) -> Iterable[MessageSegment]:
        yield MessageSegment.text(msg)

    def is_markdown(self) -> bool:
        return any(seg.type == "markdown" for seg in self)

    def outgoing_text(self) -> str:
        """What goes out: text and markdown segments joined (others cannot be sent)."""
        return "".join(str(seg) for seg in self)


def chunks(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """`text` in pieces of at most `limit` UTF-8 bytes, cut at a line end when one
    is near, never inside a character."""
    pieces: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > limit:
        cut = len(rest.encode("utf-8")[:limit].decode("utf-8", errors="ignore"))
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline + 1
        pieces.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces
