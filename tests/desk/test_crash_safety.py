"""Crash safety: nothing acknowledged is lost, nothing half-done survives, no
notification goes out twice (spec §5).

(a) a use case whose transaction fails part-way leaves no row at all (the
    desk calls `notify.<fn>` after the lead, contacts and timeline entry are
    flushed, so patching it to raise fails the transaction at its last step);
(b) a process killed mid-transaction (os._exit) keeps exactly what was committed;
(c) after a restart the outbox neither resends what was sent or may have been
    sent, nor forgets what is still pending.
"""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

import desk.notify as notify_module
from desk import SYSTEM, Desk, FrozenClock, LeadCaptured, LeadEvent
from desk.models import Member
from tests.desk.conftest import Team, count_rows, make_settings, outbox_rows

REPO = Path(__file__).resolve().parents[2]
TABLES = ("leads", "lead_contacts", "timeline", "outbox", "processed_events")


class Boom(RuntimeError):
    """Stands for anything failing inside the transaction (a bug, a full disk…)."""


async def boom(*_args: object, **_kwargs: object) -> None:
    raise Boom("notification writer failed")


async def counts(desk: Desk) -> dict[str, int]:
    return {t: await count_rows(desk, t) for t in TABLES}


async def members(desk: Desk) -> list[tuple]:
    async with desk.db.reader() as s:
        rows = await s.execute(
            select(Member.id, Member.open_load, Member.last_assigned_at).order_by(Member.id)
        )
        return [tuple(r) for r in rows.all()]


@pytest.fixture
def published(desk: Desk) -> list[LeadEvent]:
    seen: list[LeadEvent] = []

    async def record(event: LeadEvent) -> None:
        seen.append(event)

    desk.events.subscribe(LeadEvent, record)
    return seen


# -- (a) a failed transaction leaves nothing ------------------------------------------------------


