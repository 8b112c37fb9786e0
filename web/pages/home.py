"""工作台: the consultant's day, what `今日` says in the chat (desk.tasks), with the
steps on each row (web.pages.steps)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web import texts
from web.core import DeskDep, DeskRoute, StaffDep, page

router = APIRouter(route_class=DeskRoute)


def done_flash(request: Request) -> str:
    """The flash after a step without JS (`?done=follow_up&lead=12`): known words only."""
    done, lead = request.query_params.get("done", ""), request.query_params.get("lead", "")
    if done not in texts.STEP_DONE or not lead.isdecimal() or len(lead) > 10:
        return ""
    return texts.DONE_FLASH.format(lead_id=int(lead), done=texts.STEP_DONE[done])


@router.get("/", name="home")
async def home(request: Request, desk: DeskDep, staff: StaffDep) -> Response:
    tasks = await desk.tasks_for(staff.member.id)
    sections = [(label, getattr(tasks, key)) for key, label in texts.TASK_SECTIONS]
    return page(
        request, "home.html", staff, tasks=tasks, sections=sections,
        page_flash=done_flash(request), defeat_reasons=desk.settings.defeat.reasons,
    )  # fmt: skip
