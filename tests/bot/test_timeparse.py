"""Chinese time expressions, in the dealer's timezone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import TimeParseError, parse_when

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=TZ)  # a Friday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("周六上午10点", datetime(2026, 11, 28, 10, 0, tzinfo=TZ)),
        ("明天下午3点", datetime(2026, 11, 28, 15, 0, tzinfo=TZ)),
        ("3天后", datetime(2026, 11, 30, 9, 0, tzinfo=TZ)),
        ("12月1号 14:00", datetime(2026, 12, 1, 14, 0, tzinfo=TZ)),
        ("下周一", datetime(2026, 11, 30, 9, 0, tzinfo=TZ)),
        ("1月5日", datetime(2027, 1, 5, 9, 0, tzinfo=TZ)),
        ("2027-01-05 10:00", datetime(2027, 1, 5, 10, 0, tzinfo=TZ)),
    ],
)
def test_expressions(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, TZ) == expected


@pytest.mark.parametrize(
    "text", ["", "乱七八糟", "👍", "x" * 10_000, "'; DROP TABLE leads;--", "\x00"]
)
def test_nonsense_is_a_parse_error(text: str) -> None:
    with pytest.raises(TimeParseError):
        parse_when(text, NOW, TZ)


# Monday 2026-11-30 … Sunday 2026-12-06: a bare weekday already past this week
# (jionlp reads weeks Monday to Sunday) means the next one, as a person means it.
WEEKDAYS = "一二三四五六日"


def _week_day(index: int, hour: int, minute: int = 0) -> datetime:
    """Monday (0) … Sunday (6) of that week, at hour:minute."""
    return datetime(2026, 11, 30, hour, minute, tzinfo=TZ) + timedelta(days=index)


@pytest.mark.parametrize("today", range(7))
@pytest.mark.parametrize("said", range(7))
def test_bare_weekday_is_the_next_one_in_the_evening(today: int, said: int) -> None:
    """At 18:40 a weekday's working start (09:00) has passed even today: 1..7 days on."""
    now = _week_day(today, 18, 40)
    days_on = (said - today - 1) % 7 + 1
    expected = (now + timedelta(days=days_on)).replace(hour=9, minute=0)
    assert parse_when(f"周{WEEKDAYS[said]}", now, TZ) == expected
    assert parse_when(f"周{WEEKDAYS[said]}上午10点", now, TZ) == expected.replace(hour=10)


@pytest.mark.parametrize("today", range(7))
@pytest.mark.parametrize("said", range(7))
def test_bare_weekday_with_a_time_still_ahead_today_is_today(today: int, said: int) -> None:
    now = _week_day(today, 12, 0)
    days_on = (said - today) % 7
    expected = (now + timedelta(days=days_on)).replace(hour=15)
    assert parse_when(f"星期{WEEKDAYS[said]}下午3点", now, TZ) == expected
    assert parse_when(f"礼拜{WEEKDAYS[said]} 15:00", now, TZ) == expected


SUNDAY_EVENING = datetime(2026, 12, 6, 18, 40, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("周六上午10点", datetime(2026, 12, 12, 10, 0, tzinfo=TZ)),
        ("周六 上午10点", datetime(2026, 12, 12, 10, 0, tzinfo=TZ)),
        ("星期天", datetime(2026, 12, 13, 9, 0, tzinfo=TZ)),
        ("周五18点", datetime(2026, 12, 11, 18, 0, tzinfo=TZ)),
        ("下午3点", datetime(2026, 12, 7, 15, 0, tzinfo=TZ)),  # passed today: tomorrow
        ("15:00", datetime(2026, 12, 7, 15, 0, tzinfo=TZ)),
        ("晚上8点", datetime(2026, 12, 6, 20, 0, tzinfo=TZ)),  # still ahead: tonight
        # explicit and relative expressions are kept as said, past or not
        ("今天下午3点", datetime(2026, 12, 6, 15, 0, tzinfo=TZ)),
        ("上周六", datetime(2026, 11, 28, 9, 0, tzinfo=TZ)),
        ("本周六", datetime(2026, 12, 5, 9, 0, tzinfo=TZ)),
        ("明天", datetime(2026, 12, 7, 9, 0, tzinfo=TZ)),
        ("3天后", datetime(2026, 12, 9, 9, 0, tzinfo=TZ)),
        ("下周六", datetime(2026, 12, 12, 9, 0, tzinfo=TZ)),
    ],
)
def test_sunday_evening(text: str, expected: datetime) -> None:
    assert parse_when(text, SUNDAY_EVENING, TZ) == expected