async def test_capture_that_fails_before_commit_leaves_nothing(
    desk: Desk, team: Team, published: list[LeadEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    roster_before = await members(desk)
    monkeypatch.setattr(notify_module, "new_lead", boom)
    fields = dict(
        channel="qq_group:777", phone="13812345678", qq_id="55555", message="多少钱",
        event_key="qq:777:msg:1", expected_purchase_at=datetime(2027, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    with pytest.raises(Boom):
        await desk.capture(**fields)

    assert await counts(desk) == dict.fromkeys(TABLES, 0)
    assert await members(desk) == roster_before  # no load bumped, no turn taken
    assert published == []
    assert await desk.find_lead(phone="13812345678") is None
    assert await desk.unassigned_leads() == []

    monkeypatch.undo()
    result = await desk.capture(**fields)  # the same platform event, retried: it must land
    assert result.created and result.lead.consultant_id == team.wang.id
    assert await counts(desk) == {
        "leads": 1, "lead_contacts": 2, "timeline": 1, "outbox": 1, "processed_events": 1,
    }  # fmt: skip
    assert await outbox_rows(desk) == [("new_lead", "10001", "pending")]
    assert [type(e) for e in published] == [LeadCaptured]


@pytest.mark.parametrize(
    ("hook", "step"),
    [
        ("seen_again", lambda d, t, lead_id: d.capture(channel="autohome", qq_id="55555",
                                                       phone="13912345678", name="刘先生")),
        ("defeat_requested", lambda d, t, lead_id: d.request_defeat(t.wang.actor(), lead_id,
                                                                    "价格 太贵")),
        ("assigned", lambda d, t, lead_id: d.assign(t.manager.actor(), lead_id, t.li.id)),
    ],
    ids=["seen_again", "request_defeat", "assign"],
)  # fmt: skip
async def test_a_step_that_fails_before_commit_changes_nothing(
    desk: Desk, team: Team, published: list[LeadEvent], monkeypatch: pytest.MonkeyPatch,
    hook: str, step,
) -> None:  # fmt: skip
    lead = (await desk.capture(channel="qq_group:777", qq_id="55555")).lead
    await desk.follow_up(team.wang.actor(), lead.id, "加了微信", level="A")
    before = (await counts(desk), await members(desk), await desk.lead(SYSTEM, lead.id))
    published.clear()

    monkeypatch.setattr(notify_module, hook, boom)
    with pytest.raises(Boom):
        await step(desk, team, lead.id)
    assert (await counts(desk), await members(desk), await desk.lead(SYSTEM, lead.id)) == before
    assert published == []

    monkeypatch.undo()
    await step(desk, team, lead.id)
    after = await desk.lead(SYSTEM, lead.id)
    assert len(after.timeline) == len(before[2].timeline) + 1
    assert (await counts(desk))["outbox"] == before[0]["outbox"] + 1


# -- (b) a real crash mid-transaction ---------------------------------------------------------------

CRASH_SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys

    import desk.notify
    from sqlalchemy import event
    from desk import SYSTEM, Desk, build_settings


    async def main(url, spill):
        d = await Desk.open(build_settings({"database_url": url}))
        if spill:
            # a one-page cache makes SQLite write the open transaction's pages to
            # the WAL before commit, so recovery must really discard them
            @event.listens_for(d.db.write_engine.sync_engine, "connect")
            def _tiny_cache(conn, _record):
                conn.execute("PRAGMA cache_size=1")
            await d.db.write_engine.dispose()
        await d.add_member(SYSTEM, name="王顾问", qq_id="10001")
        first = await d.capture(channel="qq_group:777", phone="13812345678", message="第一条")
        print(f"committed {first.lead.id}", flush=True)

        async def die(*args, **kwargs):
            os._exit(9)

        desk.notify.new_lead = die
        await d.capture(
            channel="autohome", phone="13912345678", qq_id="55555", name="刘先生",
            message="第二条" * 500, event_key="autohome:2",
        )
        print("not reached", flush=True)


    asyncio.run(main(sys.argv[1], sys.argv[2] == "spill"))
    """
)


async def run_script(script: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *args, cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def reopen(tmp_path: Path) -> AsyncIterator:
    opened: list[Desk] = []

    async def _open(clock: FrozenClock | None = None) -> Desk:
        d = await Desk.open(make_settings(tmp_path), clock)
        opened.append(d)
        return d

    yield _open
    for d in opened:
        await d.close()


@pytest.mark.parametrize(
    "spill",
    ["cached", pytest.param("spill", marks=pytest.mark.sqlite_only)],  # spill: SQLite's WAL frames
)
async def test_process_killed_mid_capture_keeps_exactly_the_committed_lead(
    tmp_path: Path, reopen, spill: str
) -> None:
    url = make_settings(tmp_path).database_url
    code, out, err = await run_script(CRASH_SCRIPT, url, spill)
    assert code == 9, err[-2000:]
    assert out.splitlines() == ["committed 1"]

    d: Desk = await reopen()
    if d.db.dialect == "sqlite":
        async with d.db.reader() as s:
            assert (await s.execute(text("PRAGMA integrity_check"))).scalar_one() == "ok"
    assert await counts(d) == {
        "leads": 1, "lead_contacts": 1, "timeline": 1, "outbox": 1, "processed_events": 0,
    }  # fmt: skip
    [wang] = await d.members()
    survivor = await d.find_lead(phone="13812345678")
    assert survivor is not None and survivor.id == 1
    assert (survivor.first_message, survivor.consultant_id) == ("第一条", wang.id)
    assert [e.action for e in (await d.lead(SYSTEM, 1)).timeline] == ["created"]
    assert await outbox_rows(d) == [("new_lead", "10001", "pending")]
    assert await d.find_lead(phone="13912345678") is None
    assert await d.find_lead(qq_id="55555") is None
    assert [(member_id, load) for member_id, load, _ in await members(d)] == [(wang.id, 1)]

    # the lost capture is simply redone: the same platform event is not taken as a replay
    again = await d.capture(
        channel="autohome", phone="13912345678", qq_id="55555", event_key="autohome:2"
    )
    assert again.created and again.lead.id != 1
    assert await count_rows(d, "leads") == 2


CLAIM_CRASH_SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys

    from desk import SYSTEM, Desk, build_settings


    async def main(url):
        d = await Desk.open(build_settings({"database_url": url}))
        await d.add_member(SYSTEM, name="王顾问", qq_id="10001")
        await d.capture(channel="qq_dm", qq_id="55555", message="多少钱")
        [item] = await d.claim_notifications(limit=1)
        print(f"claimed {item.id}", flush=True)
        os._exit(9)  # died while sending: the front never reported back


    asyncio.run(main(sys.argv[1]))
    """
)


async def test_process_killed_while_sending_never_sends_twice(tmp_path: Path, reopen) -> None:
    code, out, err = await run_script(CLAIM_CRASH_SCRIPT, make_settings(tmp_path).database_url)
    assert (code, out.splitlines()) == (9, ["claimed 1"]), err[-2000:]

    clock = FrozenClock(datetime.now(UTC))
    d: Desk = await reopen(clock)
    assert await d.claim_notifications() == []  # still in flight
    clock.advance(minutes=10)
    assert await d.claim_notifications() == []  # the lease ran out: maybe sent, never resent
    assert await outbox_rows(d) == [("new_lead", "10001", "uncertain")]
    assert await count_rows(d, "leads") == 1


# -- (c) restart ------------------------------------------------------------------------------------


async def test_outbox_after_restart_neither_resends_nor_forgets(
    tmp_path: Path, clock: FrozenClock, reopen
) -> None:
    first: Desk = await reopen(clock)
    await first.add_member(SYSTEM, name="王顾问", qq_id="10001")
    for qq in ("55551", "55552", "55553", "55554"):
        await first.capture(channel="qq_dm", qq_id=qq, message="多少钱")
    [sent] = await first.claim_notifications(limit=1)
    assert await first.notification_sent(sent.id)
    [in_flight] = await first.claim_notifications(limit=1)  # then the process stops
    [failed] = await first.claim_notifications(limit=1)
    assert await first.notification_failed(failed.id, "bot offline")  # retry later
    await first.close()

    second: Desk = await reopen(clock)
    [pending] = await second.claim_notifications(limit=500)
    assert pending.id not in (sent.id, in_flight.id, failed.id)
    assert pending.payload["lead_id"] == 4
    assert await second.notification_sent(pending.id)
    assert await second.notification_sent(sent.id) is False  # a late duplicate report
    await second.close()

    clock.advance(minutes=10)  # past the lease and the first backoff
    third: Desk = await reopen(clock)
    retried = await third.claim_notifications(limit=500)
    assert [m.id for m in retried] == [failed.id]  # a sure failure is retried…
    assert retried[0].attempts == 2
    assert await third.notification_sent(failed.id)
    assert await third.claim_notifications(limit=500) == []  # …the rest never again
    assert [status for _, _, status in await outbox_rows(third)] == [
        "sent",  # claimed and reported
        "uncertain",  # claimed, never reported: not resent blindly
        "sent",  # failed, retried after the restart
        "sent",  # pending across the restart
    ]
    assert await count_rows(third, "leads") == 4
    assert await count_rows(third, "timeline") == 4


async def test_committed_steps_survive_a_restart(
    tmp_path: Path, clock: FrozenClock, reopen
) -> None:
    first: Desk = await reopen(clock)
    wang = await first.add_member(SYSTEM, name="王顾问", qq_id="10001")
    lead = (await first.capture(channel="qq_dm", qq_id="55555")).lead
    await first.follow_up(wang.actor(), lead.id, "约周日来店", level="H")
    await first.invite(wang.actor(), lead.id, clock.now() + timedelta(days=2))
    before = await first.lead(SYSTEM, lead.id)
    await first.close()

    second: Desk = await reopen(clock)
    assert await second.lead(SYSTEM, lead.id) == before
    assert [e.action for e in before.timeline] == ["created", "follow_up", "invite"]
    assert await second.member_by(qq_id="10001") == wang


async def test_sqlite_syncs_every_commit_to_disk(desk: Desk) -> None:
    """synchronous=FULL (2) on the writer and the readers: in WAL mode NORMAL (1)
    may lose commits already acknowledged (已报名) on a power loss."""
    if desk.db.dialect != "sqlite":
        pytest.skip("a SQLite setting")
    async with desk.db.writer() as session:
        assert await session.scalar(text("PRAGMA synchronous")) == 2
    async with desk.db.reader() as session:
        assert await session.scalar(text("PRAGMA synchronous")) == 2
