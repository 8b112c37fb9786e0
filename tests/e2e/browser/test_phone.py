"""The web desk on a phone: staff open the DM link on the phone that received it."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.e2e.browser.conftest import DeskWeb, screenshot
from tests.e2e.conftest import MANAGER_QQ, ask_in_group
from web import texts

GROUP = 556006
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# The page's own width against the screen's: wider means sideways scrolling
# (a wide table may scroll inside its own box, not the page).
WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


async def test_every_page_fits_a_phone_screen(desk_web: DeskWeb, tmp_path: Path) -> None:
    lead, _ = await ask_in_group(
        desk_web.qq, 31006, "这车最低多少钱？", group=GROUP, nickname="小吴"
    )
    page = await desk_web.log_in(MANAGER_QQ, **PHONE)  # a manager: every page

    for name, path, label, _manager_only in texts.NAV:
        await page.locator("nav").get_by_role("link", name=label, exact=True).click()
        await expect(page).to_have_url(desk_web.url(path))
        await expect(page.locator("h1")).to_be_visible()
        if name == "leads":  # with something in it
            await expect(page.locator(f"#lead-{lead}")).to_be_visible()
            await screenshot(page, tmp_path / "leads-phone.png")
        scroll_width, screen_width = await page.evaluate(WIDTHS)
        assert scroll_width <= screen_width, (path, scroll_width, screen_width)
