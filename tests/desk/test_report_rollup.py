"""The 报表 funnel summed from the daily rollup (desk.rollup) equals the funnel read
from every lead, whatever happened to the leads, and follows every change."""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta

from desk import Desk, DeskError, FrozenClock, UnitOfWork, reports, rollup
from desk.reports import FunnelRow, Period
from tests.desk.conftest import Team, local

CHANNELS = [("autohome", None), ("qq_group:777", "777"), ("qq_group:888", "888"), ("wechat_oa", None)]  # fmt: skip
BYS: list[reports.GroupBy] = [None, "channel", "consultant", "group"]


def _normal(rows: list[FunnelRow]) -> list[tuple]:
    # PostgreSQL's live average is a Decimal; the figure shown is the same
    return [
        (r.key, r.ref, r.leads, r.contacted, r.invited, r.visited, r.ordered, r.won,
         None if r.first_response_minutes is None else float(r.first_response_minutes))
        for r in rows
    ]  # fmt: skip


def _periods(desk: Desk) -> list[Period]:
    days = [date(2026, 11, 27) + timedelta(days=k) for k in range(-3, 5)]
    return [
        desk.period("month", date(2026, 11, 28)),
        desk.period("month", date(2026, 12, 2)),
        desk.period("year", date(2026, 11, 28)),
        *(desk.custom_period(d, d) for d in days),  # single days: local midnight matters
        desk.custom_period(days[1], days[4]),
    ]


async def _assert_rollup_is_live(desk: Desk, team: Team) -> int:
    """Every period, dimension and consultant scope: the rollup's funnel is the
    live one (after the refresh a report does); how many comparisons had leads."""
    await desk.refresh_reports()
    compared = 0
    async with desk._read() as uow:
        assert not await rollup.has_dirty_days(uow)  # so reports.funnel read the rollup
        for p in _periods(desk):
            for by in BYS:
                for who in (None, team.wang.id, team.li.id):
                    fast = await reports.funnel(uow, p, by, who)
                    live = await reports.funnel_live(uow, p, by, who)
                    assert _normal(fast) == _normal(live), (p.label, by, who)
                    compared += bool(sum(r.leads for r in live))
                assert await reports.defeat_reasons(uow, p, who) == await reports.defeat_reasons(
                    uow, p, who, live=True
                )
                assert await reports.top_defeat_reasons(
                    uow, p, consultant_id=who
                ) == await reports.top_defeat_reasons(uow, p, consultant_id=who, live=True)
                assert await reports.consultant_ranking(
                    uow, p, who
                ) == await reports.consultant_ranking(uow, p, who, live=True)
                fast_report = await reports.lead_report(uow, p, by)
                live_report = await reports.lead_report_live(uow, p, by)
                assert _normal([fast_report.total, *fast_report.rows]) == _normal(
                    [live_report.total, *live_report.rows]
                )
                assert fast_report.ranking == live_report.ranking
                assert fast_report.defeat_reasons == live_report.defeat_reasons
                await _assert_cycle_averages_are_live(uow, p, who=None)
                await _assert_cycle_averages_are_live(uow, p, who=team.wang.id)
    return compared


async def _assert_cycle_averages_are_live(uow: UnitOfWork, p: Period, who: int | None) -> None:
    """Beyond a month the cycle times are averages only (the first response from the
    rollup), the same as the live figures; within a month medians come too."""
    fast = await reports.cycle_times(uow, p, who)
    live = await reports.cycle_times(uow, p, who, medians=True)
    long = (p.last - p.first).days >= reports.MEDIAN_MAX_DAYS
    for f, g in zip(fast, live, strict=True):
        assert (f.key, f.member_id, f.responded, f.deals) == (
            g.key,
            g.member_id,
            g.responded,
            g.deals,
        )
        assert (f.first_response_minutes, f.days_to_deal) == (
            g.first_response_minutes,
            g.days_to_deal,
        )
        if long:
            assert (f.first_response_minutes_median, f.days_to_deal_median) == (None, None)
        else:
            assert f == g


