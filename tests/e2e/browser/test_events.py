"""活动 in the browser: an event made and signed up for in a QQ group; the manager
ticks who came and downloads the sign-up sheet."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from openpyxl import load_workbook
from playwright.async_api import expect

from bot.sim import OneBotClient, is_group_send
from tests.e2e.browser.conftest import DeskWeb
from tests.e2e.conftest import MANAGER_QQ, message_text
from web import texts

GROUP = 556005
OWNERS = {32001: "小李", 32002: "阿强"}


async def in_group(qq: OneBotClient, user_id: int, text: str, *expect: str) -> str:
    """`user_id` says `text` in GROUP; the bot's group post containing `expect`."""
    mark = qq.mark()
    await qq.send_group_message(GROUP, user_id, text)
    call = await qq.wait_for_call(
        None,
        lambda c: is_group_send(c, GROUP) and all(e in message_text(c) for e in expect),
        15.0,
        after=mark,
    )
    return message_text(call)


async def test_attendance_ticked_and_the_sheet_exported(desk_web: DeskWeb, tmp_path: Path) -> None:
    qq = desk_web.qq
    qq.add_member(GROUP, MANAGER_QQ, "张经理", role="admin")
    for user, name in OWNERS.items():
        qq.add_member(GROUP, user, name)
    # Today at 17:00: attendance is marked on the event's day (the bot's day starts
    # at about noon, tests.e2e.conftest.midday_timezone).
    created = await in_group(qq, MANAGER_QQ, "发起活动 试驾会 今天下午5点 店里 5人", "已发起活动 #")
    found = re.search(r"已发起活动 #(\d+)「试驾会」", created)
    assert found, created
    event = int(found.group(1))
    for user in OWNERS:
        await in_group(qq, user, f"报名 {event}", f"已报名活动 #{event}「试驾会」")

    page = await desk_web.log_in(MANAGER_QQ)
    await page.locator("nav").get_by_role("link", name=texts.EVENTS_TITLE, exact=True).click()
    await page.get_by_role("link", name=f"#{event} 试驾会", exact=True).click()
    await expect(page).to_have_url(desk_web.url(f"/events/{event}"))
    li, qiang = (page.locator("table.signups tr", has_text=name) for name in OWNERS.values())
    await li.get_by_role("checkbox").check()
    await page.locator("#mark-attended").click()

    await expect(page.locator(".flash")).to_have_text(texts.ATTENDED.format(count=1))
    await expect(li.get_by_role("checkbox")).to_be_checked()
    await expect(li.get_by_role("checkbox")).to_be_disabled()  # marked: stays so
    await expect(li).to_contain_text("已到场")
    await expect(qiang.get_by_role("checkbox")).not_to_be_checked()
    await expect(qiang.get_by_role("checkbox")).to_be_enabled()

    async with page.expect_download() as info:
        await page.locator("#export").click()
    download = await info.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert saved.suffix == ".xlsx", saved
    book = await asyncio.to_thread(load_workbook, saved)
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert str(rows[0][0]).startswith(f"#{event} 试驾会"), rows[0]
    people = {r[1]: (str(r[2]), r[5]) for r in rows[2:]}
    assert people == {"小李": ("32001", "已到场"), "阿强": ("32002", "已报名")}, rows

    # The chat counts the same attendance.
    stats = await in_group(qq, MANAGER_QQ, f"活动统计 {event}", f"活动 #{event}「试驾会」统计")
    assert "到场：1人（1组）" in stats.splitlines(), stats
