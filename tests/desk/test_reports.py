"""Funnel, rates and 战败 reasons by channel, consultant, group and period."""

from __future__ import annotations

from datetime import date

import pytest

from desk import Desk, FrozenClock, InvalidInput
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