async def _story(desk: Desk, team: Team, clock: FrozenClock, rng: random.Random) -> None:
    """Leads captured around local midnight over a week, then moved, reassigned,
    erased and captured again, in random order; the rollup checked as it goes."""
    wang, manager = team.wang.actor(), team.manager.actor()
    ids: list[int] = []
    qq_of: dict[int, str] = {}
    start = local(2026, 11, 25, 23, 50)
    for k in range(40):
        day = start + timedelta(days=k // 6)
        # around midnight: 23:50 … 00:10, seconds jittered (averages never on a tie)
        clock.set(day + timedelta(minutes=rng.randrange(0, 20), seconds=rng.random() * 59))
        channel, group = rng.choice(CHANNELS)
        qq = f"7{k:05d}"
        lead = (await desk.capture(channel=channel, qq_id=qq, group_id=group)).lead
        ids.append(lead.id)
        qq_of[lead.id] = qq
    clock.set(local(2026, 12, 3, 10, 0))
    actions = ["follow", "follow", "invite", "visit", "order", "deal", "defeat", "assign",
               "erase", "again"]  # fmt: skip
    for step in range(120):
        clock.advance(minutes=rng.randrange(1, 90), seconds=rng.random() * 59)
        lead_id = rng.choice(ids)
        action = rng.choice(actions)
        try:
            if action == "follow":
                await desk.follow_up(wang, lead_id, "已联系", level="A")
            elif action == "invite":
                await desk.invite(wang, lead_id, clock.now() + timedelta(days=1))
            elif action == "visit":
                await desk.record_visit(wang, lead_id, "到店")
            elif action == "order":
                await desk.record_order(wang, lead_id, "下订")
            elif action == "deal":
                await desk.record_deal(wang, lead_id, "提车")
            elif action == "defeat":
                await desk.request_defeat(wang, lead_id, "竞品 选了别家")
                await desk.review_defeat(manager, lead_id, True)
            elif action == "assign":
                who = rng.choice((team.wang.id, team.li.id))
                await desk.assign(manager, lead_id, who)
            elif action == "erase":
                await desk.erase_lead(manager, lead_id)
            else:  # the person writes again: the same lead, or a new one after an erasure
                channel, group = rng.choice(CHANNELS)
                again = (
                    await desk.capture(channel=channel, qq_id=qq_of[lead_id], group_id=group)
                ).lead
                if again.id not in qq_of:
                    ids.append(again.id)
                    qq_of[again.id] = qq_of[lead_id]
        except DeskError:
            pass  # not allowed from the lead's stage: nothing changed
        if step % 30 == 29:
            await _assert_rollup_is_live(desk, team)


async def test_rollup_funnel_equals_live_funnel(desk: Desk, team: Team, clock: FrozenClock) -> None:
    await _story(desk, team, clock, random.Random(7))
    assert await _assert_rollup_is_live(desk, team) > 20


async def test_a_change_after_a_report_shows_in_the_next(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    lead = (await desk.capture(channel="autohome", qq_id="80001")).lead
    month = desk.period("month")
    [total] = await desk.funnel(month)
    assert (total.leads, total.contacted, total.first_response_minutes) == (1, 0, None)
    report = await desk.lead_report(month, "channel")
    assert [(r.key, r.leads) for r in report.rows] == [("autohome", 1)]
    clock.advance(minutes=45)
    await desk.follow_up(team.wang.actor(), lead.id, "已联系", level="B")
    [total] = await desk.funnel(month)
    assert (total.leads, total.contacted, total.first_response_minutes) == (1, 1, 45.0)
    await desk.capture(channel="qq_group:777", qq_id="80002", group_id="777")
    report = await desk.lead_report(month, "group")
    assert {(r.key, r.leads) for r in report.rows} == {(None, 1), ("777", 1)}
    assert report.total.leads == 2
    await desk.erase_lead(team.manager.actor(), lead.id)
    [total] = await desk.funnel(month, None, team.wang.id)
    # the erased lead still counts: the reports keep its dates, only its identity goes
    assert (total.leads, total.contacted) == (2, 1)


async def test_a_stale_day_is_read_live(desk: Desk, team: Team, clock: FrozenClock) -> None:
    """A reader that did not refresh still gets the right figures (read live)."""
    await desk.capture(channel="autohome", qq_id="80001")
    await desk.refresh_reports()
    await desk.capture(channel="wechat_oa", qq_id="80002")  # its day is dirty again
    month = desk.period("month")
    async with desk._read() as uow:
        assert await rollup.has_dirty_days(uow)
        [total] = await reports.funnel(uow, month)
    assert total.leads == 2


async def test_reports_refreshing_while_leads_change_miss_nothing(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    """Captures, first contacts and reports at once (on PostgreSQL truly parallel):
    a refresh never clears the mark of a change it did not see."""
    wang = team.wang.actor()

    async def lead_life(i: int) -> None:
        lead = (await desk.capture(channel=CHANNELS[i % 4][0], qq_id=f"9{i:04d}")).lead
        await desk.follow_up(wang, lead.id, "已联系", level="B")

    async def reader() -> None:
        for _ in range(6):
            await desk.lead_report(desk.period("month"), "channel")

    results = await asyncio.gather(
        *(lead_life(i) for i in range(40)), *(reader() for _ in range(3)), return_exceptions=True
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    await _assert_rollup_is_live(desk, team)
    [total] = await desk.funnel(desk.period("month"))
    assert (total.leads, total.contacted) == (40, 40)
