"""线索: the list with its filters and search, the board by stage, a lead's detail
with the whole timeline, its edits and 重新分配. A consultant sees and touches only
their own leads; every manager action shows in the timeline under their name."""

from __future__ import annotations

import re

import httpx
import pytest

from desk import SYSTEM, Desk, FrozenClock
from tests.support.web import Browser

WANG, LI = 1, 2  # the roster's consultants (tests/support/nonebot_env.py)


async def lead_of(desk: Desk, name: str, phone: str, *, channel: str = "qq_group:123456",
                  consultant: int = WANG) -> int:  # fmt: skip
    lead = (await desk.capture(channel=channel, name=name, phone=phone)).lead
    if consultant != lead.consultant_id:
        await desk.assign(SYSTEM, lead.id, consultant)
    return lead.id


def ids(response: httpx.Response) -> set[int]:
    """The leads a list or board shows (each row is `lead-<id>`)."""
    assert response.status_code == 200, response.text
    return {int(i) for i in re.findall(r'id="lead-(\d+)"', response.text)}


@pytest.fixture
async def three(desk: Desk) -> tuple[int, int, int]:
    """张 (王顾问's, in following, level A), 李 (王顾问's, new, walk-in), 赵 (李顾问's)."""
    zhang = await lead_of(desk, "张先生", "13800138001")
    await desk.follow_up(SYSTEM, zhang, "聊过了", level="A")
    li = await lead_of(desk, "李女士", "13800138002", channel="walk_in")
    zhao = await lead_of(desk, "赵总", "13800138003", consultant=LI)
    return zhang, li, zhao


async def test_a_consultant_lists_only_their_own_leads(
    consultant: Browser, manager: Browser, three
):
    zhang, li, zhao = three
    mine = await consultant.get("/desk/leads")
    assert ids(mine) == {zhang, li}
    assert "13800138001" in mine.text and "13800138003" not in mine.text
    assert ids(await consultant.get(f"/desk/leads?consultant={LI}")) == {zhang, li}  # ignored
    assert ids(await manager.get("/desk/leads")) == {zhang, li, zhao}
    assert ids(await manager.get(f"/desk/leads?consultant={LI}")) == {zhao}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stage=following", {"zhang"}),
        ("level=A", {"zhang"}),
        ("channel=walk_in", {"li"}),
        ("reached=contacted", {"zhang"}),
        ("reached=leads", {"zhang", "li", "zhao"}),
        ("period=today", {"zhang", "li", "zhao"}),
        ("from=2026-11-27&to=2026-11-27", {"zhang", "li", "zhao"}),
        ("from=2026-11-28", set()),
        ("to=2026-11-26", set()),
    ],
)
async def test_filters(manager: Browser, three, query: str, expected: set[str]):
    by_name: dict[str, int] = dict(zip(("zhang", "li", "zhao"), three, strict=True))
    assert ids(await manager.get(f"/desk/leads?{query}")) == {by_name[n] for n in expected}


async def test_the_funnel_link_of_the_reports_page(
    manager: Browser, desk: Desk, desk_clock: FrozenClock, three
):
    zhang, _, _ = three
    now = desk_clock.now()
    desk_clock.advance(days=40)
    later = await lead_of(desk, "钱先生", "13800138004")
    await desk.follow_up(SYSTEM, later, "聊过了")
    desk_clock.set(now)  # back, within the manager's session
    november = await manager.get("/desk/leads?reached=contacted&from=2026-11-01&to=2026-11-30")
    assert ids(november) == {zhang}
    assert ids(
        await manager.get("/desk/leads?reached=contacted&from=2026-11-01&to=2027-01-31")
    ) == {zhang, later}


async def test_overdue_leads(consultant: Browser, desk: Desk, desk_clock: FrozenClock, three):
    zhang, li, _ = three
    assert ids(await consultant.get("/desk/leads?overdue=1")) == set()
    desk_clock.advance(hours=3)  # 李女士's first contact (2 working hours) is late now
    assert ids(await consultant.get("/desk/leads?overdue=1")) == {li}


