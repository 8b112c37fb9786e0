"""Chinese time expressions, in the dealer's timezone."""

from __future__ import annotations

from datetime import datetime
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


@pytest.mark.parametrize("text", ["", "乱七八糟", "👍", "x" * 10_000, "'; DROP TABLE leads;--", "\x00"])
def test_nonsense_is_a_parse_error(text: str) -> None:
    with pytest.raises(TimeParseError):
        parse_when(text, NOW, TZ)
