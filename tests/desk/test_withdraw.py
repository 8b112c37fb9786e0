"""不是线索 (issue 13): a new lead staff say is no buyer closes as 无效线索 — no task,
no open load, out of the 报表 funnel — and the bot's own guesses leave it alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk import SYSTEM, Actor, Desk, Forbidden, FrozenClock, InvalidTransition
from tests.desk.conftest import Team, outbox_rows


async def intent_lead(desk: Desk, qq_id: str = "55555", **kw: object):
    fields = {
        "channel": "qq_group:777", "qq_id": qq_id, "message": "这车落地多少钱",
        "group_id": "777", "automatic": True,
    }  # fmt: skip
    fields.update(kw)
    return (await desk.capture(**fields)).lead


async def test_a_new_lead_withdrawn_closes_as_invalid_and_the_consultant_is_told(
    desk: Desk, team: Team
) -> None:
    lead = await intent_lead(desk)
    assert (await desk.open_loads())[team.wang.id] == 1

    after = await desk.withdraw_lead(team.li.actor(), lead.id)  # any consultant may correct

    assert (after.stage, after.next_follow_up_at, after.first_contact_due_at) == (
        "invalid", None, None,
    )  # fmt: skip
    assert (await desk.open_loads())[team.wang.id] == 0
    tasks = await desk.tasks_for(team.wang.id)
    assert lead.id not in [t.lead_id for t in tasks.first_contacts]
    detail = await desk.lead(SYSTEM, lead.id)
    assert detail.timeline[-1].action == "withdraw"
    assert detail.timeline[-1].actor == f"member:{team.li.id}"
    assert ("lead_withdrawn", "10001", "pending") in await outbox_rows(desk)


async def test_only_a_lead_not_yet_followed_up_may_be_withdrawn(desk: Desk, team: Team) -> None:
    lead = await intent_lead(desk)
    await desk.follow_up(team.wang.actor(), lead.id, "电话沟通，在比价")
    with pytest.raises(InvalidTransition) as caught:
        await desk.withdraw_lead(team.wang.actor(), lead.id)
    assert caught.value.stage == "following"
    assert (await desk.lead(SYSTEM, lead.id)).lead.stage == "following"


async def test_withdrawn_twice_is_refused_and_nobody_but_staff_withdraws(
    desk: Desk, team: Team
) -> None:
    lead = await intent_lead(desk)
    with pytest.raises(Forbidden):
        await desk.withdraw_lead(SYSTEM, lead.id)
    await desk.withdraw_lead(team.manager.actor(), lead.id)
    with pytest.raises(InvalidTransition):
        await desk.withdraw_lead(team.manager.actor(), lead.id)
    told = [row for row in await outbox_rows(desk) if row[0] == "lead_withdrawn"]
    assert len(told) == 1


async def test_the_funnel_leaves_withdrawn_leads_out(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    kept = await intent_lead(desk, "55555")
    gone = await intent_lead(desk, "66666")
    today = desk.period("today")
    [before] = await desk.funnel(today)  # builds the rollup for the day
    assert before.leads == 2
    await desk.withdraw_lead(team.wang.actor(), gone.id)

    [total] = await desk.funnel(today)  # the rollup, rebuilt for the changed day
    assert total.leads == 1
    by_channel = await desk.funnel(today, "channel")
    assert [(r.key, r.leads) for r in by_channel] == [("qq_group", 1)]
    assert (await desk.daily_report())["new_leads"] == 1
    assert kept.id != gone.id


async def test_the_bots_guess_leaves_a_withdrawn_lead_alone_staff_reopen_it(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    lead = await intent_lead(desk, event_key="qq:1:msg:1")
    await desk.withdraw_lead(team.wang.actor(), lead.id)
    clock.advance(timedelta(days=1))

    again = await desk.capture(
        channel="qq_group:777", qq_id="55555", message="有优惠吗", event_key="qq:1:msg:2",
        once_key="intent-ack:777:qq:55555:day2", automatic=True,
    )  # fmt: skip
    assert (again.created, again.duplicate, again.first_time) == (False, False, False)
    assert (await desk.lead(SYSTEM, lead.id)).lead.stage == "invalid"

    staff = Actor(role="consultant", label=f"member:{team.wang.id}", member_id=team.wang.id)
    vouched = await desk.capture(
        staff, channel="qq_group:777", qq_id="55555", message="有优惠吗", event_key="qq:1:msg:2"
    )
    assert (vouched.duplicate, vouched.reopened, vouched.lead.stage) == (True, True, "new")
    assert (await desk.open_loads())[team.wang.id] == 1
