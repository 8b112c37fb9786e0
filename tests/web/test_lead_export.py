"""线索 → 导出 Excel: the list's filters as a real .xlsx; a manager's file has the
phones, a consultant's only their own leads and no phones whatever the URL asks;
no login, no file."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from desk import SYSTEM, Desk
from tests.support.web import Browser

WANG, LI = 1, 2  # the roster's consultants (tests/support/nonebot_env.py)


async def _leads(desk: Desk) -> dict[str, int]:
    made = {}
    for key, name, phone, channel, consultant in (
        ("zhang", "张先生", "13800138001", "autohome", WANG),
        ("evil", "@SUM(1+1)", "13800138002", "walk_in", WANG),
        ("zhao", "赵总", "13800138003", "walk_in", LI),
    ):
        lead = (await desk.capture(channel=channel, name=name, phone=phone)).lead
        if lead.consultant_id != consultant:
            await desk.assign(SYSTEM, lead.id, consultant)
        made[key] = lead.id
    return made


async def rows(browser: Browser, query: str = "") -> list[dict[str, object]]:
    response = await browser.get(f"/desk/leads/export.xlsx{query}")
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet is not None
    header, *body = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in body]


async def test_a_manager_exports_every_lead_with_phones(desk: Desk, manager: Browser) -> None:
    ids = await _leads(desk)
    got = {r["编号"]: r for r in await rows(manager)}
    assert set(got) == set(ids.values())
    assert got[ids["zhang"]]["手机号"] == "13800138001"
    assert got[ids["zhao"]]["顾问"] == "李顾问"
    assert got[ids["evil"]]["姓名"] == "'@SUM(1+1)"  # text, never a formula


async def test_the_list_filters_apply(desk: Desk, manager: Browser) -> None:
    ids = await _leads(desk)
    assert [r["编号"] for r in await rows(manager, "?channel=autohome")] == [ids["zhang"]]
    got = await rows(manager, f"?consultant={LI}")
    assert [r["编号"] for r in got] == [ids["zhao"]]
    page = await manager.get("/desk/leads?channel=autohome")
    assert "/desk/leads/export.xlsx?channel=autohome" in page.text  # the button keeps them


async def test_a_consultant_gets_own_leads_without_phones(
    desk: Desk, other_consultant: Browser
) -> None:
    ids = await _leads(desk)
    for query in ("", f"?consultant={WANG}"):  # asking for another's leads changes nothing
        got = await rows(other_consultant, query)
        assert [r["编号"] for r in got] == [ids["zhao"]]
        assert "手机号" not in got[0] and "13800138003" not in repr(got)


async def test_no_login_no_file_and_a_bad_filter_is_a_page(desk: Desk, browser, manager) -> None:
    await _leads(desk)
    anonymous = await browser()
    assert (await anonymous.get("/desk/leads/export.xlsx")).status_code == 401
    assert (await manager.get("/desk/leads/export.xlsx?stage=nope")).status_code == 400
