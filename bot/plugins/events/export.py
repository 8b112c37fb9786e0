"""The sign-up list as an .xlsx workbook (openpyxl). Pure: no NoneBot, no database."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

Cell = str | int | float | None
# Text a spreadsheet program would run as a formula (CSV/formula injection):
# a nickname "=HYPERLINK(...)" must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Cell) -> Cell:
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


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
