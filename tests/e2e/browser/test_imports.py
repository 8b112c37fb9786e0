"""导入 through the browser: the manager uploads a GBK lead export on the real bot,
sees the preview, confirms, and the progress bar ends on the report; the new
leads' consultant gets one summary DM in QQ."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from bot.sim import OneBotClient
from tests.e2e.browser.conftest import DeskWeb, desk_bot, screenshot
from tests.e2e.conftest import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    BotProcess,
    connected,
    status_for_claimed_length,
    wait_for_dm,
)
from web import texts


@pytest.fixture(scope="module")
def web_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """A bot of this module's own: its thousands of imported leads must not reach the
    other browser tests' 工作台 and 报表."""
    with desk_bot(tmp_path_factory, "import") as bot:
        yield bot


@pytest.fixture(scope="module")
async def web_qq(web_bot: BotProcess) -> AsyncIterator[OneBotClient]:
    async with connected(web_bot) as client:
        yield client


ROWS = 2500  # enough that the import takes a moment: the progress bar is seen
CSV = (
    "姓名,手机号,意向车型,线索创建时间,备用字段\r\n"
    + "".join(f"客户{i},139001{i:05d},雅阁,2026-11-20 10:00,x\r\n" for i in range(ROWS))
    + "无号码,12345,思域,2026-11-20 10:00,y\r\n"
)


async def test_an_upload_is_previewed_confirmed_and_followed_to_the_report(
    desk_web: DeskWeb, tmp_path: Path
) -> None:
    manager = await desk_web.log_in(MANAGER_QQ)
    await manager.get_by_role("link", name=texts.IMPORT_TITLE).click()
    await expect(manager).to_have_url(desk_web.url("/imports"))

    form = manager.locator("form[data-action=upload-import]")
    await form.locator("select[name=kind]").select_option("leads")
    await form.locator("select[name=source]").select_option("autohome")
    await form.locator("input[name=file]").set_input_files(
        files=[{"name": "汽车之家线索.csv", "mimeType": "text/csv", "buffer": CSV.encode("gbk")}]
    )
    await form.get_by_role("button", name=texts.IMPORT_UPLOAD).click()

    # The dry run: headers (the unknown one highlighted), counts, masked phones.
    preview = manager.locator(".import-preview")
    await expect(preview).to_contain_text(texts.IMPORT_PREVIEW_TITLE)
    await expect(manager.locator(".import-headers tr.unknown")).to_contain_text("备用字段")
    await expect(preview.locator('[data-outcome="created"] td')).to_have_text(str(ROWS))
    await expect(preview.locator('[data-outcome="rejected"] td')).to_have_text("1")
    await expect(manager.locator(".import-rows")).to_contain_text("139****0000")
    assert "13900100000" not in await manager.content()
    await screenshot(manager, tmp_path / "import-preview.png")

    mark = desk_web.qq.mark()
    await preview.get_by_role("button", name=texts.IMPORT_CONFIRM).click()
    # The progress fragment polls until the job ends, then the page becomes the report.
    await expect(manager.locator("#import-progress progress")).to_be_visible()
    await expect(manager.locator("#import-progress")).to_contain_text(texts.IMPORT_RUNNING)
    report = manager.locator(".import-report")
    await expect(report).to_contain_text(texts.IMPORT_REPORT_TITLE, timeout=30_000)
    await expect(report.locator('[data-outcome="created"] td')).to_have_text(str(ROWS))
    await expect(report.locator(".per-consultant")).to_contain_text("王顾问")  # up to the cap
    await expect(report).to_contain_text(texts.IMPORT_UNASSIGNED.format(count=ROWS - 300))
    await screenshot(manager, tmp_path / "import-report.png")
    async with manager.expect_download() as download:
        await report.get_by_role("link", name=texts.IMPORT_ERRORS).click()
    assert (await download.value).suggested_filename == texts.IMPORT_ERRORS_FILE

    # One summary DM for the whole import, not one per lead.
    summary = await wait_for_dm(desk_web.qq, CONSULTANT_QQ, "导入", after=mark)
    assert "汽车之家" in summary, summary


async def test_the_upload_route_alone_takes_a_body_over_the_bots_limit(desk_web: DeskWeb) -> None:
    """HTTP_MAX_BODY_BYTES (1 MiB) holds everywhere else; the upload takes up to
    WEB_IMPORT_MAX_BYTES (20 MiB), and a larger declared body is refused unread.
    (Announced, never sent: a refusal needs none of it.)"""
    mib = 1024 * 1024
    other = await status_for_claimed_length(desk_web.bot, "/desk/roster/add", 2 * mib)
    assert other.startswith(b"HTTP/1.1 413"), other
    upload = await status_for_claimed_length(desk_web.bot, "/desk/imports/upload", 2 * mib)
    assert upload.startswith(b"HTTP/1.1 401"), upload  # through the limit: a login is wanted
    huge = await status_for_claimed_length(desk_web.bot, "/desk/imports/upload", 30 * mib)
    assert huge.startswith(b"HTTP/1.1 413"), huge
