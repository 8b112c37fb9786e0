"""Login by the one-time link the bot sends on `登录` in a DM, and logout.

GET shows a button and spends nothing: chat apps fetch links for previews, and a
preview must not use up the link. The button's POST spends it and sets the
session cookie (HttpOnly, SameSite=Lax, Secure over https)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from bot.throttle import Bucket
from desk.access import LoginRefused
from web import texts
from web.core import COOKIE, PREFIX, DeskDep, DeskRoute, FormStaffDep, message_page, page

router = APIRouter(route_class=DeskRoute)


class LoginAttempts:
    """Failed login attempts per client address: a token bucket each (bot.throttle.Bucket)."""

    PRUNE_ABOVE = 10_000

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.buckets: dict[str, Bucket] = {}

    def blocked(self, client: str, now: float | None = None) -> bool:
        """Too many failed attempts from this address lately."""
        bucket = self.buckets.get(client)
        now = time.monotonic() if now is None else now
        return bucket is not None and bucket.earliest(now) > now

    def failed(self, client: str, now: float | None = None) -> None:
        """Charge a failed attempt (a working link costs nothing)."""
        now = time.monotonic() if now is None else now
        if len(self.buckets) > self.PRUNE_ABOVE:
            self.buckets = {k: b for k, b in self.buckets.items() if not b.idle(now)}
        bucket = self.buckets.setdefault(client, Bucket(self.per_minute / 60.0, self.per_minute))
        bucket.commit(max(now, bucket.earliest(now)))


class Login:
    """This process's login settings (web.install sets them from WebConfig)."""

    attempts = LoginAttempts(10)
    session_hours = 12


@router.get("/login/{token}", name="login_form")
async def login_form(request: Request, token: str) -> Response:
    return page(request, "login.html", None, token=token[:200])


@router.post("/login", name="login")
async def login(
    request: Request, desk: DeskDep, token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    client = request.client.host if request.client else "?"
    if Login.attempts.blocked(client):
        return message_page(request, 429, texts.LOGIN_TITLE, texts.LOGIN_THROTTLED)
    try:
        opened = await desk.redeem_login_link(token, Login.session_hours)
    except LoginRefused as exc:
        Login.attempts.failed(client)
        message = f"{texts.LOGIN_REFUSED[exc.reason]}{texts.LOGIN_AGAIN}"
        return message_page(request, 400, texts.LOGIN_TITLE, message)
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    response.set_cookie(
        COOKIE, opened.token, max_age=Login.session_hours * 3600, path=PREFIX, httponly=True,
        samesite="lax", secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


@router.post("/logout", name="logout")
async def logout(request: Request, desk: DeskDep, staff: FormStaffDep) -> Response:
    await desk.end_web_session(request.cookies.get(COOKIE, ""))
    response = message_page(request, 200, texts.LOGGED_OUT_TITLE, texts.LOGGED_OUT)
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="lax")
    return response
