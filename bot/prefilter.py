"""A fast pre-filter: ordinary chat (most of a group's traffic) skips every matcher.

A message goes on to the matchers when its text starts with a command word of a
command table (bot.front: the same table 帮助 shows), when it is addressed to the bot, or when a plugin registered an
interest in it (the intent plugin registers its detector). Anything else is
ignored before NoneBot checks a single matcher: each check costs about 0.4 ms
of task-group machinery, which is where the bot bench found the full bot
losing to a bare one.

A plugin that must see every message (e.g. to count them) registers an
observer: `observer(event)` is called for every message event, before the
filter, and must be cheap and never raise (it is guarded anyway).

Every command passes here once, so this is also where one person's commands
are limited (bot.command_limit, `install_command_limit`): past the allowance a
command is dropped without a reply, after the observers saw it. Plain chat is
never limited.
"""

from __future__ import annotations

from collections.abc import Callable

from nonebot.adapters import Bot, Event
from nonebot.exception import IgnoredException
from nonebot.log import logger
from nonebot.message import event_preprocessor
from nonebot.utils import escape_tag

from bot import front
from bot.command_limit import CommandLimitConfig, CommandLimiter
from bot.platform import platform_of
from bot.roles import CONSULTANT
from desk.phone import mask_phones_in_text

Interest = Callable[[str], bool]
Observer = Callable[[Event], None]


class _State:
    installed = False
    hooked = False
    interests: list[Interest] = []
    observers: list[Observer] = []
    limiter: CommandLimiter | None = None


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


def is_command(text: str) -> bool:
    """Whether a text would be taken as a command (the tables' words, bot.front)."""
    return front.parse_text(text) is not None


def wanted(text: str) -> bool:
    return is_command(text) or any(interest(text) for interest in _State.interests)


async def _is_staff(bot: Bot, event: Event, platform: str) -> bool:
    if platform == "wecom":  # the WeCom app is the staff's own
        return True
    try:
        return CONSULTANT in await front.roles_of(bot, event)
    except Exception:  # no desk (yet): treated as anyone
        return False


async def _limit_commands(bot: Bot, event: Event, limiter: CommandLimiter) -> None:
    """Spend one of the sender's commands, or drop the message without a reply."""
    platform = platform_of(bot, event)
    key = (platform, event.get_user_id())
    if limiter.take(key):
        return
    if limiter.staff_extra > 0 and await _is_staff(bot, event, platform):
        if limiter.take_staff(key):
            return
        allowance = limiter.config.command_limit_staff
    else:
        allowance = limiter.config.command_limit
    if limiter.first_refusal(key):
        line = (
            f"command limit: {platform} user {key[1]} sent more than {allowance} commands "
            f"in {limiter.config.command_window_seconds:g}s; dropping their commands "
            "without a reply until they slow down"
        )
        logger.warning(escape_tag(mask_phones_in_text(line)))
    raise IgnoredException("command limit")


async def _skip_plain_chat(bot: Bot, event: Event) -> None:
    if event.get_type() != "message":
        return
    if _State.observers:
        _observe(event)
    limiter = _State.limiter
    if not _State.installed and limiter is None:
        return
    try:
        text = event.get_plaintext()
        command = front.parse(event, text) is not None
        to_me = event.is_tome()
        event.get_user_id()
    except Exception:  # an event without text, target or sender: let the matchers judge
        return
    if command and limiter is not None:
        await _limit_commands(bot, event, limiter)
    if not _State.installed or command or to_me:
        return
    if any(interest(text) for interest in _State.interests):
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


def install_command_limit(
    config: CommandLimitConfig | None, clock: Callable[[], float] | None = None
) -> CommandLimiter | None:
    """Limit each person's commands from now on (a fresh memory); None: no limit."""
    _hook()
    if config is None:
        _State.limiter = None
    else:
        _State.limiter = CommandLimiter(config) if clock is None else CommandLimiter(config, clock)
    return _State.limiter
