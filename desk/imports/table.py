"""An import file as a stream of rows: .csv (UTF-8 with or without BOM, UTF-16,
GBK/GB18030, told apart by the bytes) or .xlsx (its first sheet), whatever the
file's name says. Rows are read one at a time, never the whole file.

Also the header row: which column feeds which field (`map_headers`).
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from desk.errors import ImportFileError
from desk.imports.cells import cell_text
from desk.imports.config import match_key
from desk.imports.rows import HeaderReport

_CHUNK = 1 << 20
_SAMPLE = 1 << 16
# The header is the first row naming a handle column, within this many rows
# (platform exports may put a title line or two above it).
HEADER_SEARCH_ROWS = 10
# Columns our own errors file adds (desk.imports.errors): not unknown on re-import.
OWN_COLUMNS = ("行号", "原因")
csv.field_size_limit(1 << 20)  # one cell at most 1 MiB: a broken quote must not eat the file

Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    header: str  # as the file has it, trimmed
    field: str
    rank: int  # the synonym's place in its field's list: the order parts join in


class Table:
    """The rows of one file after its header; `close()` (or `with`) releases it."""

    def __init__(self, rows: Iterator[tuple[int, Row]], expected_lines: int | None,
                 closer: IO[bytes] | IO[str] | None, epoch: datetime | None = None) -> None:  # fmt: skip
        self._rows = rows
        self.expected_lines = expected_lines  # data lines in the whole file (estimate)
        self._closer = closer
        self.epoch = epoch  # .xlsx date serials' epoch

    def __iter__(self) -> Iterator[tuple[int, Row]]:
        """(line as a spreadsheet shows it, the cells) of each row, in order."""
        return self._rows

    def close(self) -> None:
        if self._closer is not None:
            self._closer.close()


def open_table(path: Path) -> Table:
    """Raises ImportFileError (Chinese) for a file that is neither a readable CSV nor .xlsx."""
    try:
        with path.open("rb") as probe:
            head = probe.read(_SAMPLE)
    except OSError:
        raise ImportFileError(f"无法打开文件：{path.name}") from None
    if not head:
        raise ImportFileError("文件是空的")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("不支持旧版 .xls 文件：请在 Excel 中另存为 .xlsx 或 CSV 后再导入")
    if head.startswith(b"PK\x03\x04"):
        return _xlsx(path)
    return _csv(path, head)


def _xlsx(path: Path) -> Table:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        lines = sheet.max_row
    except (InvalidFileException, zipfile.BadZipFile, KeyError, IndexError, OSError, ValueError):
        raise ImportFileError("无法读取这个 .xlsx 文件：文件已损坏或不是 Excel 工作簿") from None
    rows = enumerate(sheet.iter_rows(values_only=True), start=1)
    handle = _BookCloser(book)
    return Table(rows, lines if isinstance(lines, int) else None, handle, book.epoch)  # type: ignore[arg-type]


class _BookCloser:
    def __init__(self, book: object) -> None:
        self._book = book

    def close(self) -> None:
        self._book.close()  # type: ignore[attr-defined]


def _encoding(path: Path, head: bytes) -> str:
    """The file's encoding from its bytes: a BOM says it; else the whole file must
    decode as UTF-8, else as GB18030 (GBK's superset, what Chinese back-ends and
    Excel on Chinese Windows write). Decoded in chunks: memory stays flat."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise ImportFileError("这不是文本文件：请上传 .xlsx 或 .csv 文件")
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as stream:
                while chunk := stream.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别文件的编码：请另存为 UTF-8 或 GBK 编码的 CSV，或 .xlsx 文件")


def _csv(path: Path, head: bytes) -> Table:
    encoding = _encoding(path, head)
    stream = path.open(encoding=encoding, newline="", errors="strict")
    first = stream.readline()
    stream.seek(0)
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    reader = csv.reader(stream, delimiter=delimiter)
    # Lines expected: the file's size over the sample's bytes per line.
    newlines = head.count(b"\n") or 1
    size = path.stat().st_size
    expected = round(size / (len(head) / newlines)) if len(head) < size else newlines
    rows = _csv_rows(reader, path)
    return Table(rows, expected, stream)


def _csv_rows(reader: Iterator[list[str]], path: Path) -> Iterator[tuple[int, Row]]:
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):  # noqa: B007 (line read after the loop)
            yield line, tuple(cells)
    except csv.Error as exc:
        raise ImportFileError(f"第{line + 1}行不是有效的 CSV：{exc}") from None


def is_empty(row: Row) -> bool:
    return all(not cell_text(v).strip() for v in row)


def map_headers(
    cells: Sequence[object], synonyms: dict[str, list[str]]
) -> tuple[list[Column], HeaderReport]:
    """The columns a header row feeds (each with its field) and the report: unknown
    headers listed, never guessed; `missing` is left to the caller."""
    lookup = {
        match_key(s): (field, rank) for field, names in synonyms.items() for rank, s in enumerate(names)
    }  # fmt: skip
    columns: list[Column] = []
    mapped: dict[str, str] = {}
    unknown: list[str] = []
    for index, cell in enumerate(cells):
        header = cell_text(cell).strip()
        if not header:
            continue
        found = lookup.get(match_key(header))
        if found is None:
            if header not in OWN_COLUMNS:
                unknown.append(header)
            continue
        columns.append(Column(index, header, found[0], found[1]))
        mapped[header] = found[0]
    return columns, HeaderReport(mapped=mapped, unknown=tuple(unknown), missing=())


def find_header(
    table: Iterator[tuple[int, Row]],
    synonyms: dict[str, list[str]],
    handles: Sequence[str],
    lacking: str,
) -> tuple[int, Row, list[Column], HeaderReport]:
    """The header row: the first row (of the first few) with a column for one of
    `handles`. Else raises ImportFileError: `lacking` (Chinese) and the first row."""
    first: Row | None = None
    for line, row in table:
        if is_empty(row):
            continue
        first = first if first is not None else row
        columns, report = map_headers(row, synonyms)
        if any(c.field in handles for c in columns):
            return line, row, columns, report
        if line >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise ImportFileError("文件里没有任何内容")
    seen = "、".join(h for h in (cell_text(c).strip() for c in first) if h)[:200]
    raise ImportFileError(
        f"{lacking}，整个文件未导入。表头：{seen}。"
        "请修改表头，或在 config/imports.toml 中添加表头同义词。"
    )
