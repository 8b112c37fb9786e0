"""报表 in the browser: the funnel is drawn (Chart.js on a canvas), and a click on a
stage's bar opens the lead list of the leads that reached it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import expect

from tests.e2e.browser.conftest import DeskWeb, screenshot
from tests.e2e.conftest import CONSULTANT_QQ, MANAGER_QQ, ask_in_group, command
from web import texts

GROUP = 556004
CONTACTED = 1  # the funnel's bars: leads, contacted, invited, visited, ordered, won

# What the canvas holds: its size, and how many pixels something was drawn on.
PAINTED = """canvas => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  return [canvas.width, canvas.height, painted];
}"""
# Where a bar is, in the canvas's CSS pixels (Chart.js's own layout of it).
BAR_MIDDLE = """(canvas, index) => {
  const bar = Chart.getChart(canvas).getDatasetMeta(0).data[index];
  return {x: (bar.x + bar.base) / 2, y: bar.y};
}"""


async def test_the_funnel_is_drawn_and_a_stage_opens_its_leads(
    desk_web: DeskWeb, tmp_path: Path
) -> None:
    qq = desk_web.qq
    called, _ = await ask_in_group(qq, 31004, "这车落地价多少？", group=GROUP, nickname="阿明")
    waiting, _ = await ask_in_group(qq, 31005, "现在买有什么优惠吗？", group=GROUP, nickname="阿华")
    await command(qq, CONSULTANT_QQ, f"跟进 {called} 问了落地价 级别 B", f"已记录 #{called} 跟进")

    page = await desk_web.log_in(MANAGER_QQ)
    await page.locator("nav").get_by_role("link", name=texts.REPORTS_TITLE, exact=True).click()
    await expect(page).to_have_url(desk_web.url("/reports"))
    funnel = page.locator("section#funnel")
    canvas = funnel.locator("canvas")
    await expect(canvas).to_have_attribute("data-drawn", "1")  # desk.js made the chart
    width, height, painted = await canvas.evaluate(PAINTED)
    assert width > 0 and height > 0 and painted > 500, (width, height, painted)
    # Its Chinese labels are drawn in the desk's own font, loaded before drawing
    # (the machine has no CJK font: anything else would be boxes).
    family = await page.evaluate("Chart.defaults.font.family")
    assert "DeskCJK" in family, family
    assert await page.evaluate("""document.fonts.check('12px "DeskCJK"', '线索')""")
    await screenshot(page, tmp_path / "reports.png")

    # The table beside the chart: how many leads reached 首次联系 this month.
    contacted_row = funnel.locator("tbody tr").nth(CONTACTED)
    await expect(contacted_row.locator("td").first).to_have_text(
        texts.FUNNEL_STAGE_NAMES["contacted"]
    )
    count = int(await contacted_row.locator("td").nth(1).inner_text())
    assert count >= 1

    await canvas.click(position=await canvas.evaluate(BAR_MIDDLE, CONTACTED))
    day = r"\d{4}-\d{2}-\d{2}"
    await expect(page).to_have_url(
        re.compile(re.escape(desk_web.url("/leads?reached=contacted")) + f"&from={day}&to={day}$")
    )
    # The list of those leads: as many as the funnel said, filtered to that stage.
    await expect(page.locator("select[name=reached]")).to_have_value("contacted")
    await expect(page.locator("h1 small")).to_have_text(texts.LEADS_TOTAL.format(total=count))
    await expect(page.locator(f"#lead-{called}")).to_contain_text("阿明")
    await expect(page.locator(f"#lead-{waiting}")).to_have_count(0)
