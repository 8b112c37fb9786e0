"""报表: the manager's figures (funnel with drop-off, groupings, ranking, times, 战败
reasons, daily report, owner-group side), a consultant's own figures only, clear
pages for a bad period, and the same tables as a real .xlsx."""

from __future__ import annotations

import html
import json
import re
from io import BytesIO

from openpyxl import load_workbook

from desk import Desk, FrozenClock
from tests.support.nonebot_env import DESK_START
from tests.support.web import Browser

FUNNEL_LINK = "/desk/leads?reached={stage}&from=2026-11-01&to=2026-11-30"


async def _story(desk: Desk) -> None:
    """Four leads this month: three for 王顾问 (one won, one lost), one for 李顾问."""
    wang = await desk.member_by(qq_id="10001")
    li = await desk.member_by(qq_id="10002")
    boss = await desk.member_by(qq_id="90002")
    assert wang and li and boss
    ids = []
    for i, channel in enumerate(["qq_group:777", "qq_group:777", "autohome", "autohome"]):
        group = channel.split(":")[1] if ":" in channel else None
        ids.append((await desk.capture(channel=channel, qq_id=f"5000{i}", group_id=group)).lead.id)
    await desk.assign(boss.actor(), ids[3], li.id)
    for lead_id in ids[:3]:
        await desk.follow_up(wang.actor(), lead_id, "已联系", level="A")
    await desk.follow_up(li.actor(), ids[3], "已联系", level="A")
    await desk.invite(wang.actor(), ids[0], DESK_START.replace(day=28))
    await desk.invite(li.actor(), ids[3], DESK_START.replace(day=28))
    await desk.record_visit(wang.actor(), ids[0], "到店")
    await desk.record_order(wang.actor(), ids[0], "下订")
    await desk.record_deal(wang.actor(), ids[0], "提车")
    await desk.request_defeat(wang.actor(), ids[1], "竞品 选了别家")
    await desk.review_defeat(boss.actor(), ids[1], True)


def _section(page: str, key: str) -> str:
    found = re.search(rf'<section class="card report[^"]*" id="{key}">(.*?)</section>', page, re.S)
    assert found, key
    return found.group(1)


def _cells(section: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in rows
        if "<td" in row
    ]


async def test_the_manager_sees_the_funnel_with_drop_off_and_links(
    desk: Desk, manager: Browser
) -> None:
    await _story(desk)
    response = await manager.get("/desk/reports?period=month&by=channel")
    assert response.status_code == 200
    page = html.unescape(response.text)
    funnel = _cells(_section(page, "funnel"))
    assert funnel == [
        ["线索", "4", "—", "—", "100.0%"],
        ["首次联系", "4", "100.0%", "0.0%", "100.0%"],
        ["邀约", "2", "50.0%", "50.0%", "50.0%"],
        ["到店", "1", "50.0%", "50.0%", "25.0%"],
        ["下订", "1", "100.0%", "0.0%", "25.0%"],
        ["成交", "1", "100.0%", "0.0%", "25.0%"],
    ]
    # the stage's number opens those leads in the 线索 list, as does a click on its bar
    assert f'<a href="{FUNNEL_LINK.format(stage="invited")}">2</a>' in page
    chart = json.loads(
        re.search(r'data-target="chart-funnel">(.*?)</script>', page, re.S).group(1)  # type: ignore[union-attr]
    )
    assert chart["options"]["indexAxis"] == "y"
    assert chart["data"]["datasets"][0]["data"] == [4, 4, 2, 1, 1, 1]
    assert chart["data"]["labels"][2] == "邀约（流失 50%）"
    assert chart["links"][2] == FUNNEL_LINK.format(stage="invited")
    assert '<canvas id="chart-funnel"' in page and "vendor/chart.umd.min.js" in page
    by_channel = {row[0]: row[1] for row in _cells(_section(page, "by"))}
    assert by_channel == {"QQ群": "2", "汽车之家": "2"}
    ranking = _cells(_section(page, "ranking"))
    assert [row[1] for row in ranking] == ["王顾问", "李顾问"]
    assert ranking[0][7:] == ["1", "1", "50.0%"]  # deals, 战败, win rate
    assert _cells(_section(page, "defeat-categories")) == [["竞品", "1"]]
    assert _cells(_section(page, "defeat-reasons")) == [["竞品", "竞品 选了别家", "1"]]
    for key in ("times", "daily", "groups", "events", "referrals", "referrers"):
        _section(page, key)
    assert "只显示你自己的" not in page


