"""The dealer's flow, path by path, with a frozen clock (spec §2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk import Desk, Forbidden, FrozenClock, InvalidInput, InvalidTransition
from tests.desk.conftest import Team, local, outbox_rows


async def new_lead(desk: Desk, **kw: object):
    fields = {
        "channel": "qq_group:777",
        "qq_id": "55555",
        "message": "这车落地多少钱",
        "group_id": "777",
    }
    fields.update(kw)
    return (await desk.capture(**fields)).lead


async def test_new_lead_gets_first_contact_within_two_working_hours(desk: Desk, team: Team) -> None:
    lead = await new_lead(desk)
    assert (lead.level, lead.stage, lead.consultant_id) == ("N", "new", team.wang.id)
    assert lead.first_contact_due_at == local(2026, 11, 27, 12, 0)
    assert ("new_lead", "10001", "pending") in await outbox_rows(desk)


@pytest.mark.parametrize(
    ("captured_at", "due"),
    [
        (local(2026, 11, 27, 17, 30), local(2026, 11, 28, 10, 30)),  # rolls over the evening
        (local(2026, 11, 27, 21, 0), local(2026, 11, 28, 11, 0)),  # after hours: from next start
        (local(2026, 11, 28, 7, 0), local(2026, 11, 28, 11, 0)),  # before opening
    ],
)
async def test_first_contact_rolls_over_working_hours(
    desk: Desk, team: Team, clock: FrozenClock, captured_at, due
) -> None:
    clock.set(captured_at)
    assert (await new_lead(desk)).first_contact_due_at == due


@pytest.mark.parametrize(
    ("days_to_purchase", "level", "interval"),
    [(5, "H", 2), (20, "A", 7), (60, "B", 14), (200, "C", 30)],
)
async def test_level_follows_purchase_time_and_sets_interval(
    desk: Desk, team: Team, clock: FrozenClock, days_to_purchase: int, level: str, interval: int
) -> None:
    lead = await new_lead(desk)
    purchase = clock.now() + timedelta(days=days_to_purchase)
    after = await desk.follow_up(
        team.wang.actor(), lead.id, "电话沟通，意向明确", purchase_at=purchase
    )
    assert (after.level, after.stage) == (level, "following")
    assert after.next_follow_up_at == clock.now() + timedelta(days=interval)


async def test_follow_up_without_level_gets_configured_default(desk: Desk, team: Team) -> None:
    lead = await new_lead(desk)
    after = await desk.follow_up(team.wang.actor(), lead.id, "加了微信")
    assert after.level == "C"


async def test_follow_up_due_on_closed_day_moves_to_next_working_start(
    tmp_path, clock: FrozenClock
) -> None:
    from desk import SYSTEM
    from tests.desk.conftest import make_settings

    # A Monday-to-Friday showroom: Friday + 2 days is a Sunday.
    settings = make_settings(tmp_path, working_hours={"days": [1, 2, 3, 4, 5]})
    desk = await Desk.open(settings, clock)
    try:
        wang = await desk.add_member(SYSTEM, name="王顾问", qq_id="10001")
        lead = await new_lead(desk)
        after = await desk.follow_up(wang.actor(), lead.id, "周末再聊", level="H")
        assert after.next_follow_up_at == local(2026, 11, 30, 9, 0)
    finally:
        await desk.close()


async def test_explicit_next_time_wins_and_is_kept_in_hours(desk: Desk, team: Team) -> None:
    lead = await new_lead(desk)
    after = await desk.follow_up(
        team.wang.actor(), lead.id, "晚上再打", next_at=local(2026, 11, 27, 20, 0), level="A"
    )
    assert after.next_follow_up_at == local(2026, 11, 28, 9, 0)


async def test_invitation_is_confirmed_the_working_day_before(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    actor = team.wang.actor()
    lead = await new_lead(desk)
    await desk.follow_up(actor, lead.id, "约周一来看车", level="H")
    invited = await desk.invite(actor, lead.id, local(2026, 11, 30, 15, 0))
    assert invited.stage == "invited"
    assert invited.next_follow_up_at == local(2026, 11, 29, 9, 0)

    clock.set(local(2026, 11, 29, 9, 30))
    today = await desk.tasks_for(team.wang.id)
    assert [t.lead_id for t in today.visits_to_confirm] == [lead.id]

    confirmed = await desk.confirm_visit(actor, lead.id, "客户确认明天下午到")
    assert confirmed.stage == "confirmed"
    assert confirmed.next_follow_up_at == local(2026, 11, 30, 15, 0)

    clock.set(local(2026, 11, 30, 9, 0))
    today = await desk.tasks_for(team.wang.id)
    assert [t.lead_id for t in today.visits_today] == [lead.id]
    assert today.visits_to_confirm == []


async def test_visit_revisit_order_deal(desk: Desk, team: Team, clock: FrozenClock) -> None:
    actor = team.wang.actor()
    lead = await new_lead(desk)
    await desk.invite(actor, lead.id, local(2026, 11, 28, 10, 0))
    clock.set(local(2026, 11, 28, 10, 5))
    first = await desk.record_visit(actor, lead.id, "看了顶配，回去商量", level="H")
    assert (first.stage, first.visit_count, first.next_follow_up_at) == (
        "visited",
        1,
        local(2026, 11, 30, 10, 5),
    )
    await desk.invite(actor, lead.id, local(2026, 12, 1, 14, 0))
    clock.set(local(2026, 12, 1, 14, 0))
    again = await desk.record_visit(actor, lead.id, "再次进店，谈价格")
    assert (again.stage, again.visit_count) == ("visited", 2)
    ordered = await desk.record_order(actor, lead.id, "交定金5000")
    assert (ordered.stage, ordered.level) == ("ordered", "O")
    assert ordered.next_follow_up_at == local(2026, 12, 8, 14, 0)
    # weekly follow-ups until delivery keep the O level
    clock.set(local(2026, 12, 8, 14, 0))
    weekly = await desk.follow_up(actor, lead.id, "车到店了，约提车")
    assert (weekly.level, weekly.next_follow_up_at) == ("O", local(2026, 12, 15, 14, 0))
    won = await desk.record_deal(actor, lead.id, "已提车")
    assert (won.stage, won.next_follow_up_at) == ("won", None)
    detail = await desk.lead(actor, lead.id)
    assert [e.action for e in detail.timeline] == [
        "created", "invite", "visit", "invite", "visit", "order", "follow_up", "deal",
    ]  # fmt: skip


async def test_no_show_goes_back_to_following_due_next_working_day(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    actor = team.wang.actor()
    lead = await new_lead(desk)
    await desk.invite(actor, lead.id, local(2026, 11, 28, 10, 0))
    clock.set(local(2026, 11, 28, 16, 0))
    after = await desk.record_no_show(actor, lead.id, "没来，电话没接")
    assert (after.stage, after.expected_visit_at) == ("following", None)
    assert after.next_follow_up_at == local(2026, 11, 29, 9, 0)
    with pytest.raises(InvalidTransition):
        await desk.record_no_show(actor, lead.id)


async def test_defeat_request_approved_with_revisit_date(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    lead = await new_lead(desk)
    await desk.follow_up(team.wang.actor(), lead.id, "在比较竞品", level="B")
    requested = await desk.request_defeat(team.wang.actor(), lead.id, "竞品 买了别家的")
    assert (requested.stage, requested.defeat_category, requested.next_follow_up_at) == (
        "defeat_requested",
        "竞品",
        None,
    )
    assert ("defeat_review", "90001", "pending") in await outbox_rows(desk)

    with pytest.raises(Forbidden):
        await desk.review_defeat(team.wang.actor(), lead.id, True)
    approved = await desk.review_defeat(team.manager.actor(), lead.id, True)
    assert (approved.stage, approved.level) == ("lost", "F")
    assert approved.next_follow_up_at == clock.now() + timedelta(days=30)
    assert ("defeat_result", "10001", "pending") in await outbox_rows(desk)

    revisit = local(2027, 1, 5, 10, 0)
    other = await new_lead(desk, qq_id="66666")
    await desk.request_defeat(team.wang.actor(), other.id, "暂缓购车")
    approved = await desk.review_defeat(team.manager.actor(), other.id, True, revisit_at=revisit)
    assert approved.next_follow_up_at == revisit


async def test_defeat_request_rejected_goes_back_to_following(desk: Desk, team: Team) -> None:
    lead = await new_lead(desk)
    await desk.follow_up(team.wang.actor(), lead.id, "再说吧", level="A")
    with pytest.raises(InvalidInput):
        await desk.request_defeat(team.wang.actor(), lead.id, "   ")
    await desk.request_defeat(team.wang.actor(), lead.id, "价格 太贵")
    rejected = await desk.review_defeat(team.manager.actor(), lead.id, False)
    assert (rejected.stage, rejected.level) == ("following", "A")
    assert rejected.next_follow_up_at == local(2026, 11, 28, 9, 0)


async def test_lost_lead_that_comes_back_reopens(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    lead = await new_lead(desk)
    await desk.request_defeat(team.wang.actor(), lead.id, "联系不上")
    await desk.review_defeat(team.manager.actor(), lead.id, True)
    clock.advance(days=10)
    again = await desk.capture(channel="event:3", qq_id="55555", message="报名试驾会")
    assert (again.created, again.duplicate, again.reopened) == (False, True, True)
    assert (again.lead.id, again.lead.stage, again.lead.level) == (lead.id, "new", "N")
    assert again.lead.first_contact_due_at == clock.now() + timedelta(hours=2)
    assert ("lead_returned", "10001", "pending") in await outbox_rows(desk)


async def test_same_person_from_another_channel_is_the_same_lead(desk: Desk, team: Team) -> None:
    first = await desk.capture(channel="qq_group:777", qq_id="55555", message="有现车吗")
    second = await desk.capture(
        channel="autohome", phone="13812345678", qq_id="55555", name="刘先生"
    )
    third = await desk.capture(channel="phone_in", phone="+86 138-1234-5678")
    assert first.created and not second.created and not third.created
    assert first.lead.id == second.lead.id == third.lead.id
    assert third.lead.name == "刘先生" and third.lead.phone == "13812345678"
    kinds = [k for k, _, _ in await outbox_rows(desk)]
    assert kinds == ["new_lead", "lead_returned", "lead_returned"]
    detail = await desk.lead(team.manager.actor(), first.lead.id)
    assert [e.action for e in detail.timeline] == ["created", "seen_again", "seen_again"]


async def test_same_platform_event_twice_has_one_effect(desk: Desk, team: Team) -> None:
    one = await desk.capture(
        channel="qq_group:777", qq_id="55555", message="多少钱", event_key="qq:1:msg:42"
    )
    two = await desk.capture(
        channel="qq_group:777", qq_id="55555", message="多少钱", event_key="qq:1:msg:42"
    )
    assert one.lead.id == two.lead.id and not two.duplicate
    assert len(await outbox_rows(desk)) == 1
    assert len((await desk.lead(team.manager.actor(), one.lead.id)).timeline) == 1


async def test_consultant_acts_on_own_leads_only(desk: Desk, team: Team) -> None:
    lead = await new_lead(desk)
    with pytest.raises(Forbidden):
        await desk.follow_up(team.li.actor(), lead.id, "不是我的客户")
    with pytest.raises(Forbidden):
        await desk.lead(team.li.actor(), lead.id)
    with pytest.raises(Forbidden):
        await desk.assign(team.wang.actor(), lead.id, team.li.id)
    detail = await desk.lead(team.manager.actor(), lead.id)
    assert detail.lead.id == lead.id


async def test_invalid_transitions_are_refused(desk: Desk, team: Team) -> None:
    actor = team.wang.actor()
    lead = await new_lead(desk)
    with pytest.raises(InvalidTransition):
        await desk.confirm_visit(actor, lead.id)
    with pytest.raises(InvalidTransition):
        await desk.record_deal(actor, lead.id)
    with pytest.raises(InvalidTransition):
        await desk.review_defeat(team.manager.actor(), lead.id, True)
    with pytest.raises(InvalidInput):
        await desk.invite(actor, lead.id, local(2026, 11, 26, 10, 0))  # visit in the past
