"""The web desk as a browser would use it, over ASGI (no socket): a client per
person, logged in through a one-time link as the bot would send it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import nonebot
import pytest
from fastapi import FastAPI

from desk import Desk
from web.app import install_web_desk
from web.config import WebConfig
from web.core import COOKIE

BASE = "http://desk.test"
LINK = re.compile(r"/desk/login/([A-Za-z0-9_-]+)")


@dataclass
class Browser:
    """One person's browser: cookies kept; `post` sends this session's CSRF token."""

    client: httpx.AsyncClient
    csrf: str = ""

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.get(url, **kw)

    async def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return await self.client.post(url, data={**(data or {}), "csrf": self.csrf}, **kw)

    async def open_link(self, token: str) -> httpx.Response:
        """Open the link's page, then press its button (as a person would)."""
        form = await self.client.get(f"/desk/login/{token}")
        assert form.status_code == 200, form.text
        return await self.client.post("/desk/login", data={"token": token})


@pytest.fixture(scope="session")
def web_app(bot_plugins: set[str]) -> FastAPI:
    app = nonebot.get_app()
    assert isinstance(app, FastAPI)
    install_web_desk(app, WebConfig())
    return app


@pytest.fixture
async def browser(web_app: FastAPI) -> AsyncIterator[Callable[[], Awaitable[Browser]]]:
    """A factory of fresh browsers (each with its own cookies)."""
    clients: list[httpx.AsyncClient] = []

    async def make() -> Browser:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url=BASE)
        clients.append(client)
        return Browser(client)

    yield make
    for client in clients:
        await client.aclose()


async def logged_in(make: Callable[[], Awaitable[Browser]], desk: Desk, qq_id: int) -> Browser:
    """A browser with a session of the roster member `qq_id` (the link issued by the desk)."""
    member = await desk.member_by(qq_id=str(qq_id))
    assert member is not None, qq_id
    browser = await make()
    response = await browser.open_link(await desk.issue_login_link(member.id))
    assert response.status_code == 303, response.text
    session = await desk.web_session(browser.client.cookies[COOKIE])
    assert session is not None
    browser.csrf = session.csrf
    return browser
