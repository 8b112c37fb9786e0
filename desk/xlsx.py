"""Cells of the .xlsx files we write: none may run as a formula (formula
injection: a nickname "=HYPERLINK(...)" must stay text), none may hold a
character the format forbids (openpyxl would raise)."""

from __future__ import annotations

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.cell.cell import Cell as _Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

Cell = str | int | float | None
# Text a spreadsheet program would run as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Cell) -> Cell:
    """A value for a report: text that would run as a formula gets a leading apostrophe."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def text_cell(sheet: WriteOnlyWorksheet, value: str) -> _Cell:
    """A string-typed cell holding `value` as it is (no apostrophe): for files people
    fix and import again, where "+86 138…" must come back unchanged. A string cell
    is shown as text and never evaluated, whatever it starts with."""
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell
