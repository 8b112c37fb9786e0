"""Chinese time expressions (周六上午10点, 明天下午3点, 3天后) through jionlp.

Pure: no NoneBot. Times come back aware UTC; a bare date gets the working
start, and a month-day already past this year means next year. A bare weekday
(周六, 星期六下午3点) or clock time (下午3点, 15:00) already past means its next
occurrence, as a person means it: jionlp reads weeks Monday to Sunday, so on a
Sunday "周六" would be yesterday. Explicit dates and relative words (明天,
3天后, 12月5日, 上周六, 今天下午3点) are kept as said.
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
# Only classifies what jionlp already read: which expressions name no particular day.
_NUM = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_CLOCK = rf"{_NUM}\s*(?:[点时]\s*(?:{_NUM}\s*分?|半|一刻|三刻|整)?|[:：]\s*\d{{2}})"
_DAYPART = r"(?:早上|早晨|清晨|上午|中午|午后|下午|傍晚|晚上|晚间|夜里|夜间|凌晨)"
_BARE_WEEKDAY = re.compile(
    rf"^(?:周|星期|礼拜)[一二三四五六日天]\s*(?:{_DAYPART}?\s*(?:{_CLOCK})?)$"
)
_BARE_CLOCK = re.compile(rf"^(?:{_DAYPART}\s*)?{_CLOCK}$")


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
    if start <= base:
        if _BARE_WEEKDAY.match(text):
            start += timedelta(days=7)  # "周六" on a Sunday: the coming Saturday
        elif _BARE_CLOCK.match(text):
            start += timedelta(days=1)  # "下午3点" at 16:00: tomorrow afternoon
    return start.replace(tzinfo=tz).astimezone(UTC)