async def test_search_by_name_phone_or_number_is_a_post(consultant: Browser, three):
    zhang, li, zhao = three
    page = await consultant.get("/desk/leads")
    assert re.search(r'<form id="filters"[^>]*method="post"', page.text)  # no phone in a URL
    assert ids(await consultant.post("/desk/leads", {"q": "张"})) == {zhang}
    assert ids(await consultant.post("/desk/leads", {"q": "138 0013 8002"})) == {li}
    assert ids(await consultant.post("/desk/leads", {"q": f"#{zhang}"})) == {zhang}
    assert ids(await consultant.post("/desk/leads", {"q": "赵"})) == set()  # not theirs
    assert ids(await consultant.post("/desk/leads", {"q": "13800138003"})) == set()
    refused = await consultant.client.post("/desk/leads", data={"q": "张"})
    assert refused.status_code == 403  # no CSRF token


async def test_bad_filters_say_why(manager: Browser, three):
    for query, words in (
        ("stage=won2", "阶段"),
        ("from=2026-13-01", "日期格式不对"),
        ("level=Z", "级别"),
    ):
        response = await manager.get(f"/desk/leads?{query}")
        assert (
            response.status_code == 400
            and "筛选条件不对" in response.text
            and words in response.text
        )
    short = await manager.post("/desk/leads", {"q": "1380"})
    assert short.status_code == 400 and "手机号" in short.text


async def test_paging(manager: Browser, desk: Desk):
    for i in range(55):
        await desk.capture(channel="walk_in", name=f"客户{i}", phone=f"139{i:08d}")
    first = await manager.get("/desk/leads")
    assert len(ids(first)) == 50 and "共 55 条" in first.text and "第 1 / 2 页" in first.text
    second = await manager.post("/desk/leads", {"page": "2"})
    assert len(ids(second)) == 5 and not ids(first) & ids(second)


async def test_the_board_counts_each_stage(consultant: Browser, manager: Browser, three):
    zhang, li, zhao = three
    board = await manager.get("/desk/leads/board")
    assert ids(board) == {zhang, li, zhao}
    column = re.search(r'id="stage-new".*?<span class="count">(\d+)</span>', board.text, re.S)
    assert column and column.group(1) == "2"
    mine = await consultant.get("/desk/leads/board?channel=walk_in")
    assert ids(mine) == {li}
    assert re.search(r'id="stage-following".*?<span class="count">0</span>', mine.text, re.S)


async def test_the_detail_shows_the_timeline_with_names(consultant: Browser, desk: Desk, three):
    zhang, _, _ = three
    await desk.follow_up((await desk.member_by(qq_id="10001")).actor(), zhang, "客户要试驾")  # type: ignore[union-attr]
    page = await consultant.get(f"/desk/leads/{zhang}")
    assert page.status_code == 200
    assert "张先生" in page.text and "13800138001" in page.text
    assert "客户要试驾" in page.text and "王顾问" in page.text and "member:" not in page.text
    assert "阶段 新线索 → 跟进中" in page.text and "系统" in page.text
    assert 'data-action="follow_up"' in page.text and 'data-action="assign"' not in page.text


async def test_another_consultants_lead_is_refused(other_consultant: Browser, desk: Desk, three):
    zhang, _, _ = three
    before = await desk.lead(SYSTEM, zhang)
    page = await other_consultant.get(f"/desk/leads/{zhang}")
    assert page.status_code == 403 and "13800138001" not in page.text
    edit = await other_consultant.post(f"/desk/leads/{zhang}/edit", {"car_model": "抢来的"})
    assert edit.status_code == 403
    assign = await other_consultant.post(f"/desk/leads/{zhang}/assign", {"member_id": str(LI)})
    assert assign.status_code == 403
    assert await desk.lead(SYSTEM, zhang) == before
    assert (await other_consultant.get("/desk/leads/99999")).status_code == 404


