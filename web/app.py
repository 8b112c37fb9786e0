"""Mounts the web desk on the bot's FastAPI app (bot.app calls it at start)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from bot.charts import font_path
from web.config import WebConfig
from web.core import PREFIX
from web.import_jobs import JOBS
from web.pages import (
    defeats,
    events,
    home,
    imports,
    leads,
    login,
    referrals,
    reports,
    roster,
    steps,
)

STATIC = Path(__file__).parent / "static"
PAGES = (login, home, steps, leads, defeats, reports, roster, referrals, events, imports)
# The one route whose body may be larger than HTTP_MAX_BODY_BYTES (bot.transport.BodyLimit).
IMPORT_UPLOAD_PATH = f"{PREFIX}{imports.UPLOAD_PATH}"


FONT_URL = f"{PREFIX}/font/NotoSansSC-Regular.otf"
FONT_CACHE = "public, max-age=2592000, immutable"  # 8 MB: a browser fetches it once


async def serve_font() -> FileResponse:
    """The CJK font the charts use (bot.charts.font_path: from PyPI, SIL OFL 1.1), so
    a PC or phone with no Chinese font of its own shows the desk in Chinese."""
    return FileResponse(font_path(), media_type="font/otf", headers={"Cache-Control": FONT_CACHE})


def install_web_desk(app: FastAPI, config: WebConfig) -> None:
    """Mount the pages and the static files under /desk on the bot's app."""
    login.Login.attempts = login.LoginAttempts(config.web_login_attempts_per_minute)
    login.Login.session_hours = config.web_session_hours
    JOBS.max_bytes, JOBS.folder = config.web_import_max_bytes, config.web_import_dir
    if any(getattr(r, "path", "") == f"{PREFIX}/" for r in app.routes):
        return  # mounted already (tests share one app)
    router = APIRouter(prefix=PREFIX)
    for module in PAGES:
        router.include_router(module.router)
    router.add_api_route(FONT_URL.removeprefix(PREFIX), serve_font, methods=["GET"])
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="desk-static")


def body_limits(config: WebConfig) -> dict[str, int]:
    """The web desk's routes allowed a body over the bot's HTTP_MAX_BODY_BYTES."""
    return {IMPORT_UPLOAD_PATH: config.web_import_max_bytes + imports.FORM_OVERHEAD}
