"""The outbox: durable, idempotent, retried with backoff, held out of hours."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from desk import SYSTEM, Desk, FrozenClock
from desk.models import OutboxMessage
from tests.desk.conftest import Team, local, make_settings, outbox_rows


async def test_claim_then_sent_is_never_claimed_again(desk: Desk, team: Team) -> None:
    await desk.capture(channel="qq_group:1", qq_id="55555", message="多少钱")
    [item] = await desk.claim_notifications(["qq"])
    assert (item.kind, item.address, item.payload["lead_id"]) == ("new_lead", "10001", 1)
    assert await desk.claim_notifications(["qq"]) == []  # in flight
    assert await desk.notification_sent(item.id)
    assert await desk.claim_notifications(["qq"]) == []
    assert await outbox_rows(desk) == [("new_lead", "10001", "sent")]


async def test_failed_send_retries_with_backoff_then_gives_up(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    await desk.capture(channel="qq_group:1", qq_id="55555")
    # the defaults: 6 attempts, waits doubling from 30 s
    for attempt, backoff in enumerate([30, 60, 120, 240, 480], start=1):
        [item] = await desk.claim_notifications()
        assert item.attempts == attempt
        await desk.notification_failed(item.id, "bot offline")
        clock.advance(seconds=backoff - 1)
        assert await desk.claim_notifications() == []  # still backing off
        clock.advance(seconds=1)
    [last] = await desk.claim_notifications()
    await desk.notification_failed(last.id, "bot offline")
    clock.advance(days=1)
    assert await desk.claim_notifications() == []
    assert await outbox_rows(desk) == [("new_lead", "10001", "dead")]


async def test_backoff_stops_growing_at_its_cap(tmp_path: Path, clock: FrozenClock) -> None:
    outbox = {"max_attempts": 5, "backoff_base_seconds": 1000, "backoff_max_seconds": 3600}
    desk = await Desk.open(make_settings(tmp_path / "capped", outbox=outbox), clock)
    try:
        await desk.add_member(SYSTEM, name="王顾问", qq_id="10001")
        await desk.capture(channel="qq_group:1", qq_id="55555")
        for backoff in [1000, 2000, 3600, 3600]:
            [item] = await desk.claim_notifications()
            await desk.notification_failed(item.id, "bot offline")
            clock.advance(seconds=backoff - 1)
            assert await desk.claim_notifications() == []
            clock.advance(seconds=1)
        assert len(await desk.claim_notifications()) == 1
    finally:
        await desk.close()


async def test_timed_out_send_is_not_retried(desk: Desk, team: Team, clock: FrozenClock) -> None:
    await desk.capture(channel="qq_group:1", qq_id="55555")
    [item] = await desk.claim_notifications()
    await desk.notification_uncertain(item.id, "timeout")
    clock.advance(days=1)
    assert await desk.claim_notifications() == []
    assert await outbox_rows(desk) == [("new_lead", "10001", "uncertain")]


async def test_lease_expiry_after_a_crash_is_not_resent(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    await desk.capture(channel="qq_group:1", qq_id="55555")
    assert len(await desk.claim_notifications()) == 1  # …and the process dies before reporting
    clock.advance(minutes=10)
    assert await desk.claim_notifications() == []
    assert await outbox_rows(desk) == [("new_lead", "10001", "uncertain")]


async def test_non_urgent_messages_wait_for_working_hours(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    clock.set(local(2026, 11, 27, 22, 0))
    await desk.notify(
        key="k1", kind="reward", channel="qq", address="30001", payload={"points": 10}
    )
    await desk.capture(channel="qq_group:1", qq_id="55555")  # a new lead is urgent
    assert [i.kind for i in await desk.claim_notifications()] == ["new_lead"]
    clock.set(local(2026, 11, 28, 9, 0))
    assert [i.kind for i in await desk.claim_notifications()] == ["reward"]


async def test_same_key_is_queued_once(desk: Desk, team: Team) -> None:
    for _ in range(3):
        await desk.notify(
            key="reward:lead:1:visit", kind="reward", channel="qq", address="30001", payload={}
        )
    assert await outbox_rows(desk) == [("reward", "30001", "pending")]


async def test_channel_filter_and_wecom_preference(desk: Desk, team: Team) -> None:
    from desk import SYSTEM

    zhou = await desk.add_member(SYSTEM, name="周顾问", wecom_userid="zhou", dm_channel="wecom")
    await desk.set_on_duty(team.wang.id, False)
    lead = await desk.capture(channel="wecom", wecom_external_userid="wmABC")
    assert lead.lead.consultant_id == zhou.id
    assert await desk.claim_notifications(["qq"]) == []
    [item] = await desk.claim_notifications(["wecom"])
    assert (item.channel, item.address) == ("wecom", "zhou")


async def test_once_is_true_only_the_first_time_even_after_restart(
    tmp_path, desk: Desk, clock: FrozenClock
) -> None:
    from tests.desk.conftest import make_settings

    assert await desk.once("intent-reply:777:55555:2026-11-27")
    assert not await desk.once("intent-reply:777:55555:2026-11-27")
    assert await desk.once("intent-reply:777:55555:2026-11-28")
    again = await Desk.open(make_settings(tmp_path), clock)
    try:
        assert not await again.once("intent-reply:777:55555:2026-11-27")
    finally:
        await again.close()


async def test_finished_notifications_are_purged_after_the_retention(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    await desk.capture(channel="qq_group:1", qq_id="55555")
    [item] = await desk.claim_notifications()
    await desk.notification_sent(item.id)
    await desk.notify(key="still-pending", kind="reward", channel="qq", address="30001", payload={})
    clock.advance(days=desk.settings.outbox.retention_days - 1)
    await desk.run_schedules()
    assert ("new_lead", "10001", "sent") in await outbox_rows(desk)
    clock.advance(days=2)
    await desk.run_schedules()
    rows = await outbox_rows(desk)
    assert ("new_lead", "10001", "sent") not in rows
    assert ("reward", "30001", "pending") in rows  # undelivered work is never purged


async def test_a_claim_for_one_channel_leaves_another_channels_sends_in_flight(
    desk: Desk, team: Team, clock: FrozenClock
) -> None:
    await desk.capture(channel="qq_group:1", qq_id="55555")
    await desk.notify(key="oa-1", kind="owner_dm", channel="wechat_oa", address="o_1",
                      payload={"text": "hi"}, any_hour=True)  # fmt: skip
    [qq] = await desk.claim_notifications(["qq", "qq_group"], 1)
    clock.advance(seconds=desk.settings.outbox.lease_seconds + 1)  # a slow QQ send
    [oa] = await desk.claim_notifications(["wecom", "wechat_oa", "wecom_group"], 1)
    assert oa.channel == "wechat_oa"
    assert await desk.notification_sent(qq.id)  # still its own: the WeChat claim left it
    assert ("new_lead", "10001", "sent") in await outbox_rows(desk)


# -- PIPL: a delivered notification keeps no full phone ------------------------------------

PHONE = "13812345678"


async def _payloads(desk: Desk) -> list[tuple[str, dict]]:
    async with desk.db.reader() as s:
        rows = await s.execute(
            select(OutboxMessage.status, OutboxMessage.payload).order_by(OutboxMessage.id)
        )
        return [(status, payload) for status, payload in rows.all()]


async def test_a_sent_notification_keeps_no_full_phone(desk: Desk, team: Team) -> None:
    await desk.capture(
        channel="qq_group:1", qq_id="55555", phone=PHONE, message=f"我电话 {PHONE} 多少钱"
    )
    [item] = await desk.claim_notifications(["qq"])
    assert item.payload["phone"] == PHONE  # the consultant's DM needs it
    [(_, pending)] = await _payloads(desk)
    assert pending["phone"] == PHONE  # kept until the DM is out
    assert await desk.notification_sent(item.id)
    [(status, payload)] = await _payloads(desk)
    assert status == "sent"
    assert PHONE not in json.dumps(payload, ensure_ascii=False)
    assert payload["phone"] == "138****5678" and payload["message"] == "我电话 138****5678 多少钱"
    assert payload["lead_id"] == item.payload["lead_id"]  # still says what it was about


@pytest.mark.parametrize("end", ["dead", "uncertain", "lease expired"])
async def test_a_notification_never_to_be_sent_keeps_no_full_phone(
    desk: Desk, team: Team, clock: FrozenClock, end: str
) -> None:
    await desk.capture(channel="qq_group:1", qq_id="55555", phone=PHONE)
    [item] = await desk.claim_notifications(["qq"])
    if end == "dead":
        await desk.notification_failed(item.id, "blocked", retryable=False)
    elif end == "uncertain":
        await desk.notification_uncertain(item.id, "timeout")
    else:
        clock.advance(minutes=10)
        assert await desk.claim_notifications() == []
    [(status, payload)] = await _payloads(desk)
    assert status == ("dead" if end == "dead" else "uncertain")
    assert payload["phone"] == "138****5678"


async def test_a_retried_notification_keeps_the_phone_it_needs(desk: Desk, team: Team) -> None:
    await desk.capture(channel="qq_group:1", qq_id="55555", phone=PHONE)
    [item] = await desk.claim_notifications(["qq"])
    await desk.notification_failed(item.id, "bot offline")
    [(status, payload)] = await _payloads(desk)
    assert (status, payload["phone"]) == ("pending", PHONE)