async def test_a_consultant_edits_their_lead(consultant: Browser, desk: Desk, three):
    zhang, _, _ = three
    response = await consultant.post(f"/desk/leads/{zhang}/edit", {
        "name": "张先生", "phone": "13800138001", "car_model": "Model Y", "budget": "30万",
        "expected_purchase_at": "2026-12-20",
    })  # fmt: skip
    assert response.status_code == 303
    page = await consultant.get(response.headers["location"])
    assert "已保存修改" in page.text and "Model Y" in page.text
    assert "修改资料" in page.text and "意向车型 — → Model Y" in page.text
    lead = (await desk.lead(SYSTEM, zhang)).lead
    assert (lead.car_model, lead.budget, lead.phone) == ("Model Y", "30万", "13800138001")
    # The same form again (the date unchanged, not re-sent as a time): no new entry.
    before = await desk.lead(SYSTEM, zhang)
    again = await consultant.post(f"/desk/leads/{zhang}/edit", {
        "name": "张先生", "phone": "13800138001", "car_model": "Model Y", "budget": "30万",
        "expected_purchase_at": "2026-12-20",
    })  # fmt: skip
    assert again.status_code == 303 and await desk.lead(SYSTEM, zhang) == before
    bad = await consultant.post(
        f"/desk/leads/{zhang}/edit", {"phone": "13800138002", "car_model": "X"}
    )
    assert bad.status_code == 400 and "另一条线索" in bad.text
    assert await desk.lead(SYSTEM, zhang) == before


async def test_a_manager_reassigns_and_the_timeline_says_who(
    manager: Browser, consultant: Browser, desk: Desk, three
):
    zhang, _, _ = three
    page = await manager.get(f"/desk/leads/{zhang}")
    assert 'data-action="assign"' in page.text
    response = await manager.post(
        f"/desk/leads/{zhang}/assign", {"member_id": str(LI), "note": "李顾问熟悉这款车"}
    )
    assert response.status_code == 303
    assert (await desk.lead(SYSTEM, zhang)).lead.consultant_id == LI
    detail = await manager.get(response.headers["location"])
    row = re.search(r"<tr>\s*<td>[^<]*</td>\s*<td class=\"actor\">([^<]*)</td>\s*<td class=\"action\">([^<]*)</td>"
                    r"\s*<td class=\"changes\">(.*?)</td>\s*<td class=\"note\">([^<]*)</td>", detail.text, re.S)  # fmt: skip
    assert row, detail.text
    assert row.group(1, 2) == ("周经理", "分配")
    assert "顾问 王顾问 → 李顾问" in row.group(3) and row.group(4) == "李顾问熟悉这款车"
    # 王顾问 no longer sees it.
    assert (await consultant.get(f"/desk/leads/{zhang}")).status_code == 403


async def test_a_manager_edit_is_in_the_timeline_under_their_name(
    manager: Browser, desk: Desk, three
):
    zhang, _, _ = three
    assert (
        await manager.post(f"/desk/leads/{zhang}/edit", {"name": "张总", "phone": "13800138001"})
    ).status_code == 303
    detail = await desk.lead(SYSTEM, zhang)
    assert (detail.timeline[-1].action, detail.timeline[-1].actor) == ("edit", "member:3")
    page = await manager.get(f"/desk/leads/{zhang}")
    assert re.search(r'class="actor">周经理</td>\s*<td class="action">修改资料', page.text)


async def test_reassign_is_for_managers_and_needs_a_consultant(
    consultant: Browser, manager: Browser, three
):
    zhang, _, _ = three
    refused = await consultant.post(f"/desk/leads/{zhang}/assign", {"member_id": str(LI)})
    assert refused.status_code == 403 and "只有经理" in refused.text
    assert (await manager.post(f"/desk/leads/{zhang}/assign", {"member_id": ""})).status_code == 400
    assert (
        await manager.post(f"/desk/leads/{zhang}/assign", {"member_id": "999"})
    ).status_code == 404


async def test_a_managers_defeat_review_is_in_the_timeline_under_their_name(
    consultant: Browser, desk: Desk, three
):
    zhang, _, _ = three
    await consultant.post(f"/desk/leads/{zhang}/steps/defeat", {"reason": "竞品", "detail": "买了别家"})
    manager = await desk.member_by(qq_id="90002")
    assert manager is not None
    await desk.review_defeat(manager.actor(), zhang, approve=True)
    page = await consultant.get(f"/desk/leads/{zhang}")
    assert re.search(r'class="actor">周经理</td>\s*<td class="action">战败批准', page.text)
    assert re.search(r'class="actor">王顾问</td>\s*<td class="action">申请战败', page.text)
    assert "竞品 买了别家" in page.text
