"""活动: the events (open and past) with their numbers; an event's sign-ups and
waitlist; a manager ticks who came (any platform: Official Account followers too)
and exports the sign-up sheet (.xlsx, the chat's 导出报名 sheet)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from desk.phone import mask_phones_in_text
from features.events import manage, reports
from features.events.errors import AttendNobody, EventError
from features.events.export import build_signup_sheet, signup_list
from features.events.models import SEATED
from web import services, texts
from web.core import (
    PREFIX,
    DeskDep,
    DeskRoute,
    FormManagerDep,
    ManagerDep,
    PageError,
    StaffDep,
    page,
)

router = APIRouter(route_class=DeskRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/events", name="events")
async def events(request: Request, desk: DeskDep, staff: StaffDep) -> Response:
    found = await reports.recent(services.events(desk), None, texts.EVENTS_SHOWN)
    now = desk.clock.now()
    upcoming = [s for s in found if s.event.starts_at > now][::-1]  # soonest first
    past = [s for s in found if s.event.starts_at <= now]
    return page(
        request, "events.html", staff, upcoming=upcoming, past=past, words=services.event_texts()
    )


def _refused(exc: EventError, tz: object) -> PageError:
    if isinstance(exc, AttendNobody):
        return PageError(400, texts.ATTEND_NOBODY)
    words = services.event_texts()
    try:
        return PageError(409, words.error_text(exc, tz))
    except TypeError:  # a refusal the chat has no line for
        return PageError(409, texts.FORBIDDEN)


@router.get("/events/{event_id}", name="event")
async def event(request: Request, event_id: int, desk: DeskDep, staff: StaffDep) -> Response:
    ev = services.events(desk)
    try:
        stats = await reports.stats(ev, event_id, None)
        found = await signup_list(ev, event_id, None)
    except EventError as exc:
        raise _refused(exc, desk.settings.tz) from None
    words = services.event_texts()
    marked = request.query_params.get("marked", "")
    done = texts.ATTENDED.format(count=marked) if marked.isascii() and marked.isdigit() else ""
    return page(
        request, "event.html", staff, stats=stats, rows=list(zip(found.rows, words.sheet_rows(found), strict=True)),
        summary=words.stats(stats, desk.settings.tz), words=words, seated=SEATED, done=done[:40],
    )  # fmt: skip


@router.post("/events/{event_id}/attended", name="mark_attended")
async def mark_attended(
    event_id: int, desk: DeskDep, manager: FormManagerDep,
    attended: Annotated[list[str], Form(max_length=manage.MAX_ATTENDEES)] = [],  # noqa: B006
) -> Response:  # fmt: skip
    ids = [int(v) for v in attended if v.isascii() and v.isdigit() and len(v) < 10]
    try:
        result = await manage.mark_signups_attended(services.events(desk), event_id, ids)
    except EventError as exc:
        raise _refused(exc, desk.settings.tz) from None
    url = f"{PREFIX}/events/{event_id}?marked={len(result.marked)}"
    return RedirectResponse(url, status_code=303)


@router.get("/events/{event_id}/export.xlsx", name="export_event")
async def export(event_id: int, desk: DeskDep, manager: ManagerDep) -> Response:
    """The chat's 导出报名 sheet, downloaded (QQ ids and nicknames, no phones)."""
    try:
        found = await signup_list(services.events(desk), event_id, None)
    except EventError as exc:
        raise _refused(exc, desk.settings.tz) from None
    words = services.event_texts()
    # Masked on the way out: a title or place typed with a phone in it.
    caption = mask_phones_in_text(words.sheet_caption(found.event, desk.settings.tz))
    data = build_signup_sheet(
        words.SHEET_TITLE, caption, words.SHEET_HEADER, words.sheet_rows(found)
    )
    name = words.EXPORT_NAME.format(id=found.event.id)
    disposition = (
        f"attachment; filename=\"event-{found.event.id}.xlsx\"; filename*=UTF-8''{quote(name)}"
    )
    return Response(data, media_type=XLSX, headers={"Content-Disposition": disposition})
