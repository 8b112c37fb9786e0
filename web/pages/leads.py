"""线索: the list with filters and search, the board by stage, and a lead's detail
(its whole timeline, its editable fields, the steps of 工作台, and 重新分配 for a
manager). The queries are the desk's (desk.leadlist); a consultant sees only
their own leads whatever the filter says.

Search goes by POST: a phone number typed in the box never lands in a URL (nor
in a log or the browser's history). The filters also work as GET parameters,
the links 报表 makes (`?reached=visited&from=2026-11-01&to=2026-11-30`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from io import BytesIO
from typing import Any, get_args
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.formatting import TIMELINE_LABELS, when
from bot.notify_texts import channel_name
from desk import Desk, LeadDetail
from desk.leadlist import FilterOptions, LeadFilter
from desk.settings import LevelCode
from desk.views import STAGE_NAMES
from web import texts
from web.core import (
    PREFIX,
    DeskDep,
    DeskRoute,
    FormManagerDep,
    FormStaffDep,
    PageError,
    Staff,
    StaffDep,
    form_time,
    page,
    templates,
)
from web.pages.home import done_flash
from web.pages.reports import XLSX
from web.pages.steps import field

router = APIRouter(route_class=DeskRoute)
templates.filters["channel"] = channel_name

PAGE_SIZE = 50
LEVEL_CODES = get_args(LevelCode)
FILTER_KEYS = (
    "stage", "level", "channel", "consultant", "group", "period", "from", "to", "reached", "overdue",
)  # fmt: skip


def _bad(what: str) -> PageError:
    return PageError(400, texts.BAD_FILTER.format(what=what))


def _day(raw: str, what: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad(f"{what}{texts.BAD_DATE}") from None


def parse_filter(
    desk: Desk, staff: Staff, params: Mapping[str, Any], *, search: bool
) -> tuple[LeadFilter, dict[str, str]]:
    """The desk's LeadFilter from the page's fields, and the fields to show again
    (the form and the paging keep them). `q` only when `search` (a POST)."""
    given = {k: v.strip() for k in FILTER_KEYS if isinstance(v := params.get(k), str) and v.strip()}
    if not staff.is_manager:
        given.pop("consultant", None)  # a consultant's list is their own anyway
    f: dict[str, Any] = {}
    if "stage" in given:
        if given["stage"] not in STAGE_NAMES:
            raise _bad(texts.STAGE)
        f["stage"] = given["stage"]
    if "level" in given:
        if given["level"] not in LEVEL_CODES:
            raise _bad(texts.LEVEL)
        f["level"] = given["level"]
    if "channel" in given:
        f["channel"] = given["channel"][:64]
    if "group" in given:
        f["group_id"] = given["group"][:64]
    if "consultant" in given:
        if not given["consultant"].isdecimal() or len(given["consultant"]) > 9:
            raise _bad(texts.CONSULTANT)
        f["consultant_id"] = int(given["consultant"])
    if "reached" in given:
        if given["reached"] not in texts.REACHED_NAMES:
            raise _bad(texts.REACHED)
        if given["reached"] != "leads":  # the funnel's first stage: every lead
            f["reached"] = given["reached"]
    if given.get("overdue") in ("1", "on", "true"):
        f["overdue"] = True
        given["overdue"] = "1"
    else:
        given.pop("overdue", None)
    f.update(_created(desk, given))
    if search:
        q = params.get("q")
        if isinstance(q, str) and q.strip():
            f["query"] = given["q"] = q.strip()
    return LeadFilter(**f), given


def _created(desk: Desk, given: dict[str, str]) -> dict[str, datetime]:
    """created_from/created_to from `from`/`to` (local days, both included) or a period."""
    first = _day(given["from"], texts.FROM) if "from" in given else None
    last = _day(given["to"], texts.TO) if "to" in given else None
    if first and last:
        p = desk.custom_period(first, last)
        given.pop("period", None)
        return {"created_from": p.start, "created_to": p.end}
    if first or last:
        given.pop("period", None)
        if first:
            return {"created_from": desk.calendar.day_bounds(first)[0]}
        assert last is not None
        return {"created_to": desk.calendar.day_bounds(last)[1]}
    if "period" in given:
        if given["period"] not in dict(texts.PERIODS):
            raise _bad(texts.PERIOD)
        p = desk.period(given["period"])
        return {"created_from": p.start, "created_to": p.end}
    return {}


def _page_no(params: Mapping[str, Any]) -> int:
    raw = params.get("page")
    if isinstance(raw, str) and raw.isdecimal() and 0 < len(raw) < 5:
        return max(1, int(raw))
    return 1


async def _names(desk: Desk, options: FilterOptions | None = None) -> dict[int, str]:
    """Every roster member's name by id (inactive consultants too: old entries)."""
    options = options or await desk.filter_options()
    names = dict(options.consultants)
    names.update({m.id: m.name for m in await desk.members()})
    return names


