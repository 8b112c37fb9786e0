"""The rejected rows of an import as an .xlsx beside the input, ready to fix and
import again: 行号 (the row's line in the input), 原因 (why), then the file's own
columns as they were. Written streamed (openpyxl write-only): memory stays flat.

Cells are string-typed and kept as they were (no apostrophe added, so a fixed
file imports as it reads), hence never run as formulas. The reader ignores the
行号 and 原因 columns when the file comes back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from desk.imports.rows import RejectedRow
from desk.imports.table import OWN_COLUMNS
from desk.xlsx import text_cell

SHEET_TITLE = "未导入的行"


def errors_path_for(input_path: Path | str) -> Path:
    """Where the errors file of `input_path` goes: beside it, `<stem>.errors.xlsx`."""
    path = Path(input_path)
    return path.with_name(f"{path.stem}.errors.xlsx")


def write_errors(
    path: Path | str, header_cells: Sequence[str], rejected: Iterable[RejectedRow]
) -> int:
    """Write the rejected rows to `path` (replaced if there); returns how many."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    bold = Font(bold=True)
    header = []
    for title in (*OWN_COLUMNS, *header_cells):
        cell = text_cell(sheet, title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rejected:
        sheet.append(
            [row.line, text_cell(sheet, row.reason), *(text_cell(sheet, v) for v in row.cells)]
        )
        count += 1
    book.save(str(path))
    return count
