"""What every web desk page shares: the session, the roles, CSRF, rendering and
the one place that turns a desk error into a Chinese page.

A page module declares `router = APIRouter(route_class=DeskRoute)` and its
routes take `staff: StaffDep` (any logged-in staff), `manager: ManagerDep` or,
for every POST, `staff: FormStaffDep` / `manager: FormManagerDep` (CSRF checked).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import DBAPIError

from bot.desk_runtime import get_desk
from bot.formatting import ACTION_NAMES, when
from desk import Actor, Desk, MemberView
from desk.errors import (
    DeskError,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    LeadNotFound,
    MemberNotFound,
)
from desk.phone import mask_phones_in_text
from desk.views import STAGE_NAMES
from web import texts

log = logging.getLogger(__name__)

PREFIX = "/desk"
COOKIE = "desk_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
TEMPLATES = Path(__file__).parent / "templates"

# Pages are the app's own: no inline script, no other origin (the showroom LAN may
# have no internet, and a customer's text rendered in a page must never run).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # a login link never leaks through Referer
    "Cache-Control": "no-store",
}

templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals.update(texts=texts, STAGE_NAMES=STAGE_NAMES, PREFIX=PREFIX)
templates.filters["local"] = lambda at, tz: when(at, tz) if at is not None and tz else ""
templates.filters["masked"] = mask_phones_in_text  # text from a file or a customer


class NotLoggedIn(Exception):
    """No live session: the login-needed page."""


class CsrfRefused(Exception):
    """A form without this session's CSRF token."""


class PageError(Exception):
    """A refusal the page states in words, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Staff:
    """The logged-in roster member of this request."""

    member: MemberView
    csrf: str

    @property
    def actor(self) -> Actor:
        return self.member.actor()

    @property
    def is_manager(self) -> bool:
        return self.member.role == "manager"


def page(
    request: Request, template: str, staff: Staff | None = None, status: int = 200,
    **context: Any,
) -> HTMLResponse:  # fmt: skip
    """Render a template with what the frame needs (who, the CSRF token, the nav)."""
    body = templates.get_template(template).render(
        request=request, staff=staff, csrf=staff.csrf if staff else "", tz=_tz(), **context
    )
    return HTMLResponse(body, status_code=status)


def _tz() -> Any:
    try:
        return get_desk().settings.tz
    except RuntimeError:
        return None


def message_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return page(request, "message.html", None, status, title=title, message=message)


def refusal(exc: Exception) -> tuple[int, str] | None:
    """The HTTP status and Chinese words of a refusal a route may raise on purpose
    (a page or a fragment states them); None for a real bug."""
    if isinstance(exc, PageError):
        return exc.status, exc.message
    if isinstance(exc, LeadNotFound | MemberNotFound):
        return 404, texts.NOT_FOUND
    if isinstance(exc, Forbidden):
        return 403, texts.FORBIDDEN
    if isinstance(exc, InvalidInput):
        field = texts.FIELD_NAMES.get(exc.field)
        if field:
            return 400, texts.BAD_FIELD.format(field=field, message=exc.message)
        return 400, texts.BAD_INPUT.format(message=exc.message)
    if isinstance(exc, InvalidTransition):
        stage = STAGE_NAMES.get(exc.stage, exc.stage)
        action = ACTION_NAMES.get(exc.action, exc.action)
        return 409, texts.CONFLICT.format(stage=stage, action=action)
    if isinstance(exc, DeskError):
        return 400, str(exc)
    return None


def _error_response(request: Request, exc: Exception) -> Response | None:
    """The page for an error a route may raise on purpose; None for a real bug."""
    if isinstance(exc, NotLoggedIn):
        return message_page(request, 401, texts.LOGIN_NEEDED_TITLE, texts.LOGIN_NEEDED)
    if isinstance(exc, CsrfRefused):
        return message_page(request, 403, texts.ERROR_TITLE, texts.CSRF_REFUSED)
    refused = refusal(exc)
    if refused is not None:
        return message_page(request, refused[0], texts.ERROR_TITLE, refused[1])
    if isinstance(exc, DBAPIError | OSError):
        log.warning("web desk: database busy on %s: %s", request.url.path, _masked(exc))
        return message_page(request, 503, texts.ERROR_TITLE, texts.BUSY)
    return None


def _masked(exc: Exception) -> str:
    return mask_phones_in_text(str(exc)[:300]).replace("<", r"\<")


def form_time(desk: Desk, raw: str) -> datetime | None:
    """A `datetime-local` or `date` input's value in the desk's zone (a date alone is
    the start of that working day, as the chat reads "12月20日"); None when empty."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        if "T" in raw:
            at = datetime.fromisoformat(raw)
            if at.tzinfo is not None:
                raise ValueError(raw)
            return at.replace(tzinfo=desk.settings.tz)
        day = date.fromisoformat(raw)
    except ValueError:
        raise PageError(400, texts.BAD_TIME) from None
    return desk.calendar.at_local(day, desk.calendar.start)


class DeskRoute(APIRoute):
    """Every web desk route: errors become pages, and the security headers are set."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                response = _error_response(request, exc)
                if response is None:
                    raise
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return route


# -- dependencies -------------------------------------------------------------------


def desk_dep() -> Desk:
    return get_desk()


DeskDep = Annotated[Desk, Depends(desk_dep)]


async def current_staff(request: Request, desk: DeskDep) -> Staff:
    token = request.cookies.get(COOKIE)
    session = await desk.web_session(token) if token else None
    if session is None:
        raise NotLoggedIn()
    return Staff(session.member, session.csrf)


StaffDep = Annotated[Staff, Depends(current_staff)]


async def current_manager(staff: StaffDep) -> Staff:
    if not staff.is_manager:
        raise PageError(403, texts.MANAGER_ONLY)
    return staff


ManagerDep = Annotated[Staff, Depends(current_manager)]


async def _sent_csrf(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def form_staff(request: Request, staff: StaffDep) -> Staff:
    """The staff of a POST whose CSRF token matches the session's."""
    if not hmac.compare_digest((await _sent_csrf(request)).encode(), staff.csrf.encode()):
        raise CsrfRefused()
    return staff


FormStaffDep = Annotated[Staff, Depends(form_staff)]


async def form_manager(staff: FormStaffDep) -> Staff:
    return await current_manager(staff)


FormManagerDep = Annotated[Staff, Depends(form_manager)]
