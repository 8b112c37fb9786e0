"""kill -9 under load, 20 times (spec §5: "Nothing acknowledged is lost … sends
no notification twice").

One bot process on one database and config, over the real OneBot v11
WebSocket. In each trial a manager starts an event (发起活动); owners keep
writing at once, each a fresh QQ id: a purchase question (a new lead,
acknowledged in the group with 已安排顾问…), 报名 (已报名活动 #…) and 签到
(签到成功); the consultant answers every new-lead DM with 跟进 (已记录 #… 跟进).
At a seeded random moment the whole process group gets SIGKILL; the bot is
restarted on the same database and the fake QQ client reconnects and
redelivers every write it saw no acknowledgement for (as a QQ client may after
a reconnect).

At the end every acknowledgement ever received is looked up in the database
(SQLAlchemy, so SQLite and PostgreSQL alike), and every notification DM the
client received is counted: a lead's new-lead DM at most once, any other DM
text at most once. A notification in flight at the kill may never arrive (it
is marked uncertain and never resent blindly): that is correct, so DMs are
counted for duplicates only.

KILL9_SEED picks another seed; KILL9_TRIALS another number of trials.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.command_limit import LIMIT_OFF_ENV
from bot.sim import ApiCall, OneBotClient, is_group_send
from bot.sim.client import GROUP_SEND_ACTIONS
from desk.models import OutboxMessage
from tests.e2e.conftest import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    BotProcess,
    database_url,
    group_marker,
    is_dm_to,
    message_text,
    outbox_marker,
    shut_down,
    start_desk_bot,
)

SEED = int(os.environ.get("KILL9_SEED", "20261206"))
TRIALS = int(os.environ.get("KILL9_TRIALS", "20"))
BUDGET = 160.0  # seconds for all trials together, start-ups included
OWNERS = 4  # writers at once in each group
GROUPS = (556001, 556002)
SELF_ID = 889101  # the same QQ account every time: the outbox delivers through it
ACK_TIMEOUT = 15.0

_EVENT_CREATED = re.compile(r"已发起活动 #(\d+)")
_SIGNED = re.compile(r"(?:已报名活动|活动) #(\d+)「[^」]*」(?:，\d+人|名额已满)")
_FOLLOWED = re.compile(r"已记录 #(\d+) 跟进")
_NEW_LEAD = re.compile(r"【新线索 #(\d+)】")


@dataclass
class Acks:
    """Every acknowledgement the client received, by what it promises."""

    events: set[int] = field(default_factory=set)
    signups: set[tuple[int, int]] = field(default_factory=set)  # (event, user)
    checkins: set[tuple[int, int]] = field(default_factory=set)  # (group, user)
    leads: set[int] = field(default_factory=set)  # the asker's QQ id
    follow_ups: set[int] = field(default_factory=set)  # lead number

    def total(self) -> int:
        return sum(
            map(len, (self.events, self.signups, self.checkins, self.leads, self.follow_ups))
        )


def at_user(call: ApiCall) -> int | None:
    message = call.params.get("message")
    if isinstance(message, list):
        for seg in message:
            if seg.get("type") == "at":
                return int(seg["data"]["qq"])
    return None


def collect_acks(calls: list[ApiCall], acks: Acks) -> None:
    """What the bot acknowledged, read from its send calls (replies only)."""
    for call in calls:
        text = message_text(call)
        if is_group_send(call):
            group, user = int(call.params["group_id"]), at_user(call)
            if match := _EVENT_CREATED.search(text):
                acks.events.add(int(match.group(1)))
            elif user is None:
                continue
            elif match := _SIGNED.search(text):
                acks.signups.add((int(match.group(1)), user))
            elif "签到成功" in text:
                acks.checkins.add((group, user))
            elif "已安排顾问" in text or "已记下您的号码" in text:
                acks.leads.add(user)
        elif call.action == "send_msg" and is_dm_to(call, CONSULTANT_QQ):
            if match := _FOLLOWED.search(text):
                acks.follow_ups.add(int(match.group(1)))


def notification_keys(call: ApiCall) -> list[tuple[Any, ...]]:
    """What makes a staff notification (an outbox DM) the one it is: a new-lead DM
    by its lead number and by whom and which words it is about (a second lead made
    of the same message is a DM sent twice too); any other DM by its whole text.
    Nothing for command replies."""
    if call.action != "send_private_msg":
        return []
    user, text = str(call.params.get("user_id")), message_text(call)
    if match := _NEW_LEAD.search(text):
        about = [ln for ln in text.splitlines()[1:] if not ln.startswith("请在 ")]
        return [(user, "new_lead", int(match.group(1))), (user, "new_lead_about", *about)]
    return [(user, text)]


async def owner(
    qq: OneBotClient,
    group: int,
    event_id: int,
    users: Iterator[int],
    unacked: list[dict[str, Any]],
    first: int,
) -> None:
    """One owner after another in `group`: ask, sign up, check in (starting with the
    `first` of these, so that a short trial has every kind); each write waits for
    its acknowledgement. Runs until cancelled (the bot is killed)."""
    for user in users:
        writes = (
            (f"这车落地多少钱？我是车友{user}", ("已安排顾问", "已记下您的号码")),
            (f"报名 {event_id}", ("已报名活动", "候补")),
            ("签到", ("签到成功",)),
        )
        for text, needles in writes[first:] + writes[:first]:
            mark = qq.mark()
            sent = sent_event(
                qq, await qq.send_group_message(group, user, text, nickname=f"车友{user}")
            )
            unacked.append(sent)
            await qq.wait_for_call(
                GROUP_SEND_ACTIONS,
                lambda c, u=user, n=needles: (
                    is_group_send(c, group)
                    and at_user(c) == u
                    and any(x in message_text(c) for x in n)
                ),
                ACK_TIMEOUT,
                after=mark,
            )
            unacked.remove(sent)


def sent_event(qq: OneBotClient, message_id: int) -> dict[str, Any]:
    """The event the client sent with `message_id` (other writers send meanwhile)."""
    return next(e for e in reversed(qq.sent_events) if e.get("message_id") == message_id)


async def consultant(qq: OneBotClient, followed: set[int], unacked: list[dict[str, Any]]) -> None:
    """The consultant answers every new-lead DM with 跟进. Runs until cancelled."""
    after = 0
    while True:
        call = await qq.wait_for_call(
            "send_private_msg",
            lambda c: is_dm_to(c, CONSULTANT_QQ) and _NEW_LEAD.search(message_text(c)) is not None,
            3600,
            after=after,
        )
        lead = int(_NEW_LEAD.search(message_text(call)).group(1))  # type: ignore[union-attr]
        if lead in followed:
            continue
        followed.add(lead)
        mark = qq.mark()
        text = f"跟进 {lead} 已电话回访{lead} 级别 A"
        sent = sent_event(qq, await qq.send_private_message(CONSULTANT_QQ, text))
        unacked.append(sent)
        await qq.wait_for_call(
            "send_msg",
            lambda c, n=lead: is_dm_to(c, CONSULTANT_QQ) and f"已记录 #{n} 跟进" in message_text(c),
            ACK_TIMEOUT,
            after=mark,
        )
        unacked.remove(sent)


async def start_event(qq: OneBotClient, group: int, trial: int) -> int:
    """The manager starts an event in `group`; returns its number."""
    mark = qq.mark()
    await qq.send_group_message(
        group, MANAGER_QQ, f"发起活动 试驾日{trial} 后天上午10点 4S店门口 200人",
        nickname="张经理", role="admin",
    )  # fmt: skip
    call = await qq.wait_for_call(
        GROUP_SEND_ACTIONS,
        lambda c: is_group_send(c, group) and _EVENT_CREATED.search(message_text(c)) is not None,
        ACK_TIMEOUT,
        after=mark,
    )
    return int(_EVENT_CREATED.search(message_text(call)).group(1))  # type: ignore[union-attr]


async def missing(conn: AsyncConnection, acks: Acks) -> list[str]:
    """The acknowledged writes the database does not hold."""
    lost = []

    async def one(query: str, params: dict[str, Any]) -> bool:
        return (await conn.execute(sql(query), params)).first() is not None

    for event in sorted(acks.events):
        if not await one("SELECT 1 FROM events WHERE id = :id", {"id": event}):
            lost.append(f"event #{event}")
    for event, user in sorted(acks.signups):
        query = (
            "SELECT 1 FROM event_signups WHERE event_id = :e AND user_id = :u"
            " AND status IN ('signed', 'waitlisted')"
        )
        if not await one(query, {"e": event, "u": str(user)}):
            lost.append(f"sign-up of {user} for event #{event}")
    for group, user in sorted(acks.checkins):
        query = "SELECT 1 FROM activity_checkins WHERE group_id = :g AND user_id = :u"
        if not await one(query, {"g": str(group), "u": f"qq:{user}"}):
            lost.append(f"check-in of {user} in {group}")
    for user in sorted(acks.leads):
        query = "SELECT 1 FROM lead_contacts WHERE kind = 'qq' AND value = :u"
        if not await one(query, {"u": str(user)}):
            lost.append(f"lead of {user}")
    for lead in sorted(acks.follow_ups):
        query = (
            "SELECT 1 FROM timeline WHERE lead_id = :l AND action = 'follow_up' AND note LIKE :n"
        )
        if not await one(query, {"l": lead, "n": f"%已电话回访{lead}%"}):
            lost.append(f"follow-up of lead #{lead}")
    return lost


async def test_kill9_under_load_loses_no_ack_and_sends_no_dm_twice(
    tmp_path: Path, desk_config: dict[str, str]
) -> None:
    rng = random.Random(SEED)
    workdir = tmp_path / "bot"
    users = itertools.count(4_100_001)
    acks, followed = Acks(), set[int]()
    calls: list[ApiCall] = []  # every call the bot made, all trials
    redeliver: list[dict[str, Any]] = []  # writes sent but never acknowledged
    starts: list[float] = []
    kills: list[float] = []
    began = time.monotonic()
    bot: BotProcess | None = None
    qq: OneBotClient | None = None
    try:
        for trial in range(TRIALS + 1):  # the last start only settles and checks
            t = time.monotonic()
            # a crash test, not a flood test: the consultant answers every lead at once
            bot = start_desk_bot(workdir, desk_config | LIMIT_OFF_ENV)
            starts.append(time.monotonic() - t)
            qq = OneBotClient(bot.ws_url, self_id=SELF_ID, token=bot.token)
            await qq.connect()
            for event in redeliver:  # the same message ids: one effect at most
                await qq.send_event(event)
            redeliver = []
            if trial == TRIALS:
                break
            events = {group: await start_event(qq, group, trial) for group in GROUPS}
            # The load window, from the start-ups measured so far: all trials fit BUDGET.
            left = TRIALS - trial
            remaining = BUDGET - (time.monotonic() - began) - (left + 1) * statistics.mean(starts)
            window = max(0.5, remaining / left - 0.5)
            unacked: list[dict[str, Any]] = []
            load = [
                asyncio.create_task(owner(qq, group, events[group], users, unacked, i % 3))
                for group in GROUPS
                for i in range(OWNERS)
            ]
            load.append(asyncio.create_task(consultant(qq, followed, unacked)))
            kill_at = rng.uniform(0.2, window)
            done, _ = await asyncio.wait(load, timeout=kill_at)
            for task in done:  # a writer that stopped early (no ack in time) is a failure
                task.result()
            assert bot.kill() == -9
            kills.append(kill_at)
            for task in load:
                task.cancel()
            await asyncio.gather(*load, return_exceptions=True)
            await qq.close()
            calls += qq.calls
            redeliver = list(unacked)
        assert qq is not None and bot is not None
        for group in GROUPS:  # the redelivered writes are handled ...
            await group_marker(qq, group)
        await outbox_marker(qq)  # ... and their DMs queued before this one went out
        await settle_outbox(workdir)
        await qq.close()
        calls += qq.calls
        bot.stop()

        collect_acks(calls, acks)
        engine = create_async_engine(database_url(workdir))
        try:
            async with engine.connect() as conn:
                lost = await missing(conn, acks)
                rows = await conn.execute(
                    sql("SELECT status, count(*) FROM outbox GROUP BY status")
                )
                outbox = dict(rows.all())
        finally:
            await engine.dispose()
        notified = Counter(k for c in calls for k in notification_keys(c))
        dms = sum(c.action == "send_private_msg" for c in calls)
        twice = {k: n for k, n in notified.items() if n > 1}
        print(
            f"\nkill -9: {TRIALS} trials (seed {SEED}), start-up {min(starts):.1f}-{max(starts):.1f}s, "
            f"kill after {min(kills):.1f}-{max(kills):.1f}s of load; "
            f"acks checked {acks.total()} (events {len(acks.events)}, sign-ups {len(acks.signups)}, "
            f"check-ins {len(acks.checkins)}, leads {len(acks.leads)}, "
            f"follow-ups {len(acks.follow_ups)}); writes lost {len(lost)}; "
            f"notifications {dms}, duplicate notifications {len(twice)}; "
            f"outbox {outbox}; {time.monotonic() - began:.0f}s"
        )
        assert acks.leads and acks.signups and acks.checkins and acks.follow_ups, acks
        assert lost == [], lost
        assert twice == {}, twice
    except BaseException:
        if qq is not None:  # what the bot said last, for the failure report
            print("\n".join(f"{c.action} {c.params.get('group_id') or c.params.get('user_id')}: "
                             f"{message_text(c)[:80]!r}" for c in qq.calls[-40:]))  # fmt: skip
        if bot is not None:
            print(bot.log(200))
        raise
    finally:
        await shut_down(bot, qq)


async def settle_outbox(workdir: Path, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Wait until the outbox holds nothing deliverable now: every notification left
    pending by a kill has been delivered (or given up) through the last bot."""
    engine = create_async_engine(database_url(workdir))
    query = select(OutboxMessage.next_attempt_at).where(OutboxMessage.status == "pending")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            async with engine.connect() as conn:
                due = (await conn.execute(query)).scalars().all()
            if not [at for at in due if at <= datetime.now(UTC)]:
                return
            assert loop.time() < deadline, "the outbox did not settle"
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
