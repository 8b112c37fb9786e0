"""Reading the desk commands' arguments: lead numbers, keyword options, times,
levels. Pure (no NoneBot); a wrong argument raises UsageError, which the front
answers with the command's usage line or the line it carries."""

from __future__ import annotations

import re
from datetime import datetime

from bot.formatting import shorten
from bot.plugins.deskchat import texts
from bot.timeparse import TimeParseError, parse_when
from desk import Desk
from desk.roster import QQ_ID
from desk.settings import FOLLOW_UP_LEVELS

_LEAD_NO = re.compile(r"^[#＃]?(\d{1,9})$")
MAX_NAME_CHARS = 32  # the roster's limit; checked here so the reply is Chinese
_KEYWORDS = ("下次", "级别", "购车", "回访")
PERIODS = {"今日": "today", "本周": "week", "本月": "month", "本季": "quarter", "本年": "year"}


class UsageError(Exception):
    """Wrong arguments: the reply is the command's usage line (or a given line)."""

    def __init__(self, line: str | None = None) -> None:
        super().__init__(line)
        self.line = line


def reads_as_command(args: str) -> bool:
    """Nothing after the word, or a lead number / period first: a staff command,
    not a customer's question that happens to start with the word."""
    words = args.split()
    return not words or bool(_LEAD_NO.match(words[0])) or words[0] in PERIODS


def lead_no(token: str | None) -> int:
    match = _LEAD_NO.match((token or "").strip())
    if not match or int(match.group(1)) == 0:
        raise UsageError(texts.BAD_LEAD_NO)
    return int(match.group(1))


def lead_and_note(args: list[str]) -> tuple[int, str | None]:
    """'12 客户确认明天到' → (12, '客户确认明天到'); the note is optional."""
    if not args:
        raise UsageError
    return lead_no(args[0]), " ".join(args[1:]) or None


def split_keywords(words: list[str]) -> tuple[str, dict[str, str]]:
    """'客户在比价 下次 周六 上午10点 级别 A' → ('客户在比价', {'下次': '周六 上午10点', '级别': 'A'})."""
    free: list[str] = []
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for word in words:
        if word in _KEYWORDS and word not in found:
            current = found.setdefault(word, [])
        elif current is not None:
            current.append(word)
        else:
            free.append(word)
    return " ".join(free), {k: " ".join(v) for k, v in found.items()}


def time_of(desk: Desk, text: str) -> datetime:
    """A time as consultants write it (明天下午3点), in the dealer's zone."""
    settings = desk.settings
    try:
        return parse_when(text, desk.clock.now(), settings.tz, settings.working_hours.start)
    except TimeParseError:
        raise UsageError(texts.BAD_TIME.format(text=shorten(text, 20))) from None


def option_time(desk: Desk, options: dict[str, str], keyword: str) -> datetime | None:
    return time_of(desk, options[keyword]) if keyword in options else None


def level(options: dict[str, str]) -> str | None:
    given = options.get("级别")
    if given is None:
        return None
    if given.strip().upper() not in FOLLOW_UP_LEVELS:
        raise UsageError(texts.BAD_LEVEL)
    return given.strip().upper()


def new_member(args: list[str]) -> tuple[str, str]:
    """'12345 张三' → (QQ id, name)."""
    if len(args) != 2 or not QQ_ID.match(args[0]):  # not isdigit(): "²³⁴⁵⁶" is digits to it
        raise UsageError
    if len(args[1]) > MAX_NAME_CHARS:
        raise UsageError(texts.NAME_TOO_LONG.format(limit=MAX_NAME_CHARS))
    return args[0], args[1]
