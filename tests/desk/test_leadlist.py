"""The web desk's 线索 queries: filters, search, who sees what, the board, edits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk import STAGE_NAMES, Desk, Forbidden, FrozenClock, InvalidInput, LeadView, leadlist
from desk.leadlist import LeadFilter
from tests.desk.conftest import Team


async def capture(desk: Desk, n: int, **kw: object) -> LeadView:
    fields: dict[str, object] = {
        "channel": "qq_group:777", "qq_id": f"{55500 + n}", "group_id": "777",
        "name": f"客户{n}", "phone": f"1381234{n:04d}",
    }  # fmt: skip
    fields.update(kw)
    return (await desk.capture(**fields)).lead


@pytest.fixture
async def leads(desk: Desk, team: Team, clock: FrozenClock) -> list[LeadView]:
    """Six leads an hour apart: 0-3 wang's, 4-5 li's; 1 from autohome in group 888."""
    made = []
    for n in range(6):
        extra: dict[str, object] = {}
        if n == 1:
            extra = {"channel": "autohome", "group_id": "888", "name": "王小明"}
        made.append(await capture(desk, n, **extra))
        clock.advance(timedelta(hours=1))
    manager = team.manager.actor()
    for lead in made[4:]:
        await desk.assign(manager, lead.id, team.li.id)
    return made


def ids(page) -> list[int]:
    return [lead.id for lead in page.items]


async def test_manager_sees_all_newest_first(desk: Desk, team: Team, leads) -> None:
    page = await desk.lead_list(team.manager.actor())
    assert ids(page) == [lead.id for lead in reversed(leads)]
    assert (page.total, page.offset, page.limit) == (6, 0, 50)


async def test_paging_keeps_the_total(desk: Desk, team: Team, leads) -> None:
    manager = team.manager.actor()
    first = await desk.lead_list(manager, limit=4)
    second = await desk.lead_list(manager, offset=4, limit=4)
    assert (first.total, second.total) == (6, 6)
    assert ids(first) + ids(second) == [lead.id for lead in reversed(leads)]
    with pytest.raises(InvalidInput):
        await desk.lead_list(manager, limit=10_000)


async def test_consultant_sees_only_own_leads_whatever_the_filter(
    desk: Desk, team: Team, leads
) -> None:
    wang, li = team.wang.actor(), team.li.actor()
    assert set(ids(await desk.lead_list(li))) == {leads[4].id, leads[5].id}
    # Asking for wang's leads by id still shows li only her own: none of wang's.
    page = await desk.lead_list(li, LeadFilter(consultant_id=team.wang.id))
    assert set(ids(page)) == {leads[4].id, leads[5].id} and page.total == 2
    assert (await desk.lead_list(wang, LeadFilter(query="客户4"))).total == 0
    board = await desk.lead_board(li)
    assert board.total == 2


async def test_filters_by_channel_group_consultant_stage_level(
    desk: Desk, team: Team, leads
) -> None:
    manager = team.manager.actor()
    assert ids(await desk.lead_list(manager, LeadFilter(channel="autohome"))) == [leads[1].id]
    assert ids(await desk.lead_list(manager, LeadFilter(group_id="888"))) == [leads[1].id]
    by_li = await desk.lead_list(manager, LeadFilter(consultant_id=team.li.id))
    assert set(ids(by_li)) == {leads[4].id, leads[5].id}
    await desk.follow_up(team.wang.actor(), leads[2].id, "聊过了", level="H")
    following = await desk.lead_list(manager, LeadFilter(stage="following"))
    assert ids(following) == [leads[2].id]
    assert ids(await desk.lead_list(manager, LeadFilter(level="H"))) == [leads[2].id]
    assert (
        await desk.lead_list(manager, LeadFilter(stage="following", channel="autohome"))
    ).total == 0
    for bad in (LeadFilter(stage="nonsense"), LeadFilter(level="Z")):
        with pytest.raises(InvalidInput):
            await desk.lead_list(manager, bad)


async def test_period_and_reached_give_the_funnel_cohort(
    desk: Desk, team: Team, clock: FrozenClock, leads
) -> None:
    manager, wang = team.manager.actor(), team.wang.actor()
    await desk.follow_up(wang, leads[0].id, "聊过了")
    await desk.follow_up(wang, leads[3].id, "聊过了")
    await desk.invite(wang, leads[3].id, clock.now() + timedelta(days=2))
    start = leads[0].created_at
    first_three = LeadFilter(created_from=start, created_to=start + timedelta(hours=3))
    assert set(ids(await desk.lead_list(manager, first_three))) == {lead.id for lead in leads[:3]}
    contacted = LeadFilter(
        created_from=start, created_to=start + timedelta(hours=3), reached="contacted"
    )
    assert ids(await desk.lead_list(manager, contacted)) == [leads[0].id]
    assert ids(await desk.lead_list(manager, LeadFilter(reached="invited"))) == [leads[3].id]
    with pytest.raises(InvalidInput):
        await desk.lead_list(manager, LeadFilter(created_from=start.replace(tzinfo=None)))


async def test_overdue_lists_open_leads_past_their_due(
    desk: Desk, team: Team, clock: FrozenClock, leads
) -> None:
    manager = team.manager.actor()
    later = clock.now() + timedelta(days=3)
    await desk.follow_up(team.wang.actor(), leads[0].id, "聊过了", next_at=later)
    # Captured 10:00-15:00, first contact due two working hours later; now 16:00.
    overdue = await desk.lead_list(manager, LeadFilter(overdue=True), order="due")
    assert ids(overdue) == [leads[1].id, leads[2].id, leads[3].id]  # the longest waiting first
    clock.advance(timedelta(days=1))
    overdue = await desk.lead_list(manager, LeadFilter(overdue=True))
    assert set(ids(overdue)) == {lead.id for lead in leads[1:]}


async def test_search_by_name_part_phone_and_number(desk: Desk, team: Team, leads) -> None:
    manager = team.manager.actor()
    assert ids(await desk.lead_list(manager, LeadFilter(query="小明"))) == [leads[1].id]
    assert (await desk.lead_list(manager, LeadFilter(query="客户"))).total == 5
    # A phone typed any usual way finds its lead through the contacts' index.
    for typed in ("13812340003", "+86 138-1234-0003", "138 1234 0003"):
        assert ids(await desk.lead_list(manager, LeadFilter(query=typed))) == [leads[3].id]
    assert (await desk.lead_list(manager, LeadFilter(query="13900000000"))).total == 0
    assert ids(await desk.lead_list(manager, LeadFilter(query=f"#{leads[2].id}"))) == [leads[2].id]
    # LIKE wildcards are plain characters.
    assert (await desk.lead_list(manager, LeadFilter(query="%"))).total == 0
    with pytest.raises(InvalidInput, match="11 位"):
        await desk.lead_list(manager, LeadFilter(query="1381234"))


async def test_board_counts_every_stage(desk: Desk, team: Team, leads) -> None:
    await desk.follow_up(team.wang.actor(), leads[0].id, "聊过了")
    board = await desk.lead_board(team.manager.actor())
    assert list(board.counts) == list(STAGE_NAMES)
    assert board.counts["new"] == 5 and board.counts["following"] == 1
    assert board.counts["won"] == 0 and board.newest["won"] == []
    assert [x.id for x in board.newest["new"]] == [x.id for x in reversed(leads[1:])]
    narrowed = await desk.lead_board(team.manager.actor(), LeadFilter(channel="autohome"))
    assert narrowed.counts["new"] == 1 and narrowed.total == 1


async def test_filter_options_list_what_is_there(desk: Desk, team: Team, leads) -> None:
    options = await desk.filter_options()
    assert options.channels == ["autohome", "qq_group"]
    assert options.groups == ["777", "888"]
    assert options.consultants == [(team.wang.id, "王顾问"), (team.li.id, "李顾问")]


async def test_update_lead_records_who_changed_what(
    desk: Desk, team: Team, clock: FrozenClock, leads
) -> None:
    wang = team.wang.actor()
    purchase = clock.now() + timedelta(days=40)
    after = await desk.update_lead(
        wang,
        leads[0].id,
        name="  赵先生 ",
        car_model="汉EV",
        budget="",
        expected_purchase_at=purchase,
    )
    assert (after.name, after.car_model, after.budget) == ("赵先生", "汉EV", None)
    assert after.expected_purchase_at == purchase
    detail = await desk.lead(wang, leads[0].id)
    edit = detail.timeline[-1]
    assert (edit.action, edit.actor) == ("edit", wang.label)
    assert set(edit.changes) == {"name", "car_model", "expected_purchase_at"}
    assert edit.changes["name"] == ["客户0", "赵先生"]
    # Saving the same values again records nothing.
    await desk.update_lead(wang, leads[0].id, name="赵先生")
    assert len((await desk.lead(wang, leads[0].id)).timeline) == len(detail.timeline)


async def test_update_lead_phone_moves_the_contact(desk: Desk, team: Team, leads) -> None:
    manager = team.manager.actor()
    await desk.update_lead(manager, leads[0].id, phone="139-0000-1111")
    assert (await desk.find_lead(phone="13900001111")).id == leads[0].id  # type: ignore[union-attr]
    assert await desk.find_lead(phone="13812340000") is None
    with pytest.raises(InvalidInput, match="另一条线索"):
        await desk.update_lead(manager, leads[0].id, phone="13812340001")


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "长" * 65},
        {"car_model": "a\x00b"},
        {"phone": "12345"},
        {"phone": ""},
        {"stage": "won"},
        {"expected_purchase_at": "明天"},
    ],
)
async def test_update_lead_refuses_bad_input_and_changes_nothing(
    desk: Desk, team: Team, leads, fields
) -> None:
    manager = team.manager.actor()
    before = await desk.lead(manager, leads[0].id)
    with pytest.raises(InvalidInput) as refused:
        await desk.update_lead(manager, leads[0].id, **{"name": "新名字", **fields})
    assert refused.value.message  # a Chinese line the page shows
    assert await desk.lead(manager, leads[0].id) == before


async def test_update_lead_past_purchase_time_refused(
    desk: Desk, team: Team, clock: FrozenClock, leads
) -> None:
    with pytest.raises(InvalidInput, match="过去"):
        await desk.update_lead(
            team.manager.actor(), leads[0].id, expected_purchase_at=clock.now() - timedelta(days=1)
        )


async def test_consultant_cannot_edit_another_consultants_lead(
    desk: Desk, team: Team, leads
) -> None:
    with pytest.raises(Forbidden):
        await desk.update_lead(team.li.actor(), leads[0].id, name="改名")
    assert (await desk.lead(team.manager.actor(), leads[0].id)).lead.name == "客户0"


async def test_next_due_first_then_leads_without_due(desk: Desk, team: Team, leads) -> None:
    wang = team.wang.actor()
    await desk.request_defeat(wang, leads[2].id, "客户已在别家买了")  # waits for review: no due
    expected = [leads[0].id, leads[1].id, leads[3].id, leads[2].id]
    assert ids(await desk.lead_list(wang, order="due")) == expected
    # Pages across the boundary keep the one order and the total.
    pages = [await desk.lead_list(wang, offset=o, limit=2, order="due") for o in (0, 2)]
    assert ids(pages[0]) + ids(pages[1]) == expected and pages[1].total == 4
    assert ids(await desk.lead_list(wang, offset=3, limit=2, order="due")) == [leads[2].id]
    assert ids(await desk.lead_list(wang, offset=4, limit=2, order="due")) == []


async def test_a_large_total_is_a_floor(
    desk: Desk, team: Team, leads, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leadlist, "TOTAL_CAP", 3)
    page = await desk.lead_list(team.manager.actor(), limit=2)
    assert (page.total, page.capped, len(page.items)) == (3, True, 2)
    exact = await desk.lead_list(team.manager.actor(), LeadFilter(consultant_id=team.li.id))
    assert (exact.total, exact.capped) == (2, False)


async def test_board_of_a_name_search(desk: Desk, team: Team, leads) -> None:
    await desk.follow_up(team.wang.actor(), leads[0].id, "聊过了")
    board = await desk.lead_board(team.manager.actor(), LeadFilter(query="客户"), newest=2)
    assert (board.counts["new"], board.counts["following"], board.total) == (4, 1, 5)
    assert [x.id for x in board.newest["new"]] == [leads[5].id, leads[4].id]
    assert [x.id for x in board.newest["following"]] == [leads[0].id]
