"""The desk's API for features outside it (desk.store, Desk.write/read, capture_in,
notify_in, schedules, signals): what the owner-group plugins build on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from desk import SYSTEM, Desk, FrozenClock, InvalidInput, UnitOfWork
from desk.models import TimelineEntry
from tests.desk.conftest import Team, count_rows, outbox_rows


async def test_a_failing_feature_step_leaves_no_lead_behind(desk: Desk, team: Team) -> None:
    """capture_in shares the feature's transaction: if the feature's own write
    fails after it, the lead and its new-lead DM are rolled back with it."""

    async def step(uow: UnitOfWork) -> None:
        await desk.capture_in(uow, channel="event:7", qq_id="20001", name="小张")
        raise InvalidInput("seats", "已满")

    with pytest.raises(InvalidInput):
        await desk.write(step)
    assert await count_rows(desk, "leads") == 0
    assert await outbox_rows(desk) == []


async def test_capture_in_commits_with_the_step(desk: Desk, team: Team) -> None:
    async def step(uow: UnitOfWork) -> int:
        result = await desk.capture_in(uow, channel="event:7", qq_id="20001", name="小张")
        return result.lead.id

    lead_id = await desk.write(step)
    lead = await desk.lead(SYSTEM, lead_id)
    assert (lead.lead.channel, lead.lead.source) == ("event", "event:7")
    assert await outbox_rows(desk) == [("new_lead", "10001", "pending")]


async def test_read_sees_committed_state(desk: Desk, team: Team) -> None:
    await desk.capture(channel="qq_dm", qq_id="20001")

    async def count(uow: UnitOfWork) -> int:
        return len((await uow.session.scalars(select(TimelineEntry))).all())

    assert await desk.read(count) == 1


async def test_a_scheduled_group_post_waits_for_its_time(desk: Desk, clock: FrozenClock) -> None:
    at = clock.now() + timedelta(hours=2)

    async def schedule(uow: UnitOfWork) -> None:
        await desk.notify_in(
            uow, key="topic:1:2026-11-27", kind="group_post", channel="qq_group",
            address="123456", payload={"text": "今日话题"}, any_hour=True, not_before=at,
        )  # fmt: skip

    await desk.write(schedule)
    await desk.write(schedule)  # same key: queued once
    assert await desk.claim_notifications(["qq_group"]) == []
    clock.advance(hours=2)
    [post] = await desk.claim_notifications(["qq_group"])
    assert (post.address, post.payload["text"]) == ("123456", "今日话题")


async def test_a_withdrawn_post_is_never_delivered(desk: Desk, clock: FrozenClock) -> None:
    async def schedule(uow: UnitOfWork) -> None:
        await desk.notify_in(
            uow, key="event:1:reminder", kind="group_post", channel="qq_group",
            address="123456", payload={"text": "明天见"}, not_before=clock.now(),
        )  # fmt: skip

    await desk.write(schedule)

    async def withdraw(uow: UnitOfWork) -> bool:
        return await desk.cancel_notification_in(uow, "event:1:reminder")

    assert await desk.write(withdraw) is True
    assert await desk.write(withdraw) is False  # nothing pending any more
    assert await desk.claim_notifications(["qq_group"]) == []
    assert await outbox_rows(desk) == [("group_post", "123456", "cancelled")]


async def test_notify_in_refuses_an_unknown_channel(desk: Desk) -> None:
    async def step(uow: UnitOfWork) -> None:
        await desk.notify_in(
            uow, key="k", kind="group_post", channel="fax", address="1", payload={"text": "x"}
        )

    with pytest.raises(InvalidInput):
        await desk.write(step)


async def test_feature_schedules_run_each_in_its_own_transaction(desk: Desk, team: Team) -> None:
    ran: list[str] = []

    async def failing(uow: UnitOfWork) -> int:
        await desk.capture_in(uow, channel="qq_dm", qq_id="20001")
        raise RuntimeError("a feature's bug")

    async def working(uow: UnitOfWork) -> int:
        ran.append("working")
        return 1

    desk.add_schedule(failing)
    desk.add_schedule(working)
    desk.add_schedule(working)  # added once
    await desk.run_schedules()
    await desk.run_schedules()
    assert ran == ["working", "working"]
    assert await count_rows(desk, "leads") == 0  # the failing job's writes rolled back


async def test_a_signal_reaches_the_timeline_and_the_consultant(desk: Desk, team: Team) -> None:
    lead = (await desk.capture(channel="qq_group:123456", qq_id="20001")).lead
    key = "qq:1:leave:123456:20001:1790000000"
    assert await desk.record_signal(lead.id, "left_group", "退出群 123456", key=key) is True
    assert await desk.record_signal(lead.id, "left_group", "退出群 123456", key=key) is False
    detail = await desk.lead(SYSTEM, lead.id)
    assert [(e.action, e.changes.get("signal")) for e in detail.timeline] == [
        ("created", None),
        ("signal", "left_group"),
    ]
    assert [kind for kind, _, _ in await outbox_rows(desk)] == ["new_lead", "lead_signal"]


async def test_a_signal_for_no_lead_changes_nothing(desk: Desk) -> None:
    assert await desk.record_signal(424242, "left_group") is False
    assert await desk.record_signal(-1, "left_group") is False
    assert await count_rows(desk, "timeline") == 0


async def test_leads_by_id_skips_unknown_and_invalid_ids(desk: Desk, team: Team) -> None:
    lead = (await desk.capture(channel="qq_dm", qq_id="20001")).lead
    found = await desk.leads([lead.id, lead.id, 999, -3])
    assert list(found) == [lead.id]
    assert found[lead.id].stage == "new"


async def test_insert_ignore_and_upsert_run_on_this_database(desk: Desk) -> None:
    """The portable helpers features use (the PostgreSQL run covers the other dialect).
    features.points imports no NoneBot, so the desk's own suite can drive it."""
    from features.points import award, balance

    async def give(uow: UnitOfWork) -> bool:
        return await award(uow, "qq:20001", 5, "checkin", "checkin:123:20001:2026-11-27", "123")

    assert await desk.write(give) is True
    assert await desk.write(give) is False  # the same cause: no second award

    async def more(uow: UnitOfWork) -> bool:
        return await award(uow, "qq:20001", 7, "checkin", "checkin:123:20001:2026-11-28", "123")

    await desk.write(more)

    async def total(uow: UnitOfWork) -> int:
        return await balance(uow, "qq:20001")

    assert await desk.read(total) == 12


