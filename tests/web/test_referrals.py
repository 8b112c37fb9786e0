"""荐友 on the web desk: the reward ledger for staff; a manager marks a reward
handed out (the chat's 奖励台账 and the owner's 我的推荐 follow, the owner is told);
consultants only look; a forged form changes nothing."""

from __future__ import annotations

from datetime import timedelta

from nonebug import App

from desk import Desk, FrozenClock
from tests.support.chat import ask
from tests.support.nonebot_env import CONSULTANT_QQ, ROSTER_MANAGER_QQ, private_event
from tests.support.web import Browser

OWNER = 20001
PHONE = "13812345678"


async def a_pending_reward(app: App, desk: Desk, clock: FrozenClock) -> int:
    """An owner refers a friend by DM; the friend buys: a reward waits to be handed out."""
    await ask(app, private_event(f"推荐 张先生 {PHONE} 轩逸", user_id=OWNER))
    lead = await desk.find_lead(phone=PHONE)
    member = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert lead is not None and member is not None
    actor = member.actor()
    await desk.follow_up(actor, lead.id, "约了下午到店", level="H")
    await desk.invite(actor, lead.id, clock.now() + timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    await desk.record_visit(actor, lead.id, "看车试驾")
    await desk.record_order(actor, lead.id, "交定金")
    await desk.record_deal(actor, lead.id, "提车")
    ledger = await ask(app, private_event("奖励台账", user_id=ROSTER_MANAGER_QQ))
    assert "待发放" in ledger, ledger
    return int(ledger.split("#")[1].split(" ")[0])


async def test_a_manager_marks_a_reward_handed_out(
    app: App, manager: Browser, desk: Desk, desk_clock: FrozenClock
):
    reward = await a_pending_reward(app, desk, desk_clock)
    page = await manager.get("/desk/referrals")
    assert page.status_code == 200
    row = page.text.split(f'id="reward-{reward}"')[1].split("</tr>")[0]
    assert (
        "待发放" in row
        and f"QQ {OWNER}" in row
        and "张先生 138****5678" in row
        and PHONE not in row
    )
    assert 'data-action="fulfil"' in row

    done = await manager.post(f"/desk/referrals/{reward}/fulfil")
    assert done.status_code == 303
    assert f"已登记发放 #{reward}" in (await manager.get(done.headers["location"])).text
    everything = (await manager.get("/desk/referrals?all=1")).text
    row = everything.split(f'id="reward-{reward}"')[1].split("</tr>")[0]
    assert "已发放" in row and "周经理" in row and 'data-action="fulfil"' not in row

    # The chat follows: nothing pending, and the owner sees it handed out.
    chat_ledger = await ask(app, private_event("奖励台账", user_id=ROSTER_MANAGER_QQ))
    assert "没有待发放" in chat_ledger
    assert "（已发放）" in await ask(app, private_event("我的推荐", user_id=OWNER))
    again = await manager.post(f"/desk/referrals/{reward}/fulfil")
    assert again.status_code == 409 and "无需重复登记" in again.text
    assert (await manager.post("/desk/referrals/999999/fulfil")).status_code == 409


async def test_a_consultant_may_look_but_not_mark(
    app: App, consultant: Browser, desk: Desk, desk_clock: FrozenClock
):
    reward = await a_pending_reward(app, desk, desk_clock)
    page = await consultant.get("/desk/referrals")
    assert page.status_code == 200 and f'id="reward-{reward}"' in page.text
    assert 'data-action="fulfil"' not in page.text and f"QQ {OWNER}" not in page.text
    refused = await consultant.post(f"/desk/referrals/{reward}/fulfil")
    assert refused.status_code == 403
    assert "待发放" in await ask(app, private_event("奖励台账", user_id=ROSTER_MANAGER_QQ))


async def test_a_form_without_the_csrf_token_is_refused(
    app: App, manager: Browser, desk: Desk, desk_clock: FrozenClock
):
    reward = await a_pending_reward(app, desk, desk_clock)
    forged = await manager.client.post(f"/desk/referrals/{reward}/fulfil")
    assert forged.status_code == 403
    assert "待发放" in await ask(app, private_event("奖励台账", user_id=ROSTER_MANAGER_QQ))
