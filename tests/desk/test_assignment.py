"""Who gets a new lead (spec §2 Assignment)."""

from __future__ import annotations

from pathlib import Path

from desk import SYSTEM, Desk, FrozenClock
from tests.desk.conftest import Team, make_settings, outbox_rows


async def test_round_robin_weighted_by_open_load(desk: Desk, team: Team) -> None:
    await desk.set_on_duty(team.li.id, True)
    zhao = await desk.add_member(SYSTEM, name="赵顾问", qq_id="10003")
    owners = []
    for i in range(6):
        owners.append((await desk.capture(channel="autohome", qq_id=f"6000{i}")).lead.consultant_id)
    assert sorted(owners) == sorted([team.wang.id, team.li.id, zhao.id] * 2)
    # wang closes one lead: the lightest load gets the next one
    first_of_wang = next(i for i, c in enumerate(owners) if c == team.wang.id)
    lead_id = first_of_wang + 1
    await desk.request_defeat(team.wang.actor(), lead_id, "联系不上")
    await desk.review_defeat(team.manager.actor(), lead_id, True)
    assert (
        await desk.capture(channel="autohome", qq_id="60009")
    ).lead.consultant_id == team.wang.id


async def test_off_duty_and_full_consultants_are_skipped(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = await Desk.open(make_settings(tmp_path, assignment={"cap_per_consultant": 2}), clock)
    try:
        manager = await desk.add_member(SYSTEM, name="张经理", role="manager", qq_id="90001")
        wang = await desk.add_member(SYSTEM, name="王顾问", qq_id="10001")
        await desk.add_member(SYSTEM, name="李顾问", qq_id="10002", on_duty=False)
        got = [
            (await desk.capture(channel="baidu", qq_id=f"7000{i}")).lead.consultant_id
            for i in range(3)
        ]
        assert got == [wang.id, wang.id, None]
        unassigned = await desk.unassigned_leads()
        assert [lead.id for lead in unassigned] == [3]
        assert ("unassigned_lead", "90001", "pending") in await outbox_rows(desk)
        # the manager assigns it by hand; the consultant is told at once
        assigned = await desk.assign(manager.actor(), 3, wang.id)
        assert assigned.consultant_id == wang.id
        assert ("lead_assigned", "10001", "pending") in await outbox_rows(desk)
        assert await desk.unassigned_leads() == []
    finally:
        await desk.close()


async def test_referred_friend_goes_to_the_referrers_consultant(desk: Desk, team: Team) -> None:
    await desk.set_on_duty(team.li.id, True)
    owner = await desk.capture(channel="walk_in", qq_id="80001", name="老车主")
    owner_consultant = owner.lead.consultant_id
    # several more leads so plain round robin would pick someone else
    for i in range(3):
        await desk.capture(channel="baidu", qq_id=f"8100{i}")
    friend = await desk.capture(channel="referral", phone="13900001111", referrer="qq:80001")
    assert friend.lead.consultant_id == owner_consultant
    assert friend.lead.referrer == "qq:80001"


async def test_existing_lead_keeps_its_consultant(desk: Desk, team: Team) -> None:
    first = await desk.capture(channel="yiche", phone="13900002222")
    await desk.set_on_duty(team.wang.id, False)
    await desk.set_on_duty(team.li.id, True)
    again = await desk.capture(channel="qq_dm", phone="13900002222", qq_id="82222")
    assert again.lead.consultant_id == first.lead.consultant_id == team.wang.id


async def test_roster_is_seeded_from_config_file(tmp_path: Path, clock: FrozenClock) -> None:
    roster = tmp_path / "roster.toml"
    roster.write_text(
        '[[member]]\nname = "王顾问"\nqq_id = "10001"\n\n'
        '[[member]]\nname = "周经理"\nrole = "manager"\nwecom_userid = "zhou"\ndm_channel = "wecom"\n',
        encoding="utf-8",
    )
    desk = await Desk.open(make_settings(tmp_path), clock, roster_file=roster)
    try:
        members = await desk.members()
        assert [(m.name, m.role, m.dm_channel) for m in members] == [
            ("王顾问", "consultant", "qq"), ("周经理", "manager", "wecom"),
        ]  # fmt: skip
        assert (await desk.member_by(wecom_userid="zhou")) is not None
    finally:
        await desk.close()
    # opening again does not duplicate the seeded roster
    desk = await Desk.open(make_settings(tmp_path), clock, roster_file=roster)
    try:
        assert len(await desk.members()) == 2
    finally:
        await desk.close()
