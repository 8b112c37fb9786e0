"""报表: the funnel with drop-off %, by channel / consultant / group, the consultant
ranking, response and deal times, 战败 reasons, the daily report and the owner-group
side, over a named period or a custom range; the same tables as a .xlsx.

A manager sees everything; a consultant sees the lead figures of their own leads
only (no daily report, no owner-group side: those are the whole showroom's).
Every chart is drawn from a table the page also shows, and the export writes the
same tables, so the page, its charts and the file cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from typing import Any, cast
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from bot.formatting import referrer_label, when
from bot.notify_texts import channel_name
from desk import Desk
from desk.reports import GroupBy, LeadReport, Period
from desk.xlsx import safe_cell
from features.reports import OwnerGroupsReport, owner_groups_report
from web import texts
from web.core import PREFIX, DeskDep, DeskRoute, PageError, Staff, StaffDep, page

router = APIRouter(route_class=DeskRoute)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAX_PARAM = 20  # every query value here is a short word or a date


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "int"  # int | pct (a 0..1 share) | num (one decimal) | text


@dataclass
class Table:
    key: str  # the element id on the page
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    links: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) -> href
    chart: dict[str, Any] | None = None  # a Chart.js config drawn beside the table
    note: str = ""  # a line under the table (why a column is empty)

    @property
    def wide(self) -> bool:  # takes the page's whole width
        return len(self.columns) >= 5


@dataclass(frozen=True)
class ReportRequest:
    period: Period
    period_name: str  # "" for a custom range
    by: str


def _param(value: str) -> str:
    value = value.strip()
    if len(value) > _MAX_PARAM:
        raise PageError(400, texts.BAD_INPUT.format(message=texts.REPORT_BAD_DATE))
    return value


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PageError(400, texts.BAD_INPUT.format(message=texts.REPORT_BAD_DATE)) from None


def parse_request(desk: Desk, period: str, first: str, last: str, by: str) -> ReportRequest:
    """The period (a named one, or from..to in the dealer's days) and the grouping;
    a bad value is a 400 page in words (desk.InvalidInput or PageError)."""
    period, first, last, by = _param(period), _param(first), _param(last), _param(by)
    if by not in {key for key, _ in texts.REPORT_DIMENSIONS}:
        raise PageError(400, texts.BAD_INPUT.format(message="只能按 渠道/顾问/群 统计"))
    if first or last:
        if not (first and last):
            raise PageError(400, texts.BAD_INPUT.format(message=texts.REPORT_BAD_RANGE))
        return ReportRequest(desk.custom_period(_day(first), _day(last)), "", by)
    return ReportRequest(desk.period(period or "month"), period or "month", by)


def _stage_link(stage: str, p: Period) -> str:
    query = urlencode({"reached": stage, "from": p.first.isoformat(), "to": p.last.isoformat()})
    return f"{PREFIX}/leads?{query}"


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def _bar(labels: list[str], datasets: list[tuple[str, list[Any]]], **options: Any) -> dict:
    """A bar chart of counts (whole numbers on the value axis)."""
    value_axis = "x" if options.get("indexAxis") == "y" else "y"
    options["scales"] = {value_axis: {"beginAtZero": True, "ticks": {"precision": 0}}}
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [
                {"label": name, "data": data, "maxBarThickness": 40} for name, data in datasets
            ],
        },
        "options": options,
    }


def _dimension_label(by: str, key: str | None) -> str:
    if key is None:
        return texts.REPORT_NONE
    return channel_name(key) if by == "channel" else key


def lead_tables(report: LeadReport) -> list[Table]:
    p = report.period
    funnel = Table(
        "funnel", texts.T_FUNNEL,
        [Column(texts.H_FUNNEL[0], "text"), Column(texts.H_FUNNEL[1]),
         *(Column(h, "pct") for h in texts.H_FUNNEL[2:])],
    )  # fmt: skip
    labels, links = [], []
    for i, stage in enumerate(report.total.stages):
        name = texts.FUNNEL_STAGE_NAMES[stage.key]
        funnel.rows.append([name, stage.count, stage.of_previous, stage.drop_off, stage.of_leads])
        funnel.links[(i, 1)] = link = _stage_link(stage.key, p)
        links.append(link)
        drop = stage.drop_off
        labels.append(
            name if drop is None else texts.FUNNEL_BAR.format(stage=name, drop=_percent(drop))
        )
    funnel.chart = _bar(
        labels, [(texts.CHART_LEADS, [s.count for s in report.total.stages])], indexAxis="y"
    )
    funnel.chart["links"] = links  # desk.js: a click on a bar opens those leads

    dimension = dict(texts.REPORT_DIMENSIONS)[report.by] if report.by else ""
    by = Table(
        "by", texts.T_BY.format(dimension=dimension),
        [Column(dimension, "text"), *(Column(h) for h in texts.H_BY[:6]),
         *(Column(h, "pct") for h in texts.H_BY[6:9]), Column(texts.H_BY[9], "num")],
    )  # fmt: skip
    for r in report.rows:
        by.rows.append([
            _dimension_label(report.by or "", r.key), r.leads, r.contacted, r.invited, r.visited,
            r.ordered, r.won, r.invite_rate, r.visit_rate, r.win_rate, r.first_response_minutes,
        ])  # fmt: skip
    by.chart = _bar(
        [row[0] for row in by.rows],
        [(texts.CHART_LEADS, [r.leads for r in report.rows]),
         (texts.CHART_WON, [r.won for r in report.rows])],
    )  # fmt: skip

    ranking = Table(
        "ranking", texts.T_RANKING,
        [Column(texts.H_RANKING[0]), Column(texts.H_RANKING[1], "text"),
         *(Column(h) for h in texts.H_RANKING[2:9]), Column(texts.H_RANKING[9], "pct")],
    )  # fmt: skip
    for place, r in enumerate(report.ranking, 1):
        ranking.rows.append([
            place, r.name, r.new_leads, r.follow_ups, r.invitations, r.visits, r.orders,
            r.deals, r.defeats, r.win_rate,
        ])  # fmt: skip
    ranking.chart = _bar(
        [r.name for r in report.ranking],
        [(texts.CHART_WON, [r.deals for r in report.ranking]),
         (texts.CHART_ORDERS, [r.orders for r in report.ranking])],
    )  # fmt: skip

    times = Table(
        "times", texts.T_TIMES,
        [Column(texts.H_TIMES[0], "text"), Column(texts.H_TIMES[1]),
         Column(texts.H_TIMES[2], "num"), Column(texts.H_TIMES[3], "num"),
         Column(texts.H_TIMES[4]), Column(texts.H_TIMES[5], "num"), Column(texts.H_TIMES[6], "num")],
    )  # fmt: skip
    for t in report.times:
        times.rows.append([
            t.key or texts.REPORT_ALL, t.responded, t.first_response_minutes,
            t.first_response_minutes_median, t.deals, t.days_to_deal, t.days_to_deal_median,
        ])  # fmt: skip
    if any(t.responded and t.first_response_minutes_median is None for t in report.times):
        times.note = texts.REPORT_MEDIANS_MONTH_ONLY  # desk.reports: medians up to a month

    categories = Table(
        "defeat-categories", texts.T_DEFEAT_CATEGORIES,
        [Column(texts.H_DEFEAT_CATEGORIES[0], "text"), Column(texts.H_DEFEAT_CATEGORIES[1])],
        [[c, n] for c, n in report.defeat_categories],
    )  # fmt: skip
    categories.chart = _bar(
        [c for c, _ in report.defeat_categories],
        [(texts.CHART_DEFEATS, [n for _, n in report.defeat_categories])],
        indexAxis="y",
    )
    reasons = Table(
        "defeat-reasons", texts.T_DEFEAT_REASONS,
        [Column(texts.H_DEFEAT_REASONS[0], "text"), Column(texts.H_DEFEAT_REASONS[1], "text"),
         Column(texts.H_DEFEAT_REASONS[2])],
        [[r.category, r.reason, r.count] for r in report.defeat_reasons],
    )  # fmt: skip
    tables = [funnel, by, ranking, times, categories, reasons]
    if not report.by:
        tables.remove(by)
    return tables


def daily_table(daily: dict[str, Any]) -> Table:
    return Table(
        "daily", texts.T_DAILY.format(day=daily["day"]),
        [Column(texts.H_DAILY[0], "text"), Column(texts.H_DAILY[1])],
        [[label, daily[key]] for key, label in texts.DAILY_ITEMS],
    )  # fmt: skip


def owner_tables(report: OwnerGroupsReport, tz: Any) -> list[Table]:
    groups = Table(
        "groups", texts.T_GROUPS,
        [Column(texts.H_GROUPS[0], "text"), *(Column(h) for h in texts.H_GROUPS[1:])],
    )  # fmt: skip
    for g in report.groups:
        s = g.stats
        groups.rows.append([g.group_id, s.joined, s.left, s.speakers, s.messages, s.checkins])
    groups.chart = _bar(
        [g.group_id for g in report.groups],
        [(texts.CHART_MESSAGES, [g.stats.messages for g in report.groups])],
    )
    events = Table(
        "events", texts.T_EVENTS,
        [Column(texts.H_EVENTS[0], "text"), Column(texts.H_EVENTS[1], "text"),
         Column(texts.H_EVENTS[2], "text"), *(Column(h) for h in texts.H_EVENTS[3:])],
    )  # fmt: skip
    for e in report.events.events:
        t = e.tally
        events.rows.append([
            e.event.title, when(e.event.starts_at, tz),
            texts.EVENT_STATUS_NAMES.get(e.event.status, e.event.status), t.seated_people(),
            t.people.get("attended", 0), t.people.get("no_show", 0),
            t.people.get("waitlisted", 0), t.leads,
        ])  # fmt: skip
    s = report.events
    if s.events:
        events.rows.append([
            texts.EVENTS_TOTAL, "", "", s.signed_people, s.attended_people, s.no_show_people,
            s.waitlisted_people, s.leads,
        ])  # fmt: skip
    referrals = Table(
        "referrals", texts.T_REFERRALS,
        [Column(texts.H_REFERRALS[0], "text"), Column(texts.H_REFERRALS[1])],
        [[label, getattr(report.referrals, key)] for key, label in texts.REFERRAL_ITEMS],
    )  # fmt: skip
    referrers = Table(
        "referrers", texts.T_REFERRERS,
        [Column(texts.H_REFERRERS[0], "text"), Column(texts.H_REFERRERS[1]),
         Column(texts.H_REFERRERS[2])],
        [[r.name or referrer_label(r.referrer), r.count, r.deals] for r in report.referrals.top],
    )  # fmt: skip
    return [groups, events, referrals, referrers]


async def report_tables(desk: Desk, staff: Staff, req: ReportRequest) -> list[Table]:
    """The tables of the page (and of the export) for this person."""
    own = None if staff.is_manager else staff.member.id
    tables = lead_tables(await desk.lead_report(req.period, cast(GroupBy, req.by), own))
    if staff.is_manager:
        today = desk.calendar.local_date(desk.clock.now())
        tables.append(daily_table(await desk.daily_report(min(req.period.last, today))))
        tables += owner_tables(await owner_groups_report(desk, req.period), desk.settings.tz)
    return tables


def _query_string(req: ReportRequest) -> str:
    if req.period_name:
        return urlencode({"period": req.period_name, "by": req.by})
    return urlencode(
        {"from": req.period.first.isoformat(), "to": req.period.last.isoformat(), "by": req.by}
    )


@router.get("/reports", name="reports")
async def reports_page(
    request: Request, desk: DeskDep, staff: StaffDep, period: str = "month",
    first: str = Query("", alias="from"), last: str = Query("", alias="to"), by: str = "channel",
) -> Response:  # fmt: skip
    req = parse_request(desk, period, first, last, by)
    tables = await report_tables(desk, staff, req)
    return page(
        request, "reports.html", staff, active="reports", req=req, tables=tables,
        export=f"{PREFIX}/reports/export.xlsx?{_query_string(req)}",
    )  # fmt: skip


def build_workbook(caption: str, tables: list[Table]) -> bytes:
    """One sheet per table: the caption (the period), the header, the rows; shares as
    percentages, every text cell made safe from formula injection."""
    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook always has its first sheet
    book.remove(first)
    used: set[str] = set()
    for table in tables:
        title = "".join(c for c in table.title if c not in "[]:*?/\\")[:28] or table.key
        while title in used:
            title += "_"
        used.add(title)
        sheet = book.create_sheet(title)
        sheet.append([safe_cell(f"{table.title} · {caption}")])
        sheet.append([c.header for c in table.columns])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([safe_cell(v) for v in row])
        for i, column in enumerate(table.columns, 1):
            letter = sheet.cell(row=2, column=i).column_letter
            sheet.column_dimensions[letter].width = max(10, min(40, len(column.header) * 2 + 2))
            fmt = {"pct": "0.0%", "num": "0.0"}.get(column.kind)
            if fmt:
                for (cell,) in sheet.iter_rows(min_row=3, min_col=i, max_col=i):
                    cell.number_format = fmt
        sheet.freeze_panes = "A3"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


@router.get("/reports/export.xlsx", name="reports-export")
async def reports_export(
    desk: DeskDep, staff: StaffDep, period: str = "month",
    first: str = Query("", alias="from"), last: str = Query("", alias="to"), by: str = "channel",
) -> Response:  # fmt: skip
    req = parse_request(desk, period, first, last, by)
    tables = await report_tables(desk, staff, req)
    caption = f"{req.period.label}（{req.period.first} ~ {req.period.last}）"
    span = f"{req.period.first}_{req.period.last}"
    name = f"{texts.REPORT_FILE}_{span}.xlsx"
    disposition = f"attachment; filename=\"report_{span}.xlsx\"; filename*=UTF-8''{quote(name)}"
    return Response(
        build_workbook(caption, tables), media_type=XLSX,
        headers={"Content-Disposition": disposition},
    )  # fmt: skip
