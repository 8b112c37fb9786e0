"""Command words as whole words, with or without a leading "/" (spec §3).

"推荐 张三" and "/推荐" trigger 推荐; "推荐一下机油" is chat. Parsing is
`bot.commands.split_command` (pure); this module wraps it for NoneBot:

    from bot.rules import CommandArgText, CommandWordUsed, on_command_word

    checkin = on_command_word("签到", "打卡", priority=10, block=True)

    @checkin.handle()
    async def _(word: str = CommandWordUsed(), args: str = CommandArgText()): ...

Unlike NoneBot's `on_command`, this does not depend on COMMAND_START, sees the
full-width "／" as "/", and matches on the plain text (an @ or a quoted reply in
front does not hide the command).
"""

# No `from __future__ import annotations`: NoneBot reads the rule's annotations at runtime.
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nonebot import on_message
from nonebot.adapters import Bot, Event
from nonebot.matcher import Matcher
from nonebot.params import Depends
from nonebot.rule import Rule
from nonebot.typing import T_State

from bot.commands import split_command

WORD_COMMAND_KEY = "_bot_word_command"


@dataclass(frozen=True)
class WordCommand:
    word: str  # the command word, without "/"
    args: str  # the rest of the text, stripped ("" when none)


def parse_word_command(text: str, words: Iterable[str]) -> WordCommand | None:
    parsed = split_command(text, frozenset(words))
    return None if parsed is None else WordCommand(*parsed)


class CommandWordRule:
    """Passes a message whose text starts with one of `words` as a whole word."""

    __slots__ = ("words",)

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(filter(None, (w.strip().lstrip("/／").strip() for w in words)))
        if not self.words:
            raise ValueError("at least one command word is needed")

    def __repr__(self) -> str:
        return f"CommandWord(words={sorted(self.words)})"

    async def __call__(self, event: Event, state: T_State) -> bool:
        if event.get_type() != "message":
            return False
        try:
            text = event.get_plaintext()
        except Exception:
            return False
        parsed = parse_word_command(text, self.words)
        if parsed is None:
            return False
        state[WORD_COMMAND_KEY] = parsed
        return True


def command_word(*words: str) -> Rule:
    return Rule(CommandWordRule(words))


def on_command_word(
    *words: str, rule: Rule | None = None, _depth: int = 0, **kwargs: Any
) -> type[Matcher]:
    """`on_message` that fires only on one of `words` as a whole word."""
    # _depth: NoneBot records the caller's module (the plugin) as the matcher's source.
    matcher = on_message(
        rule=command_word(*words) & rule,
        _depth=_depth + 1,  # pyright: ignore[reportCallIssue] - not in NoneBot's stub
        **kwargs,
    )
    return matcher


def _word_used(state: T_State) -> str:
    return state[WORD_COMMAND_KEY].word


def _arg_text(state: T_State) -> str:
    return state[WORD_COMMAND_KEY].args


def CommandWordUsed() -> Any:  # noqa: N802 - NoneBot's parameter style
    """Handler parameter: the command word that matched."""
    return Depends(_word_used)


def CommandArgText() -> Any:  # noqa: N802 - NoneBot's parameter style
    """Handler parameter: the text after the command word."""
    return Depends(_arg_text)


# A command's handler: (bot, event, the command word used, the text after it).
CommandHandler = Callable[[Bot, Event, str, str], Awaitable[None]]


class CommandTable:
    """A plugin's command words behind one matcher.

    NoneBot checks every matcher of a priority for each message that passes the
    pre-filter, at about 0.4 ms a check (bench/bot_bench.py): a plugin with eight
    commands as eight matchers made every prospect's question eight checks slower.

        commands = CommandTable()

        @commands.word("签到")
        async def _checkin(bot: Bot, event: Event, word: str, args: str) -> None: ...

        commands.matcher(priority=10, block=True)  # after the last @commands.word
    """

    def __init__(self) -> None:
        self.handlers: dict[str, CommandHandler] = {}

    def word(self, *words: str) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            for word in words:
                self.handlers[word] = handler
            return handler

        return register

    def matcher(self, *, _depth: int = 0, **kwargs: Any) -> type[Matcher]:
        handlers = dict(self.handlers)
        matcher = on_command_word(*handlers, _depth=_depth + 1, **kwargs)

        async def dispatch(
            bot: Bot, event: Event, word: str = CommandWordUsed(), args: str = CommandArgText()
        ) -> None:
            await handlers[word](bot, event, word, args)

        matcher.handle()(dispatch)
        return matcher
