"""战败审核 (manager): the leads waiting for review; approve with a revisit date or
reject with a note (desk.Desk.review_defeat, audited in the lead's timeline)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from bot.formatting import when
from desk import Desk
from desk.errors import valid_id
from web import texts
from web.core import PREFIX, DeskDep, DeskRoute, FormManagerDep, ManagerDep, Staff, form_time, page

router = APIRouter(route_class=DeskRoute)
Note = Annotated[str, Form(max_length=500)]


@router.get("/defeats", name="defeats")
async def defeats(request: Request, desk: DeskDep, manager: ManagerDep) -> Response:
    queue = await desk.defeat_queue(manager.actor)
    return page(
        request, "defeats.html", manager, queue=queue, done=await _done_line(request, desk, manager)
    )


async def _done_line(request: Request, desk: Desk, manager: Staff) -> str:
    """What the last decision did (after the redirect): the lead's next call."""
    for key, line in (("approved", texts.DEFEAT_APPROVED), ("rejected", texts.DEFEAT_REJECTED)):
        value = request.query_params.get(key, "")
        if value.isascii() and value.isdigit() and valid_id(int(value)):
            lead = (await desk.lead(manager.actor, int(value))).lead
            return line.format(lead_id=lead.id, due=when(lead.next_follow_up_at, desk.settings.tz))
    return ""


def revisit_time(desk: Desk, value: str) -> datetime | None:
    """A date (at the working day's start) or a datetime-local, in the desk's zone."""
    return form_time(desk, value)


def _done(decision: str, lead_id: int) -> Response:
    return RedirectResponse(f"{PREFIX}/defeats?{decision}={lead_id}", status_code=303)


@router.post("/defeats/{lead_id}/approve", name="approve_defeat")
async def approve(
    lead_id: int, desk: DeskDep, manager: FormManagerDep,
    revisit: Annotated[str, Form(max_length=40)] = "", note: Note = "",
) -> Response:  # fmt: skip
    revisit_at = revisit_time(desk, revisit)
    await desk.review_defeat(
        manager.actor, lead_id, True, revisit_at=revisit_at, note=note.strip() or None
    )
    return _done("approved", lead_id)


@router.post("/defeats/{lead_id}/reject", name="reject_defeat")
async def reject(lead_id: int, desk: DeskDep, manager: FormManagerDep, note: Note = "") -> Response:
    await desk.review_defeat(manager.actor, lead_id, False, note=note.strip() or None)
    return _done("rejected", lead_id)
