"""导入 on the web desk (manager): upload, the dry run's preview, confirm, the
progress, the report and the rejected rows' file; refusals change nothing."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from bot.settings import load_settings
from desk import SYSTEM, ConfigError, Desk
from tests.support.web import Browser, logged_in
from web import texts
from web.app import body_limits
from web.config import WebConfig
from web.import_jobs import JOBS

PHONES = ("13800138001", "13900139002", "13700137003")
# A 汽车之家-like export as GBK (what its back-end's CSV download is), one header
# no synonym knows, one row without a valid phone.
LEAD_CSV = (
    "姓名,手机号,城市,意向车型,线索创建时间,备用字段\r\n"
    f"张先生,{PHONES[0]},杭州,雅阁,2026-11-20 10:00,x\r\n"
    f"李女士,{PHONES[1]},宁波,思域,2026-11-21 11:30,y\r\n"
    "王先生,12345,温州,CR-V,2026-11-22 09:15,z\r\n"
    f"赵先生,{PHONES[2]},绍兴,雅阁,2026-11-22 14:00,\r\n"
)
LOCATION = re.compile(r"/desk/imports/([A-Za-z0-9_-]+)$")


@pytest.fixture(autouse=True)
def upload_dir(tmp_path: Path) -> Iterator[Path]:
    """Uploads in this test's own folder; no job outlives its test."""
    folder, limit, keep = JOBS.folder, JOBS.max_bytes, JOBS.keep
    JOBS.folder = str(tmp_path / "imports")
    yield tmp_path / "imports"
    JOBS.folder, JOBS.max_bytes, JOBS.keep = folder, limit, keep
    for job in list(JOBS.jobs.values()):
        if job.task is not None:
            job.task.cancel()
    JOBS.jobs.clear()


def private(path: Path) -> bool:
    """No access for the group or others."""
    return path.stat().st_mode & 0o077 == 0


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


async def upload(
    browser: Browser, content: bytes, name: str = "线索.csv", kind: str = "leads",
    source: str = "autohome", csrf: str | None = None,
) -> httpx.Response:  # fmt: skip
    data = {"kind": kind, "source": source, "csrf": browser.csrf if csrf is None else csrf}
    return await browser.client.post(
        "/desk/imports/upload", data=data, files={"file": (name, content, "text/csv")}
    )


async def previewed(browser: Browser, response: httpx.Response) -> tuple[str, str]:
    """The job the upload started, once its dry run ended: (its id, its page)."""
    assert response.status_code == 303, response.text
    match = LOCATION.search(response.headers["location"])
    assert match, response.headers["location"]
    job_id = match.group(1)
    task = JOBS.jobs[job_id].task
    assert task is not None
    await task
    page = await browser.get(f"/desk/imports/{job_id}")
    assert page.status_code == 200
    return job_id, page.text


async def imported(browser: Browser, job_id: str) -> str:
    confirm = await browser.post(f"/desk/imports/{job_id}/confirm")
    assert confirm.status_code == 303, confirm.text
    task = JOBS.jobs[job_id].task
    assert task is not None
    await task
    progress = await browser.get(f"/desk/imports/{job_id}/progress")
    assert progress.headers["HX-Redirect"] == f"/desk/imports/{job_id}"  # htmx stops polling
    return (await browser.get(f"/desk/imports/{job_id}")).text


async def test_consultants_are_refused_and_strangers_sent_to_log_in(
    consultant: Browser, browser, upload_dir: Path
):
    assert (await consultant.get("/desk/imports")).status_code == 403
    refused = await upload(consultant, LEAD_CSV.encode("gbk"))
    assert refused.status_code == 403 and texts.MANAGER_ONLY in refused.text
    assert "导入" not in (await consultant.get("/desk/")).text.split("<main>")[0]
    stranger = await browser()
    page = await stranger.get("/desk/imports")
    assert page.status_code == 401 and texts.LOGIN_NEEDED in page.text
    assert files_in(upload_dir) == []


async def test_an_upload_without_the_csrf_token_is_refused(manager: Browser, upload_dir: Path):
    refused = await upload(manager, LEAD_CSV.encode("gbk"), csrf="forged")
    assert refused.status_code == 403 and texts.CSRF_REFUSED in refused.text
    assert files_in(upload_dir) == [] and JOBS.jobs == {}


async def test_a_too_big_upload_is_refused_before_its_body_is_read(
    manager: Browser, upload_dir: Path
):
    JOBS.max_bytes = 64 * 1024
    read: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        read.append(b"x")
        yield b"x" * 1024

    refused = await manager.client.post(
        "/desk/imports/upload", content=body(),
        headers={"content-length": str(10 * 1024 * 1024), "content-type": "multipart/form-data; boundary=b",
                 "x-csrf-token": manager.csrf},
    )  # fmt: skip
    assert refused.status_code == 413
    assert "文件太大：最大 0.1 MB" in refused.text
    assert read == []  # not a byte of the body was asked for
    assert files_in(upload_dir) == []