def test_a_shifted_clock_follows_its_file(tmp_path) -> None:
    from datetime import UTC, datetime

    from desk.clock import ShiftedClock

    shift = tmp_path / "shift"
    clock = ShiftedClock(shift)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)  # no file: no shift
    shift.write_text("86400")
    assert timedelta(hours=23) < clock.now() - datetime.now(UTC) < timedelta(hours=25)
    shift.write_text("not a number!")
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


async def test_a_wecom_customer_is_found_by_external_userid(desk: Desk, team: Team) -> None:
    lead = (await desk.capture(channel="wecom_group", wecom_external_userid="wmABC123")).lead
    found = await desk.find_lead(wecom_external_userid="wmABC123")
    assert found is not None and found.id == lead.id
    assert await desk.find_lead(wecom_external_userid="wmOTHER") is None


async def test_capture_prospect_in_leaves_staff_and_customers_out(desk: Desk, team: Team) -> None:
    """A sign-up captures prospects only, decided in the sign-up's own transaction:
    staff (on the roster) and customers (a won lead) are not made leads again."""
    customer = (await desk.capture(channel="walk_in", qq_id="20002")).lead
    await desk.follow_up(team.wang.actor(), customer.id, "谈妥了", level="H")
    await desk.record_order(team.wang.actor(), customer.id)
    await desk.record_deal(team.wang.actor(), customer.id)
    leads, entries = await count_rows(desk, "leads"), await count_rows(desk, "timeline")

    async def sign_up(qq_id: str):
        return await desk.write(
            lambda uow: desk.capture_prospect_in(
                uow, channel="event:7", qq_id=qq_id, event_key=f"m:{qq_id}"
            )
        )

    assert await sign_up(team.wang.qq_id or "") is None  # staff
    assert await sign_up("20002") is None  # a customer already
    assert await sign_up("20002") is None  # the same message again
    assert (await count_rows(desk, "leads"), await count_rows(desk, "timeline")) == (leads, entries)
    prospect = await sign_up("20003")
    assert prospect is not None and prospect.created and prospect.lead.source == "event:7"
