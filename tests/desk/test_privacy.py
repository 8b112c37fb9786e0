"""Personal data rights (spec §7): 我的信息 and erasure as desk use cases (desk.privacy).

The erasure check reads every table of the database as text (JSON columns
included) and looks for the person's phone, name, QQ id and words: none may be
left, while the counts the reports read stay.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from desk import SYSTEM, Desk, Forbidden, InvalidInput, LeadNotFound, UnitOfWork
from desk.models import OutboxMessage, PrivacyAudit
from desk.privacy import ERASED_CATEGORY, Person
from tests.desk.conftest import Team, count_rows, table_names

PHONE, NAME, QQ = "13812345678", "小王", "20001"
WORDS = "落地多少钱"  # what the person wrote
SECRETS = (PHONE, NAME, QQ, WORDS, "比价")


async def dump(desk: Desk) -> dict[str, list[str]]:
    """Every row of every table, as text, by table."""
    rows: dict[str, list[str]] = {}
    async with desk.db.reader() as session:
        for table in sorted(await table_names(desk)):
            if table == "alembic_version":
                continue
            result = await session.execute(text(f'SELECT * FROM "{table}"'))
            rows[table] = [" | ".join(str(v) for v in row) for row in result.all()]
    return rows


async def leftovers(desk: Desk, secrets: tuple[str, ...] = SECRETS) -> list[str]:
    return [
        f"{table}: {row}"
        for table, rows in (await dump(desk)).items()
        for row in rows
        if any(s in row for s in secrets)
    ]


async def a_known_person(desk: Desk, team: Team) -> int:
    """A prospect seen in a group and again by phone, followed up with notes, who also
    referred a friend: their data sits in leads, contacts, timeline and outbox."""
    first = await desk.capture(
        channel="qq_group:123456", qq_id=QQ, message=f"这车{WORDS}？",
        group_id="123456", event_key="qq:10000:msg:1",
    )  # fmt: skip
    await desk.capture(
        channel="qq_dm", qq_id=QQ, phone=PHONE, name=NAME, message=f"我是{NAME}，电话 {PHONE}"
    )
    await desk.follow_up(team.wang.actor(), first.lead.id, f"{NAME}在比价，回电 {PHONE}")
    await desk.capture(channel="referral", phone="13900001111", referrer=f"qq:{QQ}")
    assert await leftovers(desk)  # the scan finds what is there
    return first.lead.id


async def test_erasing_oneself_leaves_no_phone_name_or_text_anywhere(
    desk: Desk, team: Team
) -> None:
    lead_id = await a_known_person(desk, team)
    leads_before = await desk.funnel(desk.period("month"))

    erasure = await desk.erase_person("qq", QQ)

    assert erasure.lead_id == lead_id
    assert await leftovers(desk) == []
    # the counts stay: the same leads, contacted once, in the month's funnel
    assert await desk.funnel(desk.period("month")) == leads_before
    lead = (await desk.lead(SYSTEM, lead_id)).lead
    assert (lead.name, lead.phone, lead.first_message) == (None, None, None)
    assert (lead.stage, lead.defeat_category, lead.next_follow_up_at) == (
        "lost", ERASED_CATEGORY, None,
    )  # fmt: skip
    assert await desk.find_lead(qq_id=QQ) is None
    assert await desk.find_lead(phone=PHONE) is None
    assert (await desk.tasks_for(team.wang.id)).total == 1  # only the referred friend


async def test_the_consultant_is_told_by_lead_number_only(desk: Desk, team: Team) -> None:
    lead_id = await a_known_person(desk, team)
    await desk.erase_person("qq", QQ)

    async with desk.db.reader() as session:
        told = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "lead_erased"))
        ).all()
    assert [(m.address, m.lead_id, m.payload) for m in told] == [
        ("10001", lead_id, {"lead_id": lead_id, "by": "person"})
    ]
    # the earlier DMs about this lead (name, phone, words) are gone with it
    async with desk.db.reader() as session:
        about = (
            await session.scalars(
                select(OutboxMessage.kind).where(OutboxMessage.lead_id == lead_id)
            )
        ).all()
    assert list(about) == ["lead_erased"]


async def test_the_audit_row_keeps_no_personal_data(desk: Desk, team: Team) -> None:
    lead_id = await a_known_person(desk, team)
    await desk.erase_person("qq", QQ)

    async with desk.db.reader() as session:
        [audit] = (await session.scalars(select(PrivacyAudit))).all()
    assert (audit.action, audit.actor_kind, audit.actor, audit.lead_id) == (
        "erase", "person", None, lead_id,
    )  # fmt: skip
    assert audit.subject.startswith("erased:") and QQ not in audit.subject
    assert audit.counts["contacts"] == 2  # QQ and phone
    assert audit.counts["referred_leads"] == 1
    row = f"{audit.subject} {audit.counts} {audit.actor}"
    assert not any(s in row for s in SECRETS)


async def test_a_fresh_question_after_erasure_makes_a_new_lead(desk: Desk, team: Team) -> None:
    old = await a_known_person(desk, team)
    await desk.erase_person("qq", QQ)

    again = await desk.capture(
        channel="qq_dm", qq_id=QQ, message="还有优惠吗", event_key="qq:10000:msg:1"
    )
    fresh = await desk.capture(channel="qq_dm", qq_id=QQ, message="还有优惠吗")

    assert again.lead.id == old  # a redelivered old message does not bring them back…
    assert fresh.created and fresh.lead.id != old  # …a new question is a new lead
    assert fresh.lead.name is None


async def test_describe_shows_the_lead_and_is_audited(desk: Desk, team: Team) -> None:
    lead_id = await a_known_person(desk, team)

    data = await desk.describe_person("qq", QQ)

    assert data.lead is not None and data.lead.id == lead_id
    assert data.consultant == "王顾问"
    assert set(data.contacts) == {("qq", QQ), ("phone", PHONE)}
    assert [n for _, n in data.notes] == [
        f"这车{WORDS}？", f"我是{NAME}，电话 {PHONE}", f"{NAME}在比价，回电 {PHONE}",
    ]  # fmt: skip
    async with desk.db.reader() as session:
        actions = (await session.scalars(select(PrivacyAudit.action))).all()
    assert list(actions) == ["access"]
    await desk.describe_person("qq", QQ, audit=False)  # an erasure's preview
    assert await count_rows(desk, "privacy_audit") == 1


async def test_describe_of_a_stranger_is_empty(desk: Desk) -> None:
    data = await desk.describe_person("qq", "30003")
    assert data.empty


async def test_only_a_manager_erases_a_lead(desk: Desk, team: Team) -> None:
    lead_id = await a_known_person(desk, team)

    with pytest.raises(Forbidden):
        await desk.erase_lead(team.wang.actor(), lead_id)
    with pytest.raises(LeadNotFound):
        await desk.erase_lead(team.manager.actor(), 999)
    assert await leftovers(desk)

    erasure = await desk.erase_lead(team.manager.actor(), lead_id)

    assert erasure.consultant_told and erasure.lead_id == lead_id
    assert await leftovers(desk) == []
    async with desk.db.reader() as session:
        [audit] = (await session.scalars(select(PrivacyAudit))).all()
    assert (audit.actor_kind, audit.actor) == ("manager", team.manager.actor().label)


async def test_bad_handles_are_refused(desk: Desk) -> None:
    with pytest.raises(InvalidInput):
        await desk.erase_person("email", "a@b.c")
    with pytest.raises(InvalidInput):
        await desk.describe_person("qq", "")


async def test_features_erase_in_the_same_transaction(desk: Desk, team: Team) -> None:
    """A feature's step sees the person's handles and token; when one fails,
    nothing at all is erased."""
    await a_known_person(desk, team)
    seen: list[Person] = []

    async def remember(uow: UnitOfWork, person: Person) -> dict[str, int]:
        seen.append(person)
        return {"rows": 3}

    async def broken(uow: UnitOfWork, person: Person) -> dict[str, int]:
        raise RuntimeError("feature failed")

    async def nothing(uow: UnitOfWork, person: Person) -> dict[str, Any] | None:
        return {"kept": 1}

    desk.add_personal_data("remember", remember, nothing)
    desk.add_personal_data("broken", broken)
    with pytest.raises(RuntimeError):
        await desk.erase_person("qq", QQ)
    assert await desk.find_lead(qq_id=QQ) is not None
    assert await count_rows(desk, "privacy_audit") == 0

    desk.add_personal_data("broken", remember)  # the same name replaces the step
    erasure = await desk.erase_person("qq", QQ)

    person = seen[-1]
    assert set(person.referrer_handles) == {f"qq:{QQ}", f"phone:{PHONE}"}
    assert person.account_ids == [QQ]
    assert erasure.counts["remember.rows"] == 3
    assert (await desk.describe_person("qq", "30003")).features == {"remember": {"kept": 1}}
