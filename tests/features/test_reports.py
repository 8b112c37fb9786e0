"""The owner-group side of 报表 (features.reports): groups' activity, events and
attendance, referrals and rewards over a period, NoneBot-free."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from desk import Desk, FrozenClock, UnitOfWork
from features.activities.counter import MessageCounter
from features.activities.counting import count_message
from features.activities.models import Checkin, GroupActivity, MemberChange
from features.events.models import ATTENDED, CANCELLED, NO_SHOW, SIGNED, WAITLISTED, Event, Signup
from features.referral.models import FULFILLED, PENDING, Referral, ReferralReward
from features.reports import owner_groups_report
from tests.desk.conftest import local

OCT = local(2026, 10, 20, 10, 0)  # before the month reported
NOV = local(2026, 11, 20, 10, 0)


async def _add(desk: Desk, *rows: Any) -> None:
    async def step(uow: UnitOfWork) -> None:
        uow.session.add_all(rows)

    await desk.write(step)


def _change(group: str, user: str, change: str, at: Any) -> MemberChange:
    return MemberChange(
        group_id=group, user_id=user, change=change, sub_type="approve", operator_id=None,
        event_key=f"{group}:{user}:{change}:{at}", at=at,
    )  # fmt: skip


def _checkin(group: str, user: str, day: date, rank: int) -> Checkin:
    return Checkin(
        group_id=group, user_id=user, day=day, streak=1, points=5, rank=rank, name=None,
        message_key=f"{group}:{user}:{day}", at=NOV,
    )  # fmt: skip


async def test_groups_activity_in_the_period(desk: Desk) -> None:
    await _add(
        desk,
        _change("777", "qq:1", "join", NOV), _change("777", "qq:2", "join", NOV),
        _change("777", "qq:2", "leave", NOV), _change("777", "qq:3", "join", OCT),
        _change("888", "qq:4", "join", NOV),
        GroupActivity(group_id="777", day=date(2026, 11, 20), user_id="qq:1", messages=5),
        GroupActivity(group_id="777", day=date(2026, 11, 21), user_id="qq:1", messages=3),
        GroupActivity(group_id="777", day=date(2026, 10, 20), user_id="qq:9", messages=50),
        _checkin("777", "qq:1", date(2026, 11, 20), 1), _checkin("777", "qq:1", date(2026, 10, 20), 1),
    )  # fmt: skip
    # counted in memory a moment ago, not yet flushed by the minute job: counted too
    counter = MessageCounter()
    count_message("888", "qq:4", date(2026, 11, 27), 1, counter)
    count_message("888", "qq:5", date(2026, 11, 27), 2, counter)
    report = await owner_groups_report(desk, desk.period("month"), counter=counter)
    rows = {g.group_id: g.stats for g in report.groups}
    assert list(rows) == ["777", "888"]  # the most messages first
    s = rows["777"]
    assert (s.joined, s.left, s.speakers, s.messages, s.checkins) == (2, 1, 1, 8, 1)
    s = rows["888"]
    assert (s.joined, s.left, s.speakers, s.messages, s.checkins) == (1, 0, 2, 2, 0)


def _event(title: str, starts_at: Any, status: str = "open") -> Event:
    return Event(
        group_id="777", title=title, place="展厅", starts_at=starts_at, deadline_at=starts_at,
        capacity=10, car_capacity=None, status=status, created_by="90002", created_at=OCT,
        source_key=title,
    )  # fmt: skip


async def test_events_sign_ups_and_attendance(desk: Desk) -> None:
    held, cancelled, old = (
        _event("试驾会", NOV),
        _event("车友会", NOV, CANCELLED),
        _event("旧", OCT),
    )
    await _add(desk, held, cancelled, old)
    seq = iter(range(1, 100))

    def signup(event: Event, user: str, party: int, status: str, lead: bool = False) -> Signup:
        return Signup(
            event_id=event.id, platform="qq", user_id=user, nickname=None, party=party, cars=0,
            note=None, status=status, seq=next(seq), lead_id=None, lead_created=lead,
            created_at=OCT, updated_at=OCT,
        )  # fmt: skip

    await _add(
        desk,
        signup(held, "1", 3, ATTENDED, lead=True), signup(held, "2", 2, NO_SHOW),
        signup(held, "3", 1, SIGNED), signup(held, "4", 2, WAITLISTED),
        signup(cancelled, "1", 4, SIGNED), signup(old, "1", 5, ATTENDED),
    )  # fmt: skip
    events = (await owner_groups_report(desk, desk.period("month"))).events
    assert [e.event.title for e in events.events] == ["试驾会", "车友会"]
    assert (
        events.signed_people, events.attended_people, events.no_show_people,
        events.waitlisted_people, events.leads,
    ) == (6, 3, 2, 2, 1)  # fmt: skip
    assert events.attendance_rate == 0.6


async def test_referrals_and_rewards(desk: Desk, desk_clock: FrozenClock) -> None:
    def referral(n: int, at: Any, **kw: Any) -> Referral:
        return Referral(
            referrer=kw.pop("referrer", "qq:1"), referrer_name=kw.pop("name", "老张"),
            friend_name=None, phone=None, friend=None, lead_id=n, source="command", group_id="777",
            event_key=f"ref:{n}", created_at=at, joined_at=None, **kw,
        )  # fmt: skip

    refs = [
        referral(1, NOV, visit_rewarded_at=NOV, deal_rewarded_at=NOV),
        referral(2, NOV, voided_at=NOV, void_reason="left"),
        referral(3, NOV, referrer="qq:2", name="老李"),
        referral(4, NOV, referrer="qq:2", name="老李"),
        referral(5, OCT, visit_rewarded_at=OCT),
    ]
    await _add(desk, *refs)

    def reward(ref: Referral, at: Any, status: str) -> ReferralReward:
        paid = at + timedelta(days=1) if status == FULFILLED else None
        return ReferralReward(
            referral_id=ref.id, lead_id=ref.lead_id, referrer=ref.referrer, reward="保养一次",
            status=status, created_at=at, fulfilled_at=paid, fulfilled_by="90002" if paid else None,
        )  # fmt: skip

    await _add(desk, reward(refs[0], NOV, FULFILLED), reward(refs[4], OCT, PENDING))
    summary = (await owner_groups_report(desk, desk.period("month"))).referrals
    assert (
        summary.referrals, summary.valid, summary.visits, summary.deals, summary.rewards_paid,
        summary.rewards_pending,
    ) == (4, 3, 1, 1, 1, 1)  # fmt: skip
    # 老李 has two valid referrals this month, 老张 one (his second was voided)
    assert [(r.name, r.count, r.deals) for r in summary.top] == [("老李", 2, 0), ("老张", 1, 1)]
    empty = await owner_groups_report(desk, desk.period("today", date(2026, 12, 30)))
    assert (empty.groups, empty.events.events, empty.referrals.referrals) == ([], [], 0)
    assert empty.referrals.rewards_pending == 1  # pending now, whatever the period