async def test_a_file_over_the_limit_is_refused_as_it_is_copied(manager: Browser, upload_dir: Path):
    JOBS.max_bytes = 64 * 1024  # the form's framing may pass, the file itself may not
    big = ("姓名,手机号\r\n" + "张先生,13800138001\r\n" * 4000).encode()
    assert 64 * 1024 < len(big) < 2 * 64 * 1024
    refused = await upload(manager, big)
    assert refused.status_code == 413 and "文件太大：最大 0.1 MB" in refused.text
    assert files_in(upload_dir) == [] and JOBS.jobs == {}


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        ("线索.xls", b"\xd0\xcf\x11\xe0old excel", texts.IMPORT_BAD_TYPE),
        ("线索.txt", "姓名,手机号\n".encode(), texts.IMPORT_BAD_TYPE),
        ("线索.xlsx", "姓名,手机号\n".encode(), texts.IMPORT_BAD_TYPE),  # a CSV renamed
        ("线索.csv", b"", texts.IMPORT_EMPTY),
    ],
)
async def test_a_wrong_file_gets_a_chinese_line_and_nothing_is_kept(
    manager: Browser, upload_dir: Path, name: str, content: bytes, line: str
):
    refused = await upload(manager, content, name=name)
    assert refused.status_code == 400 and line in refused.text
    assert files_in(upload_dir) == [] and JOBS.jobs == {}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("线索.csv", b"\x00\xff\xfe" * 50 + bytes(range(256)) * 4),  # no text in any encoding
        ("线索.xlsx", b"PK\x03\x04" + b"\x00" * 200),  # a broken zip
        ("线索.csv", "备注,地址\n随便,杭州\n".encode()),  # no phone column
    ],
)
async def test_an_unreadable_file_gets_a_chinese_line(
    manager: Browser, upload_dir: Path, name: str, content: bytes
):
    refused = await upload(manager, content, name=name)
    assert refused.status_code == 400
    why = re.search(r"无法读取这个文件：(.*?)</p>", refused.text)
    assert why and re.search(r"[\u4e00-\u9fff]", why.group(1)), refused.text  # said in Chinese
    assert files_in(upload_dir) == [] and JOBS.jobs == {}


async def test_a_gbk_csv_is_previewed_and_the_preview_writes_nothing(
    manager: Browser, desk: Desk, upload_dir: Path
):
    job_id, page = await previewed(manager, await upload(manager, LEAD_CSV.encode("gbk")))
    assert texts.IMPORT_PREVIEW_TITLE in page
    assert "线索.csv" in page and "汽车之家" in page
    # headers: the known ones mapped, the unknown one highlighted
    assert '<tr class="unknown"><td>备用字段</td>' in page
    assert "<td>手机号</td><td>手机号</td>" in page
    # counts, the first rows with their outcome, phones masked
    created = re.search(r'data-outcome="created"><th>新建</th><td class="num">(\d+)', page)
    assert created and created.group(1) == "3", page
    rejected = re.search(r'data-outcome="rejected"><th>无法导入</th><td class="num">(\d+)', page)
    assert rejected and rejected.group(1) == "1"
    assert "138****8001" in page and PHONES[0] not in page
    assert 'data-line="4"' in page  # 王先生's row, rejected with its reason
    # nothing written: no lead, the file waits for 确认导入
    for phone in PHONES:
        assert await desk.find_lead(phone=phone) is None
    [kept] = files_in(upload_dir)  # under a random name, readable by the bot alone
    assert kept.suffix == ".csv" and "线索" not in kept.name
    assert private(kept) and private(upload_dir)
    assert texts.IMPORT_CONFIRM in page and texts.IMPORT_CANCEL in page


async def test_cancel_drops_the_upload(manager: Browser, desk: Desk, upload_dir: Path):
    job_id, _ = await previewed(manager, await upload(manager, LEAD_CSV.encode("gbk")))
    done = await manager.post(f"/desk/imports/{job_id}/cancel")
    assert done.status_code == 303
    assert texts.IMPORT_CANCELLED in (await manager.get(done.headers["location"])).text
    assert files_in(upload_dir) == []
    assert (await manager.get(f"/desk/imports/{job_id}")).status_code == 404
    assert await desk.find_lead(phone=PHONES[0]) is None


