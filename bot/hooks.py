"""Process-wide NoneBot hooks: the duplicate-event filter (logic in bot.dedupe),
and the busy reply when a handler found the database unavailable."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from nonebot.adapters import Bot, Event
from nonebot.exception import IgnoredException
from nonebot.log import logger
from nonebot.message import event_preprocessor, run_postprocessor
from nonebot.utils import escape_tag
from sqlalchemy.exc import DBAPIError

from bot.dedupe import DedupeConfig, Deduplicator
from bot.notify_texts import BUSY
from bot.platform import is_message
from bot.sending import reply


class _Current:
    deduplicator: Deduplicator | None = None
    registered = False


def _identity(event: Event) -> Mapping[str, Any]:
    """What bot.dedupe.event_key reads. A message's key needs three fields: read
    them, not a model_dump of the whole event (about 0.1 ms per message, the
    most common event). Other events are keyed by every field, as before."""
    post_type = getattr(event, "post_type", None)
    if post_type in ("message", "message_sent"):
        return {
            "post_type": post_type,
            "self_id": getattr(event, "self_id", None),
            "message_id": getattr(event, "message_id", None),
        }
    return event.model_dump()


async def _drop_duplicates(event: Event) -> None:
    deduplicator = _Current.deduplicator
    if deduplicator is None:
        return
    # Check-and-remember happens without an await: two copies racing cannot both pass.
    if not deduplicator.first(_identity(event)):
        logger.info(f"duplicate event ignored: {event.get_event_name()}")
        raise IgnoredException("duplicate event")


def install_dedupe(config: DedupeConfig | None = None) -> Deduplicator:
    """Drop the second copy of any event from now on (idempotent; a fresh memory)."""
    if not _Current.registered:
        event_preprocessor(_drop_duplicates)
        _Current.registered = True
    _Current.deduplicator = Deduplicator(config)
    return _Current.deduplicator


def uninstall_dedupe() -> None:
    """Stop filtering (tests that replay the same event ids use this)."""
    _Current.deduplicator = None


# -- the database is unavailable ---------------------------------------------------------
class _Busy:
    registered = False
    # Events already answered: several matchers may fail on one event, one reply is enough.
    # Held (not their ids) so an id is never reused while remembered.
    told: deque[Event] = deque(maxlen=64)


def _through_desk(tb: TracebackType | None) -> bool:
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module == "desk" or module.startswith("desk."):
            return True
        tb = tb.tb_next
    return False


def desk_unavailable(exc: BaseException | None) -> bool:
    """A database error, or an OS error (disk full) raised inside the desk: nothing
    was committed, and the user should try again later."""
    if isinstance(exc, DBAPIError):
        return True
    return isinstance(exc, OSError) and _through_desk(exc.__traceback__)


def _cause(exc: BaseException) -> str:
    """One short line: the error's class and the driver's message, with any long
    digit run (a phone, a QQ id) masked; SQL parameters are never included."""
    detail = exc.orig if isinstance(exc, DBAPIError) else exc
    text = re.sub(r"\d{5,}", "***", " ".join(str(detail).split()))[:120]
    return f"{type(exc).__name__}: {text}"


async def _reply_busy(bot: Bot, event: Event, exception: Exception | None) -> None:
    if not desk_unavailable(exception) or not is_message(event):
        return
    if any(seen is event for seen in _Busy.told):
        return
    _Busy.told.append(event)
    assert exception is not None
    logger.warning(
        escape_tag(f"database unavailable, told the sender to retry: {_cause(exception)}")
    )
    await reply(bot, event, BUSY)  # a str: one text segment (bot.sending.as_message)


def install_busy_reply() -> None:
    """From now on, a message whose handler raised a database error gets BUSY as its
    reply, in the group or DM it came from, on any platform (idempotent)."""
    if not _Busy.registered:
        run_postprocessor(_reply_busy)
        _Busy.registered = True
