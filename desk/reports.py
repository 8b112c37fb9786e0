"""Funnel and rates by channel, consultant and group over any period, the
战败 reasons breakdown, and the manager's evening report (as data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, text
from sqlalchemy.sql import ColumnElement

from desk import roster
from desk.calendar import WorkCalendar
from desk.errors import InvalidInput
from desk.models import OPEN_DUE_SQL, Lead, TimelineEntry
from desk.uow import UnitOfWork

PeriodName = Literal["today", "week", "month", "quarter", "year"]
GroupBy = Literal["channel", "consultant", "group"] | None
PERIOD_NAMES = {"today": "今日", "week": "本周", "month": "本月", "quarter": "本季", "year": "本年"}


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    label: str


def period(calendar: WorkCalendar, name: str, today: date) -> Period:
    if name == "today":
        first, last = today, today
    elif name == "week":
        first = today - timedelta(days=today.weekday())
        last = first + timedelta(days=6)
    elif name == "month":
        first = today.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    elif name == "quarter":
        first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        last = (first + timedelta(days=95)).replace(day=1) - timedelta(days=1)
    elif name == "year":
        first, last = today.replace(month=1, day=1), today.replace(month=12, day=31)
    else:
        raise InvalidInput("period", "时间段只能是 今日/本周/本月/本季/本年")
    return custom_period(calendar, first, last, PERIOD_NAMES[name])


def custom_period(
    calendar: WorkCalendar, first: date, last: date, label: str | None = None
) -> Period:
    if last < first or (last - first).days > 3660:
        raise InvalidInput("period", "时间段不对")
    return Period(
        calendar.day_bounds(first)[0], calendar.day_bounds(last)[1], label or f"{first}~{last}"
    )


@dataclass(frozen=True)
class FunnelRow:
    key: str | None
    leads: int
    contacted: int
    invited: int
    visited: int
    ordered: int
    won: int
    first_response_minutes: float | None

    @property
    def invite_rate(self) -> float:  # 邀约率
        return self.invited / self.leads if self.leads else 0.0

    @property
    def visit_rate(self) -> float:  # 到店率
        return self.visited / self.invited if self.invited else 0.0

    @property
    def win_rate(self) -> float:  # 成交率
        return self.won / self.leads if self.leads else 0.0


def _seconds_between(uow: UnitOfWork, later: Any, earlier: Any) -> ColumnElement:
    """Portable interval in seconds (the one place the dialects differ)."""
    if uow.dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


_DIMENSIONS = {"channel": Lead.channel, "consultant": Lead.consultant_id, "group": Lead.group_id}


async def funnel(uow: UnitOfWork, p: Period, by: GroupBy = None) -> list[FunnelRow]:
    """Leads created in the period and how far each has come (a cohort funnel)."""
    if by is not None and by not in _DIMENSIONS:
        raise InvalidInput("by", "只能按 渠道/顾问/群 统计")
    dim = _DIMENSIONS[by] if by else None
    columns = [
        func.count(),
        func.count(Lead.first_contacted_at),
        func.count(Lead.invited_at),
        func.count(Lead.visited_at),
        func.count(Lead.ordered_at),
        func.count(Lead.won_at),
        func.avg(_seconds_between(uow, Lead.first_contacted_at, Lead.created_at)),
    ]
    query = select(*([dim] if dim is not None else []), *columns).where(
        Lead.created_at >= p.start, Lead.created_at < p.end
    )
    if dim is not None:
        query = query.group_by(dim).order_by(func.count().desc())
    names: dict[int, str] = {}
    if by == "consultant":
        names = await roster.member_names(uow)
    rows = []
    for row in (await uow.session.execute(query)).all():
        values = list(row)
        key = values.pop(0) if dim is not None else None
        if key is not None:
            key = names.get(key, str(key)) if by == "consultant" else str(key)
        leads, contacted, invited, visited, ordered, won, avg = values
        minutes = round(avg / 60, 1) if avg is not None else None
        rows.append(FunnelRow(key, leads, contacted, invited, visited, ordered, won, minutes))
    return rows


async def defeat_reasons(uow: UnitOfWork, p: Period) -> list[tuple[str, int]]:
    query = (
        select(Lead.defeat_category, func.count())
        .where(Lead.lost_at >= p.start, Lead.lost_at < p.end)
        .group_by(Lead.defeat_category)
        .order_by(func.count().desc())
    )
    return [(c or "其他", int(n)) for c, n in (await uow.session.execute(query)).all()]


async def activity(uow: UnitOfWork, p: Period) -> dict[str, int]:
    """What was done in the period, from the timeline: follow-ups, invitations…"""
    query = (
        select(TimelineEntry.action, func.count())
        .where(TimelineEntry.at >= p.start, TimelineEntry.at < p.end)
        .group_by(TimelineEntry.action)
    )
    return {a: int(n) for a, n in (await uow.session.execute(query)).all()}


async def daily_report(uow: UnitOfWork, day: date) -> dict:
    """The manager's evening report, as data the fronts format."""
    p = custom_period(uow.calendar, day, day, day.isoformat())
    acts = await activity(uow, p)
    still_due = (
        await uow.session.execute(
            select(func.count())
            .select_from(Lead)
            .where(Lead.next_follow_up_at < p.end, text(OPEN_DUE_SQL))
        )
    ).scalar_one()
    waiting = (
        await uow.session.execute(
            select(func.count()).select_from(Lead).where(Lead.stage == "defeat_requested")
        )
    ).scalar_one()
    unassigned = (
        await uow.session.execute(
            select(func.count())
            .select_from(Lead)
            .where(Lead.consultant_id.is_(None), Lead.stage.not_in(("won", "lost")))
        )
    ).scalar_one()
    done = acts.get("follow_up", 0)
    by_channel = await funnel(uow, p, "channel")
    return {
        "day": day.isoformat(),
        "follow_ups_done": done,
        "follow_up_target": done + int(still_due),
        "new_leads": sum(r.leads for r in by_channel),
        "new_leads_by_channel": {r.key or "unknown": r.leads for r in by_channel},
        "invitations": acts.get("invite", 0),
        "visits": acts.get("visit", 0),
        "no_shows": acts.get("no_show", 0),
        "orders": acts.get("order", 0),
        "deals": acts.get("deal", 0),
        "defeat_requests_waiting": int(waiting),
        "unassigned_leads": int(unassigned),
    }
