"""Staff corrections kept as labelled examples (features.intent.corrections), without
NoneBot: one effect per quoted message, the text erased with the person, the
Monday push to the managers only when the week had corrections."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from desk import Desk, FrozenClock
from features.intent import corrections
from features.intent.corrections import Quoted
from tests.desk.conftest import local, outbox_rows

GROUP = "777"


async def staff(desk: Desk, qq: str):
    member = await desk.member_by(qq_id=qq)
    assert member is not None
    return member.actor()


def quoted(message_id: int, text: str = "周末带老婆来看看车", user: str = "55555") -> Quoted:
    return Quoted(f"qq:10000:msg:{message_id}", user, "小张", text, GROUP)


@pytest.fixture(autouse=True)
def _registered(desk: Desk) -> None:
    corrections.register(desk)


async def test_a_quoted_message_is_one_lead_and_one_example_however_often(desk: Desk) -> None:
    wang = await staff(desk, "10001")
    first = await corrections.capture_quoted(desk, wang, "qq", quoted(1))
    again = await corrections.capture_quoted(desk, wang, "qq", quoted(1))

    assert (first.new, again.new, again.lead.id) == (True, False, first.lead.id)
    assert (first.lead.channel, first.lead.group_id, first.lead.first_message) == (
        "qq_group", GROUP, "周末带老婆来看看车",
    )  # fmt: skip
    rows = await corrections.review(desk, *corrections.review_window(desk.clock.now()))
    assert [(r.verdict, r.source, r.text, r.staff) for r in rows] == [
        ("lead", "group", "周末带老婆来看看车", "王顾问")
    ]


async def test_withdrawing_by_the_ack_records_the_captured_words(desk: Desk) -> None:
    lead = (
        await desk.capture(
            channel=f"qq_group:{GROUP}", qq_id="55555", message="这个油耗多少钱一公里",
            group_id=GROUP, event_key="qq:10000:msg:5", automatic=True,
        )
    ).lead  # fmt: skip
    await corrections.remember_acks(desk, [corrections.ack_key("qq", "10000", "900")], lead.id)
    manager = await staff(desk, "90002")

    with pytest.raises(corrections.NotCorrectable):
        await corrections.withdraw(desk, manager, "qq", ["intent-ack-msg:qq:10000:901"])
    done = await corrections.withdraw(
        desk, manager, "qq", [corrections.ack_key("qq", "10000", "900"), "qq:10000:msg:900"]
    )

    assert done.lead.stage == "invalid"
    rows = await corrections.review(desk, *corrections.review_window(desk.clock.now()))
    assert [(r.verdict, r.source, r.text, r.staff) for r in rows] == [
        ("not_lead", "group", "这个油耗多少钱一公里", "周经理")
    ]


async def test_the_example_text_goes_with_the_person(desk: Desk) -> None:
    wang = await staff(desk, "10001")
    await corrections.capture_quoted(desk, wang, "qq", quoted(1, "能便宜点吗 13812345678"))
    before = await desk.describe_person("qq", "55555", audit=False)
    assert before.features["intent_corrections"] == {"examples": 1}

    erasure = await desk.erase_person("qq", "55555")

    assert erasure.counts["intent_corrections.texts"] == 1
    [row] = await corrections.review(desk, *corrections.review_window(desk.clock.now()))
    assert (row.verdict, row.text) == ("lead", None)


async def _push_at(desk: Desk, clock: FrozenClock, at: datetime) -> list[tuple]:
    clock.set(at)
    await desk.run_schedules()
    return [row for row in await outbox_rows(desk) if row[0] == "intent_review"]


async def test_managers_hear_of_the_week_on_monday_morning_once(
    desk: Desk, desk_clock: FrozenClock
) -> None:
    monday = local(2026, 11, 30, 9, 0)
    assert await _push_at(desk, desk_clock, monday) == []  # a week without corrections

    desk_clock.set(local(2026, 12, 2, 15, 0))  # Wednesday
    await corrections.capture_quoted(desk, await staff(desk, "10001"), "qq", quoted(1))
    next_monday = monday + timedelta(days=7)
    assert await _push_at(desk, desk_clock, next_monday - timedelta(minutes=1)) == []
    assert await _push_at(desk, desk_clock, next_monday) == [("intent_review", "90002", "pending")]
    assert len(await _push_at(desk, desk_clock, next_monday + timedelta(hours=2))) == 1
