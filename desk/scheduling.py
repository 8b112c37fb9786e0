"""When is a lead next due: the dealer's level rules on the working calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

from desk.calendar import WorkCalendar
from desk.settings import FOLLOW_UP_LEVELS, DeskSettings


def level_for_purchase(settings: DeskSettings, now: datetime, purchase_at: datetime) -> str:
    """H within 7 days, A within 30, B within 90, else C (bounds from config)."""
    days = (purchase_at - now).total_seconds() / 86400
    levels = settings.levels
    for code in FOLLOW_UP_LEVELS:  # the last has no bound: it takes the rest
        bound = getattr(levels, code).purchase_within_days
        if bound is None or days <= bound:
            return code
    return FOLLOW_UP_LEVELS[-1]


def first_contact_due(settings: DeskSettings, calendar: WorkCalendar, now: datetime) -> datetime:
    return calendar.add_working_hours(now, settings.levels.N.first_contact_hours)


def follow_up_due(
    settings: DeskSettings, calendar: WorkCalendar, now: datetime, level: str
) -> datetime:
    """The next follow-up for a level, inside working hours."""
    if level == "N":
        return first_contact_due(settings, calendar, now)
    if level == "F":
        return calendar.clamp(now + timedelta(days=settings.levels.F.revisit_days))
    return calendar.clamp(now + timedelta(days=settings.levels.interval_days(level)))


def confirmation_due(calendar: WorkCalendar, now: datetime, visit_at: datetime) -> datetime:
    """进店前一日确认: the working day before the visit, at the working start;
    never earlier than now (a visit booked for tomorrow is confirmed today)."""
    day_before = calendar.previous_working_day(calendar.local_date(visit_at))
    due = calendar.at_local(day_before, calendar.start)
    return calendar.clamp(max(due, now))
