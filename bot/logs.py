"""Log lines fit to keep (PIPL): phone numbers masked in every line, and the
ordinary chat of owner groups kept out of the default (INFO) log.

`install_log_privacy()` (bot.app calls it after nonebot.init) adds a loguru patcher:
every record, NoneBot's, the adapters' and the bot's own, has the mainland mobiles
of its formatted message masked (138****5678) before any handler writes it.
NoneBot logs each incoming event at SUCCESS before any filter; for message events
that line is demoted to DEBUG. The bot's and the desk's stdlib `logging` records
are routed into loguru, so the same patcher masks them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from nonebot.log import LoguruHandler, logger

from desk.phone import mask_phones_in_text

if TYPE_CHECKING:
    from loguru import Record

__all__ = ["install_log_privacy", "mask_record"]

STDLIB_LOGGERS = ("bot", "desk")


def _is_message_received(record: Record) -> bool:
    """NoneBot's per-event line ("OneBot V11 1 | [message.group.normal]: Message ...")."""
    return (
        record["function"] == "handle_event"
        and record["name"] == "nonebot.message"
        and record["level"].name == "SUCCESS"
        and "| [message." in record["message"]
    )


def mask_record(record: Record) -> None:
    message = record["message"]
    masked = mask_phones_in_text(message)
    if masked != message:
        record["message"] = masked  # the handler then writes it uncoloured, as it is
    if _is_message_received(record):
        level = logger.level("DEBUG")
        # RecordLevel's own class: a patcher may replace the record's level.
        record["level"] = type(record["level"])(level.name, level.no, level.icon)  # pyright: ignore[reportCallIssue]


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
