"""Chinese time expressions (周六上午10点, 明天下午3点, 3天后) through jionlp.

Pure: no NoneBot. Times come back aware UTC; a bare date gets the working
start, and a month-day already past this year means next year.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jionlp

log = logging.getLogger(__name__)
_MAX_CHARS = 40
_HAS_YEAR = re.compile(r"\d{4}|年")


class TimeParseError(ValueError):
    """The text is not a time we understand."""


def parse_when(text: str, now: datetime, tz: ZoneInfo, day_start: time = time(9, 0)) -> datetime:
    """'明天下午3点' → the UTC instant; raises TimeParseError on anything else."""
    text = (text or "").strip()
    if not text or len(text) > _MAX_CHARS:
        raise TimeParseError(text)
    base = now.astimezone(tz).replace(tzinfo=None)
    try:
        result = jionlp.parse_time(text, time_base=base)
    except Exception:  # jionlp raises ValueError, TypeError… on text it cannot read
        raise TimeParseError(text) from None
    if not isinstance(result, dict) or result.get("type") not in ("time_point", "time_span"):
        raise TimeParseError(text)
    try:
        start = datetime.fromisoformat(result["time"][0])
        end = datetime.fromisoformat(result["time"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        raise TimeParseError(text) from None
    if start.time() == time(0, 0) and end - start >= timedelta(hours=23):
        start = datetime.combine(start.date(), day_start)  # a whole day: its working start
    if start.date() < base.date() and "月" in text and not _HAS_YEAR.search(text):
        try:
            start = start.replace(year=start.year + 1)  # "1月5日" said in November
        except ValueError:
            raise TimeParseError(text) from None
    return start.replace(tzinfo=tz).astimezone(UTC)