async def _list(request: Request, desk: Desk, staff: Staff, params: Mapping[str, Any], *,
                search: bool) -> Response:  # fmt: skip
    f, given = parse_filter(desk, staff, params, search=search)
    number = _page_no(params)
    order = "due" if f.overdue else "recent"
    result = await desk.lead_list(
        staff.actor, f, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE, order=order
    )
    pages = max(1, -(-result.total // PAGE_SIZE))
    options = await desk.filter_options()
    return page(
        request, "leads.html", staff, result=result, given=given, number=number, pages=pages,
        options=options, names=await _names(desk, options), levels=LEVEL_CODES,
        board_query=urlencode({k: v for k, v in given.items() if k != "q"}),
    )  # fmt: skip


@router.get("/leads", name="leads")
async def leads(request: Request, desk: DeskDep, staff: StaffDep) -> Response:
    return await _list(request, desk, staff, request.query_params, search=False)


@router.post("/leads", name="leads_search")
async def leads_search(request: Request, desk: DeskDep, staff: FormStaffDep) -> Response:
    return await _list(request, desk, staff, await request.form(), search=True)


@router.get("/leads/board", name="leads_board")
async def board(request: Request, desk: DeskDep, staff: StaffDep) -> Response:
    f, given = parse_filter(desk, staff, request.query_params, search=False)
    result = await desk.lead_board(staff.actor, f)
    return page(
        request, "board.html", staff, board=result, given=given,
        options=await desk.filter_options(), levels=LEVEL_CODES,
        list_query=urlencode(given),
    )  # fmt: skip


@router.get("/leads/export.xlsx", name="leads_export")
async def export(request: Request, desk: DeskDep, staff: StaffDep) -> Response:
    """导出: the list's filters as GET parameters (never a search: no phone in a URL);
    a manager's file has the phones, a consultant's only their own leads, no phones."""
    f, _ = parse_filter(desk, staff, request.query_params, search=False)
    out = BytesIO()
    await desk.export_leads(staff.actor, f, out, phones=staff.is_manager)
    day = desk.calendar.local_date(desk.clock.now()).isoformat()
    name = f"{texts.LEADS_FILE}_{day}.xlsx"
    disposition = f"attachment; filename=\"leads_{day}.xlsx\"; filename*=UTF-8''{quote(name)}"
    return Response(out.getvalue(), media_type=XLSX, headers={"Content-Disposition": disposition})


# -- one lead -------------------------------------------------------------------------


def _value(key: str, value: Any, names: dict[int, str], tz: Any) -> str:
    if value is None:
        return texts.UNASSIGNED if key == "consultant_id" else "—"
    if key == "stage":
        return STAGE_NAMES.get(value, str(value))
    if key == "consultant_id":
        return names.get(value, str(value)) if isinstance(value, int) else str(value)
    if key.endswith("_at") and isinstance(value, str | datetime):
        try:
            return when(value, tz)
        except ValueError:
            return str(value)
    return str(value)


def actor_name(label: str, names: dict[int, str]) -> str:
    """ "member:3" → the member's name; "system" → 系统; a SUPERUSER's "qq:90001" as is."""
    kind, _, ref = label.partition(":")
    if kind == "member" and ref.isdecimal() and int(ref) in names:
        return names[int(ref)]
    return texts.SYSTEM_ACTOR if label == "system" else label


def timeline_rows(detail: LeadDetail, names: dict[int, str], tz: Any) -> list[dict[str, Any]]:
    """The timeline, newest first, in words: who, what, which fields old → new."""
    rows = []
    for e in reversed(detail.timeline):
        changes = []
        for key, label in texts.CHANGE_NAMES.items():
            if key not in e.changes:
                continue
            change = e.changes[key]
            if isinstance(change, list) and len(change) == 2:
                old, new = (_value(key, v, names, tz) for v in change)
                changes.append(f"{label} {old} → {new}")
            else:
                changes.append(f"{label} {_value(key, change, names, tz)}")
        rows.append({
            "at": e.at, "actor": actor_name(e.actor, names),
            "action": TIMELINE_LABELS.get(e.action, e.action), "changes": changes, "note": e.note,
        })  # fmt: skip
    return rows


@router.get("/leads/{lead_id:int}", name="lead")
async def lead(request: Request, desk: DeskDep, staff: StaffDep, lead_id: int) -> Response:
    detail = await desk.lead(staff.actor, lead_id)
    names = await _names(desk)
    tz = desk.settings.tz
    consultants = await desk.members("consultant") if staff.is_manager else []
    purchase = detail.lead.expected_purchase_at
    return page(
        request, "lead.html", staff, lead=detail.lead, timeline=timeline_rows(detail, names, tz),
        names=names, consultants=consultants, page_flash=done_flash(request),
        defeat_reasons=desk.settings.defeat.reasons,
        purchase_day=desk.calendar.local_date(purchase).isoformat() if purchase else "",
    )  # fmt: skip


@router.post("/leads/{lead_id:int}/edit", name="lead_edit")
async def edit(request: Request, desk: DeskDep, staff: FormStaffDep, lead_id: int) -> Response:
    current = (await desk.lead(staff.actor, lead_id)).lead
    form = await request.form()
    fields: dict[str, Any] = {k: field(form, k) or None for k in ("name", "car_model", "budget")}
    phone = field(form, "phone")
    if phone and phone != (current.phone or ""):
        fields["phone"] = phone
    day = field(form, "expected_purchase_at")
    at = current.expected_purchase_at
    if day != (desk.calendar.local_date(at).isoformat() if at else ""):  # only a changed date
        fields["expected_purchase_at"] = form_time(desk, day)
    await desk.update_lead(staff.actor, lead_id, **fields)
    return _back(lead_id, "edit")


@router.post("/leads/{lead_id:int}/assign", name="lead_assign")
async def assign(request: Request, desk: DeskDep, staff: FormManagerDep, lead_id: int) -> Response:
    form = await request.form()
    member = field(form, "member_id")
    if not member.isdecimal() or len(member) > 9:
        raise PageError(400, texts.BAD_INPUT.format(message=texts.ASSIGN_TO + texts.CHOOSE))
    await desk.assign(staff.actor, lead_id, int(member), field(form, "note") or None)
    return _back(lead_id, "assign")


def _back(lead_id: int, done: str) -> Response:
    query = urlencode({"done": done, "lead": lead_id})
    return RedirectResponse(f"{PREFIX}/leads/{lead_id}?{query}", status_code=303)
