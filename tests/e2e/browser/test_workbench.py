"""工作台 in the browser: the consultant acts on the day's leads in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from tests.e2e.browser.conftest import DeskWeb, day
from tests.e2e.conftest import CONSULTANT_QQ, ask_in_group, command
from web import texts

GROUP = 556002


async def test_a_follow_up_recorded_on_the_workbench(desk_web: DeskWeb) -> None:
    lead, _ = await ask_in_group(
        desk_web.qq, 31002, "这款车有现车吗？", group=GROUP, nickname="老赵"
    )
    page = await desk_web.log_in(CONSULTANT_QQ)
    first = page.locator("section.tasks", has_text="待首次联系")
    row = first.locator(f"#lead-{lead}")
    await expect(row).to_contain_text("老赵")

    next_day = (datetime.now(UTC) + timedelta(days=3)).date()  # a future day in any zone
    await row.get_by_role("link", name=texts.OPEN_STEPS).click()
    form = row.locator("form[data-action=follow_up]")
    await form.locator("input[name=result]").fill("客户在比价，周末再聊")
    await form.locator("select[name=level]").select_option("A")
    await form.locator("input[name=next_at]").fill(f"{next_day.isoformat()}T10:00")
    purchase_day = next_day + timedelta(days=30)
    await form.locator("input[name=purchase_at]").fill(purchase_day.isoformat())
    await form.get_by_role("button", name=texts.STEP_LABELS["follow_up"]).click()

    # The row is answered in place: done, with the new level and the next time.
    row = page.locator(f"#lead-{lead}")
    await expect(row.locator(".flash")).to_contain_text(f"#{lead} {texts.STEP_DONE['follow_up']}")
    await expect(row.locator(".level")).to_have_text("A")

    # Reloaded, the lead no longer waits for a first contact.
    await page.reload()
    await expect(page.locator("h1")).to_contain_text(texts.HOME_TITLE)
    await expect(page.locator(f"#lead-{lead}")).to_have_count(0)

    # The chat sees the same lead: level A, the times as entered in the dealer's zone
    # (a purchase date alone is the start of that working day: 00:00 in the e2e config).
    detail = await command(desk_web.qq, CONSULTANT_QQ, f"线索 {lead}", f"#{lead}", "—— 记录 ——")
    assert "· A级 ·" in detail.splitlines()[1], detail
    assert f"下次跟进 {day(next_day)} 10:00" in detail, detail
    assert f"预计购车 {day(purchase_day)} 00:00" in detail, detail
    assert "客户在比价，周末再聊" in detail.split("—— 记录 ——")[1], detail
