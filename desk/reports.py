"""Funnel and rates by channel, consultant and group over any period, the
战败 reasons breakdown, and the manager's evening report (as data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import case, func, select, text
from sqlalchemy.sql import ColumnElement

from desk import rollup, roster
from desk.calendar import WorkCalendar
from desk.errors import InvalidInput
from desk.models import OPEN_DUE_SQL, Lead, Member, ReportDay, ReportDirtyDay, TimelineEntry
from desk.uow import UnitOfWork
from desk.views import CLOSED_STAGES

PeriodName = Literal["today", "week", "month", "quarter", "year"]
GroupBy = Literal["channel", "consultant", "group"] | None
PERIOD_NAMES = {"today": "今日", "week": "本周", "month": "本月", "quarter": "本季", "year": "本年"}


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    label: str
    first: date  # the dealer's local days it covers, both included
    last: date


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
        calendar.day_bounds(first)[0], calendar.day_bounds(last)[1], label or f"{first}~{last}",
        first, last,
    )  # fmt: skip


# The funnel's stages in order, each a column of Lead set once the lead got there
# (a cohort funnel: leads created in the period and how far each has come by now).
FUNNEL_STAGES = ("leads", "contacted", "invited", "visited", "ordered", "won")
_REACHED = {
    "leads": Lead.created_at,
    "contacted": Lead.first_contacted_at,
    "invited": Lead.invited_at,
    "visited": Lead.visited_at,
    "ordered": Lead.ordered_at,
    "won": Lead.won_at,
}


def reached(stage: str) -> ColumnElement[bool]:
    """The filter of the leads that got to a funnel stage: what a click on the
    funnel's stage lists (with the period on created_at)."""
    if stage not in _REACHED:
        raise InvalidInput("reached", "阶段只能是 线索/首次联系/邀约/到店/下订/成交")
    return _REACHED[stage].is_not(None)


@dataclass(frozen=True)
class FunnelStage:
    key: str  # one of FUNNEL_STAGES
    count: int
    of_previous: float | None  # share of the previous stage that got here; None: the first
    of_leads: float  # share of all the leads

    @property
    def drop_off(self) -> float | None:  # 流失率 from the previous stage
        return None if self.of_previous is None else 1.0 - self.of_previous


@dataclass(frozen=True)
class FunnelRow:
    key: str | None  # what the front shows: the channel, the consultant's name, the group
    leads: int
    contacted: int
    invited: int
    visited: int
    ordered: int
    won: int
    first_response_minutes: float | None
    # The dimension's value as stored (a consultant's id as text), for links and filters.
    ref: str | None = None

    @property
    def invite_rate(self) -> float:  # 邀约率
        return self.invited / self.leads if self.leads else 0.0

    @property
    def visit_rate(self) -> float:  # 到店率
        return self.visited / self.invited if self.invited else 0.0

    @property
    def win_rate(self) -> float:  # 成交率
        return self.won / self.leads if self.leads else 0.0

    @property
    def stages(self) -> list[FunnelStage]:
        """The six stages with the conversion from the stage before (drop-off = 1 - it)."""
        out: list[FunnelStage] = []
        previous: int | None = None
        for key in FUNNEL_STAGES:
            count = getattr(self, key)
            of_previous = None if previous is None else (count / previous if previous else 0.0)
            out.append(
                FunnelStage(key, count, of_previous, count / self.leads if self.leads else 0.0)
            )
            previous = count
        return out


def _seconds_between(uow: UnitOfWork, later: Any, earlier: Any) -> ColumnElement:
    return rollup.seconds_between(uow.dialect, later, earlier)


_DIMENSIONS = {"channel": Lead.channel, "consultant": Lead.consultant_id, "group": Lead.group_id}


def _mine(consultant_id: int | None) -> list[ColumnElement[bool]]:
    """A consultant's report counts their own leads only."""
    return [] if consultant_id is None else [Lead.consultant_id == consultant_id]


async def funnel(
    uow: UnitOfWork, p: Period, by: GroupBy = None, consultant_id: int | None = None
) -> list[FunnelRow]:
    """Leads created in the period and how far each has come (a cohort funnel);
    with `consultant_id`, that consultant's leads only. Summed from the daily
    rollup (desk.rollup) when none of the period's days is dirty, else live."""
    if by is not None and by not in _DIMENSIONS:
        raise InvalidInput("by", "只能按 渠道/顾问/群 统计")
    if await _rollup_is_fresh(uow, p):
        return await _funnel_from_rollup(uow, p, by, consultant_id)
    return await funnel_live(uow, p, by, consultant_id)


