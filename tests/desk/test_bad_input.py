"""Bad input to every public Desk function: a clear domain error, and nothing changed (spec §5).

Each case runs against a small world (a team, a lead being followed up, a lead
waiting for 战败 review, a claimed notification), snapshots every table the desk
writes, makes one bad call and checks that it raised the expected subclass of
DeskError and that the snapshot is unchanged. Odd but valid text (SQL-ish,
emoji) must be stored verbatim.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desk import (
    SYSTEM,
    Desk,
    DeskError,
    DuplicateMember,
    Forbidden,
    FrozenClock,
    InvalidInput,
    LeadNotFound,
    LeadView,
    MemberNotFound,
)
from desk.models import Lead, LeadContact, Member, OutboxMessage, TimelineEntry
from tests.desk.conftest import START, Team, count_rows, make_settings, table_names

TEN_KB = "长" * 10_240
SQLISH = "'; DROP TABLE leads;--"
EMOJI = "🚗💨 周末带家人来看车 👍🏻👨‍👩‍👧 ✅"
LONE_SURROGATE = "客户说 \ud83d 再联系"  # what json.loads("\"\\ud83d\"") hands a front
NAMES = {TEN_KB: "10kB", LONE_SURROGATE: "lone-surrogate", SQLISH: "sql", EMOJI: "emoji"}
TABLES = ("leads", "timeline", "outbox", "lead_contacts", "roster_members", "processed_events")


@dataclass
class World:
    desk: Desk
    team: Team
    lead: LeadView  # following, level A, Wang's, phone 13812345678 / QQ 55555
    requested: LeadView  # defeat_requested, Wang's, QQ 66666
    claimed_id: int  # an outbox message in flight (status sending)

    @property
    def now(self) -> datetime:
        return self.desk.clock.now()

    @property
    def wang(self):
        return self.team.wang.actor()

    @property
    def manager(self):
        return self.team.manager.actor()


async def build_world(tmp: Path) -> World:
    desk = await Desk.open(make_settings(tmp), FrozenClock(START))
    manager = await desk.add_member(SYSTEM, name="张经理", role="manager", qq_id="90001")
    wang = await desk.add_member(SYSTEM, name="王顾问", qq_id="10001")
    li = await desk.add_member(SYSTEM, name="李顾问", qq_id="10002", on_duty=False)
    team = Team(manager, wang, li)
    lead = (
        await desk.capture(
            channel="qq_group:777", qq_id="55555", phone="13812345678", message="多少钱"
        )
    ).lead
    lead = await desk.follow_up(wang.actor(), lead.id, "加了微信", level="A")
    requested = (await desk.capture(channel="autohome", qq_id="66666")).lead
    requested = await desk.request_defeat(wang.actor(), requested.id, "价格 太贵")
    claimed = await desk.claim_notifications(limit=1)
    return World(desk, team, lead, requested, claimed[0].id)


@pytest.fixture(scope="module")
async def _worlds() -> AsyncIterator[dict[str, Any]]:
    cache: dict[str, Any] = {}
    yield cache
    if "world" in cache:
        await cache["world"].desk.close()


@pytest.fixture
async def world(_worlds: dict[str, Any], tmp_path: Path) -> World:
    """One world reused while it is untouched; rebuilt after a test changed it
    (a valid call, or a bad call the desk wrongly let through)."""
    cached: World | None = _worlds.get("world")
    if cached is not None and await snapshot(cached.desk) == _worlds["baseline"]:
        return cached
    if cached is not None:
        await cached.desk.close()
    fresh = await build_world(tmp_path)
    _worlds.update(world=fresh, baseline=await snapshot(fresh.desk))
    return fresh


async def snapshot(desk: Desk) -> dict[str, Any]:
    """Every row the desk writes, as plain values."""
    out: dict[str, Any] = {t: await count_rows(desk, t) for t in TABLES}
    async with desk.db.reader() as s:
        out["leads_rows"] = [
            LeadView.of(x) for x in await s.scalars(select(Lead).order_by(Lead.id))
        ]
        out["contacts"] = (
            await s.execute(select(LeadContact.kind, LeadContact.value, LeadContact.lead_id))
        ).all()
        out["members"] = (
            await s.execute(
                select(
                    Member.id,
                    Member.name,
                    Member.role,
                    Member.qq_id,
                    Member.wecom_userid,
                    Member.on_duty,
                    Member.active,
                    Member.open_load,
                    Member.last_assigned_at,
                ).order_by(Member.id)
            )  # fmt: skip
        ).all()
        out["outbox_rows"] = (
            await s.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.key,
                    OutboxMessage.status,
                    OutboxMessage.attempts,
                    OutboxMessage.last_error,
                ).order_by(OutboxMessage.id)
            )  # fmt: skip
        ).all()
        out["timeline_rows"] = (
            await s.execute(
                select(TimelineEntry.id, TimelineEntry.action, TimelineEntry.note).order_by(
                    TimelineEntry.id
                )
            )
        ).all()
    return out


def label(value: Any) -> str:
    """A readable test id for an argument."""
    if isinstance(value, str):
        if value in NAMES:
            return NAMES[value]
        if len(value) > 24:
            return f"{len(value)}-chars"
        if "\x00" in value:
            return ascii(value.replace("\x00", "<NUL>"))
    return ascii(value)


Call = Callable[[World], Awaitable[Any]]
Case = tuple[str, Call, type[DeskError]]


def cases() -> list[Any]:
    c: list[Case] = []

    # -- levels ---------------------------------------------------------------
    for level in ("Z", "", "hh", "  ", "N", "O", "F", "h\x00", "ＨＨ"):
        c.append((f"follow_up-level-{label(level)}",
                  lambda w, v=level: w.desk.follow_up(w.wang, w.lead.id, "电话沟通", level=v),
                  InvalidInput))  # fmt: skip
        c.append((f"set_level-{label(level)}",
                  lambda w, v=level: w.desk.set_level(w.wang, w.lead.id, v), InvalidInput))  # fmt: skip
        c.append((f"record_visit-level-{label(level)}",
                  lambda w, v=level: w.desk.record_visit(w.wang, w.lead.id, "到店", level=v),
                  InvalidInput))  # fmt: skip

    # -- times ------------------------------------------------------------------
    bad_times: dict[str, Callable[[World], Any]] = {
        "past": lambda w: w.now - timedelta(minutes=1),
        "now": lambda w: w.now,
        "yesterday-other-tz": lambda w: (w.now - timedelta(days=1)).astimezone(
            timezone(timedelta(hours=-10))
        ),
        "10-years-ahead": lambda w: w.now + timedelta(days=3653),
        "year-9999": lambda w: datetime(9999, 12, 31, 20, tzinfo=timezone(timedelta(hours=-10))),
        "naive": lambda w: (w.now + timedelta(days=2)).replace(tzinfo=None),
        "epoch": lambda w: datetime(1970, 1, 1, tzinfo=UTC),
    }
    for name, at in bad_times.items():
        c.append((f"invite-visit-{name}",
                  lambda w, at=at: w.desk.invite(w.wang, w.lead.id, at(w)), InvalidInput))  # fmt: skip
        c.append((f"follow_up-next-{name}",
                  lambda w, at=at: w.desk.follow_up(w.wang, w.lead.id, "再联系", next_at=at(w)),
                  InvalidInput))  # fmt: skip
        c.append((f"follow_up-purchase-{name}",
                  lambda w, at=at: w.desk.follow_up(w.wang, w.lead.id, "再联系", purchase_at=at(w)),
                  InvalidInput))  # fmt: skip
        c.append((f"record_visit-next-{name}",
                  lambda w, at=at: w.desk.record_visit(w.wang, w.lead.id, "到店", next_at=at(w)),
                  InvalidInput))  # fmt: skip
        c.append((f"review_defeat-revisit-{name}",
                  lambda w, at=at: w.desk.review_defeat(w.manager, w.requested.id, True,
                                                        revisit_at=at(w)),
                  InvalidInput))  # fmt: skip
    c.append(("invite-visit-None",
              lambda w: w.desk.invite(w.wang, w.lead.id, None), InvalidInput))  # type: ignore[arg-type]  # fmt: skip

    # -- reasons, notes, results ------------------------------------------------
    for reason in ("", "   ", "\n\t ", "　", None, TEN_KB, "价格\x00太贵", LONE_SURROGATE):
        c.append((f"request_defeat-reason-{label(reason)}",
                  lambda w, r=reason: w.desk.request_defeat(w.wang, w.lead.id, r), InvalidInput))  # fmt: skip
    for result in ("", "  ", None, TEN_KB, "打了\x00电话", LONE_SURROGATE):
        c.append((f"follow_up-result-{label(result)}",
                  lambda w, r=result: w.desk.follow_up(w.wang, w.lead.id, r), InvalidInput))  # fmt: skip
    for note in (TEN_KB, "备注\x00", LONE_SURROGATE):
        tag = label(note)
        c += [
            (f"set_level-note-{tag}", lambda w, n=note: w.desk.set_level(w.wang, w.lead.id, "H", n), InvalidInput),
            (f"invite-note-{tag}", lambda w, n=note: w.desk.invite(w.wang, w.lead.id, w.now + timedelta(days=2), n), InvalidInput),
            (f"record_visit-note-{tag}", lambda w, n=note: w.desk.record_visit(w.wang, w.lead.id, n), InvalidInput),
            (f"record_order-note-{tag}", lambda w, n=note: w.desk.record_order(w.wang, w.lead.id, n), InvalidInput),
            (f"assign-note-{tag}", lambda w, n=note: w.desk.assign(w.manager, w.lead.id, w.team.li.id, n), InvalidInput),
            (f"review_defeat-note-{tag}", lambda w, n=note: w.desk.review_defeat(w.manager, w.requested.id, False, note=n), InvalidInput),
        ]  # fmt: skip

    # -- capture --------------------------------------------------------------------
    for phone in ("123", "99999999999", "abc", "+1 415 555 0100", "1" * 10_240,
                  "13812345678\x00", "", "   ", "01012345678", "138123456789",
                  "13812345678;DROP", "📱13812345678"):  # fmt: skip
        c.append((f"capture-phone-{label(phone)}",
                  lambda w, p=phone: w.desk.capture(channel="phone_in", phone=p), InvalidInput))  # fmt: skip
    for qq in ("0123", "12", "abc", "1" * 13, "", "１２３４５６", "12345 6"):
        c.append((f"capture-qq-{label(qq)}",
                  lambda w, q=qq: w.desk.capture(channel="qq_dm", qq_id=q), InvalidInput))  # fmt: skip
    for channel in ("bogus", "", " ", "qq", "QQ_GROUP", "x" * 200, "qq_group" + ":" * 200,
                    "autohome\x00", None, 42):  # fmt: skip
        c.append((f"capture-channel-{label(channel)}",
                  lambda w, ch=channel: w.desk.capture(channel=ch, qq_id="77777"), InvalidInput))  # fmt: skip
    no_handle: dict[str, dict[str, Any]] = {
        "nothing": {},
        "all-none": {"phone": None, "qq_id": None, "wechat_openid": None},
        "name-only": {"name": "刘先生", "message": "多少钱"},
        "blank-openid": {"wechat_openid": "   "},
        "openid-with-space": {"wechat_openid": "o abc"},
        "openid-10kB": {"wechat_openid": "o" * 10_240},
    }
    for name, fields in no_handle.items():
        c.append((f"capture-handle-{name}",
                  lambda w, f=fields: w.desk.capture(channel="qq_dm", **f), InvalidInput))  # fmt: skip
    capture_fields: dict[str, dict[str, Any]] = {
        "message-10kB": {"message": TEN_KB},
        "message-nul": {"message": "多少钱\x00"},
        "message-surrogate": {"message": LONE_SURROGATE},
        "name-10kB": {"name": TEN_KB},
        "car_model-10kB": {"car_model": TEN_KB},
        "group_id-10kB": {"group_id": TEN_KB},
        "referrer-10kB": {"referrer": TEN_KB},
        "event_key-empty": {"event_key": ""},
        "event_key-10kB": {"event_key": TEN_KB},
        "unknown-field": {"colour": "red"},
        "purchase-naive": {"expected_purchase_at": datetime(2027, 1, 1, 10)},
        "purchase-past": {"expected_purchase_at": datetime(2026, 11, 20, tzinfo=UTC)},
        "purchase-10-years-ahead": {"expected_purchase_at": datetime(2036, 12, 1, tzinfo=UTC)},
        "purchase-year-9999": {
            "expected_purchase_at": datetime(
                9999, 12, 31, 20, tzinfo=timezone(timedelta(hours=-10))
            )
        },
        "purchase-text": {"expected_purchase_at": "下个月"},
    }
    for name, fields in capture_fields.items():
        c.append((f"capture-{name}",
                  lambda w, f=fields: w.desk.capture(channel="qq_dm", qq_id="77777", **f),
                  InvalidInput))  # fmt: skip

    # -- lead ids -------------------------------------------------------------------------
    lead_ops: dict[str, Callable[[World, Any], Awaitable[Any]]] = {
        "follow_up": lambda w, i: w.desk.follow_up(w.manager, i, "电话沟通"),
        "set_level": lambda w, i: w.desk.set_level(w.manager, i, "H"),
        "invite": lambda w, i: w.desk.invite(w.manager, i, w.now + timedelta(days=2)),
        "confirm_visit": lambda w, i: w.desk.confirm_visit(w.manager, i),
        "record_visit": lambda w, i: w.desk.record_visit(w.manager, i),
        "record_no_show": lambda w, i: w.desk.record_no_show(w.manager, i),
        "record_order": lambda w, i: w.desk.record_order(w.manager, i),
        "record_deal": lambda w, i: w.desk.record_deal(w.manager, i),
        "request_defeat": lambda w, i: w.desk.request_defeat(w.manager, i, "价格"),
        "review_defeat": lambda w, i: w.desk.review_defeat(w.manager, i, True),
        "assign": lambda w, i: w.desk.assign(w.manager, i, w.team.li.id),
        "lead": lambda w, i: w.desk.lead(w.manager, i),
    }
    for op, call in lead_ops.items():
        for bad_id in (0, -1, 999_999, 2**62, 2**63, 2**70, True, False, "1", 1.0, None):
            c.append((f"{op}-lead_id-{label(bad_id)}",
                      lambda w, call=call, i=bad_id: call(w, i), LeadNotFound))  # fmt: skip

    # -- member ids -------------------------------------------------------------------------
    for bad in (999_999, 0, -1, 2**63, 2**70, True, "abc", None):
        c.append((f"assign-member-{label(bad)}",
                  lambda w, m=bad: w.desk.assign(w.manager, w.lead.id, m), MemberNotFound))  # fmt: skip
        c.append((f"set_on_duty-member-{label(bad)}",
                  lambda w, m=bad: w.desk.set_on_duty(m, True), MemberNotFound))  # fmt: skip
        c.append((f"tasks_for-member-{label(bad)}",
                  lambda w, m=bad: w.desk.tasks_for(m), MemberNotFound))  # fmt: skip

    # -- who may act ----------------------------------------------------------------------------
    c += [
        ("follow_up-other-consultant", lambda w: w.desk.follow_up(w.team.li.actor(), w.lead.id, "x"), Forbidden),
        ("lead-other-consultant", lambda w: w.desk.lead(w.team.li.actor(), w.lead.id), Forbidden),
        ("assign-by-consultant", lambda w: w.desk.assign(w.wang, w.lead.id, w.team.li.id), Forbidden),
        ("review-by-consultant", lambda w: w.desk.review_defeat(w.wang, w.requested.id, True), Forbidden),
        ("add_member-by-consultant", lambda w: w.desk.add_member(w.wang, name="赵", qq_id="10009"), Forbidden),
    ]  # fmt: skip

    # -- roster ----------------------------------------------------------------------------------------
    for qq in ("0123", "12", "abc", "1" * 13, "", "１２３４５６", "10001\x00", "1e10", TEN_KB):
        c.append((f"add_member-qq-{label(qq)}",
                  lambda w, q=qq: w.desk.add_member(SYSTEM, name="赵顾问", qq_id=q), InvalidInput))  # fmt: skip
    c += [
        ("add_member-duplicate-qq", lambda w: w.desk.add_member(SYSTEM, name="另一个王", qq_id="10001"), DuplicateMember),
        ("add_member-duplicate-qq-padded", lambda w: w.desk.add_member(SYSTEM, name="另一个王", qq_id=" 10001 "), DuplicateMember),
        ("add_member-duplicate-manager-qq", lambda w: w.desk.add_member(SYSTEM, name="赵", role="manager", qq_id="90001"), DuplicateMember),
        ("add_member-no-handle", lambda w: w.desk.add_member(SYSTEM, name="赵"), InvalidInput),
        ("add_member-empty-name", lambda w: w.desk.add_member(SYSTEM, name="  ", qq_id="10009"), InvalidInput),
        ("add_member-name-10kB", lambda w: w.desk.add_member(SYSTEM, name=TEN_KB, qq_id="10009"), InvalidInput),
        ("add_member-bad-role", lambda w: w.desk.add_member(SYSTEM, name="赵", role="admin", qq_id="10009"), InvalidInput),
        ("add_member-wecom-without-id", lambda w: w.desk.add_member(SYSTEM, name="赵", qq_id="10009", dm_channel="wecom"), InvalidInput),
        ("add_member-bad-wecom-id", lambda w: w.desk.add_member(SYSTEM, name="赵", wecom_userid="zhao zhao"), InvalidInput),
        ("add_member-extra-field", lambda w: w.desk.add_member(SYSTEM, name="赵", qq_id="10009", admin=True), InvalidInput),
    ]  # fmt: skip

    # -- outbox, reports -------------------------------------------------------------------------------
    for limit in (0, -1, 501, 10_000):
        c.append((f"claim_notifications-limit-{limit}",
                  lambda w, n=limit: w.desk.claim_notifications(limit=n), InvalidInput))  # fmt: skip
    for limit in (-1, 10**20):
        c.append((f"unassigned_leads-limit-{limit}",
                  lambda w, n=limit: w.desk.unassigned_leads(n), InvalidInput))  # fmt: skip
    c += [
        ("funnel-by-bogus", lambda w: w.desk.funnel(w.desk.period("today"), by="bogus"), InvalidInput),  # type: ignore[arg-type]
        ("find_lead-bad-phone", lambda w: w.desk.find_lead(phone="abc"), InvalidInput),
        ("notify-unknown-channel", lambda w: w.desk.notify(key="k:1", kind="event_reminder", channel="pigeon", address="10001", payload={}), InvalidInput),
        ("notify-empty-key", lambda w: w.desk.notify(key="", kind="event_reminder", channel="qq", address="10001", payload={}), InvalidInput),
        ("notify-payload-not-json", lambda w: w.desk.notify(key="k:2", kind="event_reminder", channel="qq", address="10001", payload={"at": w.now}), InvalidInput),
    ]  # fmt: skip
    return [pytest.param(call, exc, id=name) for name, call, exc in c]


@pytest.mark.parametrize(("call", "expected"), cases())
async def test_bad_input_is_refused_and_changes_nothing(
    world: World, call: Call, expected: type[DeskError]
) -> None:
    before = await snapshot(world.desk)
    with pytest.raises(expected):
        await call(world)
    assert await snapshot(world.desk) == before


@pytest.mark.parametrize("name", ["bogus", "", "TODAY", "本周", None])
async def test_unknown_period_is_invalid_input(world: World, name: Any) -> None:
    with pytest.raises(InvalidInput):
        world.desk.period(name)


@pytest.mark.parametrize("message_id", [999_999, 0, -1, 2**63, 2**70])
@pytest.mark.parametrize("report", ["sent", "failed", "uncertain"])
async def test_reporting_an_unknown_notification_is_false_and_changes_nothing(
    world: World, message_id: int, report: str
) -> None:
    before = await snapshot(world.desk)
    desk = world.desk
    if report == "sent":
        ok = await desk.notification_sent(message_id)
    elif report == "failed":
        ok = await desk.notification_failed(message_id, "offline")
    else:
        ok = await desk.notification_uncertain(message_id, "timeout")
    assert ok is False
    assert await snapshot(desk) == before


@pytest.mark.parametrize("lead_id", [0, -1, 999_999, 2**63, 2**70, True, False])
async def test_lead_exists_is_false_for_absurd_ids(world: World, lead_id: int) -> None:
    assert await world.desk.lead_exists(lead_id) is False


@pytest.mark.parametrize("report", ["failed", "uncertain"])
@pytest.mark.parametrize("error", [LONE_SURROGATE, TEN_KB, "\x00", EMOJI], ids=label)
async def test_any_error_text_from_a_front_is_recorded(
    world: World, report: str, error: str
) -> None:
    """The front passes whatever its transport raised; the report must land, or the
    message stays `sending` and a retryable failure is never retried."""
    desk = world.desk
    if report == "failed":
        assert await desk.notification_failed(world.claimed_id, error) is True
    else:
        assert await desk.notification_uncertain(world.claimed_id, error) is True
    async with desk.db.reader() as s:
        row = await s.get(OutboxMessage, world.claimed_id)
        assert row is not None
        assert row.status == ("pending" if report == "failed" else "uncertain")
        assert row.last_error and len(row.last_error) <= 500


# -- odd but valid text is stored verbatim ---------------------------------------------------------


@pytest.mark.parametrize("note", [SQLISH, EMOJI, "Robert'); DELETE FROM timeline; --",
                                  "%s %d {0} ${x} \\n", "<script>alert(1)</script>",
                                  "1' OR '1'='1", "好" * 2000], ids=label)  # fmt: skip
async def test_odd_but_valid_text_is_stored_verbatim(world: World, note: str) -> None:
    desk, lead = world.desk, world.lead
    before = await snapshot(desk)
    after = await desk.follow_up(world.wang, lead.id, note, level="H")
    await desk.set_level(world.wang, lead.id, "A", note)
    await desk.request_defeat(world.wang, lead.id, note)
    reviewed = await desk.review_defeat(world.manager, lead.id, False, note=note)
    assert after.level == "H" and reviewed.stage == "following"
    detail = await desk.lead(world.manager, lead.id)
    assert [e.note for e in detail.timeline[-4:]] == [note] * 4
    assert detail.lead.defeat_reason == note
    for table in TABLES:
        expected = before[table] + (4 if table == "timeline" else 0)
        if table == "outbox":
            expected = before[table] + 2  # defeat_review to the manager, defeat_result to Wang
        assert await count_rows(desk, table) == expected, table


@pytest.mark.parametrize(
    "value", [SQLISH, "🚗 刘先生 👍🏻", "O'Brien", "汉兰达 2026款 🚙"], ids=label
)
async def test_odd_but_valid_capture_fields_are_stored_verbatim(world: World, value: str) -> None:
    desk = world.desk
    result = await desk.capture(
        channel=f"qq_group:{value}", qq_id="88888", name=value, car_model=value, budget=value,
        group_id=value, message=value,
    )  # fmt: skip
    assert result.created
    stored = (await desk.lead(world.manager, result.lead.id)).lead
    assert (stored.name, stored.car_model, stored.budget, stored.group_id) == (value,) * 4
    assert (stored.first_message, stored.source) == (value, f"qq_group:{value}")
    assert stored.channel == "qq_group"
    assert {"leads", "timeline", "outbox", "lead_contacts"} <= await table_names(desk)
    assert await desk.find_lead(qq_id="88888") == stored


async def test_note_at_the_configured_limit_is_accepted_one_more_is_not(world: World) -> None:
    limit = world.desk.settings.lifecycle.max_note_chars
    await world.desk.follow_up(world.wang, world.lead.id, "好" * limit)
    before = await snapshot(world.desk)
    with pytest.raises(InvalidInput):
        await world.desk.follow_up(world.wang, world.lead.id, "好" * (limit + 1))
    assert await snapshot(world.desk) == before


@pytest.mark.parametrize(
    "raw", ["13812345678", "+86 138-1234-5678", "138 1234 5678", "8613812345678", "(138)1234-5678"]
)
async def test_phone_spellings_reach_the_same_lead(world: World, raw: str) -> None:
    before = await count_rows(world.desk, "leads")
    result = await world.desk.capture(channel="phone_in", phone=raw)
    assert (result.created, result.lead.id) == (False, world.lead.id)
    assert await count_rows(world.desk, "leads") == before
    assert (await world.desk.find_lead(phone=raw)) is not None


async def test_unknown_handles_find_nothing(world: World) -> None:
    assert await world.desk.find_lead(qq_id="1" * 10_240) is None
    assert await world.desk.find_lead(wechat_openid=SQLISH) is None
    assert await world.desk.find_lead() is None
    assert await world.desk.member_by(qq_id=SQLISH) is None
