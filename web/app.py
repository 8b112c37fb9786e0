"""Mounts the web desk on the bot's FastAPI app (bot.app calls it at start)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from web.config import WebConfig
from web.core import PREFIX
from web.pages import defeats, events, home, login, referrals, reports, roster

STATIC = Path(__file__).parent / "static"
PAGES = (login, home, defeats, reports, roster, referrals, events)


def install_web_desk(app: FastAPI, config: WebConfig) -> None:
    """Mount the pages and the static files under /desk on the bot's app."""
    login.Login.attempts = login.LoginAttempts(config.web_login_attempts_per_minute)
    login.Login.session_hours = config.web_session_hours
    if any(getattr(r, "path", "") == f"{PREFIX}/" for r in app.routes):
        return  # mounted already (tests share one app)
    router = APIRouter(prefix=PREFIX)
    for module in PAGES:
        router.include_router(module.router)
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="desk-static")
