"""Daily task lists, digests, the evening report and escalations."""

from __future__ import annotations

from pathlib import Path

from desk import SYSTEM, Desk, FrozenClock
from desk.tasks import TASK_LIMIT
from tests.desk.conftest import Team, local, make_settings, outbox_rows


async def test_task_list_orders_work_by_urgency(desk: Desk, team: Team, clock: FrozenClock) -> None:
    actor = team.wang.actor()
    clock.set(local(2026, 11, 20, 10, 0))
    overdue = (await desk.capture(channel="baidu", qq_id="50001", name="老赵")).lead
    await desk.follow_up(actor, overdue.id, "考虑中", level="H")  # due 11-22, never done
    clock.set(local(2026, 11, 25, 10, 0))
    due_today = (await desk.capture(channel="baidu", qq_id="50002")).lead
    await desk.follow_up(actor, due_today.id, "下周回访", level="H")  # due 11-27 10:00
    to_confirm = (await desk.capture(channel="baidu", qq_id="50003")).lead
    await desk.invite(actor, to_confirm.id, local(2026, 11, 28, 14, 0))
    visiting = (await desk.capture(channel="baidu", qq_id="50004")).lead
    await desk.invite(actor, visiting.id, local(2026, 11, 27, 15, 0))
    later = (await desk.capture(channel="baidu", qq_id="50005")).lead
    await desk.follow_up(actor, later.id, "月底再说", level="C")
    clock.set(local(2026, 11, 27, 8, 0))
    fresh = (await desk.capture(channel="baidu", qq_id="50006")).lead

    tasks = await desk.tasks_for(team.wang.id)
    assert tasks.day == "2026-11-27"
    assert [t.lead_id for t in tasks.first_contacts] == [fresh.id]
    assert [t.lead_id for t in tasks.overdue] == [overdue.id]
    assert tasks.overdue[0].overdue
    assert [t.lead_id for t in tasks.follow_ups] == [due_today.id]
    assert [t.lead_id for t in tasks.visits_to_confirm] == [to_confirm.id]
    assert [t.lead_id for t in tasks.visits_today] == [visiting.id]
    assert tasks.total == 5  # `later` is not due today
    assert (await desk.tasks_for(team.li.id)).total == 0


