"""The steps on a lead, from 工作台 and the lead detail: one small POST form each
(跟进, 邀约, 确认, 到店, 未到店, 下订, 成交, 申请战败), each one Desk use case with
the staff's actor, as the chat's words call them.

Without JS a step redirects back (303) with a flash; from htmx (工作台) it answers
the lead's row, re-rendered in place, with the flash or the refusal."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from bot.formatting import when
from desk import Desk, LeadView
from desk.lifecycle import STEP_STAGES
from desk.settings import FOLLOW_UP_LEVELS
from web import texts
from web.core import (
    PREFIX,
    DeskDep,
    DeskRoute,
    FormStaffDep,
    PageError,
    form_time,
    refusal,
    templates,
)
from web.pages.home import row_page

router = APIRouter(route_class=DeskRoute)

# The web's step → the desk's step name (lifecycle.STEP_STAGES, bot.formatting.ACTION_NAMES).
STEPS = {
    "follow_up": "follow_up", "invite": "invite", "confirm": "confirm", "visit": "visit",
    "no_show": "no_show", "order": "order", "deal": "deal", "defeat": "request_defeat",
}  # fmt: skip


def allowed_steps(stage: str) -> list[str]:
    """The steps a lead in `stage` allows, in the order the page shows them."""
    return [step for step, name in STEPS.items() if stage in STEP_STAGES[name]]


templates.globals.update(allowed_steps=allowed_steps, LEVELS=FOLLOW_UP_LEVELS)


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def defeat_reason(desk: Desk, form: FormData) -> str:
    """A category of the taxonomy, then the consultant's words: "价格 客户嫌贵", as
    the chat's `战败 12 价格 客户嫌贵` (desk.lifecycle.defeat_category reads the start)."""
    category = field(form, "reason")
    if category not in desk.settings.defeat.reasons:
        raise PageError(400, texts.DEFEAT_REASON_NEEDED)
    return f"{category} {field(form, 'detail')}".strip()


async def run_step(desk: Desk, staff: Any, lead_id: int, step: str, form: FormData) -> LeadView:
    actor = staff.actor
    note = field(form, "note") or None
    if step == "follow_up":
        return await desk.follow_up(
            actor, lead_id, field(form, "result"),
            next_at=form_time(desk, field(form, "next_at")),
            level=field(form, "level") or None,
            purchase_at=form_time(desk, field(form, "purchase_at")),
        )  # fmt: skip
    if step == "invite":
        visit_at = form_time(desk, field(form, "visit_at"))
        if visit_at is None:
            raise PageError(400, texts.BAD_FIELD.format(field=texts.VISIT_AT, message="不能为空"))
        return await desk.invite(actor, lead_id, visit_at, note)
    if step == "visit":
        return await desk.record_visit(
            actor, lead_id, note, next_at=form_time(desk, field(form, "next_at")),
            level=field(form, "level") or None,
        )  # fmt: skip
    if step == "defeat":
        return await desk.request_defeat(actor, lead_id, defeat_reason(desk, form))
    simple = {
        "confirm": desk.confirm_visit, "no_show": desk.record_no_show,
        "order": desk.record_order, "deal": desk.record_deal,
    }  # fmt: skip
    return await simple[step](actor, lead_id, note)


def done_flash(lead: LeadView, done: str, tz: Any) -> str:
    words = texts.DONE_FLASH.format(lead_id=lead.id, done=texts.STEP_DONE.get(done, ""))
    if lead.next_follow_up_at is not None:
        words += "，" + texts.NEXT_DUE.format(due=when(lead.next_follow_up_at, tz))
    return words


@router.post("/leads/{lead_id:int}/steps/{step}", name="lead_step")
async def lead_step(
    request: Request, desk: DeskDep, staff: FormStaffDep, lead_id: int, step: str
) -> Response:
    if step not in STEPS:
        raise PageError(404, texts.NOT_FOUND)
    form = await request.form()
    to_detail = field(form, "back") == "detail"
    htmx = request.headers.get("hx-request") == "true" and not to_detail
    try:
        lead = await run_step(desk, staff, lead_id, step, form)
    except Exception as exc:
        refused = refusal(exc)
        if not htmx or refused is None or refused[0] not in (400, 409):
            raise
        current = (await desk.lead(staff.actor, lead_id)).lead
        return row_page(request, staff, desk, current, refused[0], error=refused[1], opened=True)
    if htmx:
        return row_page(request, staff, desk, lead, flash=done_flash(lead, step, desk.settings.tz))
    return RedirectResponse(back_to(lead.id, step, to_detail), status_code=303)


def back_to(lead_id: int, done: str, to_detail: bool) -> str:
    """Where a step without JS returns: its page, with what was done (never a phone)."""
    query = urlencode({"done": done, "lead": lead_id})
    return f"{PREFIX}/leads/{lead_id}?{query}" if to_detail else f"{PREFIX}/?{query}"
