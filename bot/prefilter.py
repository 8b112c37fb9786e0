"""A fast pre-filter: ordinary chat (most of a group's traffic) skips every matcher.

A message goes on to the matchers when its text starts with a command word that
a loaded plugin declares in its metadata (`extra["commands"]`, the list 帮助
shows), when it is addressed to the bot, or when a plugin registered an
interest in it (the intent plugin registers its detector). Anything else is
ignored before NoneBot checks a single matcher: each check costs about 0.4 ms
of task-group machinery, which is where the bot bench found the full bot
losing to a bare one.

A plugin that must see every message (e.g. to count them) registers an
observer: `observer(event)` is called for every message event, before the
filter, and must be cheap and never raise (it is guarded anyway).
"""

from __future__ import annotations

from collections.abc import Callable

from nonebot import get_loaded_plugins
from nonebot.adapters import Event
from nonebot.exception import IgnoredException
from nonebot.log import logger
from nonebot.message import event_preprocessor

from bot.commands import MAX_COMMAND_TEXT, split_command

Interest = Callable[[str], bool]
Observer = Callable[[Event], None]


class _State:
    installed = False
    hooked = False
    interests: list[Interest] = []
    observers: list[Observer] = []
    words: frozenset[str] = frozenset()
    plugins_seen = -1


def register_interest(interest: Interest) -> None:
    """`interest(text)` is True for a message some matcher of the plugin wants."""
    if interest not in _State.interests:
        _State.interests.append(interest)


def register_observer(observer: Observer) -> None:
    """`observer(event)` sees every message event, wanted or not (e.g. to count them)."""
    if observer not in _State.observers:
        _State.observers.append(observer)
    _hook()


def _observe(event: Event) -> None:
    for observer in _State.observers:
        try:
            observer(event)
        except Exception:  # counting must never cost a reply
            logger.exception(f"message observer {observer!r} failed")


def command_words() -> frozenset[str]:
    """Every command word the loaded plugins declare (rebuilt when plugins are added)."""
    plugins = get_loaded_plugins()
    if len(plugins) != _State.plugins_seen:
        words = set()
        for plugin in plugins:
            extra = plugin.metadata.extra if plugin.metadata else {}
            for entry in extra.get("commands", []) if isinstance(extra, dict) else []:
                if isinstance(entry, dict) and isinstance(entry.get("cmd"), str):
                    words.add(entry["cmd"].strip().lstrip("/"))
        _State.words, _State.plugins_seen = frozenset(w for w in words if w), len(plugins)
    return _State.words


def wanted(text: str) -> bool:
    # Long texts are checked by their head: a command with a pasted note is still one.
    if split_command(text[:MAX_COMMAND_TEXT], command_words()) is not None:
        return True
    return any(interest(text) for interest in _State.interests)


async def _skip_plain_chat(event: Event) -> None:
    if event.get_type() != "message":
        return
    if _State.observers:
        _observe(event)
    if not _State.installed:
        return
    try:
        if event.is_tome() or wanted(event.get_plaintext()):
            return
    except Exception:  # an event without text or target: let the matchers judge
        return
    raise IgnoredException("plain chat: no command word, no interest")


def _hook() -> None:
    if not _State.hooked:
        event_preprocessor(_skip_plain_chat)
        _State.hooked = True


def install_prefilter() -> None:
    """From now on, plain chat skips the matchers (idempotent)."""
    _hook()
    _State.installed = True


def uninstall_prefilter() -> None:
    _State.installed = False
