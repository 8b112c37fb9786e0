"""The one command front: every plugin declares its command words here, once, with
the role each needs; roles are checked here, with one refusal text per role.

    from bot.front import Call, CommandTable
    from bot.roles import MANAGER

    commands = CommandTable()

    @commands.word("签到", desc="每天签到，连续签到有积分", where="group")
    async def _checkin(bot: Bot, event: Event, call: Call) -> None: ...

    @commands.word("设置话题", role=MANAGER, desc="设置话题 <内容>")
    async def _set_topic(bot: Bot, event: Event, call: Call) -> None: ...

    commands.matcher(priority=10, block=True)   # after the last @commands.word
    __plugin_meta__ = PluginMetadata(..., extra={"commands": commands.help_entries()})

- One matcher per table: NoneBot checks every matcher of a priority for each
  message that passes the pre-filter, at about 0.4 ms a check (bench/bot_bench.py).
- The words of every table are what bot.prefilter lets through: a command cannot
  be declared for 帮助 and forgotten by the filter, or the other way round.
- The message is split into word and arguments once per event (the pre-filter's
  parse is kept with the event object), and the asker's roles are looked up once
  per event (`Call.roles`), however many plugins look.
- A handler that returns False did not take the message (e.g. "今日 有什么优惠吗"
  from an owner is chat): propagation goes on to lower priorities, the intent
  plugin's included, even from a blocking table. So does a word's `chat_for_others`
  when it judges the message of someone below the word's role to be chat (an
  owner's "到店 周六可以看车吗"): no refusal, the intent plugin reads it.
"""

# No `from __future__ import annotations`: NoneBot reads the handler's annotations.
import weakref
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal

from nonebot import on_message
from nonebot.adapters import Bot, Event
from nonebot.matcher import Matcher
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule
from nonebot.typing import T_State

from bot import texts
from bot.commands import MAX_COMMAND_TEXT, split_command
from bot.roles import MEMBER, ROLES, asker_roles

Where = Literal["any", "group", "private"]


@dataclass(frozen=True)
class Command:
    """One command word as a plugin declares it (and 帮助 shows it)."""

    word: str  # without "/"
    role: str = MEMBER  # the least role that may use it (bot.roles)
    desc: str = ""  # the 帮助 line: a usage line starting with the word, or a description
    where: Where = "any"  # a hint in 帮助
    hidden: bool = False  # kept out of 帮助
    bare: bool = False  # only without arguments: "活动 有什么优惠吗" is chat, not the list
    long_ok: bool = False  # a text past MAX_COMMAND_TEXT still reaches it (args None)
    # From an asker below `role`: True when the message is chat, not a command
    # (passed on in silence, not refused). None: always refused.
    chat_for_others: "ChatForOthers | None" = None


@dataclass
class Call:
    """What the handler gets: the parse made for routing, and who asks."""

    word: str
    args: str  # the text after the word, stripped ("" when none)
    roles: set[str]  # the asker's roles, implied ones included
    too_long: bool = False  # the message was past MAX_COMMAND_TEXT (long_ok commands only)


# A handler returns None/True when it took the message, False when it did not.
Handler = Callable[[Bot, Event, Call], Awaitable[bool | None]]
ChatForOthers = Callable[[Bot, Event, Call], bool]


@dataclass
class _EventMemo:
    parsed: tuple[str, str, bool] | None = None
    parsed_done: bool = False
    roles: set[str] | None = None


# One memo per event object, held as long as the event lives: NoneBot runs the
# pre-processors and each matcher's rule in task groups of their own, so a
# context variable set in one is not seen by the others, and an id() alone can
# name a later event once the first is freed.
_memos: dict[int, tuple[weakref.ref[Event], _EventMemo]] = {}


def _memo_of(event: Event) -> _EventMemo:
    key = id(event)
    entry = _memos.get(key)
    if entry is not None and entry[0]() is event:
        return entry[1]
    memo = _EventMemo()

    def forget(ref: weakref.ref[Event]) -> None:
        if (current := _memos.get(key)) is not None and current[0] is ref:
            del _memos[key]

    _memos[key] = (weakref.ref(event, forget), memo)
    return memo


class _Registry:
    words: frozenset[str] = frozenset()
    commands: dict[str, Command] = {}


def parse(event: Event, text: str | None = None) -> tuple[str, str, bool] | None:
    """(word, args, too_long) of a message that starts with a command word of some
    table, or None. Computed once per event: later calls return the first answer."""
    memo = _memo_of(event)
    if not memo.parsed_done:
        memo.parsed, memo.parsed_done = _parse(event, text), True
    return memo.parsed