async def _rollup_is_fresh(uow: UnitOfWork, p: Period) -> bool:
    dirty = select(ReportDirtyDay.day).where(ReportDirtyDay.day.between(p.first, p.last))
    return (await uow.session.execute(dirty.limit(1))).first() is None


async def _funnel_from_rollup(
    uow: UnitOfWork, p: Period, by: GroupBy, consultant_id: int | None
) -> list[FunnelRow]:
    r = ReportDay
    dim: Any = None
    if by == "consultant":
        dim = func.nullif(r.consultant_id, 0)
    elif by is not None:
        dim = r.value
    counts = [r.leads, r.contacted, r.invited, r.visited, r.ordered, r.won]
    query = select(
        *([dim] if dim is not None else []),
        *(func.coalesce(func.sum(c), 0) for c in counts),
        func.sum(r.response_seconds),
    ).where(
        r.kind == (by if by in ("channel", "group") else "all"),
        r.day >= p.first, r.day <= p.last,
    )  # fmt: skip
    if consultant_id is not None:
        query = query.where(r.consultant_id == consultant_id)
    if dim is not None:
        query = query.group_by(dim).order_by(func.sum(r.leads).desc(), dim)
    return await _funnel_rows(uow, query, by, grouped=dim is not None)


async def funnel_live(
    uow: UnitOfWork, p: Period, by: GroupBy = None, consultant_id: int | None = None
) -> list[FunnelRow]:
    """The funnel read from every lead of the period (the rollup's reference; used
    while one of the period's days awaits its refresh)."""
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
        func.sum(_seconds_between(uow, Lead.first_contacted_at, Lead.created_at)),
    ]
    query = select(*([dim] if dim is not None else []), *columns).where(
        Lead.created_at >= p.start, Lead.created_at < p.end, rollup.COUNTED
    )
    query = query.where(*_mine(consultant_id))
    if dim is not None:
        query = query.group_by(dim).order_by(func.count().desc(), dim)
    return await _funnel_rows(uow, query, by, grouped=dim is not None)


async def _funnel_rows(
    uow: UnitOfWork, query: Any, by: GroupBy, *, grouped: bool
) -> list[FunnelRow]:
    """FunnelRows from rows of ([dimension], leads, contacted, invited, visited,
    ordered, won, first-response seconds summed): the rollup's and the live query's."""
    names = await roster.member_names(uow) if by == "consultant" else {}
    rows = []
    for row in (await uow.session.execute(query)).all():
        values = list(row)
        key = ref = None
        if grouped:
            raw = values.pop(0)
            if raw is not None:
                ref = str(raw)
                key = names.get(raw, ref) if by == "consultant" else ref
        leads, contacted, invited, visited, ordered, won = (int(v or 0) for v in values[:6])
        seconds = values[6]
        minutes = (
            round(float(seconds) / contacted / 60, 1) if contacted and seconds is not None else None
        )
        rows.append(FunnelRow(key, leads, contacted, invited, visited, ordered, won, minutes, ref))
    return rows


async def defeat_reasons(
    uow: UnitOfWork, p: Period, consultant_id: int | None = None, *, live: bool = False
) -> list[tuple[str, int]]:
    """战败 approved in the period by category, the most first (from the rollup
    unless `live` or a day of the period is dirty)."""
    if not live and await _rollup_is_fresh(uow, p):
        r = ReportDay
        n = func.sum(r.leads)
        rolled = (
            select(r.value, n)
            .where(*_defeat_days(p, consultant_id))
            .group_by(r.value)
            .order_by(n.desc(), r.value)
        )
        return [(c or "其他", int(n)) for c, n in (await uow.session.execute(rolled)).all()]
    query = (
        select(Lead.defeat_category, func.count())
        .where(Lead.lost_at >= p.start, Lead.lost_at < p.end)
        .group_by(Lead.defeat_category)
        .order_by(func.count().desc(), Lead.defeat_category)
    )
    rows = (await uow.session.execute(query.where(*_mine(consultant_id)))).all()
    return [(c or "其他", int(n)) for c, n in rows]


def _defeat_days(p: Period, consultant_id: int | None) -> list[ColumnElement[bool]]:
    r = ReportDay
    mine = [] if consultant_id is None else [r.consultant_id == consultant_id]
    return [r.kind == "defeat", r.day >= p.first, r.day <= p.last, *mine]


@dataclass(frozen=True)
class DefeatReason:
    category: str
    reason: str  # as the consultant wrote it
    count: int