async def test_a_consultant_sees_own_figures_only(desk: Desk, other_consultant: Browser) -> None:
    await _story(desk)
    response = await other_consultant.get("/desk/reports?by=consultant")
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert "只显示你自己的线索数据" in page
    assert [row[1] for row in _cells(_section(page, "funnel"))] == ["1", "1", "1", "0", "0", "0"]
    assert [row[0] for row in _cells(_section(page, "by"))] == ["李顾问"]
    assert [row[1] for row in _cells(_section(page, "ranking"))] == ["李顾问"]
    assert "王顾问" not in page.split("</header>")[1]
    # the showroom's figures are the manager's
    for key in ("daily", "groups", "events", "referrals"):
        assert f'id="{key}"' not in page
    export = await other_consultant.get("/desk/reports/export.xlsx?by=consultant")
    book = load_workbook(BytesIO(export.content))
    assert [row[1] for row in book["销售漏斗"].iter_rows(min_row=3, values_only=True)] == [
        1, 1, 1, 0, 0, 0,
    ]  # fmt: skip
    assert "车主群活跃" not in book.sheetnames


async def test_a_bad_period_gets_a_clear_page(desk: Desk, manager: Browser) -> None:
    for query, words in (
        ("period=decade", "时间段只能是"),
        ("from=2026-13-01&to=2026-12-31", "日期格式"),
        ("from=2026-11-01", "同时填写"),
        ("from=2026-11-30&to=2026-11-01", "时间段不对"),
        ("by=color", "只能按"),
        ("period=" + "x" * 500, "输入有误"),
    ):
        for path in ("/desk/reports", "/desk/reports/export.xlsx"):
            response = await manager.get(f"{path}?{query}")
            assert response.status_code == 400, (query, response.text)
            assert words in response.text and "Traceback" not in response.text


async def test_a_custom_range(desk: Desk, manager: Browser, desk_clock: FrozenClock) -> None:
    await _story(desk)
    page = html.unescape((await manager.get("/desk/reports?from=2026-11-28&to=2026-12-03")).text)
    assert [row[1] for row in _cells(_section(page, "funnel"))] == ["0"] * 6
    assert "2026-11-28 ~ 2026-12-03" in page
    page = html.unescape((await manager.get("/desk/reports?from=2026-11-27&to=2026-11-27")).text)
    assert _cells(_section(page, "funnel"))[0][1] == "4"
    assert "/desk/leads?reached=leads&from=2026-11-27&to=2026-11-27" in page


async def test_the_export_is_a_real_workbook_with_the_page_numbers(
    desk: Desk, manager: Browser
) -> None:
    await _story(desk)
    response = await manager.get("/desk/reports/export.xlsx?period=month&by=consultant")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(BytesIO(response.content))
    assert {
        "销售漏斗",
        "按顾问",
        "顾问排名",
        "响应与成交周期",
        "战败原因（类别）",
        "车主群活跃",
    } <= set(book.sheetnames)
    page = html.unescape((await manager.get("/desk/reports?period=month&by=consultant")).text)
    funnel = book["销售漏斗"]
    assert [c.value for c in funnel[2]] == ["阶段", "数量", "较上一阶段转化率", "流失率", "占线索"]
    rows = list(funnel.iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1]) for r in rows] == [
        (r[0], int(r[1])) for r in _cells(_section(page, "funnel"))
    ]
    assert rows[2][2] == 0.5 and funnel["C5"].number_format == "0.0%"
    ranking = [r[:2] + r[7:9] for r in book["顾问排名"].iter_rows(min_row=3, values_only=True)]
    assert ranking == [(1, "王顾问", 1, 1), (2, "李顾问", 0, 0)]


async def test_the_page_needs_a_login(desk: Desk, browser) -> None:
    b = await browser()
    assert (await b.get("/desk/reports")).status_code == 401
    assert (await b.get("/desk/reports/export.xlsx")).status_code == 401


async def test_a_typed_reason_never_becomes_a_formula_in_the_export(
    desk: Desk, manager: Browser
) -> None:
    wang, boss = await desk.member_by(qq_id="10001"), await desk.member_by(qq_id="90002")
    assert wang and boss
    lead = (await desk.capture(channel="autohome", qq_id="60001")).lead
    await desk.request_defeat(wang.actor(), lead.id, '=HYPERLINK("http://x","点我")')
    await desk.review_defeat(boss.actor(), lead.id, True)
    export = await manager.get("/desk/reports/export.xlsx")
    sheet = load_workbook(BytesIO(export.content))["战败原因（明细，前 10）"]
    [row] = sheet.iter_rows(min_row=3, values_only=True)
    assert row[1] == '\'=HYPERLINK("http://x","点我")'


async def test_beyond_a_month_the_page_says_why_medians_are_empty(
    desk: Desk, manager: Browser
) -> None:
    await _story(desk)
    month = html.unescape((await manager.get("/desk/reports?period=month")).text)
    year = html.unescape((await manager.get("/desk/reports?period=year")).text)
    note = "中位数只对一个月以内的时间段计算"
    assert note not in _section(month, "times") and _cells(_section(month, "times"))[0][3] != "—"
    assert note in _section(year, "times") and _cells(_section(year, "times"))[0][3] == "—"
