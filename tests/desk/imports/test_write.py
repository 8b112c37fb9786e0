"""The import's batch write path (desk.imports.write via Desk.import_leads): each
row created, merged (撞单), unchanged, a duplicate in the file or rejected, under
the capture's rules; dry run, re-run, caps, the file's consultant, summary DMs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desk import SYSTEM, Desk, Forbidden, FrozenClock, InvalidInput
from desk.imports.rows import ImportReport, LeadRow, RejectedRow
from desk.models import Lead, LeadContact, Member, OutboxMessage, TimelineEntry
from tests.desk.conftest import START, Team, count_rows, local, make_settings

TABLES = ("leads", "lead_contacts", "timeline", "outbox", "report_dirty_days", "processed_events")


def row(line: int, phone: str | None, **fields: object) -> LeadRow:
    return LeadRow(line=line, phone=phone, **fields)  # type: ignore[arg-type]


def export(n: int, first: int = 2) -> list[LeadRow]:
    """n different people, as a platform exports them."""
    return [
        row(first + i, f"1390000{i:04d}", name=f"客户{i}", car_model="汉EV", platform_id=f"AH{i}")
        for i in range(n)
    ]


async def run(desk: Desk, team: Team, rows: Any, **kw: object) -> ImportReport:
    kw.setdefault("source", "autohome")
    return await desk.import_leads(rows, actor=team.manager.actor(), **kw)  # type: ignore[arg-type]


async def leads(desk: Desk) -> list[Lead]:
    async with desk.db.reader() as s:
        return list((await s.scalars(select(Lead).order_by(Lead.id))).all())


async def entries(desk: Desk, lead_id: int) -> list[TimelineEntry]:
    async with desk.db.reader() as s:
        query = select(TimelineEntry).where(TimelineEntry.lead_id == lead_id)
        return list((await s.scalars(query.order_by(TimelineEntry.id))).all())


async def summaries(desk: Desk) -> list[tuple[str, int | None, dict]]:
    async with desk.db.reader() as s:
        rows = await s.execute(
            select(OutboxMessage.kind, OutboxMessage.recipient_id, OutboxMessage.payload)
            .where(OutboxMessage.kind.in_(["leads_imported", "import_unassigned"]))
            .order_by(OutboxMessage.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def counts(desk: Desk) -> dict[str, int]:
    return {t: await count_rows(desk, t) for t in TABLES}


async def load_of(desk: Desk, member_id: int) -> int:
    return (await desk.open_loads()).get(member_id, 0)


async def test_new_leads_follow_the_capture_rules(desk: Desk, team: Team) -> None:
    rows = [
        row(2, "13900000001", name="张三", car_model="汉EV", platform_id="AH1",
            channel_path=("线上", "汽车之家", "询价"), level="A"),
        row(3, "13900000002", name="李四", inquiry="test_drive"),
        row(4, "13900000003", level="O"),
    ]  # fmt: skip
    report = await run(desk, team, rows)
    assert report.counts == {
        "created": 3, "merged": 0, "unchanged": 0, "duplicate": 0, "rejected": 0
    }  # fmt: skip
    assert [o.outcome for o in report.preview] == ["created"] * 3
    assert report.preview[0].masked_phone != "13900000001"
    first, second, third = await leads(desk)
    assert (first.channel, first.source, first.level, first.stage) == (
        "autohome", "线上/汽车之家/询价", "A", "new",
    )  # fmt: skip
    assert second.level == "H"  # 试驾 -> H (config/imports.toml)
    assert (third.stage, third.level) == ("ordered", "O")  # O: IDCC 订单
    assert third.ordered_at == START
    # first contact due in working hours, like a chat capture's
    assert first.first_contact_due_at == local(2026, 11, 27, 12, 0)
    assert {lead.consultant_id for lead in (first, second, third)} == {team.wang.id}
    assert await load_of(desk, team.wang.id) == 3
    [entry] = await entries(desk, first.id)
    assert entry.action == "imported"
    assert entry.changes["import"]["platform_id"] == "AH1"
    # one summary DM for the consultant, not one per lead
    assert await summaries(desk) == [
        ("leads_imported", team.wang.id, {"source": "autohome", "created": 3, "merged": 0})
    ]
    assert await count_rows(desk, "outbox") == 1
    assert report.per_consultant == {team.wang.id: 3}


async def test_merge_keeps_the_consultant_and_fills_only_unknown_fields(
    desk: Desk, team: Team
) -> None:
    known = await desk.capture(channel="qq_group", phone="13900000001", car_model="秦PLUS")
    assert known.lead.consultant_id == team.wang.id
    rows = [row(2, "13900000001", name="张三", car_model="汉EV", consultant_name="李顾问")]
    report = await run(desk, team, rows)
    assert report.counts["merged"] == 1
    [lead] = await leads(desk)
    assert (lead.name, lead.car_model, lead.consultant_id) == ("张三", "秦PLUS", team.wang.id)
    assert lead.channel == "qq_group"  # where the person came from first
    *_, entry = await entries(desk, lead.id)
    assert entry.action == "imported"
    assert entry.changes["name"] == [None, "张三"]
    assert "car_model" not in entry.changes
    assert await load_of(desk, team.wang.id) == 1
    assert report.merged_per_consultant == {team.wang.id: 1}
    assert (await summaries(desk))[-1][2] == {"source": "autohome", "created": 0, "merged": 1}


async def test_a_lost_lead_reopens(desk: Desk, team: Team) -> None:
    lead = (await desk.capture(channel="qq_group", phone="13900000001")).lead
    await desk.request_defeat(team.wang.actor(), lead.id, "暂缓购车")
    await desk.review_defeat(team.manager.actor(), lead.id, True)
    assert await load_of(desk, team.wang.id) == 0
    await run(desk, team, [row(2, "13900000001", level="B")])
    [reopened] = await leads(desk)
    assert (reopened.stage, reopened.level, reopened.lost_at) == ("new", "B", None)
    assert reopened.consultant_id == team.wang.id
    assert await load_of(desk, team.wang.id) == 1


async def test_reimport_changes_nothing(desk: Desk, team: Team) -> None:
    rows = [*export(3), row(9, "13800000009", name="无平台ID")]
    await run(desk, team, rows)
    before = await counts(desk)
    loads = await desk.open_loads()
    again = await run(desk, team, rows)
    assert again.counts["unchanged"] == 4
    assert again.counts["created"] == again.counts["merged"] == 0
    assert await counts(desk) == before  # no timeline entries, no DMs
    assert await desk.open_loads() == loads


async def test_an_interrupted_import_rerun_finishes_the_job(desk: Desk, team: Team) -> None:
    rows = export(7)
    await run(desk, team, rows[:3], batch_size=2)  # the first batches made it
    report = await run(desk, team, rows, batch_size=2)
    assert (report.counts["unchanged"], report.counts["created"]) == (3, 4)
    assert len(await leads(desk)) == 7
    assert await load_of(desk, team.wang.id) == 7
    # the re-run's summary counts only what it did
    assert (await summaries(desk))[-1][2]["created"] == 4


async def test_duplicates_in_the_file_name_the_earlier_line(desk: Desk, team: Team) -> None:
    rows = [
        row(2, "13900000001", platform_id="AH1"),
        row(3, "13900000002", platform_id="AH2"),
        row(4, "13900000001", platform_id="AH9"),  # same phone as line 2
        row(5, "13900000005", platform_id="AH2"),  # same platform id as line 3
    ]
    report = await run(desk, team, rows, batch_size=3)  # across a batch boundary too
    by_line = {o.line: o for o in report.preview}
    assert (by_line[4].outcome, by_line[4].reason) == ("duplicate", "与第 2 行重复（同一手机号）")
    assert by_line[5].reason == "与第 3 行重复（同一平台线索ID）"
    assert report.counts["created"] == 2
    assert len(await leads(desk)) == 2


async def test_rejected_rows_go_to_the_sink(desk: Desk, team: Team) -> None:
    bad_reader = RejectedRow(2, "手机号无效", ("张三", "123"))
    rows = [
        bad_reader,
        row(3, "13900000003", level="X", cells=("李四", "13900000003", "X")),
        row(4, "13900000004", name="名" * 65),
        row(5, None),
        row(6, "13900000006"),
    ]
    sink: list[RejectedRow] = []
    report = await run(desk, team, rows, rejects=sink.append)
    assert report.counts["rejected"] == 4
    assert report.counts["created"] == 1
    assert sink[0] is bad_reader
    assert sink[1] == RejectedRow(3, "线索评级只能是 H/A/B/C/O", ("李四", "13900000003", "X"))
    assert [r.reason for r in sink[2:]] == ["姓名太长（最多 64 字）", "没有有效的手机号"]
    assert [o.reason for o in report.preview if o.outcome == "rejected"][0] == "手机号无效"


async def test_dry_run_writes_nothing(desk: Desk, team: Team) -> None:
    await desk.capture(channel="qq_group", phone="13900000001")
    await desk.funnel(desk.period("month"))  # the rollup clean
    before = await counts(desk)
    loads = await desk.open_loads()
    rows = [*export(4), row(9, "13900000001", name="老客")]
    report = await run(desk, team, rows, dry_run=True, batch_size=2)
    assert report.dry_run
    assert report.counts["created"] == 3  # 13900000001 is export(4)'s first, known
    assert report.counts["merged"] == 1 and report.counts["duplicate"] == 1
    assert all(o.lead_id is None for o in report.preview if o.outcome == "created")
    assert report.per_consultant == {team.wang.id: 3}
    assert await counts(desk) == before
    assert await desk.open_loads() == loads


async def test_assignment_respects_the_cap(tmp_path: Path, clock: FrozenClock) -> None:
    settings = make_settings(tmp_path, assignment={"cap_per_consultant": 2})
    desk = await Desk.open(settings, clock)
    try:
        manager = await desk.add_member(SYSTEM, name="张经理", role="manager", qq_id="90001")
        wang = await desk.add_member(SYSTEM, name="王顾问", qq_id="10001", on_duty=True)
        li = await desk.add_member(SYSTEM, name="李顾问", qq_id="10002", on_duty=True)
        await desk.capture(channel="qq_group", phone="13800000001")  # wang (or li) holds one
        report = await desk.import_leads(export(5), source="yiche", actor=manager.actor())
        loads = await desk.open_loads()
        assert loads[wang.id] == loads[li.id] == 2
        assert report.unassigned == 2
        kinds = [(k, r) for k, r, _ in await summaries(desk)]
        assert kinds.count(("import_unassigned", manager.id)) == 1
        assert sorted(
            p["created"] for k, _, p in await summaries(desk) if k == "leads_imported"
        ) == [1, 2]
    finally:
        await desk.close()


async def test_the_files_consultant_is_honoured(desk: Desk, team: Team) -> None:
    rows = [
        row(2, "13900000001", consultant_name="李顾问"),  # off duty, but on the roster
        row(3, "13900000002", consultant_name="不在名单"),
    ]
    report = await run(desk, team, rows)
    first, second = await leads(desk)
    assert first.consultant_id == team.li.id
    assert second.consultant_id == team.wang.id
    got = {r: p for k, r, p in await summaries(desk) if k == "leads_imported"}
    assert got == {
        team.wang.id: {"source": "autohome", "created": 1, "merged": 0},
        team.li.id: {"source": "autohome", "created": 1, "merged": 0},
    }
    assert report.per_consultant == {team.li.id: 1, team.wang.id: 1}


async def test_reports_count_imported_leads_at_once(desk: Desk, team: Team) -> None:
    await desk.capture(channel="qq_group", qq_id="50001")
    month = desk.period("month")
    [before] = await desk.funnel(month)  # the rollup refreshed: clean
    assert before.leads == 1
    await run(desk, team, export(5), source="dongchedi")
    [total] = await desk.funnel(month)
    assert total.leads == 6
    by_channel = {r.key: r.leads for r in await desk.funnel(month, "channel")}
    assert by_channel == {"qq_group": 1, "dongchedi": 5}


async def test_only_managers_import_and_sources_are_known(desk: Desk, team: Team) -> None:
    with pytest.raises(Forbidden):
        await desk.import_leads(export(1), source="autohome", actor=team.wang.actor())
    with pytest.raises(InvalidInput):
        await run(desk, team, export(1), source="tiktok")
    assert await count_rows(desk, "leads") == 0


async def test_rows_from_an_async_reader_and_progress(desk: Desk, team: Team) -> None:
    async def reader() -> AsyncIterator[LeadRow | RejectedRow]:
        for r in export(5):
            yield r

    seen: list[tuple[int, int | None]] = []
    report = await run(
        desk, team, reader(), batch_size=2, total=5, progress=lambda d, t: seen.append((d, t))
    )
    assert report.rows == 5
    assert seen[-1] == (5, 5)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_the_handles_are_kept(desk: Desk, team: Team) -> None:
    await run(desk, team, [row(2, "13900000001", platform_id="AH1"), row(3, "13900000002")])
    async with desk.db.reader() as s:
        kinds = sorted((await s.scalars(select(LeadContact.kind))).all())
    assert kinds == ["phone", "phone", "plat:autohome", "row:autohome"]
    async with desk.db.reader() as s:
        assert (await s.scalar(select(Member.open_load).where(Member.id == team.wang.id))) == 2
