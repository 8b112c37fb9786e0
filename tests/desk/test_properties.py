"""Property tests: random sequences of desk operations keep the desk's invariants.

Hypothesis draws a start time and a list of operations (captures from random
channels and handles, every lifecycle step with random actors, levels and
times, manager reviews and assignments, duty changes, schedule runs, and clock
jumps of minutes or days into nights, Sundays and holidays). Each example runs
on fresh leads (its own phones, QQ ids and openids) in one Desk per test
function, and after every operation checks:

(a) next_follow_up_at and first_contact_due_at are inside working hours;
(b) a lead's timeline has one entry per successful change, and a refused
    operation (a DeskError) changes no row anywhere;
(c) one person is one lead, whichever of their handles or spellings arrive;
(d) each consultant's open_load equals their leads not won or lost.
Any exception other than a DeskError fails the test.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import event as tally
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from desk import SYSTEM, Actor, Desk, DeskError, FrozenClock, LeadView, MemberView
from desk.calendar import WorkCalendar
from desk.models import Lead, LeadContact, ProcessedEvent
from desk.scheduling import confirmation_due
from desk.settings import build_settings
from tests.desk.conftest import START, make_settings

# A showroom open 08:30–17:30, closed on Sundays and on public holidays.
HOLIDAYS = [
    "2027-01-01",
    *(f"2027-02-{d:02d}" for d in range(5, 12)),
    *(f"2027-05-{d:02d}" for d in range(1, 4)),
    *(f"2027-10-{d:02d}" for d in range(1, 8)),
]
WORKING_HOURS = {"start": "08:30", "end": "17:30", "days": [1, 2, 3, 4, 5, 6], "holidays": HOLIDAYS}
# More examples for a deeper hunt: DESK_PROPERTY_EXAMPLES=1000 pytest tests/desk/test_properties.py
EXAMPLES = int(os.environ.get("DESK_PROPERTY_EXAMPLES", "60"))
PERSONS = 5  # per example: few, so the same person comes back often
CHANNELS = [
    "qq_group:777", "qq_group:888", "qq_dm", "referral", "event:3", "autohome", "yiche", "baidu",
    "weibo", "forum", "video", "groupbuy", "phone_in", "walk_in", "wechat_oa", "wecom", "manual",
]  # fmt: skip
PHONE_SPELLINGS = ["{}", "+86 {0[0]}{0[1]}{0[2]}-{0[3]}{0[4]}{0[5]}{0[6]}-{0[7]}{0[8]}{0[9]}{0[10]}",
                   "86{}", "{0[0]}{0[1]}{0[2]} {0[3]}{0[4]}{0[5]}{0[6]} {0[7]}{0[8]}{0[9]}{0[10]}"]  # fmt: skip
TEXTS = ["电话沟通，意向明确", "加了微信 🚗👍🏻", "'; DROP TABLE leads;--", "", "   "]
COUNTS_SQL = text(
    "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM timeline),"
    " (SELECT count(*) FROM outbox), (SELECT count(*) FROM lead_contacts),"
    " (SELECT count(*) FROM processed_events)"
)
LOAD_SQL = text(
    "SELECT m.id, m.open_load, (SELECT count(*) FROM leads l WHERE l.consultant_id = m.id"
    " AND l.stage NOT IN ('won', 'lost')) FROM roster_members m ORDER BY m.id"
)

# -- strategies -----------------------------------------------------------------------------------

DAY = 24 * 60
# Strategies pick a branch uniformly, so repeating a branch weights it: mostly
# valid arguments, sometimes a time in the past or years away, an empty text,
# a level that does not exist.
valid_offsets = st.integers(1, 120 * DAY)
offsets = st.one_of(
    st.none(), st.none(), valid_offsets, valid_offsets, valid_offsets, valid_offsets,
    st.integers(-3 * DAY, 0), st.sampled_from([4 * 365 * DAY, 11 * 365 * DAY]),
)  # fmt: skip
required_offsets = st.one_of(
    valid_offsets, valid_offsets, valid_offsets, valid_offsets, valid_offsets,
    st.integers(-3 * DAY, 0), st.sampled_from([4 * 365 * DAY, 11 * 365 * DAY]),
)  # fmt: skip
texts = st.sampled_from(TEXTS[:3] * 3 + TEXTS[3:])
GIVEN_LEVELS = ["H", "A", "B", "C", " b ", "h", "Z", "N"]
levels = st.sampled_from([None] * 6 + GIVEN_LEVELS)
actors = st.sampled_from(["owner"] * 6 + ["manager", "system", "other"])
lead_refs = st.integers(0, 50)
clock_jumps = st.one_of(
    st.integers(1, 12 * 60), st.integers(1, 45).map(lambda d: d * DAY), st.integers(1, 30 * DAY)
)
captures = st.tuples(
    st.just("capture"),
    st.integers(0, PERSONS - 1),
    st.sets(st.sampled_from(["phone", "qq", "wechat"]), min_size=1),
    st.sampled_from(CHANNELS),
    st.integers(0, len(PHONE_SPELLINGS) - 1),
    st.one_of(st.none(), st.none(), st.integers(-5 * DAY, 400 * DAY)),  # expected purchase
    st.one_of(st.none(), st.none(), st.integers(0, 2)),  # platform event id
    st.one_of(st.none(), st.none(), st.integers(0, PERSONS - 1)),  # referred by that person
)
operations = st.one_of(
    captures, captures, captures,
    st.tuples(st.just("follow_up"), lead_refs, actors, texts, levels, offsets, offsets),
    st.tuples(st.just("follow_up"), lead_refs, actors, texts, levels, offsets, offsets),
    st.tuples(st.just("set_level"), lead_refs, actors, st.sampled_from(GIVEN_LEVELS)),
    st.tuples(st.just("invite"), lead_refs, actors, required_offsets),
    st.tuples(st.just("invite"), lead_refs, actors, required_offsets),
    st.tuples(st.just("confirm"), lead_refs, actors),
    st.tuples(st.just("visit"), lead_refs, actors, levels, offsets),
    st.tuples(st.just("visit"), lead_refs, actors, levels, offsets),
    st.tuples(st.just("no_show"), lead_refs, actors),
    st.tuples(st.just("order"), lead_refs, actors),
    st.tuples(st.just("order"), lead_refs, actors),
    st.tuples(st.just("deal"), lead_refs, actors),
    st.tuples(st.just("request_defeat"), lead_refs, actors,
              st.sampled_from(["价格 太贵", "竞品 买了别家", "联系不上", "暂缓购车", "  "])),
    st.tuples(st.just("review"), lead_refs, actors, st.booleans(), offsets),
    st.tuples(st.just("review"), lead_refs, st.just("manager"), st.booleans(), offsets),
    st.tuples(st.just("assign"), lead_refs, st.integers(0, 2)),
    # composites: several steps on one lead, so deep paths and reopenings happen often
    st.tuples(st.just("funnel"), lead_refs, st.integers(1, 5), valid_offsets),
    st.tuples(st.just("lose"), lead_refs, st.booleans(), offsets),
    st.tuples(st.just("lose"), lead_refs, st.just(True), st.none()),
    st.tuples(st.just("duty"), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("schedules")),
    st.tuples(st.just("advance"), clock_jumps),
    st.tuples(st.just("advance"), clock_jumps),
)  # fmt: skip
starts = st.integers(0, 400 * DAY).map(lambda m: START + timedelta(minutes=m))


# -- the run --------------------------------------------------------------------------------------


@dataclass
class Roster:
    manager: MemberView
    consultants: list[MemberView]


@dataclass
class Model:
    """What the desk must hold after the operations of one example."""

    ex: int
    base: tuple[int, ...]  # row counts before the example
    lead_ids: list[int] = field(default_factory=list)
    person_lead: dict[int, int] = field(default_factory=dict)
    handle_lead: dict[tuple[str, str], int] = field(default_factory=dict)
    entries: dict[int, int] = field(default_factory=dict)
    views: dict[int, LeadView] = field(default_factory=dict)
    events_used: dict[str, datetime] = field(default_factory=dict)  # key -> first use

    def phone(self, person: int) -> str:
        return f"139{self.ex:04d}{person:04d}"

    def qq(self, person: int) -> str:
        return f"{self.ex + 10_000}{person:02d}"

    def openid(self, person: int) -> str:
        return f"wx-{self.ex}-{person}"


class Run:
    def __init__(self, desk: Desk, clock: FrozenClock, roster: Roster, model: Model) -> None:
        self.desk, self.clock, self.roster, self.m = desk, clock, roster, model
        self.cal: WorkCalendar = desk.calendar

    # -- helpers --------------------------------------------------------------------------------
    async def first_contacts_to_escalate(self) -> list[int]:
        """The model of the escalation rule: new, never contacted, not yet reported,
        due within the last week and past."""
        now = self.clock.now()
        async with self.desk.db.reader() as s:
            query = select(Lead.id).where(
                Lead.stage == "new", Lead.first_contacted_at.is_(None),
                Lead.first_contact_escalated_at.is_(None), Lead.first_contact_due_at < now,
                Lead.first_contact_due_at > now - timedelta(days=7),
            )  # fmt: skip
            return list((await s.scalars(query)).all())

    async def counts(self) -> tuple[int, ...]:
        async with self.desk.db.reader() as s:
            return tuple((await s.execute(COUNTS_SQL)).one())

    def event_key_cutoff(self) -> datetime:
        return self.clock.now() - timedelta(days=self.desk.settings.processed_events.retention_days)

    def forget_expired_event_keys(self) -> None:
        """Past the retention a replayed event key is news again, as the desk purged it."""
        cutoff = self.event_key_cutoff()
        used = self.m.events_used
        for key in [k for k, at in used.items() if at < cutoff]:
            del used[key]

    async def expired_event_keys(self) -> int:
        cutoff = self.event_key_cutoff()
        async with self.desk.db.reader() as s:
            return await s.scalar(select(func.count()).where(ProcessedEvent.at < cutoff)) or 0

    def at(self, minutes: int | None) -> datetime | None:
        return None if minutes is None else self.clock.now() + timedelta(minutes=minutes)

    def actor(self, kind: str, lead_id: int) -> Actor:
        owner = self.m.views[lead_id].consultant_id
        if kind == "manager":
            return self.roster.manager.actor()
        if kind == "system":
            return SYSTEM
        if kind == "other":
            other = next(c for c in self.roster.consultants if c.id != owner)
            return other.actor()
        mine = next((c for c in self.roster.consultants if c.id == owner), None)
        return mine.actor() if mine else self.roster.manager.actor()

    def in_hours(self, at: datetime | None) -> bool:
        return at is None or self.cal.contains(at)

    async def check_lead(self, lead_id: int) -> LeadView:
        detail = await self.desk.lead(SYSTEM, lead_id)
        view = detail.lead
        assert len(detail.timeline) == self.m.entries[lead_id], [e.action for e in detail.timeline]
        assert self.in_hours(view.next_follow_up_at), (view.stage, view.next_follow_up_at)
        assert self.in_hours(view.first_contact_due_at), view.first_contact_due_at
        return view

    async def check_load(self) -> None:
        async with self.desk.db.reader() as s:
            for member_id, open_load, real in (await s.execute(LOAD_SQL)).all():
                assert open_load == real, f"member {member_id}: open_load {open_load}, real {real}"

    # -- one operation ----------------------------------------------------------------------------
    async def step(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "funnel":  # invite → confirm → visit → order → deal, as far as drawn
            _, ref, length, visit_in = op
            steps = [("invite", ref, "owner", visit_in), ("confirm", ref, "owner"),
                     ("visit", ref, "owner", None, None), ("order", ref, "owner"),
                     ("deal", ref, "owner")]  # fmt: skip
            for sub in steps[:length]:
                await self.step(sub)
        elif kind == "lose":  # 申请战败, then the manager's review
            _, ref, approve, revisit_in = op
            await self.step(("request_defeat", ref, "owner", "价格 太贵"))
            await self.step(("review", ref, "manager", approve, revisit_in))
        elif kind == "capture":
            await self.capture(*op[1:])
        elif kind in ("advance", "duty", "schedules"):
            before = await self.counts()
            if kind == "advance":
                self.clock.advance(minutes=op[1])
            elif kind == "duty":
                await self.desk.set_on_duty(self.roster.consultants[op[1]].id, op[2])
            else:
                escalated = await self.first_contacts_to_escalate()
                expired = await self.expired_event_keys()
                await self.desk.run_schedules()
                self.forget_expired_event_keys()
                for lead_id in escalated:  # each overdue first contact: one 'escalated' entry
                    if lead_id in self.m.entries:
                        self.m.entries[lead_id] += 1
                        self.m.views[lead_id] = await self.check_lead(lead_id)
                    else:  # a lead of an earlier example: counts as part of the base
                        base = self.m.base
                        self.m.base = (base[0], base[1] + 1, *base[2:])
            after = await self.counts()
            grew = len(escalated) if kind == "schedules" else 0
            # the schedules purge event keys past their retention, and nothing else
            purged = expired if kind == "schedules" else 0
            assert after[0] == before[0] and after[1] - before[1] == grew
            assert after[3] == before[3] and after[4] == before[4] - purged
        elif self.m.lead_ids:
            await self.lifecycle(op)
        await self.check_load()

    async def capture(
        self, person: int, kinds: set[str], channel: str, spelling: int,
        purchase: int | None, event: int | None, referrer: int | None,
    ) -> None:  # fmt: skip
        m = self.m
        known = person in m.person_lead
        if not known:
            kinds = {"phone", "qq", "wechat"}  # a person's first sign carries all their handles
        fields: dict[str, Any] = {"channel": channel, "message": TEXTS[person % len(TEXTS)]}
        handles = []
        if "phone" in kinds:
            fields["phone"] = PHONE_SPELLINGS[spelling].format(m.phone(person))
            handles.append(("phone", m.phone(person)))
        if "qq" in kinds:
            fields["qq_id"] = m.qq(person)
            handles.append(("qq", m.qq(person)))
        if "wechat" in kinds:
            fields["wechat_openid"] = m.openid(person)
            handles.append(("wechat_openid", m.openid(person)))
        if purchase is not None:
            fields["expected_purchase_at"] = self.clock.now() + timedelta(minutes=purchase)
        key = f"ev:{m.ex}:{person}:{event}" if event is not None else None
        if key:
            fields["event_key"] = key
        if referrer is not None:  # 荐友: sticks to the referrer's consultant when they have one
            fields["referrer"] = f"qq:{m.qq(referrer)}"
        before = await self.counts()
        try:
            result = await self.desk.capture(**fields)
        except DeskError as exc:
            tally(f"capture: refused ({type(exc).__name__})")
            assert await self.counts() == before
            if known:
                lead_id = m.person_lead[person]
                assert await self.check_lead(lead_id) == m.views[lead_id]
            return
        lead_id = result.lead.id
        replay = key in m.events_used
        outcome = "created" if result.created else "replay" if replay else "seen again"
        tally(f"capture: {'reopened' if result.reopened else outcome}")
        assert result.created == (not known)
        assert result.duplicate == (known and not replay)
        if known:
            assert lead_id == m.person_lead[person], "one person became two leads"
            assert result.reopened == (not replay and m.views[lead_id].stage == "lost")
        else:
            assert lead_id not in m.entries
            m.person_lead[person] = lead_id
            m.lead_ids.append(lead_id)
            m.entries[lead_id] = 0
        for handle in handles:
            m.handle_lead[handle] = lead_id
        if key:
            m.events_used.setdefault(key, self.clock.now())
        m.entries[lead_id] += 0 if replay else 1
        after = await self.counts()
        assert after[0] == before[0] + (0 if known else 1)
        assert after[1] == before[1] + (0 if replay else 1)
        view = await self.check_lead(lead_id)
        assert view == result.lead
        m.views[lead_id] = view

    async def lifecycle(self, op: tuple[Any, ...]) -> None:
        m, desk = self.m, self.desk
        kind, ref = op[0], op[1]
        lead_id = m.lead_ids[ref % len(m.lead_ids)]
        old = m.views[lead_id]
        actor_kind = op[2] if kind != "assign" else "manager"
        actor = self.actor(actor_kind, lead_id)
        noop = False
        before = await self.counts()
        try:
            if kind == "follow_up":
                _, _, _, result, level, purchase, next_at = op
                view = await desk.follow_up(actor, lead_id, result, level=level,
                                            purchase_at=self.at(purchase), next_at=self.at(next_at))  # fmt: skip
            elif kind == "set_level":
                view = await desk.set_level(actor, lead_id, op[3])
            elif kind == "invite":
                view = await desk.invite(actor, lead_id, self.at(op[3]))  # type: ignore[arg-type]
            elif kind == "confirm":
                view = await desk.confirm_visit(actor, lead_id, "客户确认")
            elif kind == "visit":
                view = await desk.record_visit(actor, lead_id, "到店", level=op[3],
                                               next_at=self.at(op[4]))  # fmt: skip
            elif kind == "no_show":
                view = await desk.record_no_show(actor, lead_id, "没来")
            elif kind == "order":
                view = await desk.record_order(actor, lead_id, "交定金")
            elif kind == "deal":
                view = await desk.record_deal(actor, lead_id, "已提车")
            elif kind == "request_defeat":
                view = await desk.request_defeat(actor, lead_id, op[3])
            elif kind == "review":
                view = await desk.review_defeat(actor, lead_id, op[3], revisit_at=self.at(op[4]))
            elif kind == "assign":
                member = self.roster.consultants[op[2]]
                noop = old.consultant_id == member.id
                view = await desk.assign(actor, lead_id, member.id, "分配")
            else:
                raise AssertionError(kind)
        except DeskError as exc:
            tally(f"{kind}: refused ({type(exc).__name__})")
            assert await self.counts() == before, f"refused {kind} left rows behind"
            assert await self.check_lead(lead_id) == old, f"refused {kind} changed the lead"
            return
        assert actor_kind != "other", f"{kind} by another consultant went through"
        tally(f"{kind}: ok")
        m.entries[lead_id] += 0 if noop else 1
        after = await self.counts()
        assert after[0] == before[0] and after[3] == before[3]
        assert after[1] == before[1] + (0 if noop else 1)
        current = await self.check_lead(lead_id)
        assert current == view
        m.views[lead_id] = current

    # -- the whole example ------------------------------------------------------------------------
    async def check_all(self) -> None:
        m, desk = self.m, self.desk
        counts = await self.counts()
        # (c) one person, one lead: as many new leads as persons, each handle on its person's lead
        assert counts[0] - m.base[0] == len(m.person_lead) == len(m.lead_ids)
        ids = set(m.lead_ids)
        async with desk.db.reader() as s:
            contacts = {
                (k, v): lead
                for k, v, lead in (
                    await s.execute(
                        select(LeadContact.kind, LeadContact.value, LeadContact.lead_id).where(
                            LeadContact.lead_id.in_(ids)
                        )
                    )
                ).all()
            }
            leads = (await s.scalars(select(Lead).where(Lead.id.in_(ids)))).all()
            per_lead = dict(
                (
                    await s.execute(text("SELECT lead_id, count(*) FROM timeline GROUP BY lead_id"))
                ).all()
            )
        assert contacts == m.handle_lead
        # (b) every change has its entry; nothing else wrote one
        assert counts[1] - m.base[1] == sum(m.entries.values())
        assert {i: per_lead.get(i, 0) for i in ids} == m.entries
        # (a) every due time inside working hours
        for lead in leads:
            assert self.in_hours(lead.next_follow_up_at), (lead.id, lead.next_follow_up_at)
            assert self.in_hours(lead.first_contact_due_at), (lead.id, lead.first_contact_due_at)
        # (d)
        await self.check_load()


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[tuple[Desk, FrozenClock, Roster]]:
    clock = FrozenClock(START)
    desk = await Desk.open(make_settings(tmp_path, working_hours=WORKING_HOURS), clock)
    manager = await desk.add_member(SYSTEM, name="张经理", role="manager", qq_id="90001")
    consultants = [
        await desk.add_member(SYSTEM, name="王顾问", qq_id="10001"),
        await desk.add_member(SYSTEM, name="李顾问", qq_id="10002"),
        await desk.add_member(SYSTEM, name="赵顾问", qq_id="10003", on_duty=False),
    ]
    try:
        yield desk, clock, Roster(manager, consultants)
    finally:
        await desk.close()


_examples = itertools.count(1)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=starts,
    first=st.lists(captures, min_size=2, max_size=6),
    ops=st.lists(operations, min_size=10, max_size=50),
)
async def test_random_operations_keep_the_desk_invariants(
    shop: tuple[Desk, FrozenClock, Roster],
    start: datetime,
    first: list[tuple[Any, ...]],
    ops: list[tuple[Any, ...]],
) -> None:
    desk, clock, roster = shop
    clock.set(start)
    for member in roster.consultants[:2]:
        await desk.set_on_duty(member.id, True)
    run = Run(desk, clock, roster, Model(ex=next(_examples), base=()))
    run.m.base = await run.counts()
    for op in first + ops:
        await run.step(op)
    await run.check_all()


# -- the calendar alone, for any instant and zone -----------------------------------------------

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
calendars = st.builds(
    lambda tz, start, length, days, holidays: WorkCalendar(
        build_settings({
            "timezone": tz,
            "working_hours": {"start": start, "end": _plus(start, length), "days": sorted(days),
                              "holidays": holidays},
        })  # fmt: skip
    ),
    tz=st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/Santiago", "Asia/Kolkata"]),
    start=st.times(min_value=time(6, 0), max_value=time(11, 0)).map(lambda t: t.replace(second=0, microsecond=0)),
    length=st.integers(60, 11 * 60),
    days=st.sets(st.integers(1, 7), min_size=1),
    holidays=st.lists(st.dates(date(2020, 1, 1), date(2035, 1, 1)), max_size=20),
)  # fmt: skip


def _plus(t: time, minutes: int) -> time:
    return (datetime.combine(date(2026, 1, 1), t) + timedelta(minutes=minutes)).time()


@settings(max_examples=300, deadline=None)
@given(cal=calendars, at=instants, hours=st.floats(0.01, 72), visit_ahead=st.integers(1, 60 * DAY))
def test_calendar_results_are_inside_working_hours(
    cal: WorkCalendar, at: datetime, hours: float, visit_ahead: int
) -> None:
    clamped = cal.clamp(at)
    assert cal.contains(clamped) and clamped >= at
    assert cal.clamp(clamped) == clamped
    if cal.contains(at):
        assert clamped == at
    start = cal.next_working_start(at)
    assert cal.contains(start) and start > at
    due = cal.add_working_hours(at, hours)
    assert cal.contains(due) and due - clamped >= timedelta(hours=hours) - timedelta(microseconds=1)
    visit = at + timedelta(minutes=visit_ahead)
    confirm = confirmation_due(cal, at, visit)
    assert cal.contains(confirm) and confirm >= at