async def top_defeat_reasons(
    uow: UnitOfWork, p: Period, limit: int = 10, consultant_id: int | None = None,
    *, live: bool = False,
) -> list[DefeatReason]:  # fmt: skip
    """The detailed 战败 reasons approved in the period, the most frequent first."""
    if not live and await _rollup_is_fresh(uow, p):
        r = ReportDay
        n = func.sum(r.leads)
        rolled = (
            select(r.value, r.detail, n)
            .where(*_defeat_days(p, consultant_id))
            .group_by(r.value, r.detail)
            .order_by(n.desc(), r.detail, r.value)
            .limit(max(1, min(limit, 100)))
        )
        rows = (await uow.session.execute(rolled)).all()
        return [DefeatReason(c or "其他", d or "", int(n)) for c, d, n in rows]
    query = (
        select(Lead.defeat_category, Lead.defeat_reason, func.count())
        .where(Lead.lost_at >= p.start, Lead.lost_at < p.end)
        .group_by(Lead.defeat_category, Lead.defeat_reason)
        .order_by(func.count().desc(), Lead.defeat_reason)
        .limit(max(1, min(limit, 100)))
    )
    rows = (await uow.session.execute(query.where(*_mine(consultant_id)))).all()
    return [DefeatReason(c or "其他", r or "", int(n)) for c, r, n in rows]


# Timeline actions the ranking counts, credited to the lead's consultant (a manager
# recording a visit for a consultant's lead credits the consultant).
_RANKED_ACTIONS = {
    "follow_up": "follow_ups",
    "invite": "invitations",
    "visit": "visits",
    "order": "orders",
    "deal": "deals",
    "defeat_approved": "defeats",
}


@dataclass(frozen=True)
class ConsultantRank:
    member_id: int
    name: str
    new_leads: int  # created in the period and theirs now
    follow_ups: int  # 回访 recorded in the period
    invitations: int
    visits: int  # 到店, a second visit included
    orders: int
    deals: int
    defeats: int  # 战败 approved in the period

    @property
    def win_rate(self) -> float:
        """成交 of the leads closed in the period: deals / (deals + 战败)."""
        closed = self.deals + self.defeats
        return self.deals / closed if closed else 0.0


async def consultant_ranking(
    uow: UnitOfWork, p: Period, consultant_id: int | None = None, *, live: bool = False
) -> list[ConsultantRank]:
    """What each consultant did in the period, by deals, then orders, then visits.
    Every active consultant is listed (a zero row says something too); a member no
    longer active appears when they still have figures."""
    counts: dict[int, dict[str, int]] = {}
    done = (
        select(Lead.consultant_id, TimelineEntry.action, func.count())
        .join(Lead, Lead.id == TimelineEntry.lead_id)
        .where(
            TimelineEntry.at >= p.start,
            TimelineEntry.at < p.end,
            TimelineEntry.action.in_(list(_RANKED_ACTIONS)),
            Lead.consultant_id.is_not(None),
        )
        .group_by(Lead.consultant_id, TimelineEntry.action)
    )
    rows = (await uow.session.execute(done.where(*_mine(consultant_id)))).all()
    for member_id, action, n in rows:
        if member_id is not None:
            counts.setdefault(member_id, {})[_RANKED_ACTIONS[action]] = int(n)
    new = (
        select(Lead.consultant_id, func.count())
        .where(Lead.created_at >= p.start, Lead.created_at < p.end, rollup.COUNTED)
        .where(Lead.consultant_id.is_not(None))
        .where(*_mine(consultant_id))
        .group_by(Lead.consultant_id)
    )
    if not live and await _rollup_is_fresh(uow, p):
        r = ReportDay
        new = (
            select(r.consultant_id, func.sum(r.leads))
            .where(r.kind == "all", r.day >= p.first, r.day <= p.last, r.consultant_id != 0)
            .group_by(r.consultant_id)
        )
        if consultant_id is not None:
            new = new.where(r.consultant_id == consultant_id)
    for member_id, n in (await uow.session.execute(new)).all():
        if member_id is not None:
            counts.setdefault(member_id, {})["new_leads"] = int(n)
    members = select(Member.id, Member.name, Member.active).where(Member.role == "consultant")
    if consultant_id is not None:
        members = members.where(Member.id == consultant_id)
    ranks = []
    for member_id, name, active in (await uow.session.execute(members)).all():
        figures = counts.pop(member_id, {})
        if active or figures:
            ranks.append(_rank(member_id, name, figures))
    # a manager holding leads is ranked too (a small dealer's manager sells)
    names = await roster.member_names(uow) if counts else {}
    ranks += [_rank(i, names.get(i, str(i)), f) for i, f in counts.items()]
    ranks.sort(key=lambda r: (-r.deals, -r.orders, -r.visits, -r.invitations, r.name, r.member_id))
    return ranks


