"""Log lines fit to keep (PIPL): phone numbers masked in every line, and the
ordinary chat of owner groups kept out of the default (INFO) log.

`install_log_privacy()` (bot.app calls it after nonebot.init) adds a loguru patcher:
every record, NoneBot's, the adapters' and the bot's own, has the mainland mobiles
of its formatted message masked (138****5678) before any handler writes it.
NoneBot logs each incoming event at SUCCESS before any filter; for message events
that line is demoted to DEBUG. The bot's and the desk's stdlib `logging` records
are routed into loguru, so the same patcher masks them.

NoneBot's own stdout handler takes every level (level=0) and drops what is under
LOG_LEVEL in its filter, so each TRACE/DEBUG record (several per event, one per
matcher checked) is built, patched and masked before being thrown away: about a
fifth of the full bot's CPU per event (py-spy under bench/bot_bench.py, issue #10).
`install_log_privacy` re-adds that handler at LOG_LEVEL (same stream, format and
filter), so loguru drops those records at the call.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import nonebot
import nonebot.log
from nonebot.log import LoguruHandler, logger

from desk.phone import mask_phones_in_text

if TYPE_CHECKING:
    from loguru import Record

__all__ = ["install_log_privacy", "mask_record"]

STDLIB_LOGGERS = ("bot", "desk", "web")
# A web desk login link is a credential until used: its token never reaches a log.
_LOGIN_LINK = re.compile(r"(/desk/login/)[A-Za-z0-9_-]+")


def _is_message_received(record: Record) -> bool:
    """NoneBot's per-event line ("OneBot V11 1 | [message.group.normal]: Message ...")."""
    return (
        record["function"] == "handle_event"
        and record["name"] == "nonebot.message"
        and record["level"].name == "SUCCESS"
        and "| [message." in record["message"]
    )


def mask_record(record: Record) -> None:
    if _is_message_received(record):
        level = logger.level("DEBUG")
        # RecordLevel's own class: a patcher may replace the record's level.
        record["level"] = type(record["level"])(level.name, level.no, level.icon)  # pyright: ignore[reportCallIssue]
        if level.no < _min_level():
            return  # no handler writes it: masking it would be wasted (one per event)
    message = record["message"]
    masked = _LOGIN_LINK.sub(r"\1***", mask_phones_in_text(message))
    if masked != message:
        record["message"] = masked  # the handler then writes it uncoloured, as it is


def _min_level() -> float:
    """The lowest level any loguru handler writes (0 when it cannot be read)."""
    return getattr(getattr(logger, "_core", None), "min_level", 0)


class _Installed:
    previous: Callable[[Record], None] | None = None
    patcher: Callable[[Record], None] | None = None


def install_log_privacy() -> None:
    """After nonebot.init, which sets its own patcher (plugin names): that one still
    runs, after the masking. Idempotent."""
    # loguru keeps one core patcher and offers no getter: read it to chain it.
    current = getattr(getattr(logger, "_core", None), "patcher", None)
    if current is None or current is not _Installed.patcher:
        _Installed.previous = current

        def patcher(record: Record) -> None:
            mask_record(record)
            if _Installed.previous is not None:
                _Installed.previous(record)

        _Installed.patcher = patcher
        logger.configure(patcher=patcher)
    for name in STDLIB_LOGGERS:
        std = logging.getLogger(name)
        if not any(isinstance(h, LoguruHandler) for h in std.handlers):
            std.addHandler(LoguruHandler())
        std.setLevel(logging.INFO)
        std.propagate = False  # else Python's last-resort handler prints it again, unmasked
    _drop_unwritten_levels()


def _drop_unwritten_levels() -> None:
    """NoneBot's stdout handler again, at LOG_LEVEL instead of 0 (see the module doc).
    Left as it is when anything is not as expected: this only saves time."""
    try:
        level: Any = nonebot.get_driver().config.log_level
        handler = logger._core.handlers[nonebot.log.logger_id]  # pyright: ignore[reportAttributeAccessIssue]
        stream = handler._sink._stream  # loguru's StreamSink: the stream NoneBot gave it
        if isinstance(level, str):
            level = logger.level(level.upper()).no
    except Exception:
        return
    if not isinstance(level, int) or handler.levelno >= level:
        return
    logger.remove(nonebot.log.logger_id)
    nonebot.log.logger_id = logger.add(
        stream,
        level=level,
        diagnose=False,
        filter=nonebot.log.default_filter,
        format=nonebot.log.default_format,
    )
