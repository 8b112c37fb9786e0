"""导入 through the browser: the manager uploads a GBK lead export on the real bot,
sees the preview, confirms, and the progress bar ends on the report; the new
leads' consultant gets one summary DM in QQ."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.browser.conftest import DeskWeb
from tests.e2e.conftest import CONSULTANT_QQ, MANAGER_QQ, wait_for_dm
from web import texts

ROWS = 40
CSV = (
    "姓名,手机号,意向车型,线索创建时间,备用字段\r\n"
    + "".join(f"客户{i},1390013{i:04d},雅阁,2026-11-20 10:00,x\r\n" for i in range(ROWS))
    + "无号码,12345,思域,2026-11-20 10:00,y\r\n"
)


async def test_an_upload_is_previewed_confirmed_and_followed_to_the_report(
    desk_web: DeskWeb,
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
    assert "13900130000" not in await manager.content()

    mark = desk_web.qq.mark()
    await preview.get_by_role("button", name=texts.IMPORT_CONFIRM).click()
    # The progress fragment polls until the job ends, then the page becomes the report.
    report = manager.locator(".import-report")
    await expect(report).to_contain_text(texts.IMPORT_REPORT_TITLE, timeout=30_000)
    await expect(report.locator('[data-outcome="created"] td')).to_have_text(str(ROWS))
    await expect(report.locator(".per-consultant")).to_contain_text("王顾问")
    async with manager.expect_download() as download:
        await report.get_by_role("link", name=texts.IMPORT_ERRORS).click()
    assert (await download.value).suggested_filename == texts.IMPORT_ERRORS_FILE

    # One summary DM for the whole import, not one per lead.
    summary = await wait_for_dm(desk_web.qq, CONSULTANT_QQ, "导入", after=mark)
    assert str(ROWS) in summary, summary
