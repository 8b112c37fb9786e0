"""工作台: the consultant's day, what `今日` says in the chat (desk.tasks), with the
steps on each row (web.pages.steps)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from desk import Desk, LeadView, TaskItem
from web import texts
from web.core import DeskDep, DeskRoute, Staff, StaffDep, page

router = APIRouter(route_class=DeskRoute)
FRAGMENT_HEADER = "X-Desk-Fragment"  # desk.js swaps a refused step's row (400/409) too


def done_flash(request: Request) -> str:
    """The flash after a step without JS (`?done=follow_up&lead=12`): known words only."""
    done, lead = request.query_params.get("done", ""), request.query_params.get("lead", "")
    if done not in texts.STEP_DONE or not lead.isdecimal() or len(lead) > 10:
        return ""
    return texts.DONE_FLASH.format(lead_id=int(lead), done=texts.STEP_DONE[done])


def open_id(request: Request) -> int | None:
    """The row opened without JS (`?open=12`): its steps that need input are shown."""
    raw = request.query_params.get("open", "")
    return int(raw) if raw.isdecimal() and len(raw) <= 10 else None


@router.get("/", name="home")
async def home(request: Request, desk: DeskDep, staff: StaffDep) -> Response:
    tasks = await desk.tasks_for(staff.member.id)
    sections = [(label, getattr(tasks, key)) for key, label in texts.TASK_SECTIONS]
    return page(
        request, "home.html", staff, tasks=tasks, sections=sections,
        page_flash=done_flash(request), defeat_reasons=desk.settings.defeat.reasons,
        open_id=open_id(request),
    )  # fmt: skip


@router.get("/rows/{lead_id:int}", name="home_row")
async def row(request: Request, desk: DeskDep, staff: StaffDep, lead_id: int) -> Response:
    """A 工作台 row opened by htmx: the lead's steps that need input."""
    lead = (await desk.lead(staff.actor, lead_id)).lead
    return row_page(request, staff, desk, lead, opened=True)


def row_page(request: Request, staff: Staff, desk: Desk, lead: LeadView, status: int = 200,
             **context: Any) -> Response:  # fmt: skip
    """One 工作台 row alone (a fragment htmx swaps in), from the lead as it is now."""
    item = TaskItem(lead.id, lead.name, lead.level, lead.stage, lead.next_follow_up_at)
    response = page(
        request, "row.html", staff, status, item=item,
        defeat_reasons=desk.settings.defeat.reasons, **context,
    )  # fmt: skip
    response.headers[FRAGMENT_HEADER] = "1"
    return response
