"""Working-hours arithmetic in the dealer's timezone.

All inputs and outputs are aware UTC datetimes; only this module looks at
local wall-clock time. A due time outside working hours moves to the next
working start, so every follow-up lands when someone is at a desk.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from desk.settings import DeskSettings

_MAX_SCAN_DAYS = 400  # settings guarantee at least one working weekday


class WorkCalendar:
    def __init__(self, settings: DeskSettings) -> None:
        wh = settings.working_hours
        self.tz = settings.tz
        self.start = wh.start
        self.end = wh.end
        self._days = frozenset(wh.days)
        self._holidays = frozenset(wh.holidays)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self._days and day not in self._holidays

    def at_local(self, day: date, clock_time) -> datetime:
        """The UTC instant of a local wall-clock time on a local date."""
        return datetime.combine(day, clock_time, tzinfo=self.tz).astimezone(UTC)

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """[start, end) of a whole local day, in UTC."""
        start = datetime.combine(day, datetime.min.time(), tzinfo=self.tz)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=self.tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        for offset in range(1, _MAX_SCAN_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise RuntimeError("no working day within a year: check working_hours")

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day`."""
        for offset in range(1, _MAX_SCAN_DAYS):
            candidate = day - timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise RuntimeError("no working day within a year: check working_hours")

    def contains(self, at: datetime) -> bool:
        local = self.local(at)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def clamp(self, at: datetime) -> datetime:
        """`at` if inside working hours, else the next working start."""
        local = self.local(at)
        day = local.date()
        if self.is_working_day(day):
            if local.time() < self.start:
                return self.at_local(day, self.start)
            if local.time() < self.end:
                return at.astimezone(UTC)
        return self.at_local(self.next_working_day(day), self.start)

    def next_working_start(self, at: datetime) -> datetime:
        """The start of the next working day after `at`'s local date."""
        return self.at_local(self.next_working_day(self.local_date(at)), self.start)

    def add_working_hours(self, at: datetime, hours: float) -> datetime:
        """`at` plus `hours` of working time (17:30 + 2h → 10:30 next working day)."""
        remaining = timedelta(hours=hours)
        cursor = self.clamp(at)
        while True:
            day = self.local_date(cursor)
            day_end = self.at_local(day, self.end)
            available = day_end - cursor
            if remaining < available:
                return cursor + remaining
            remaining -= available
            cursor = self.at_local(self.next_working_day(day), self.start)
            if remaining == timedelta(0):
                return cursor
