"""Logging in to the web desk with the link the bot DMs on 登录."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from desk.access import LoginRefused
from tests.e2e.browser.conftest import DeskWeb, screenshot
from tests.e2e.conftest import CONSULTANT_QQ, ask_in_group
from web import texts

GROUP = 556001


async def test_the_dm_link_opens_the_workbench_once_until_logout(
    desk_web: DeskWeb, tmp_path: Path
) -> None:
    lead, _ = await ask_in_group(
        desk_web.qq, 31001, "这车现在什么价？", group=GROUP, nickname="小林"
    )
    link = await desk_web.login_link(CONSULTANT_QQ)

    page = await desk_web.new_page()
    await page.goto(link)
    await expect(page.locator("h1")).to_have_text(texts.LOGIN_TITLE)
    await page.locator("#login").click()
    await expect(page).to_have_url(desk_web.url("/"))
    # 工作台: who is logged in, and their day: the new lead waits for a first contact.
    await expect(page.locator("header .who")).to_contain_text("王顾问（顾问）")
    first = page.locator("section.tasks", has_text="待首次联系")
    await expect(first.locator("li", has_text=f"#{lead}")).to_contain_text("小林")
    await screenshot(page, tmp_path / "workbench.png")

    # The same link a second time (another browser): refused, and no session.
    again = await desk_web.new_page()
    await desk_web.open_link(again, link)
    await expect(again.locator("main")).to_contain_text(
        texts.LOGIN_REFUSED[LoginRefused.Reason.USED]
    )
    await again.goto(desk_web.url("/"))
    await expect(again.locator("main")).to_contain_text(texts.LOGIN_NEEDED)
    await expect(again.locator("header .who")).to_have_count(0)

    # 退出 ends the session: the first browser is asked to log in again.
    await page.locator("header .who").get_by_role("button", name=texts.LOGOUT).click()
    await expect(page.locator("main")).to_contain_text(texts.LOGGED_OUT)
    await page.goto(desk_web.url("/"))
    await expect(page.locator("main")).to_contain_text(texts.LOGIN_NEEDED)
