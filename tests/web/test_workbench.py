"""工作台: the consultant's day with one-click steps on each row. Each step changes
the lead as the chat's word does; a refused step changes nothing and says why."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from nonebug import App

from desk import SYSTEM, Desk, LeadDetail
from tests.support.chat import ask
from tests.support.nonebot_env import CONSULTANT_QQ, private_event
from tests.support.web import Browser

TZ = ZoneInfo("Asia/Shanghai")  # the desk's zone in the tests (DESK_START is 11-27 10:00)
HTMX = {"HX-Request": "true"}


async def new_lead(desk: Desk, name: str = "张先生", phone: str = "13800138000") -> int:
    """A lead from a group, assigned to 王顾问 (the one on duty)."""
    return (
        await desk.capture(channel="qq_group:123456", qq_id="30001", name=name, phone=phone)
    ).lead.id


async def state(desk: Desk, lead_id: int) -> LeadDetail:
    return await desk.lead(SYSTEM, lead_id)


def step(lead_id: int, name: str) -> str:
    return f"/desk/leads/{lead_id}/steps/{name}"


async def test_each_row_has_its_steps(consultant: Browser, desk: Desk):
    lead_id = await new_lead(desk)
    home = await consultant.get("/desk/")
    assert home.status_code == 200
    assert f'id="lead-{lead_id}"' in home.text and "待首次联系" in home.text
    # One click on the row: 到店 (a new lead has nothing to confirm); the steps that
    # need input open the row (a link without JS, the row fetched by htmx).
    assert 'data-action="visit"' in home.text and 'data-action="confirm"' not in home.text
    assert f'href="/desk/?open={lead_id}#lead-{lead_id}"' in home.text
    assert 'data-action="follow_up"' not in home.text
    assert "<script>" not in home.text.split("<main>")[1]  # the CSP allows no inline script
    opened = await consultant.get(f"/desk/?open={lead_id}")
    row = await consultant.get(f"/desk/rows/{lead_id}", headers=HTMX)
    for page in (opened, row):
        for action in ("follow_up", "invite", "visit", "defeat"):
            assert f'data-action="{action}"' in page.text
    assert row.text.lstrip().startswith(f'<li id="lead-{lead_id}"') and "价格" in row.text


async def test_a_row_of_anothers_lead_is_refused(other_consultant: Browser, desk: Desk):
    lead_id = await new_lead(desk)
    response = await other_consultant.get(f"/desk/rows/{lead_id}", headers=HTMX)
    assert response.status_code == 403 and "张先生" not in response.text


async def test_a_follow_up_without_js_reloads_with_a_flash(consultant: Browser, desk: Desk):
    lead_id = await new_lead(desk)
    response = await consultant.post(step(lead_id, "follow_up"), {
        "result": "客户在比价", "level": "a", "next_at": "2026-11-30T10:00",
        "purchase_at": "2026-12-20", "back": "home",
    })  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == f"/desk/?done=follow_up&lead={lead_id}"
    detail = await state(desk, lead_id)
    lead = detail.lead
    assert (lead.stage, lead.level) == ("following", "A")
    assert lead.next_follow_up_at == datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
    assert lead.expected_purchase_at == datetime(2026, 12, 20, 9, 0, tzinfo=TZ)
    assert lead.first_contacted_at is not None
    last = detail.timeline[-1]
    assert (last.action, last.note, last.actor) == ("follow_up", "客户在比价", "member:1")
    home = await consultant.get(response.headers["location"])
    assert f"#{lead_id} 已记录跟进" in home.text
    assert "待首次联系" not in home.text  # contacted: off today's first contacts


async def test_a_follow_up_by_htmx_rerenders_the_row(consultant: Browser, desk: Desk):
    lead_id = await new_lead(desk)
    response = await consultant.post(
        step(lead_id, "follow_up"),
        {"result": "聊过了", "next_at": "2026-11-30T10:00"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<li id="lead-{lead_id}"')
    assert "<html" not in response.text
    assert f"#{lead_id} 已记录跟进，下次跟进 11-30 周一 10:00" in response.text
    assert "跟进中" in response.text


async def test_the_whole_way_from_invite_to_deal(consultant: Browser, desk: Desk):
    lead_id = await new_lead(desk)
    invited = await consultant.post(step(lead_id, "invite"), {"visit_at": "2026-11-28T15:00"})
    assert invited.status_code == 303
    lead = (await state(desk, lead_id)).lead
    assert lead.stage == "invited"
    assert lead.expected_visit_at == datetime(2026, 11, 28, 15, 0, tzinfo=TZ)
    for name, stage in (
        ("confirm", "confirmed"),
        ("visit", "visited"),
        ("order", "ordered"),
        ("deal", "won"),
    ):
        response = await consultant.post(step(lead_id, name), {"note": f"{name} ok"})
        assert response.status_code == 303, (name, response.text)
        assert (await state(desk, lead_id)).lead.stage == stage, name
    actions = [e.action for e in (await state(desk, lead_id)).timeline]
    assert actions[-5:] == ["invite", "confirm", "visit", "order", "deal"]


async def test_no_show_goes_back_to_following(consultant: Browser, desk: Desk):
    lead_id = await new_lead(desk)
    await consultant.post(step(lead_id, "invite"), {"visit_at": "2026-11-28T15:00"})
    response = await consultant.post(step(lead_id, "no_show"), {"back": "detail"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/desk/leads/{lead_id}?done=no_show&lead={lead_id}"
    lead = (await state(desk, lead_id)).lead
    assert lead.stage == "following" and lead.expected_visit_at is None


async def test_a_defeat_request_takes_a_reason_from_the_taxonomy(consultant: Browser, desk: Desk):
    lead_id = await new_lead(desk)
    response = await consultant.post(
        step(lead_id, "defeat"), {"reason": "价格", "detail": "客户嫌贵"}
    )
    assert response.status_code == 303
    lead = (await state(desk, lead_id)).lead
    assert lead.stage == "defeat_requested"
    assert (lead.defeat_reason, lead.defeat_category) == (
        "价格 客户嫌贵",
        "价格",
    )  # as `战败 1 价格 客户嫌贵`


@pytest.mark.parametrize(
    ("name", "form", "words"),
    [
        ("defeat", {"reason": "", "detail": "就是不买"}, "请从列表中选择战败原因"),
        ("defeat", {"reason": "看心情"}, "请从列表中选择战败原因"),
        ("invite", {"visit_at": "2026-11-26T15:00"}, "到店时间填写有误：时间已经过去了"),
        ("invite", {"visit_at": ""}, "到店时间填写有误：不能为空"),
        ("follow_up", {"result": "聊过了", "level": "Z"}, "级别只能是 H/A/B/C"),
        ("follow_up", {"result": "  "}, "跟进结果填写有误：不能为空"),
        ("follow_up", {"result": "聊过了", "next_at": "下周"}, "时间格式不对"),
        ("confirm", {}, "新线索的线索不能确认到店"),
    ],
)
async def test_bad_input_says_why_and_changes_nothing(
    consultant: Browser, desk: Desk, name: str, form: dict, words: str
):
    lead_id = await new_lead(desk)
    before = await state(desk, lead_id)
    response = await consultant.post(step(lead_id, name), form)
    assert response.status_code in (400, 409)
    assert words in response.text
    assert await state(desk, lead_id) == before


async def test_a_refused_step_by_htmx_shows_in_the_row(consultant: Browser, desk: Desk):
    lead_id = await new_lead(desk)
    response = await consultant.post(
        step(lead_id, "follow_up"), {"result": "x", "level": "Z"}, headers=HTMX
    )
    assert response.status_code == 400 and response.headers["x-desk-fragment"] == "1"
    assert f'<li id="lead-{lead_id}"' in response.text and "级别只能是" in response.text


async def test_a_consultant_cannot_step_on_anothers_lead(
    other_consultant: Browser, manager: Browser, desk: Desk
):
    lead_id = await new_lead(desk)
    before = await state(desk, lead_id)
    for name, form in (("follow_up", {"result": "抢单"}), ("defeat", {"reason": "价格"})):
        response = await other_consultant.post(step(lead_id, name), form)
        assert response.status_code == 403 and "没有权限" in response.text
        refused = await other_consultant.post(step(lead_id, name), form, headers=HTMX)
        assert refused.status_code == 403
    assert await state(desk, lead_id) == before
    # A manager acts on any lead, recorded as themselves.
    assert (
        await manager.post(step(lead_id, "follow_up"), {"result": "经理回访"})
    ).status_code == 303
    assert (await state(desk, lead_id)).timeline[-1].actor == "member:3"


async def test_a_step_without_the_csrf_token_is_refused(consultant: Browser, desk: Desk):
    lead_id = await new_lead(desk)
    before = await state(desk, lead_id)
    forged = await consultant.client.post(step(lead_id, "follow_up"), data={"result": "x"})
    assert forged.status_code == 403 and "刷新" in forged.text
    wrong = await consultant.client.post(
        step(lead_id, "follow_up"), data={"result": "x", "csrf": "guess"}, headers=HTMX
    )
    assert wrong.status_code == 403
    assert await state(desk, lead_id) == before


async def test_unknown_steps_and_leads_are_not_found(consultant: Browser, desk: Desk):
    lead_id = await new_lead(desk)
    assert (await consultant.post(step(lead_id, "delete"), {})).status_code == 404
    missing = await consultant.post(step(999, "follow_up"), {"result": "x"})
    assert missing.status_code == 404 and "找不到" in missing.text


# Fields a step sets; the chat's word and the web's form must leave them alike.
STEP_FIELDS = (
    "stage", "level", "next_follow_up_at", "expected_visit_at", "expected_purchase_at",
    "defeat_reason", "defeat_category", "visit_count",
)  # fmt: skip


@pytest.mark.parametrize(
    ("chat", "name", "form"),
    [
        ("跟进 {id} 客户在比价 级别 A 下次 11月30日上午10点", "follow_up",
         {"result": "客户在比价", "level": "A", "next_at": "2026-11-30T10:00"}),
        ("邀约 {id} 明天下午3点", "invite", {"visit_at": "2026-11-28T15:00"}),
        ("到店 {id} 看了车", "visit", {"note": "看了车"}),
        ("战败 {id} 价格 客户嫌贵", "defeat", {"reason": "价格", "detail": "客户嫌贵"}),
    ],
)  # fmt: skip
async def test_a_step_changes_the_lead_as_the_chat_word_does(
    app: App, consultant: Browser, desk: Desk, chat: str, name: str, form: dict
):
    by_chat = await new_lead(desk, "张先生", "13800138000")
    by_web = (await desk.capture(channel="walk_in", name="李女士", phone="13900139000")).lead.id
    await ask(app, private_event(chat.format(id=by_chat), user_id=CONSULTANT_QQ))
    assert (await consultant.post(step(by_web, name), form)).status_code == 303
    chat_lead, web_lead = (await state(desk, by_chat)).lead, (await state(desk, by_web)).lead
    assert chat_lead.stage != "new"  # the chat's word did something
    for f in STEP_FIELDS:
        assert getattr(web_lead, f) == getattr(chat_lead, f), f
