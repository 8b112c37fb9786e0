"""Cells of the .xlsx files we write (exports, reports, the import's errors file):
text that a spreadsheet program would run as a formula stays text."""

from __future__ import annotations

from typing import TypeVar

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

Cell = str | int | float | None
T = TypeVar("T")
# Text a spreadsheet program would run as a formula (CSV/formula injection):
# a nickname "=HYPERLINK(...)" must stay text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: T) -> T | str:
    """`value` as a cell may hold it: control characters openpyxl refuses dropped,
    a formula-looking text behind a leading apostrophe; other values as they are."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + text if text.startswith(FORMULA_START) else text
