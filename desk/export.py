"""Lead export: the leads a filter selects (the 线索 list's own, desk.leadlist) as an
.xlsx streamed row by row (openpyxl's write-only workbook), so memory stays flat
whatever the number of leads. Phones only for managers; times in the dealer's
timezone; no cell can run as a formula (desk.xlsx)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from sqlalchemy import select

from desk.errors import Forbidden
from desk.leadlist import LeadFilter, _conditions
from desk.models import Lead, Member
from desk.uow import UnitOfWork
from desk.views import CHANNEL_NAMES, STAGE_NAMES, Actor
from desk.xlsx import safe_cell

SHEET_TITLE = "线索"
PHONE_HEADER = "手机号"
HEADERS = (
    "编号", "姓名", PHONE_HEADER, "渠道", "来源", "车型", "级别", "阶段", "顾问", "创建时间",
    "下次跟进", "到店", "下订", "成交", "战败原因",
)  # fmt: skip
_BATCH = 500  # rows fetched per round trip while streaming


def _local(uow: UnitOfWork, at: datetime | None) -> datetime | None:
    """The dealer's wall-clock time: Excel has no time zones."""
    return uow.calendar.local(at).replace(tzinfo=None) if at is not None else None


# Columns, not ORM objects: nothing enters the session's identity map, whatever
# the number of leads.
_COLUMNS = (
    Lead.id, Lead.name, Lead.phone, Lead.channel, Lead.source, Lead.car_model, Lead.level,
    Lead.stage, Member.name, Lead.created_at, Lead.next_follow_up_at, Lead.visited_at,
    Lead.ordered_at, Lead.won_at, Lead.defeat_reason, Lead.defeat_category,
)  # fmt: skip


def _row(uow: UnitOfWork, r: Sequence[Any], phones: bool) -> list[Any]:
    (lead_id, name, phone, channel, source, car_model, level, stage, consultant, created,
     due, visited, ordered, won, reason, category) = r  # fmt: skip
    row: list[Any] = [
        lead_id, name, phone, CHANNEL_NAMES.get(channel, channel), source, car_model, level,
        STAGE_NAMES.get(stage, stage), consultant, _local(uow, created), _local(uow, due),
        _local(uow, visited), _local(uow, ordered), _local(uow, won), reason or category,
    ]  # fmt: skip
    if not phones:
        del row[2]
    return [safe_cell(v) if isinstance(v, str) else v for v in row]


async def export_leads(
    uow: UnitOfWork, actor: Actor, f: LeadFilter, out: str | Path | IO[bytes], *, phones: bool
) -> int:
    """Write the leads `f` selects (a consultant: their own, whatever `f` says) to
    `out`, newest first; returns how many. `phones`: the 手机号 column, managers
    only (a consultant asking for it is refused)."""
    if phones and not actor.is_manager:
        raise Forbidden("只有经理可以导出手机号")
    where = _conditions(uow, actor, f)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    sheet.append([h for h in HEADERS if phones or h != PHONE_HEADER])
    query = (
        select(*_COLUMNS)
        .outerjoin(Member, Member.id == Lead.consultant_id)
        .where(*where)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .execution_options(yield_per=_BATCH)
    )
    count = 0
    result = await uow.session.stream(query)
    # openpyxl's writing is pure Python (~0.5 ms a row): in a worker thread, a batch
    # at a time, so the bot's event loop (chat, web) keeps running during an export.
    async for batch in result.partitions(_BATCH):
        rows = [_row(uow, r, phones) for r in batch]
        await asyncio.to_thread(_append, sheet, rows)
        count += len(rows)
    await asyncio.to_thread(book.save, out)  # type: ignore[arg-type]  # a path or a binary file
    return count


def _append(sheet: Any, rows: list[list[Any]]) -> None:
    for row in rows:
        sheet.append(row)
