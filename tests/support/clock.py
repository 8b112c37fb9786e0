"""Times in the dealer's zone, for tests that write dates as the owners say them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in the dealer's zone, in 2026 (the year the tests' clocks stand in)."""
    return datetime(2026, month, day, hour, minute, tzinfo=SH)
