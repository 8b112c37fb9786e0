"""Lead export: the leads a filter selects (the 线索 list's own, desk.leadlist) as an
.xlsx streamed row by row (openpyxl's write-only workbook), so memory stays flat
whatever the number of leads. Phones only for managers; times in the dealer's
timezone; no cell can run as a formula (desk.xlsx)."""

from __future__ import annotations

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


def _row(uow: UnitOfWork, lead: Lead, consultant: str | None, phones: bool) -> list[Any]:
    row: list[Any] = [
        lead.id, lead.name, lead.phone, CHANNEL_NAMES.get(lead.channel, lead.channel),
        lead.source, lead.car_model, lead.level, STAGE_NAMES.get(lead.stage, lead.stage),
        consultant, _local(uow, lead.created_at), _local(uow, lead.next_follow_up_at),
        _local(uow, lead.visited_at), _local(uow, lead.ordered_at), _local(uow, lead.won_at),
        lead.defeat_reason or lead.defeat_category,
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
        select(Lead, Member.name)
        .outerjoin(Member, Member.id == Lead.consultant_id)
        .where(*where)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .execution_options(yield_per=_BATCH)
    )
    count = 0
    result = await uow.session.stream(query)
    async for lead, consultant in result:
        sheet.append(_row(uow, lead, consultant, phones))
        count += 1
        if count % _BATCH == 0:
            uow.session.expunge_all()  # the rows written need not stay in the session
    book.save(out)  # type: ignore[arg-type]  # openpyxl takes a path or a binary file
    return count
