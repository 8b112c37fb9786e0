"""One cell of an import file read as a value: text, a time, a phone.

Cells come as text (CSV) or typed (.xlsx: str, int, float, datetime). Each
parser raises `BadCell` with the Chinese reason staff fix the file by, naming
the column and the value.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel

from desk.errors import InvalidInput
from desk.phone import normalize_phone
from desk.text import clean_text

# Another system's clock may run a little ahead of ours: a lead "created" a few
# minutes from now is a clock, not a typo.
CLOCK_SKEW = timedelta(minutes=10)
# A booked visit or test drive (预约) a platform exports may lie this far ahead.
PLANNED_AHEAD = timedelta(days=365)
# Nothing a dealer imports happened before this (an Excel zero date, a typo year).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

_SPACES = re.compile(r"\s+")
_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)
_COMPACT = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}


class BadCell(Exception):
    """A cell that refuses its row; `reason` is Chinese, for the errors file."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def cell_text(value: object) -> str:
    """A cell as staff see it: 13812345678 (not 1.38e10), 2026-11-05 14:03:22."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def short(raw: str, limit: int = 40) -> str:
    """A value quoted in a reason, cut to fit a cell a person reads."""
    raw = _SPACES.sub(" ", raw.strip())
    return raw if len(raw) <= limit else raw[:limit] + "…"


def text(raw: str, limit: int, *, one_line: bool = True) -> str | None:
    """Storable text (no NUL, no lone surrogate, no control character), at most
    `limit` characters; None when nothing is left."""
    cleaned = clean_text(raw)
    if one_line:
        cleaned = _SPACES.sub(" ", cleaned)
    return cleaned[:limit] or None


def phone(raw: str, column: str) -> str:
    try:  # NFKC: full-width digits (１３８…) typed with a Chinese input method
        return normalize_phone(unicodedata.normalize("NFKC", raw))
    except InvalidInput:
        raise BadCell(f"{column}无效：{short(raw)}") from None


def _from_text(raw: str, tz: tzinfo) -> datetime | None:
    raw = _SPACES.sub(" ", raw.strip())
    if raw.isdigit():
        if len(raw) in _COMPACT:
            return datetime.strptime(raw, _COMPACT[len(raw)])
        if len(raw) in (10, 13):  # Unix seconds / milliseconds (API-made files)
            seconds = int(raw) / (1000 if len(raw) == 13 else 1)
            return datetime.fromtimestamp(seconds, UTC)
        return None
    try:
        return datetime.fromisoformat(raw)  # 2026-11-05T14:03:22+08:00 and the like
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return None


def moment(
    value: object,
    column: str,
    *,
    tz: tzinfo,
    now: datetime,
    epoch: datetime | None = None,
    planned: bool = False,
) -> datetime:
    """An aware time from a cell: an .xlsx date cell or serial number (`epoch`: the
    workbook's), or text in a machine format; without a zone, the dealer's (`tz`).
    Refused when unreadable, before 2000 or in the future (unless `planned`: a booked
    visit or test drive lies ahead, up to PLANNED_AHEAD)."""
    raw = cell_text(value)
    try:
        if isinstance(value, datetime):
            found: datetime | None = value
        elif isinstance(value, date):
            found = datetime.combine(value, time())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found = from_excel(value, epoch or CALENDAR_WINDOWS_1900)
            found = found if isinstance(found, datetime) else None
        else:
            found = _from_text(raw, tz)
    except (ValueError, OverflowError, OSError):
        found = None
    if found is None:
        raise BadCell(f"{column}无法识别：{short(raw)}")
    if found.tzinfo is None:
        found = found.replace(tzinfo=tz)
    if found < EARLIEST:
        raise BadCell(f"{column}早于2000年：{short(raw)}")
    if found > now + (PLANNED_AHEAD if planned else CLOCK_SKEW):
        raise BadCell(f"{column}晚于现在：{short(raw)}")
    return found