async def test_a_preview_left_unconfirmed_goes_with_its_file(manager: Browser, upload_dir: Path):
    JOBS.keep = 0.2
    job_id, _ = await previewed(manager, await upload(manager, LEAD_CSV.encode("gbk")))
    assert len(files_in(upload_dir)) == 1
    await asyncio.sleep(0.4)
    assert files_in(upload_dir) == []
    assert (await manager.get(f"/desk/imports/{job_id}")).status_code == 404


async def test_confirm_imports_and_ends_on_the_report(
    manager: Browser, desk: Desk, upload_dir: Path
):
    job_id, _ = await previewed(manager, await upload(manager, LEAD_CSV.encode("gbk")))
    report = await imported(manager, job_id)
    assert texts.IMPORT_REPORT_TITLE in report
    created = re.search(r'data-outcome="created"><th>新建</th><td class="num">(\d+)', report)
    assert created and created.group(1) == "3", report
    assert "王顾问" in report  # the on-duty consultant got the new leads
    for phone in PHONES:
        assert await desk.find_lead(phone=phone) is not None
    # the upload is gone once the job ended; the rejected rows' file stays
    assert [p.suffix for p in files_in(upload_dir)] == [".xlsx"]

    download = await manager.get(f"/desk/imports/{job_id}/errors.xlsx")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(download.content), read_only=True).active
    assert sheet is not None
    rows = [
        [str(c) if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert any("王先生" in row and "12345" in row for row in rows), rows

    # importing the same file again changes nothing
    job2, page2 = await previewed(manager, await upload(manager, LEAD_CSV.encode("gbk")))
    unchanged = re.search(r'data-outcome="unchanged"><th>已导入过</th><td class="num">(\d+)', page2)
    assert unchanged and unchanged.group(1) == "3", page2


async def test_a_job_is_its_managers_alone(browser, manager: Browser, desk: Desk):
    job_id, _ = await previewed(manager, await upload(manager, LEAD_CSV.encode("gbk")))
    await desk.add_member(SYSTEM, name="吴经理", qq_id="90003", role="manager")
    other = await logged_in(browser, desk, 90003)
    for path in ("", "/progress", "/errors.xlsx"):
        assert (await other.get(f"/desk/imports/{job_id}{path}")).status_code == 404
    assert (await other.post(f"/desk/imports/{job_id}/confirm")).status_code == 404
    assert await desk.find_lead(phone=PHONES[0]) is None


async def test_an_xlsx_upload_is_previewed(manager: Browser, upload_dir: Path):
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "手机号", "意向车型"])
    sheet.append(["钱女士", PHONES[0], "雅阁"])
    data = io.BytesIO()
    book.save(data)
    _, page = await previewed(manager, await upload(manager, data.getvalue(), name="易车.xlsx"))
    created = re.search(r'data-outcome="created"><th>新建</th><td class="num">(\d+)', page)
    assert created and created.group(1) == "1", page


OWNERS_CSV = (
    "姓名,手机号,QQ号,车型,车牌,购车日期\n"
    f"孙先生,{PHONES[0]},123456,雅阁,浙A12345,2024-05-01\n"
    "周女士,,,思域,浙B54321,2023-03-02\n"  # no phone, QQ or WeChat: refused
)


async def test_an_owner_list_is_previewed_then_imported(manager: Browser, desk: Desk):
    job_id, page = await previewed(
        manager,
        await upload(manager, OWNERS_CSV.encode("utf-8-sig"), name="车主.csv", kind="owners"),
    )
    assert "老车主" in page and "<td>车牌</td><td>车牌</td>" in page
    created = re.search(r'data-outcome="created"><th>新建</th><td class="num">(\d+)', page)
    assert created and created.group(1) == "1", page
    assert await desk.find_owner(phone=PHONES[0]) is None  # the preview wrote nothing
    report = await imported(manager, job_id)
    assert texts.IMPORT_REPORT_TITLE in report
    assert await desk.find_owner(phone=PHONES[0]) is not None
    download = await manager.get(f"/desk/imports/{job_id}/errors.xlsx")
    assert download.status_code == 200
    assert "周女士" in str(list(load_workbook(io.BytesIO(download.content)).active.values))  # pyright: ignore[reportOptionalMemberAccess]


@pytest.mark.parametrize("value", ["abc", "1000", str(500 * 1024 * 1024)])
def test_a_bad_upload_limit_stops_the_start(value: str):
    with pytest.raises(ConfigError, match="WEB_IMPORT_MAX_BYTES"):
        load_settings({}, {"WEB_IMPORT_MAX_BYTES": value})


def test_the_upload_route_alone_gets_the_upload_limit():
    limits = body_limits(WebConfig(web_import_max_bytes=5 * 1024 * 1024))
    assert list(limits) == ["/desk/imports/upload"]
    assert 5 * 1024 * 1024 < limits["/desk/imports/upload"] < 6 * 1024 * 1024