def _parse(event: Event, text: str | None) -> tuple[str, str, bool] | None:
    if text is None:
        if event.get_type() != "message":
            return None
        try:
            text = event.get_plaintext()
        except Exception:
            return None
    return parse_text(text)


def parse_text(text: str) -> tuple[str, str, bool] | None:
    """(word, args, too_long) when `text` is a command of some table, else None."""
    found = split_command(text, _Registry.words)
    too_long = False
    if found is None and len(text.strip()) > MAX_COMMAND_TEXT:
        # Too long to be a command (bot.commands), yet it may start with one: a
        # consultant who pasted a long note is told so, not left in silence.
        head = split_command(text[:MAX_COMMAND_TEXT], _Registry.words)
        if head is not None:
            found, too_long = (head[0], ""), True
    if found is None:
        return None
    word, args = found
    command = _Registry.commands[word]
    if (command.bare and args) or (too_long and not command.long_ok):
        return None  # chat ("活动 有什么优惠吗"), or a pasted text past the limit
    return word, args, too_long


async def roles_of(bot: Bot, event: Event) -> set[str]:
    """The asker's roles (bot.roles.asker_roles), looked up once per event."""
    memo = _memo_of(event)
    if memo.roles is None:
        memo.roles = await asker_roles(bot, event)
    return memo.roles


def refusal(role: str) -> str:
    """The one refusal line for a command that needs `role`."""
    return texts.ROLE_REFUSAL[role]


class CommandTable:
    """A plugin's command words, each with its role and 帮助 line, behind one matcher."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self.handlers: dict[str, Handler] = {}

    def word(
        self,
        word: str,
        *aliases: str,
        role: str = MEMBER,
        desc: str = "",
        where: Where = "any",
        hidden: bool = False,
        bare: bool = False,
        long_ok: bool = False,
        chat_for_others: ChatForOthers | None = None,
    ) -> Callable[[Handler], Handler]:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} for {word!r}")

        def register(handler: Handler) -> Handler:
            for i, w in enumerate((word, *aliases)):
                command = Command(
                    w, role, desc, where, hidden or i > 0, bare, long_ok, chat_for_others
                )
                self._add(command, handler)
            return handler

        return register

    def _add(self, command: Command, handler: Handler) -> None:
        other = _Registry.commands.get(command.word)
        if other is not None and other is not self.commands.get(command.word):
            raise ValueError(f"command word {command.word!r} is declared twice")
        self.commands[command.word] = command
        self.handlers[command.word] = handler
        _Registry.commands[command.word] = command
        _Registry.words = frozenset(_Registry.commands)

    def help_entries(self) -> list[dict[str, Any]]:
        """The plugin metadata's extra["commands"] (what 帮助 lists), from the table."""
        return [
            {"cmd": c.word, "desc": c.desc, "role": c.role, "where": c.where, "hidden": c.hidden}
            for c in self.commands.values()
        ]

    def metadata(self, name: str, description: str) -> PluginMetadata:
        """The plugin's metadata: its usage lines and 帮助 entries from the table."""
        usage = "\n".join(c.desc for c in self.commands.values() if c.desc and not c.hidden)
        return PluginMetadata(
            name=name, description=description, usage=usage,
            extra={"commands": self.help_entries()},
        )  # fmt: skip

    def words(self) -> Collection[str]:
        return self.commands.keys()

    def matcher(self, *, _depth: int = 0, **kwargs: Any) -> type[Matcher]:
        commands, handlers = self.commands, self.handlers

        async def is_ours(bot: Bot, event: Event, state: T_State) -> bool:
            found = parse(event)
            if found is None or found[0] not in commands:
                return False
            state["_bot_front_call"] = found
            return True

        # _depth: NoneBot records the caller's module (the plugin) as the matcher's source.
        matcher = on_message(
            rule=Rule(is_ours),
            _depth=_depth + 1,  # pyright: ignore[reportCallIssue] - not in NoneBot's stub
            **kwargs,
        )

        async def dispatch(bot: Bot, event: Event, matcher: Matcher, state: T_State) -> None:
            word, args, too_long = state["_bot_front_call"]
            command = commands[word]
            roles = await roles_of(bot, event)
            call = Call(word, args, roles, too_long)
            if command.role not in roles:
                chat = command.chat_for_others
                if chat is not None and chat(bot, event, call):
                    matcher.block = False  # someone else's chat: lower priorities see it
                    return
                from bot.sending import reply  # bot.sending imports NoneBot's drivers

                await reply(bot, event, refusal(command.role))
                return
            took = await handlers[word](bot, event, call)
            if took is False:
                matcher.block = False  # not ours after all: lower priorities see it (this run)

        matcher.handle()(dispatch)
        return matcher
