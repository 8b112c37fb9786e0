"""战败 through the browser: the consultant applies on 工作台, the manager approves
in 战败审核; each hears of it in QQ as with the chat's words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from tests.e2e.browser.conftest import DeskWeb, day
from tests.e2e.conftest import CONSULTANT_QQ, MANAGER_QQ, ask_in_group, command, wait_for_dm
from web import texts

GROUP = 556003


async def test_a_defeat_applied_on_the_workbench_is_approved_by_the_manager(
    desk_web: DeskWeb,
) -> None:
    qq = desk_web.qq
    lead, _ = await ask_in_group(qq, 31003, "落地价还能再优惠吗", group=GROUP, nickname="小周")

    consultant = await desk_web.log_in(CONSULTANT_QQ)
    row = consultant.locator(f"#lead-{lead}")
    await row.get_by_role("link", name=texts.OPEN_STEPS).click()
    form = row.locator("form[data-action=defeat]")
    await form.locator("select[name=reason]").select_option("竞品")
    await form.locator("input[name=detail]").fill("买了别家")
    mark = qq.mark()
    await form.get_by_role("button", name=texts.STEP_LABELS["defeat"]).click()
    await expect(consultant.locator(f"#lead-{lead} .flash")).to_contain_text(
        f"#{lead} {texts.STEP_DONE['defeat']}"
    )
    review = await wait_for_dm(qq, MANAGER_QQ, f"【战败审核 #{lead}】", after=mark)
    assert "原因：竞品 买了别家" in review, review

    manager = await desk_web.log_in(MANAGER_QQ)
    await manager.get_by_role("link", name=texts.DEFEATS_TITLE).click()
    await expect(manager).to_have_url(desk_web.url("/defeats"))
    card = manager.locator(f"#defeat-{lead}")
    await expect(card).to_contain_text("王顾问")
    await expect(card.locator(".reason")).to_have_text("竞品 买了别家")

    revisit = (datetime.now(UTC) + timedelta(days=40)).date()
    approve = card.locator("form[data-action=approve]")
    await approve.locator("input[name=revisit]").fill(revisit.isoformat())
    await approve.locator("input[name=note]").fill("价格谈不拢")
    mark = qq.mark()
    await approve.get_by_role("button", name=texts.DEFEAT_APPROVE).click()

    # Done: said on the page (revisit at the working day's start: 00:00 in the e2e
    # config), gone from the queue, and the consultant is told in QQ.
    flash = texts.DEFEAT_APPROVED.format(lead_id=lead, due=f"{day(revisit)} 00:00")
    await expect(manager.locator(".flash")).to_have_text(flash)
    await expect(manager.locator(f"#defeat-{lead}")).to_have_count(0)
    told = await wait_for_dm(qq, CONSULTANT_QQ, f"【战败已批准 #{lead}】", after=mark)
    assert "回访" in told, told
    detail = await command(qq, MANAGER_QQ, f"线索 {lead}", f"#{lead}", "—— 记录 ——")
    assert detail.splitlines()[1].startswith("战败 · F级"), detail
    assert "战败批准" in detail.split("—— 记录 ——")[1], detail