async def test_a_lead_waiting_for_its_first_call_is_listed_before_it_falls_due(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    clock.set(local(2026, 12, 6, 18, 40))  # Sunday, after hours: first call due Monday
    lead = (await desk.capture(channel="baidu", qq_id="50001", name="老赵")).lead
    tasks = await desk.tasks_for(team.wang.id)
    assert [(t.lead_id, t.due_at) for t in tasks.first_contacts] == [
        (lead.id, local(2026, 12, 7, 11, 0))
    ]
    assert tasks.total == 1
    await desk.follow_up(team.wang.actor(), lead.id, "已加微信")  # the first call is made
    assert (await desk.tasks_for(team.wang.id)).total == 0


async def test_digest_goes_out_once_a_day_even_across_restarts(
    tmp_path: Path, clock: FrozenClock, desk: Desk, team: Team
) -> None:
    await desk.capture(channel="baidu", qq_id="50001")
    clock.set(local(2026, 11, 28, 8, 0))
    await desk.run_schedules()
    assert [k for k, _, _ in await outbox_rows(desk)] == ["new_lead", "first_contact_overdue"]
    clock.set(local(2026, 11, 28, 8, 30))
    await desk.run_schedules()
    await desk.run_schedules()
    restarted = await Desk.open(make_settings(tmp_path), clock)
    try:
        await restarted.run_schedules()
        digests = [r for r in await outbox_rows(restarted) if r[0] == "daily_digest"]
        assert digests == [
            ("daily_digest", "10001", "pending"),
            ("daily_digest", "10002", "pending"),
        ]
        wang_digest = next(
            i
            for i in await restarted.claim_notifications()
            if i.kind == "daily_digest" and i.address == "10001"
        )
        assert [t["lead_id"] for t in wang_digest.payload["first_contacts"]] == [1]
        # the next day brings a new digest
        clock.set(local(2026, 11, 29, 8, 31))
        await restarted.run_schedules()
        assert len([r for r in await outbox_rows(restarted) if r[0] == "daily_digest"]) == 4
    finally:
        await restarted.close()


async def test_manager_evening_report(desk: Desk, team: Team, clock: FrozenClock) -> None:
    actor = team.wang.actor()
    a = (await desk.capture(channel="qq_group:777", qq_id="50001", group_id="777")).lead
    b = (await desk.capture(channel="autohome", qq_id="50002")).lead
    await desk.follow_up(actor, a.id, "意向强", level="H")
    await desk.invite(actor, b.id, local(2026, 11, 27, 16, 0))
    await desk.record_visit(actor, b.id, "到店看车")
    await desk.record_order(actor, b.id, "下订")
    await desk.request_defeat(actor, a.id, "价格")
    clock.set(local(2026, 11, 27, 18, 59))
    await desk.run_schedules()
    assert "daily_report" not in [k for k, _, _ in await outbox_rows(desk)]
    clock.set(local(2026, 11, 27, 19, 0))
    await desk.run_schedules()
    [report] = [i for i in await desk.claim_notifications() if i.kind == "daily_report"]
    p = report.payload
    assert report.address == "90001"
    assert p["new_leads_by_channel"] == {"qq_group": 1, "autohome": 1}
    assert (p["invitations"], p["visits"], p["orders"], p["deals"]) == (1, 1, 1, 0)
    assert (p["follow_ups_done"], p["defeat_requests_waiting"]) == (1, 1)


async def test_overdue_first_contact_escalates_to_manager_once(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    await desk.capture(channel="qq_group:1", qq_id="50001")
    clock.set(local(2026, 11, 27, 11, 59))
    await desk.run_schedules()
    assert "first_contact_overdue" not in [k for k, _, _ in await outbox_rows(desk)]
    clock.set(local(2026, 11, 27, 12, 1))
    await desk.run_schedules()
    await desk.run_schedules()
    escalations = [r for r in await outbox_rows(desk) if r[0] == "first_contact_overdue"]
    assert escalations == [("first_contact_overdue", "90001", "pending")]


async def test_lost_leads_are_revisited_once_and_never_hide_todays_work(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    actor, manager = team.wang.actor(), team.manager.actor()
    clock.set(local(2026, 9, 1, 10, 0))
    lost = []
    for i in range(TASK_LIMIT + 20):  # more old lost leads than a list holds
        lead = (await desk.capture(channel="baidu", qq_id=f"6{i:05d}")).lead
        await desk.request_defeat(actor, lead.id, "联系不上")
        await desk.review_defeat(manager, lead.id, True)  # revisit 2026-10-01, never done
        lost.append(lead.id)
    clock.set(local(2026, 10, 30, 10, 0))
    recent = (await desk.capture(channel="baidu", qq_id="59999")).lead
    await desk.request_defeat(actor, recent.id, "价格")
    await desk.review_defeat(manager, recent.id, True, revisit_at=local(2026, 11, 27, 11, 0))
    clock.set(local(2026, 11, 27, 8, 0))
    fresh = (await desk.capture(channel="qq_group:1", qq_id="70001")).lead

    tasks = await desk.tasks_for(team.wang.id)
    assert [t.lead_id for t in tasks.first_contacts] == [fresh.id]
    assert [t.lead_id for t in tasks.revisits] == [recent.id]  # the stale ones left the list
    assert tasks.overdue == [] and tasks.follow_ups == []

    clock.set(local(2026, 11, 27, 11, 5))
    after = await desk.follow_up(actor, recent.id, "回访了，已经买了别家")
    assert (after.stage, after.next_follow_up_at) == ("lost", None)
    assert (await desk.tasks_for(team.wang.id)).revisits == []
    renewed = await desk.follow_up(actor, lost[0], "又有兴趣了", level="A")
    assert (renewed.stage, renewed.level) == ("following", "A")


async def test_escalation_is_on_the_leads_timeline_and_reopening_rearms_it(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    lead = (await desk.capture(channel="qq_group:1", qq_id="50001")).lead
    clock.set(local(2026, 11, 27, 12, 30))
    await desk.run_schedules()
    detail = await desk.lead(team.manager.actor(), lead.id)
    assert [e.action for e in detail.timeline] == ["created", "escalated"]
    await desk.request_defeat(team.wang.actor(), lead.id, "联系不上")
    await desk.review_defeat(team.manager.actor(), lead.id, True)
    clock.set(local(2026, 12, 3, 10, 0))
    await desk.capture(channel="qq_dm", qq_id="50001", message="还有优惠吗")  # comes back
    clock.set(local(2026, 12, 3, 12, 30))
    await desk.run_schedules()
    escalations = [r for r in await outbox_rows(desk) if r[0] == "first_contact_overdue"]
    assert len(escalations) == 2


async def test_superusers_are_told_what_roster_managers_are_told(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """A manager configured only in SUPERUSERS (90009) gets the defeat review, the
    escalation and the evening report by QQ DM; a superuser who is also a roster
    manager (90001) is told once, as that member; a non-QQ id is no address."""
    desk = await Desk.open(make_settings(tmp_path), clock, superusers={"90009", "90001", "wx_boss"})
    try:
        await desk.add_member(SYSTEM, name="张经理", role="manager", qq_id="90001")
        wang = await desk.add_member(SYSTEM, name="王顾问", qq_id="10001")
        lead = (await desk.capture(channel="baidu", qq_id="50001")).lead
        await desk.request_defeat(wang.actor(), lead.id, "价格")
        late = (await desk.capture(channel="baidu", qq_id="50002")).lead  # due 12:00
        told = []
        for hour in (12, 19, 19):  # escalations go out in working hours, reports at 19:00
            clock.set(local(2026, 11, 27, hour, 1))
            await desk.run_schedules()
            told += [
                (i.kind, i.channel, i.address, i.lead_id)
                for i in await desk.claim_notifications(limit=100)
                if i.address != "10001"
            ]
        assert sorted(told, key=str) == sorted(
            [
                ("defeat_review", "qq", "90001", lead.id),
                ("defeat_review", "qq", "90009", lead.id),
                ("first_contact_overdue", "qq", "90001", late.id),
                ("first_contact_overdue", "qq", "90009", late.id),
                ("daily_report", "qq", "90001", None),
                ("daily_report", "qq", "90009", None),
            ],
            key=str,
        )
    finally:
        await desk.close()
