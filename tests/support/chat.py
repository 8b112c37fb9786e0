"""Drive the loaded plugins as a QQ client would: one event in, the bot's reply (or none) out.

Every plugin of the session sees each event (`app.test_matcher()` without a matcher),
so a test also covers which plugin answers and that the others stay quiet. A group
reply is the send queue's `send_group_msg` call; a DM reply is `bot.send`. nonebug
fails the test on any call it was not told to expect, so "no reply" is checked too.

NoneBot logs an exception raised in a handler and carries on (the user just sees
silence); `handler_errors()` collects them so a test can insist there were none.
"""

from __future__ import annotations

import base64
import io
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, cast

import pytest
from nonebot.adapters.onebot.v11 import (
    ActionFailed,
    Bot,
    GroupMessageEvent,
    Message,
    MessageEvent,
    MessageSegment,
    PrivateMessageEvent,
)
from nonebot.log import logger
from nonebot.matcher import Matcher
from nonebot.message import run_postprocessor
from nonebug import App
from PIL import Image
from sqlalchemy.engine import make_url

from desk import Desk
from tests.support.nonebot_env import SELF_ID, adapter


class _Anything:
    """Equal to any value, and keeps the value it was compared with (the bot's message)."""

    def __init__(self) -> None:
        self.value: Any = None

    def __eq__(self, other: object) -> bool:
        self.value = other
        return True

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]


class _Expected(list):
    """nonebug's list of handler failures, less those of the type a test expects."""

    def __init__(self, expected: type[Exception]) -> None:
        super().__init__()
        self.expected = expected

    def append(self, item: Any) -> None:
        if not isinstance(getattr(item, "error", None), self.expected):
            super().append(item)


async def reply_to(
    app: App, event: MessageEvent, *, raises: type[Exception] | None = None
) -> Message:
    """The one message the bot answers `event` with, where it came from. `raises`:
    a handler is expected to raise this (nonebug would fail the test on it)."""
    caught = _Anything()
    async with app.test_matcher() as ctx:
        if raises is not None:
            ctx.errors = _Expected(raises)
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        if isinstance(event, GroupMessageEvent):
            ctx.should_call_api(
                "send_group_msg",
                {"group_id": event.group_id, "message": caught},
                result={"message_id": 1},
            )
        else:
            ctx.should_call_send(event, cast(Message, caught), result={"message_id": 1})
    assert isinstance(caught.value, Message), caught.value
    return caught.value


async def ask(app: App, event: MessageEvent, *, raises: type[Exception] | None = None) -> str:
    """The bot's one reply to `event`, which must be plain text."""
    message = await reply_to(app, event, raises=raises)
    assert [segment.type for segment in message] == ["text"], message
    return message.extract_plain_text()


def png_size(data: bytes) -> tuple[int, int]:
    """The (width, height) of `data`, which must decode as a PNG."""
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG", image.format
        image.load()  # decodes the whole picture: a truncated one fails here
        return image.size


def image_bytes(segment: MessageSegment) -> bytes:
    """The bytes an image segment carries (as the adapter sends them: base64://)."""
    assert segment.type == "image", segment
    file = segment.data["file"]
    assert file.startswith("base64://"), file[:40]
    return base64.b64decode(file.removeprefix("base64://"))


def charted(message: Message) -> tuple[str, bytes]:
    """(the text, the picture) of a statistics reply: one text segment, then a chart
    drawn as a PNG of a chat picture's size."""
    assert [segment.type for segment in message] == ["text", "image"], message
    png = image_bytes(message[1])
    width, height = png_size(png)
    assert 600 <= width <= 1200 and 300 <= height <= 900, (width, height)
    assert 5_000 < len(png) < 200_000, len(png)
    return message[0].data["text"], png


async def ask_charted(app: App, event: MessageEvent) -> str:
    """The text of the bot's one reply to `event`, which must carry a chart too."""
    text, _ = charted(await reply_to(app, event))
    return text


async def dm_after_member_check(
    app: App, event: PrivateMessageEvent, group: int, *, member: bool = True
) -> str:
    """The bot's reply to a DM after the QQ client told whether the sender is in `group`
    (get_group_member_info answers, or fails as for a stranger)."""
    caught = _Anything()
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_api(
            "get_group_member_info", {"group_id": group, "user_id": event.user_id},
            result={"group_id": group, "user_id": event.user_id, "nickname": "车主", "card": ""}
            if member else None,
            exception=None if member else ActionFailed(retcode=200, message="不是群成员"),
        )  # fmt: skip
        ctx.should_call_send(event, cast(Message, caught), result={"message_id": 1})
    return Message(caught.value).extract_plain_text()


async def no_reply(app: App, event: MessageEvent) -> None:
    """The bot says nothing at all: no group message, no DM."""
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)


async def not_matched(app: App, matcher: type[Matcher], *events: MessageEvent) -> None:
    """`matcher`'s rule turns each of `events` down (chat that only looks like its command)."""
    async with app.test_matcher(matcher) as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        for event in events:
            ctx.receive_event(bot, event)
            ctx.should_not_pass_rule()


class _Errors:
    seen: list[Exception] = []
    registered = False


async def _record(exception: Exception | None) -> None:
    if exception is not None:
        _Errors.seen.append(exception)


def handler_errors() -> list[Exception]:
    """A fresh list that fills with every exception a matcher handler raises from now on."""
    if not _Errors.registered:
        run_postprocessor(_record)
        _Errors.registered = True
    _Errors.seen.clear()
    return _Errors.seen


@contextmanager
def no_handler_raises(*state: Any) -> Iterator[None]:
    """For an autouse fixture: the plugin's in-memory `state` (dicts, sets) emptied before
    and after the test, and the test failed if any matcher handler raised meanwhile."""
    for store in state:
        store.clear()
    errors = handler_errors()
    yield
    for store in state:
        store.clear()
    assert not errors, f"a handler raised: {errors!r}"


@contextmanager
def logged(level: str) -> Iterator[list[str]]:
    """Every message NoneBot's logger writes at `level` or above while the block runs."""
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level=level, format="{message}")
    try:
        yield lines
    finally:
        logger.remove(sink)


@asynccontextmanager
async def database_locked(desk: Desk) -> AsyncIterator[None]:
    """The desk's SQLite file locked by another connection (BEGIN EXCLUSIVE) and the
    desk's writer waiting 50 ms for it, not 10 s: every write fails with
    "database is locked", as after the busy timeout in production."""
    if desk.db.dialect != "sqlite":
        pytest.skip("locks the SQLite file")
    async with desk.db.write_engine.connect() as conn:  # the writer's one pooled connection
        await conn.exec_driver_sql("PRAGMA busy_timeout=50")
    path = make_url(desk.settings.database_url).database
    assert path
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        locker.close()  # rolls back: the lock goes
