"""导出报名: every sign-up of an event as rows (the use case), and the .xlsx
workbook they go into (openpyxl). QQ ids, never phones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from desk.phone import mask_phones_in_text
from desk.store import UnitOfWork
from desk.xlsx import Cell, safe_cell
from features.events.core import EventInfo, Events, visible_event
from features.events.models import QQ, WAITLISTED, Signup


@dataclass(frozen=True)
class SignupRow:
    number: int  # in order of arrival, from 1
    platform: str
    nickname: str | None  # phones masked
    qq_id: str | None  # only for QQ people
    party: int
    cars: int
    status: str
    position: int | None  # on the waitlist
    note: str  # phones masked
    signed_at: datetime  # local time
    signup_id: int  # what a web form names when it marks attendance


@dataclass(frozen=True)
class SignupList:
    event: EventInfo
    rows: list[SignupRow]


async def signup_list(ev: Events, event_id: int, group_id: str | None) -> SignupList:
    """Every sign-up of the event, in order of arrival."""

    async def step(uow: UnitOfWork) -> SignupList:
        event = await visible_event(uow, event_id, group_id)
        signups = await uow.session.scalars(
            select(Signup).where(Signup.event_id == event.id).order_by(Signup.seq)
        )
        rows, waiting = [], 0
        for number, signup in enumerate(signups, start=1):
            position = None
            if signup.status == WAITLISTED:
                waiting += 1
                position = waiting
            # Masked on the way out as well: notes stored before masking was added,
            # nicknames like "张三13812345678".
            rows.append(
                SignupRow(
                    number,
                    signup.platform,
                    mask_phones_in_text(signup.nickname) if signup.nickname else None,
                    signup.user_id if signup.platform == QQ else None,
                    signup.party,
                    signup.cars,
                    signup.status,
                    position,
                    mask_phones_in_text(signup.note or ""),
                    uow.calendar.local(signup.created_at),
                    signup.id,
                )  # fmt: skip
            )
        return SignupList(EventInfo.of(event), rows)

    return await ev.desk.read(step)


def build_signup_sheet(
    sheet_title: str, caption: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
) -> bytes:
    """One sheet: a caption line (the event), the header, one row per sign-up."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = sheet_title[:31]
    sheet.append([safe_cell(caption)])
    sheet.append(list(header))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    widths = {"A": 6, "B": 18, "C": 14, "D": 6, "E": 6, "F": 12, "G": 24, "H": 18}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    out = BytesIO()
    book.save(out)
    return out.getvalue()
