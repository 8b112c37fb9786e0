"""Funnel, rates and 战败 reasons by channel, consultant, group and period."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from desk import Desk, FrozenClock, InvalidInput, UnitOfWork, reports
from desk.models import Lead
from tests.desk.conftest import Team, local


async def _story(desk: Desk, team: Team, clock: FrozenClock) -> None:
    actor = team.wang.actor()
    ids = []
    for i, channel in enumerate(["qq_group:777", "qq_group:777", "qq_group:888", "autohome"]):
        group = channel.split(":")[1] if ":" in channel else None
        ids.append((await desk.capture(channel=channel, qq_id=f"5000{i}", group_id=group)).lead.id)
    clock.advance(minutes=30)
    for lead_id in ids[:3]:
        await desk.follow_up(actor, lead_id, "已联系", level="A")
    await desk.invite(actor, ids[0], local(2026, 11, 28, 10, 0))
    await desk.invite(actor, ids[1], local(2026, 11, 28, 11, 0))
    clock.set(local(2026, 11, 28, 10, 0))
    await desk.record_visit(actor, ids[0], "到店")
    await desk.record_order(actor, ids[0], "下订")
    await desk.record_deal(actor, ids[0], "提车")
    await desk.request_defeat(actor, ids[2], "竞品 选了别家")
    await desk.review_defeat(team.manager.actor(), ids[2], True)


async def test_funnel_by_channel_and_group(desk: Desk, team: Team, clock: FrozenClock) -> None:
    await _story(desk, team, clock)
    month = desk.period("month")
    [total] = await desk.funnel(month)
    assert (
        total.leads,
        total.contacted,
        total.invited,
        total.visited,
        total.ordered,
        total.won,
    ) == (4, 3, 2, 1, 1, 1)
    assert (total.invite_rate, total.visit_rate, total.win_rate) == (0.5, 0.5, 0.25)
    assert total.first_response_minutes == 30.0
    by_channel = {r.key: r.leads for r in await desk.funnel(month, "channel")}
    assert by_channel == {"qq_group": 3, "autohome": 1}
    by_group = {r.key: (r.leads, r.won) for r in await desk.funnel(month, "group")}
    assert by_group == {"777": (2, 1), "888": (1, 0), None: (1, 0)}
    by_consultant = {r.key: r.leads for r in await desk.funnel(month, "consultant")}
    assert by_consultant == {"王顾问": 4}
    assert await desk.defeat_reasons(month) == [("竞品", 1)]


async def test_periods(desk: Desk, team: Team, clock: FrozenClock) -> None:
    await _story(desk, team, clock)
    today = date(2026, 11, 28)
    assert sum(r.leads for r in await desk.funnel(desk.period("today", today))) == 0
    assert sum(r.leads for r in await desk.funnel(desk.period("week", today))) == 4
    assert sum(r.leads for r in await desk.funnel(desk.period("quarter", today))) == 4
    assert sum(r.leads for r in await desk.funnel(desk.period("year", date(2027, 1, 2)))) == 0
    quarter = desk.period("quarter", today)
    assert (quarter.start, quarter.end) == (local(2026, 10, 1, 0, 0), local(2027, 1, 1, 0, 0))
    with pytest.raises(InvalidInput):
        desk.period("decade")


async def _timed_story(desk: Desk, team: Team, clock: FrozenClock) -> list[int]:
    """Five leads on 11-27 10:00: answered after 30, 60 and 150 minutes (one of them
    by 李顾问 after a reassignment), one won the next day, two lost."""
    wang, li, manager = team.wang.actor(), team.li.actor(), team.manager.actor()
    ids = [(await desk.capture(channel="autohome", qq_id=f"6000{i}")).lead.id for i in range(5)]
    await desk.assign(manager, ids[2], team.li.id)
    for minutes, lead_id, actor in ((30, ids[0], wang), (30, ids[1], wang), (90, ids[2], li)):
        clock.advance(minutes=minutes)
        await desk.follow_up(actor, lead_id, "已联系", level="A")
    await desk.invite(wang, ids[0], local(2026, 11, 28, 10, 0))
    clock.set(local(2026, 11, 28, 10, 0))
    await desk.record_visit(wang, ids[0], "到店")
    await desk.record_order(wang, ids[0], "下订")
    await desk.record_deal(wang, ids[0], "提车")
    await desk.request_defeat(wang, ids[1], "竞品 选了别家")
    await desk.request_defeat(wang, ids[3], "竞品 选了别家")
    await desk.review_defeat(manager, ids[1], True)
    await desk.review_defeat(manager, ids[3], True)
    await desk.request_defeat(li, ids[2], "价格 太贵")
    await desk.review_defeat(manager, ids[2], True)
    return ids


async def test_funnel_stages_and_drop_off(desk: Desk, team: Team, clock: FrozenClock) -> None:
    await _story(desk, team, clock)
    [total] = await desk.funnel(desk.period("month"))
    stages = total.stages
    assert [s.key for s in stages] == list(reports.FUNNEL_STAGES)
    assert [s.count for s in stages] == [4, 3, 2, 1, 1, 1]
    assert [s.of_previous for s in stages] == [None, 0.75, 2 / 3, 0.5, 1.0, 1.0]
    assert stages[1].drop_off == 0.25 and stages[0].drop_off is None
    assert [s.of_leads for s in stages] == [1.0, 0.75, 0.5, 0.25, 0.25, 0.25]
    [empty] = await desk.funnel(desk.period("today", date(2026, 12, 30)))
    assert [s.of_previous for s in empty.stages][1:] == [0.0] * 5


async def test_a_stage_click_lists_as_many_leads_as_the_funnel_says(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    await _story(desk, team, clock)
    month = desk.period("month")
    [total] = await desk.funnel(month)

    async def listed(stage: str) -> int:
        async def step(uow: UnitOfWork) -> int:
            query = (
                select(func.count())
                .select_from(Lead)
                .where(
                    reports.reached(stage),
                    Lead.created_at >= month.start,
                    Lead.created_at < month.end,
                )
            )
            return int((await uow.session.execute(query)).scalar_one())

        return await desk.read(step)

    assert [await listed(s.key) for s in total.stages] == [s.count for s in total.stages]
    with pytest.raises(InvalidInput):
        reports.reached("lost")


async def test_a_consultant_sees_own_figures_only(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    await _timed_story(desk, team, clock)
    month = desk.period("month")
    [mine] = await desk.funnel(month, consultant_id=team.li.id)
    assert (mine.leads, mine.contacted, mine.won) == (1, 1, 0)
    assert await desk.defeat_reasons(month, consultant_id=team.li.id) == [("价格", 1)]
    report = await desk.lead_report(month, "channel", consultant_id=team.li.id)
    assert [r.name for r in report.ranking] == ["李顾问"]
    assert [(r.key, r.leads) for r in report.rows] == [("autohome", 1)]
    assert [t.member_id for t in report.times] == [None, team.li.id]
    by_consultant = await desk.funnel(month, "consultant")
    assert {(r.key, r.ref, r.leads) for r in by_consultant} == {
        ("王顾问", str(team.wang.id), 4), ("李顾问", str(team.li.id), 1),
    }  # fmt: skip


async def test_consultant_ranking(desk: Desk, team: Team, clock: FrozenClock) -> None:
    await _timed_story(desk, team, clock)
    ranking = await desk.consultant_ranking(desk.period("month"))
    # the manager holds no leads and is no consultant: not ranked
    assert [r.name for r in ranking] == ["王顾问", "李顾问"]
    wang, li = ranking
    assert (
        wang.new_leads, wang.follow_ups, wang.invitations, wang.visits, wang.orders, wang.deals,
        wang.defeats,
    ) == (4, 2, 1, 1, 1, 1, 2)  # fmt: skip
    assert wang.win_rate == 1 / 3
    assert (li.new_leads, li.follow_ups, li.deals, li.defeats, li.win_rate) == (1, 1, 0, 1, 0.0)
    # nothing this day: every active consultant still listed, with zeros
    quiet = await desk.consultant_ranking(desk.period("today", date(2026, 12, 30)))
    assert {(r.name, r.deals, r.follow_ups, r.win_rate) for r in quiet} == {
        ("王顾问", 0, 0, 0.0), ("李顾问", 0, 0, 0.0),
    }  # fmt: skip


async def test_response_and_deal_times(desk: Desk, team: Team, clock: FrozenClock) -> None:
    await _timed_story(desk, team, clock)
    overall, *people = await desk.cycle_times(desk.period("month"))
    assert (overall.key, overall.responded, overall.deals) == (None, 3, 1)
    # 30, 60 and 150 minutes
    assert (overall.first_response_minutes, overall.first_response_minutes_median) == (80.0, 60.0)
    assert (overall.days_to_deal, overall.days_to_deal_median) == (1.0, 1.0)
    wang, li = people  # the fastest first
    assert (wang.key, wang.responded, wang.first_response_minutes) == ("王顾问", 2, 45.0)
    assert wang.first_response_minutes_median == 45.0  # the middle two of an even count
    assert (wang.deals, wang.days_to_deal) == (1, 1.0)
    assert (li.key, li.first_response_minutes, li.deals, li.days_to_deal) == (
        "李顾问", 150.0, 0, None,
    )  # fmt: skip
    [nothing] = await desk.cycle_times(desk.period("today", date(2026, 12, 30)))
    assert (nothing.responded, nothing.first_response_minutes, nothing.days_to_deal) == (
        0,
        None,
        None,
    )


async def test_top_defeat_reasons(desk: Desk, team: Team, clock: FrozenClock) -> None:
    await _timed_story(desk, team, clock)
    month = desk.period("month")
    assert await desk.defeat_reasons(month) == [("竞品", 2), ("价格", 1)]
    assert await desk.top_defeat_reasons(month) == [
        reports.DefeatReason("竞品", "竞品 选了别家", 2), reports.DefeatReason("价格", "价格 太贵", 1),
    ]  # fmt: skip
    assert len(await desk.top_defeat_reasons(month, limit=1)) == 1


async def test_the_report_in_one_read(desk: Desk, team: Team, clock: FrozenClock) -> None:
    await _timed_story(desk, team, clock)
    month = desk.period("month")
    report = await desk.lead_report(month, "consultant")
    assert report.total == (await desk.funnel(month))[0]
    assert report.rows == await desk.funnel(month, "consultant")
    assert report.ranking == await desk.consultant_ranking(month)
    assert report.times == await desk.cycle_times(month)
    assert report.defeat_reasons == await desk.top_defeat_reasons(month)
    assert (month.first, month.last) == (date(2026, 11, 1), date(2026, 11, 30))
    custom = desk.custom_period(date(2026, 11, 28), date(2026, 11, 28))
    assert (await desk.lead_report(custom)).total.leads == 0
    assert (await desk.lead_report(custom)).rows == []
