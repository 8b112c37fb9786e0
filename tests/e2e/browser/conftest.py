"""The web desk in a real browser: headless Chromium (Debian's, driven by
Playwright through pytest-playwright-asyncio) against the real bot process, logged in
through the one-time link the bot DMs over the real OneBot v11 WebSocket.

    async def test_x(desk_web: DeskWeb, tmp_path: Path) -> None:
        page = await desk_web.log_in(CONSULTANT_QQ)   # 登录 in a DM, open the link, press the button

One bot with the e2e roster (a consultant, a manager) and one QQ client serve the
whole package (each test uses leads of its own); each log_in opens a fresh browser
context (its own cookies). Whatever a test checks, every page it opened must
have thrown no script error, broken no CSP rule and loaded every asset (checked
when the test ends). The async Playwright API: pytest-asyncio runs every
test in the session loop, where Playwright's sync API refuses to run.

The browser is Debian's `chromium` (Playwright's own download cannot work offline):
DESK_TEST_CHROMIUM names another executable. Without one the tests are skipped
with the reason, unless DESK_TEST_CHROMIUM or CI=true says it must be there
(.ci/run installs the package and sets it). Screenshots the tests keep go to
their tmp_path; pytest-playwright's own options add more where wanted, e.g.
`--screenshot only-on-failure --output DIR` (the failing page) or `--tracing
retain-on-failure` (a trace for `playwright show-trace`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, ConsoleMessage, Page, Response, expect

from bot.formatting import WEEKDAYS
from bot.sim import OneBotClient
from tests.e2e.conftest import (
    BotProcess,
    connected,
    desk_env,
    midday_timezone,
    running_bot,
    wait_for_dm,
    write_desk_config,
)
from web import texts

# Chromium's own background services (updates, safe browsing, sync, QUIC probes)
# try the internet: on a closed network their failures break the browser's
# start; the sandbox needs user namespaces a container may not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LINK = re.compile(r"https?://\S+/desk/login/[A-Za-z0-9_-]+")
PNG = b"\x89PNG\r\n\x1a\n"


def chromium() -> str:
    """The Chromium executable; skips (or fails where it is required) when there is none."""
    named = os.environ.get("DESK_TEST_CHROMIUM", "")
    path = shutil.which(named or "chromium") or ""
    if path:
        return path
    reason = (
        f"no Chromium at {named or 'chromium on PATH'}: apt-get install chromium "
        "(or DESK_TEST_CHROMIUM=/path/to/chromium) for the browser tests"
    )
    if named or os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options (--headed, --slowmo) with Debian's Chromium."""
    return {**browser_type_launch_args, "executable_path": chromium(), "args": CHROMIUM_ARGS}


@contextlib.contextmanager
def desk_bot(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[BotProcess]:
    """A desk bot with the e2e roster, its config and data in folders of its own."""
    env = desk_env(write_desk_config(tmp_path_factory.mktemp(f"{name}-config")), midday_timezone())
    with running_bot(tmp_path_factory.mktemp(f"{name}-bot"), env) as bot:
        yield bot


@pytest.fixture(scope="package")
def web_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """One desk bot (the e2e roster) for every browser test."""
    with desk_bot(tmp_path_factory, "web") as bot:
        yield bot


@pytest.fixture(scope="package")
async def web_qq(web_bot: BotProcess) -> AsyncIterator[OneBotClient]:
    """The one QQ account on `web_bot` (the outbox delivers through whichever is connected)."""
    async with connected(web_bot) as client:
        yield client


@dataclass
class DeskWeb:
    """The bot, its QQ client, and fresh browsers on its web desk."""

    bot: BotProcess
    qq: OneBotClient
    new_context: Any  # pytest-playwright's new_context factory
    errors: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.bot.port}"

    def url(self, path: str) -> str:
        return f"{self.base}/desk{path}"

    async def login_link(self, qq_id: int) -> str:
        """Send 登录 to the bot as `qq_id` in a DM; the link in its reply."""
        mark = self.qq.mark()
        await self.qq.send_private_message(qq_id, "登录")
        dm = await wait_for_dm(self.qq, qq_id, "/desk/login/", after=mark)
        match = LINK.search(dm)
        assert match, dm
        assert match.group(0).startswith(self.base), dm  # the bot's own HOST:PORT
        return match.group(0)

    async def new_page(self, **context_args: Any) -> Page:
        """A page in a browser context of its own (no cookies); `context_args` as
        Playwright's new_context takes them (a phone's viewport, say)."""
        context: BrowserContext = await self.new_context(
            locale="zh-CN", accept_downloads=True, **context_args
        )
        context.set_default_timeout(10_000)  # a page answers in well under a second
        page = await context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))
        page.on("response", self._response)
        page.on("requestfailed", lambda r: self.errors.append(f"{r.url}: {r.failure}"))
        return page

    # What no page may do, whatever the test looks at: throw, break the CSP, miss an
    # asset. (A refused page's own status is what the test asserts, not an error;
    # Chromium asks every site for /favicon.ico.)
    def _console(self, page: Page, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"{page.url}: {message.text}")

    def _response(self, response: Response) -> None:
        request = response.request
        if response.status >= 400 and request.resource_type != "document":
            if not response.url.endswith("/favicon.ico"):
                self.errors.append(f"{response.url}: {response.status}")

    async def open_link(self, page: Page, link: str) -> None:
        """Open a login link and press its button, as a person does."""
        await page.goto(link)
        await page.locator("#login").click()

    async def log_in(self, qq_id: int, **context_args: Any) -> Page:
        """A fresh browser logged in as the roster member `qq_id`, on 工作台."""
        page = await self.new_page(**context_args)
        await self.open_link(page, await self.login_link(qq_id))
        await expect(page).to_have_url(self.url("/"))
        await expect(page.locator("h1")).to_contain_text(texts.HOME_TITLE)
        return page


@pytest.fixture
async def desk_web(
    web_bot: BotProcess, web_qq: OneBotClient, new_context: Any
) -> AsyncIterator[DeskWeb]:
    web = DeskWeb(web_bot, web_qq, new_context)
    yield web
    assert not web.errors, "the pages had errors:\n" + "\n".join(web.errors)


def day(d: date) -> str:
    """A day as the chat and the pages show it (bot.formatting.when, without the time)."""
    return f"{d:%m-%d} 周{WEEKDAYS[d.weekday()]}"


# The desk's own CJK font (desk.css's @font-face), once the page's fonts settled.
DESK_FONT_LOADED = """async () => {
  await document.fonts.ready;
  return [...document.fonts].some(f => f.family.replace(/"/g, "") === "DeskCJK" && f.status === "loaded");
}"""


async def screenshot(page: Page, path: Path) -> Path:
    """A full-page screenshot kept as the test's artifact; checked to be a real PNG
    with the Chinese drawn in the desk's own font (a machine without a CJK font of
    its own, like this one, would show boxes otherwise)."""
    assert await page.evaluate(DESK_FONT_LOADED), f"the desk's font did not load on {page.url}"
    data = await page.screenshot(path=path, full_page=True)
    assert data.startswith(PNG) and len(data) > 1000, path
    assert await asyncio.to_thread(path.read_bytes) == data, path
    return path