def _rank(member_id: int, name: str, figures: dict[str, int]) -> ConsultantRank:
    fields = ("new_leads", *_RANKED_ACTIONS.values())
    return ConsultantRank(member_id, name, **{f: figures.get(f, 0) for f in fields})


@dataclass(frozen=True)
class CycleTimes:
    """How fast leads are answered and closed, in the period. None: nothing to measure."""

    key: str | None  # None overall, else the consultant's name
    member_id: int | None
    responded: int  # leads created in the period and contacted
    first_response_minutes: float | None  # average
    first_response_minutes_median: float | None
    deals: int  # leads won in the period
    days_to_deal: float | None  # average of won_at - created_at
    days_to_deal_median: float | None


async def _average_and_median(
    uow: UnitOfWork, seconds: ColumnElement, where: list[ColumnElement[bool]],
    consultant_id: int | None,
) -> dict[int | None, tuple[int, float | None, float | None]]:  # fmt: skip
    """Per consultant and overall (key None): (n, average, median) of `seconds`, in
    one statement. The medians by window functions, which SQLite and PostgreSQL both
    have: each value's place among the consultant's and among all, the middle one
    or two kept; the overall figures are summed from the consultants' rows."""
    mine = [Lead.consultant_id]
    ranked = (
        select(
            Lead.consultant_id.label("c"),
            seconds.label("v"),
            func.row_number().over(partition_by=mine, order_by=seconds).label("rn"),
            func.count().over(partition_by=mine).label("n"),
            func.row_number().over(order_by=seconds).label("rn_all"),
            func.count().over().label("n_all"),
        )
        .where(*where, *_mine(consultant_id))
        .subquery()
    )
    r = ranked.c

    def middle(rn: Any, n: Any) -> ColumnElement[bool]:
        return (rn * 2 >= n) & (rn * 2 <= n + 2)

    def kept(rn: Any, n: Any, value: Any) -> Any:
        return case((middle(rn, n), value), else_=None)

    query = select(
        r.c,
        func.count(),
        func.sum(r.v),
        func.sum(kept(r.rn, r.n, r.v)),
        func.count(kept(r.rn, r.n, 1)),
        func.sum(kept(r.rn_all, r.n_all, r.v)),
        func.count(kept(r.rn_all, r.n_all, 1)),
    ).group_by(r.c)
    out: dict[int | None, tuple[int, float | None, float | None]] = {}
    total = [0, 0.0, 0.0, 0]
    for who, n, sum_v, sum_mid, n_mid, sum_mid_all, n_mid_all in (
        await uow.session.execute(query)
    ).all():
        total[0] += int(n)
        total[1] += float(sum_v or 0)
        total[2] += float(sum_mid_all or 0)
        total[3] += int(n_mid_all)
        if who is not None:  # unassigned leads count overall only
            out[who] = (int(n), float(sum_v) / int(n), float(sum_mid) / int(n_mid))
    if total[0]:
        out[None] = (total[0], total[1] / total[0], total[2] / total[3])
    return out


# Medians need every value sorted (window functions over each lead of the period):
# ~150 ms for a month at 1M leads, seconds for a year. Periods longer than a month
# show averages only, summed (the first response from the rollup); medians None.
MEDIAN_MAX_DAYS = 31

_Figures = dict[int | None, tuple[int, float | None, float | None]]


async def cycle_times(
    uow: UnitOfWork, p: Period, consultant_id: int | None = None, *, medians: bool | None = None
) -> list[CycleTimes]:
    """First response (leads created in the period: first contact - created) and
    time to deal (leads won in the period: won - created); the overall row first,
    then one per consultant, the fastest first response first. Medians for a period
    of a month at most (MEDIAN_MAX_DAYS), else None; `medians` True or False forces."""
    response_where = [
        Lead.created_at >= p.start, Lead.created_at < p.end, Lead.first_contacted_at.is_not(None)
    ]  # fmt: skip
    response_seconds = _seconds_between(uow, Lead.first_contacted_at, Lead.created_at)
    deal_seconds = _seconds_between(uow, Lead.won_at, Lead.created_at)
    deal_where = [Lead.won_at >= p.start, Lead.won_at < p.end]
    if medians is None:
        medians = (p.last - p.first).days < MEDIAN_MAX_DAYS
    if medians:
        response = await _average_and_median(uow, response_seconds, response_where, consultant_id)
        deal = await _average_and_median(uow, deal_seconds, deal_where, consultant_id)
    else:
        if await _rollup_is_fresh(uow, p):
            response = await _response_from_rollup(uow, p, consultant_id)
        else:
            response = await _averages(uow, response_seconds, response_where, consultant_id)
        deal = await _averages(uow, deal_seconds, deal_where, consultant_id)
    names = await roster.member_names(uow)

    def figures(who: int | None) -> CycleTimes:
        n1, avg1, med1 = response.get(who, (0, None, None))
        n2, avg2, med2 = deal.get(who, (0, None, None))
        return CycleTimes(
            None if who is None else names.get(who, str(who)), who,
            n1, _round(avg1, 60), _round(med1, 60), n2, _round(avg2, 86400), _round(med2, 86400),
        )  # fmt: skip

    people = sorted({k for k in (*response, *deal) if k is not None})
    rows = [figures(who) for who in people]
    rows.sort(key=lambda r: (r.first_response_minutes is None, r.first_response_minutes or 0.0))
    return [figures(None), *rows]


