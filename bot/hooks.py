"""Process-wide NoneBot hooks: the duplicate-event filter (logic in bot.dedupe)."""

from __future__ import annotations

from nonebot.adapters import Event
from nonebot.exception import IgnoredException
from nonebot.log import logger
from nonebot.message import event_preprocessor

from bot.dedupe import DedupeConfig, Deduplicator


class _Current:
    deduplicator: Deduplicator | None = None
    registered = False


async def _drop_duplicates(event: Event) -> None:
    deduplicator = _Current.deduplicator
    if deduplicator is None:
        return
    # Check-and-remember happens without an await: two copies racing cannot both pass.
    if not deduplicator.first(event.model_dump()):
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
