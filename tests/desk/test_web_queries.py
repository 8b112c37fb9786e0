"""The desk queries behind the web desk's manager pages: the 战败 queue and the
consultants' open loads."""

from __future__ import annotations

import pytest

from desk import Desk, Forbidden, FrozenClock
from tests.desk.conftest import Team
from tests.desk.test_lifecycle import new_lead


async def test_the_defeat_queue_lists_requests_oldest_first_for_managers_only(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    first = await new_lead(desk, name="赵先生")
    second = await new_lead(desk, qq_id="66666")
    untouched = await new_lead(desk, qq_id="77777")
    await desk.request_defeat(team.wang.actor(), first.id, "竞品 买了别家的")
    clock.advance(minutes=5)
    await desk.request_defeat(team.wang.actor(), second.id, "联系不上")
    assert (await desk.lead(team.manager.actor(), untouched.id)).lead.stage == "new"

    queue = await desk.defeat_queue(team.manager.actor())
    assert [r.lead_id for r in queue] == [first.id, second.id]
    assert (queue[0].name, queue[0].consultant, queue[0].category) == ("赵先生", "王顾问", "竞品")
    assert queue[0].reason == "竞品 买了别家的" and queue[0].requested_at is not None

    await desk.review_defeat(team.manager.actor(), first.id, False, note="再跟一次")
    assert [r.lead_id for r in await desk.defeat_queue(team.manager.actor())] == [second.id]
    with pytest.raises(Forbidden):
        await desk.defeat_queue(team.wang.actor())


async def test_open_loads_count_each_members_open_leads(desk: Desk, team: Team) -> None:
    await new_lead(desk)
    await new_lead(desk, qq_id="66666")
    loads = await desk.open_loads()
    assert loads[team.wang.id] == 2 and loads[team.manager.id] == 0
