"""战败审核 on the web desk: the manager's queue, approve with a revisit date or
reject with a note; the decision is the chat's (the consultant's 线索 shows it),
audited under the manager; consultants and forged forms change nothing."""

from __future__ import annotations

from nonebug import App

from desk import Desk, LeadView
from tests.support.chat import ask
from tests.support.nonebot_env import CONSULTANT_QQ, ROSTER_MANAGER_QQ, private_event
from tests.support.web import Browser


async def defeat_requested(desk: Desk, qq: str = "55555", name: str = "赵先生") -> LeadView:
    lead = (await desk.capture(channel="qq_group:777", qq_id=qq, name=name, message="多少钱")).lead
    consultant = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert consultant is not None and lead.consultant_id == consultant.id
    return await desk.request_defeat(consultant.actor(), lead.id, "竞品 买了别家的")


async def stage(desk: Desk, lead_id: int) -> str:
    manager = await desk.member_by(qq_id=str(ROSTER_MANAGER_QQ))
    assert manager is not None
    return (await desk.lead(manager.actor(), lead_id)).lead.stage


async def test_the_manager_sees_the_queue_and_approves_with_a_revisit_date(
    app: App, manager: Browser, desk: Desk
):
    lead = await defeat_requested(desk)
    queue = await manager.get("/desk/defeats")
    assert queue.status_code == 200
    text = queue.text
    assert f"#{lead.id} 赵先生" in text and "王顾问" in text and "竞品 买了别家的" in text
    assert 'data-action="approve"' in text and 'data-action="reject"' in text

    done = await manager.post(
        f"/desk/defeats/{lead.id}/approve", {"revisit": "2027-01-05", "note": "已买别家"}
    )
    assert done.status_code == 303
    page = await manager.get(done.headers["location"])
    assert f"已批准 #{lead.id} 战败，01-05 周二 09:00 回访" in page.text
    assert f"#{lead.id} 赵先生" not in page.text and "没有待审核" in page.text

    # What the chat shows: the consultant's 线索 has the approval, and it is the manager's.
    detail = await ask(app, private_event(f"线索 {lead.id}", user_id=CONSULTANT_QQ))
    assert "战败" in detail.splitlines()[1] and "战败批准 已买别家" in detail
    member = await desk.member_by(qq_id=str(ROSTER_MANAGER_QQ))
    assert member is not None
    [last] = (await desk.lead(member.actor(), lead.id)).timeline[-1:]
    assert (last.action, last.actor) == ("defeat_approved", f"member:{member.id}")
    assert {m.id: m.name for m in await desk.members()}[member.id] == "周经理"


async def test_rejecting_sends_the_lead_back_to_its_consultant(
    app: App, manager: Browser, desk: Desk
):
    lead = await defeat_requested(desk)
    done = await manager.post(f"/desk/defeats/{lead.id}/reject", {"note": "再约一次试驾"})
    assert done.status_code == 303
    assert "已驳回" in (await manager.get(done.headers["location"])).text
    assert await stage(desk, lead.id) == "following"
    detail = await ask(app, private_event(f"线索 {lead.id}", user_id=CONSULTANT_QQ))
    assert "战败驳回 再约一次试驾" in detail


async def test_a_consultant_is_refused_and_nothing_changes(consultant: Browser, desk: Desk):
    lead = await defeat_requested(desk)
    page = await consultant.get("/desk/defeats")
    assert page.status_code == 403 and "只有经理" in page.text
    approve = await consultant.post(f"/desk/defeats/{lead.id}/approve", {"revisit": "2027-01-05"})
    assert approve.status_code == 403
    assert (await consultant.post(f"/desk/defeats/{lead.id}/reject")).status_code == 403
    assert await stage(desk, lead.id) == "defeat_requested"


async def test_a_form_without_the_csrf_token_is_refused(manager: Browser, desk: Desk):
    lead = await defeat_requested(desk)
    forged = await manager.client.post(f"/desk/defeats/{lead.id}/approve", data={"revisit": ""})
    assert forged.status_code == 403 and "刷新" in forged.text
    assert await stage(desk, lead.id) == "defeat_requested"


async def test_bad_input_gets_a_chinese_page_and_changes_nothing(manager: Browser, desk: Desk):
    lead = await defeat_requested(desk)
    bad = await manager.post(f"/desk/defeats/{lead.id}/approve", {"revisit": "明年"})
    assert bad.status_code == 400 and "时间格式不对" in bad.text
    past = await manager.post(f"/desk/defeats/{lead.id}/approve", {"revisit": "2026-01-05"})
    assert past.status_code == 400 and "时间已经过去了" in past.text
    assert await stage(desk, lead.id) == "defeat_requested"
    twice = await manager.post(f"/desk/defeats/{lead.id}/reject")
    assert twice.status_code == 303
    again = await manager.post(f"/desk/defeats/{lead.id}/approve")
    assert again.status_code == 409 and "不能" in again.text
    missing = await manager.post("/desk/defeats/999999/approve")
    assert missing.status_code == 404


async def test_a_datetime_local_revisit_is_the_desks_local_time(manager: Browser, desk: Desk):
    lead = await defeat_requested(desk)
    done = await manager.post(f"/desk/defeats/{lead.id}/approve", {"revisit": "2026-12-20T15:30"})
    assert "12-20 周日 15:30 回访" in (await manager.get(done.headers["location"])).text
