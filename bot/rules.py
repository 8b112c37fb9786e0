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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nonebot import on_message
from nonebot.adapters import Event
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