def _summed(rows: Any) -> _Figures:
    """(consultant, n, sum of seconds) rows → per consultant and overall (key None;
    unassigned leads count overall only): (n, average, no median)."""
    out: _Figures = {}
    n_all, sum_all = 0, 0.0
    for who, n, total in rows:
        if not n:
            continue
        n_all += int(n)
        sum_all += float(total or 0)
        if who is not None:
            out[who] = (int(n), float(total or 0) / int(n), None)
    if n_all:
        out[None] = (n_all, sum_all / n_all, None)
    return out


async def _averages(
    uow: UnitOfWork, seconds: ColumnElement, where: list[ColumnElement[bool]],
    consultant_id: int | None,
) -> _Figures:  # fmt: skip
    query = (
        select(Lead.consultant_id, func.count(), func.sum(seconds))
        .where(*where, *_mine(consultant_id))
        .group_by(Lead.consultant_id)
    )
    return _summed((await uow.session.execute(query)).all())


async def _response_from_rollup(uow: UnitOfWork, p: Period, consultant_id: int | None) -> _Figures:
    r = ReportDay
    who = func.nullif(r.consultant_id, 0)
    query = (
        select(who, func.sum(r.contacted), func.sum(r.response_seconds))
        .where(r.kind == "all", r.day >= p.first, r.day <= p.last)
        .group_by(who)
    )
    if consultant_id is not None:
        query = query.where(r.consultant_id == consultant_id)
    return _summed((await uow.session.execute(query)).all())


def _round(seconds: float | None, unit: int) -> float | None:
    return None if seconds is None else round(float(seconds) / unit, 1)


@dataclass(frozen=True)
class LeadReport:
    """The 报表 page's lead figures for one period, read in one transaction."""

    period: Period
    by: GroupBy
    total: FunnelRow
    rows: list[FunnelRow]  # by the dimension; [] without one
    ranking: list[ConsultantRank]
    times: list[CycleTimes]  # overall first
    defeat_categories: list[tuple[str, int]]
    defeat_reasons: list[DefeatReason]


async def lead_report(
    uow: UnitOfWork, p: Period, by: GroupBy = None, consultant_id: int | None = None
) -> LeadReport:
    """Everything the 报表 page shows about leads; a consultant's own figures only
    when `consultant_id` is given."""
    [total] = await funnel(uow, p, None, consultant_id) or [FunnelRow(None, 0, 0, 0, 0, 0, 0, None)]
    return LeadReport(
        p, by, total,
        await funnel(uow, p, by, consultant_id) if by else [],
        await consultant_ranking(uow, p, consultant_id),
        await cycle_times(uow, p, consultant_id),
        await defeat_reasons(uow, p, consultant_id),
        await top_defeat_reasons(uow, p, consultant_id=consultant_id),
    )  # fmt: skip


async def lead_report_live(
    uow: UnitOfWork, p: Period, by: GroupBy = None, consultant_id: int | None = None
) -> LeadReport:
    """lead_report read from every lead, medians for any period: the rollup's
    reference (bench/web_bench.py compares the two)."""
    [total] = await funnel_live(uow, p, None, consultant_id)
    return LeadReport(
        p, by, total,
        await funnel_live(uow, p, by, consultant_id) if by else [],
        await consultant_ranking(uow, p, consultant_id, live=True),
        await cycle_times(uow, p, consultant_id, medians=True),
        await defeat_reasons(uow, p, consultant_id, live=True),
        await top_defeat_reasons(uow, p, consultant_id=consultant_id, live=True),
    )  # fmt: skip


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
            .where(Lead.consultant_id.is_(None), Lead.stage.not_in(CLOSED_STAGES))
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
