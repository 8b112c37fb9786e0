"""Injected clocks: the system clock, and a settable one for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until moved; lets tests run weeks in milliseconds."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = at.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now


class ShiftedClock:
    """The system clock moved forward by the seconds written in a file.

    For rehearsals only (a demo or an end-to-end test playing a whole week in
    minutes): set DESK_CLOCK_SHIFT_FILE and write e.g. "86400" to jump a day.
    The file is re-read when it changes; a missing or unreadable file means no
    shift. Never set in production."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._shift = timedelta(0)

    def now(self) -> datetime:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                self._shift = timedelta(seconds=float(self.path.read_text().strip() or 0))
                self._stamp = stamp
        except (OSError, ValueError):
            self._shift, self._stamp = timedelta(0), None
        return datetime.now(UTC) + self._shift
