"""Concurrency: many captures and steps at once keep one person one lead, every
change recorded, loads in step, and each notification claimed once (spec §2, §5)."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import text

from desk import SYSTEM, Desk, InvalidTransition
from tests.desk.conftest import Team, count_rows, outbox_rows

CHANNELS = [
    "qq_group:777", "qq_group:888", "qq_dm", "referral", "event:3", "autohome", "yiche", "baidu",
    "weibo", "forum", "video", "groupbuy", "phone_in", "walk_in", "wechat_oa", "wecom", "manual",
]  # fmt: skip
SPELLINGS = ["13812345678", "+86 138-1234-5678", "138 1234 5678", "8613812345678"]


async def loads(desk: Desk) -> dict[int, tuple[int, int]]:
    """member id → (open_load column, real count of their leads not won or lost)."""
    async with desk.db.reader() as s:
        rows = await s.execute(
            text(
                "SELECT m.id, m.open_load, (SELECT count(*) FROM leads l"
                " WHERE l.consultant_id = m.id AND l.stage NOT IN ('won', 'lost'))"
                " FROM roster_members m"
            )
        )
        return {member_id: (column, real) for member_id, column, real in rows.all()}


def no_errors(results: list) -> list:
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], errors[:3]
    return results


async def test_200_captures_of_one_phone_at_once_are_one_lead(desk: Desk, team: Team) -> None:
    async def one(i: int):
        fields = {
            "channel": CHANNELS[i % len(CHANNELS)],
            "phone": SPELLINGS[i % len(SPELLINGS)],
            "message": f"第{i}次问价",
        }
        if i % 2:
            fields["wechat_openid"] = f"wx-{i}"  # a new handle of the same person
        return await desk.capture(**fields)

    results = no_errors(await asyncio.gather(*(one(i) for i in range(200)), return_exceptions=True))

    assert len({r.lead.id for r in results}) == 1
    assert [r.created for r in results].count(True) == 1
    assert [r.duplicate for r in results].count(True) == 199
    assert await count_rows(desk, "leads") == 1
    assert await count_rows(desk, "lead_contacts") == 1 + 100
    kinds = Counter(kind for kind, _, _ in await outbox_rows(desk))
    assert kinds == {"new_lead": 1, "lead_returned": 199}
    lead_id = results[0].lead.id
    detail = await desk.lead(team.manager.actor(), lead_id)
    assert Counter(e.action for e in detail.timeline) == {"created": 1, "seen_again": 199}
    assert detail.timeline[0].action == "created"
    assert await loads(desk) == {
        team.manager.id: (0, 0),
        team.wang.id: (1, 1),
        team.li.id: (0, 0),
    }
    for i in range(1, 200, 2):
        found = await desk.find_lead(wechat_openid=f"wx-{i}")
        assert found is not None and found.id == lead_id


async def test_100_distinct_phones_at_once_are_100_leads_spread_evenly(
    desk: Desk, team: Team
) -> None:
    zhao = await desk.add_member(SYSTEM, name="赵顾问", qq_id="10003")
    phones = [f"139{i:08d}" for i in range(100)]
    results = no_errors(
        await asyncio.gather(
            *(
                desk.capture(channel=CHANNELS[i % len(CHANNELS)], phone=p, message="多少钱")
                for i, p in enumerate(phones)
            ),
            return_exceptions=True,
        )
    )
    ids = [r.lead.id for r in results]
    assert len(set(ids)) == 100 and all(r.created for r in results)
    assert await count_rows(desk, "leads") == 100
    assert await count_rows(desk, "timeline") == 100
    assert Counter(kind for kind, _, _ in await outbox_rows(desk)) == {"new_lead": 100}
    for phone, lead_id in zip(phones, ids, strict=True):
        found = await desk.find_lead(phone=phone)
        assert found is not None and found.id == lead_id

    load = await loads(desk)
    assert all(column == real for column, real in load.values()), load
    assert sum(column for column, _ in load.values()) == 100
    # least-loaded assignment between the two on duty; the one off duty gets none
    assert abs(load[team.wang.id][0] - load[zhao.id][0]) <= 1
    assert load[team.li.id] == (0, 0)


async def test_concurrent_steps_on_one_lead_are_all_recorded(desk: Desk, team: Team) -> None:
    actor = team.wang.actor()
    lead = (await desk.capture(channel="qq_dm", qq_id="55555")).lead
    no_errors(
        await asyncio.gather(
            *(
                desk.follow_up(actor, lead.id, f"第{i}次回访", level="HABC"[i % 4])
                for i in range(50)
            ),
            return_exceptions=True,
        )
    )
    detail = await desk.lead(actor, lead.id)
    assert len(detail.timeline) == 51
    assert sorted(e.note for e in detail.timeline[1:]) == sorted(f"第{i}次回访" for i in range(50))

    # only one of many simultaneous 战败 requests can win; the rest are refused cleanly
    results = await asyncio.gather(
        *(desk.request_defeat(actor, lead.id, f"价格 第{i}次") for i in range(20)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, InvalidTransition) for r in results if isinstance(r, BaseException))
    assert Counter(k for k, _, _ in await outbox_rows(desk))["defeat_review"] == 1
    assert len((await desk.lead(actor, lead.id)).timeline) == 52

    # approve and reopen at once: whatever the order, the load ends in step
    await asyncio.gather(
        desk.review_defeat(team.manager.actor(), lead.id, True),
        *(desk.capture(channel="event:3", qq_id="55555") for _ in range(5)),
    )
    load = await loads(desk)
    assert all(column == real for column, real in load.values()), load


async def test_two_desks_on_one_file_still_make_one_lead(desk: Desk, team: Team) -> None:
    """The bot and a CLI (two engines, two write connections) capturing at once."""
    other = await Desk.open(desk.settings, desk.clock)
    try:
        results = no_errors(
            await asyncio.gather(
                *(
                    (desk if i % 2 else other).capture(
                        channel=CHANNELS[i % len(CHANNELS)], phone=SPELLINGS[i % 4]
                    )
                    for i in range(60)
                ),
                return_exceptions=True,
            )
        )
        assert len({r.lead.id for r in results}) == 1
        assert [r.created for r in results].count(True) == 1
        assert await count_rows(other, "leads") == 1
        assert await count_rows(desk, "timeline") == 60
        kinds = Counter(kind for kind, _, _ in await outbox_rows(desk))
        assert kinds == {"new_lead": 1, "lead_returned": 59}
        load = await loads(other)
        assert all(column == real for column, real in load.values()), load
        assert load[team.wang.id] == (1, 1)
    finally:
        await other.close()


async def test_concurrent_claims_hand_out_each_notification_once(desk: Desk, team: Team) -> None:
    await asyncio.gather(
        *(desk.capture(channel="qq_dm", qq_id=f"{60000 + i}", message="多少钱") for i in range(40))
    )
    other = await Desk.open(desk.settings, desk.clock)  # a second front on the same file
    try:
        batches = no_errors(
            await asyncio.gather(
                *((desk if i % 2 else other).claim_notifications(limit=3) for i in range(30)),
                return_exceptions=True,
            )
        )
    finally:
        await other.close()
    claimed = [item.id for batch in batches for item in batch]
    assert len(claimed) == len(set(claimed)) == 40
    assert await desk.claim_notifications(limit=500) == []
    assert {status for _, _, status in await outbox_rows(desk)} == {"sending"}
