"""工作台: the consultant's day, what `今日` says in the chat (desk.tasks)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web import texts
from web.core import DeskDep, DeskRoute, StaffDep, page

router = APIRouter(route_class=DeskRoute)


@router.get("/", name="home")
async def home(request: Request, desk: DeskDep, staff: StaffDep) -> Response:
    tasks = await desk.tasks_for(staff.member.id)
    sections = [(label, getattr(tasks, key)) for key, label in texts.TASK_SECTIONS]
    return page(request, "home.html", staff, tasks=tasks, sections=sections)
