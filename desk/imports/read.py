"""Reading an import file: lead exports (`open_lead_file`) and owner lists
(`open_owner_file`), streamed row by row (a 100k-row file never sits in memory).

    with open_lead_file(path, source="autohome", config=cfg, tz=settings.tz) as leads:
        show(leads.headers)                  # mapped / unknown / missing
        for row in leads.rows():             # LeadRow | RejectedRow, in file order
            ...

The header row is found by its handle column (手机号 or the platform's lead id);
a file without one, or that is no CSV/.xlsx, raises desk.errors.ImportFileError
(Chinese) before any row. Empty rows are skipped; every other row comes back,
valid or rejected with its reason (Chinese, naming the column and the value).
No database here: the writer (desk.imports.write) decides what a row does.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Generic, Self, TypeVar

from desk.errors import ImportFileError
from desk.imports import cells as c
from desk.imports.config import ImportsConfig, LeadsConfig, OwnersConfig, load_imports_config
from desk.imports.rows import HeaderReport, LeadRow, OwnerRow, RejectedRow
from desk.imports.table import Column, Row, Table, find_header, is_empty, open_table

# Column sizes (desk.models: Lead, Member) and what a person can mean by a field.
NAME_MAX = 64
CITY_MAX = 64
CAR_MODEL_MAX = 64
CHANNEL_PART_MAX = 32
CONSULTANT_MAX = 32
DEFEAT_REASON_MAX = 500
PLATFORM_ID_MAX = 64  # an id is never cut: a longer one refuses the row
WECHAT_MAX = 64
PLATE_MAX = 16
LEVELS = ("H", "A", "B", "C", "O")

LEAD_HANDLES = ("phone", "platform_id")
OWNER_HANDLES = ("phone", "qq_id", "wechat")

_QQ = re.compile(r"^[1-9]\d{4,11}$")
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_PLATE_NOISE = re.compile(r"[\s·•.\-]")

R = TypeVar("R", LeadRow, OwnerRow)


class ImportFile(Generic[R]):
    """An open import file. `rows()` streams once; close it (or use `with`)."""

    def __init__(self, table: Table, handles: Sequence[str], synonyms: dict[str, list[str]],
                 lacking: str, parse: Callable[[int, Row, _Cells], R | RejectedRow]) -> None:  # fmt: skip
        self._table = table
        try:
            self._stream = iter(table)
            line, header, columns, report = find_header(self._stream, synonyms, handles, lacking)
        except BaseException:
            table.close()
            raise
        found = {col.field for col in columns}
        self.headers: HeaderReport = dataclasses.replace(
            report, missing=tuple(h for h in handles if h not in found)
        )
        self.header_line = line
        self.header_cells: tuple[str, ...] = tuple(c.cell_text(v).strip() for v in header)
        lines = table.expected_lines
        # For a progress bar: data rows in the file (.xlsx: its size; CSV: from its bytes).
        self.expected_rows: int | None = max(lines - line, 0) if lines is not None else None
        self._plan: dict[str, list[Column]] = {}
        for col in sorted(columns, key=lambda col: col.rank):
            self._plan.setdefault(col.field, []).append(col)
        self._parse = parse

    def rows(self) -> Iterator[R | RejectedRow]:
        """Every non-empty row after the header, parsed; once (the file streams)."""
        for line, row in self._stream:
            if not is_empty(row):
                yield self._parse(line, row, _Cells(row, self._plan))

    def close(self) -> None:
        self._table.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


LeadFile = ImportFile[LeadRow]
OwnerFile = ImportFile[OwnerRow]


def open_lead_file(
    path: Path | str,
    *,
    source: str = "other",
    config: ImportsConfig | None = None,
    tz: tzinfo,
    now: datetime | None = None,
) -> LeadFile:
    """A platform's lead export. `source` picks that platform's extra header synonyms
    (config/imports.toml); `tz` is the dealer's (times without a zone are his);
    `now` (aware; default: the clock) refuses rows dated in the future.
    Raises ImportFileError (Chinese) when the file cannot be read as a whole."""
    leads = (config or load_imports_config()).leads
    _check_aware(now)
    table = open_table(Path(path))
    moment = _moments(tz, now or datetime.now(UTC), table)

    def parse(line: int, row: Row, cells: _Cells) -> LeadRow | RejectedRow:
        return _lead_row(line, row, cells, leads, moment)

    return ImportFile(
        table, LEAD_HANDLES, leads.synonyms(source), "找不到手机号列（也没有线索ID列）", parse
    )


def open_owner_file(
    path: Path | str,
    *,
    config: ImportsConfig | None = None,
    tz: tzinfo,
    now: datetime | None = None,
) -> OwnerFile:
    """The dealer's list of existing customers (车主). As open_lead_file."""
    owners = (config or load_imports_config()).owners
    _check_aware(now)
    table = open_table(Path(path))
    moment = _moments(tz, now or datetime.now(UTC), table)

    def parse(line: int, row: Row, cells: _Cells) -> OwnerRow | RejectedRow:
        return _owner_row(line, row, cells, owners, moment, tz)

    synonyms = owners.headers.model_dump()
    return ImportFile(table, OWNER_HANDLES, synonyms, "找不到手机号、QQ号或微信号列", parse)


Moment = Callable[[object, str, bool], datetime]


def _check_aware(now: datetime | None) -> None:
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be aware")  # a programming error, not staff's


def _moments(tz: tzinfo, now: datetime, table: Table) -> Moment:
    def moment(value: object, column: str, planned: bool = False) -> datetime:
        return c.moment(value, column, tz=tz, now=now, epoch=table.epoch, planned=planned)

    return moment


class _Cells:
    """One row's cells by field (a field's columns in their synonyms' order)."""

    def __init__(self, row: Row, plan: dict[str, list[Column]]) -> None:
        self._row = row
        self._plan = plan

    def has(self, field: str) -> bool:
        return field in self._plan

    def header(self, field: str) -> str:
        return self._plan[field][0].header

    def values(self, field: str) -> list[tuple[str, object]]:
        """(header, cell) of each non-empty column feeding `field`."""
        found = []
        for col in self._plan.get(field, ()):
            value = self._row[col.index] if col.index < len(self._row) else None
            if c.cell_text(value).strip():
                found.append((col.header, value))
        return found

    def first(self, field: str) -> tuple[str, object] | None:
        values = self.values(field)
        return values[0] if values else None

    def text(
        self, field: str, limit: int, join: dict[str, str], *, one_line: bool = True
    ) -> str | None:
        parts = [
            p
            for _, v in self.values(field)
            if (p := c.text(c.cell_text(v), limit, one_line=one_line))
        ]
        if field not in join:
            return parts[0] if parts else None
        return join[field].join(_merged(parts))[:limit] or None


def _merged(parts: list[str]) -> list[str]:
    """Parts, where one that repeats or extends the previous one replaces it
    (北京市 + 北京市 + 朝阳区 → 北京市, 朝阳区; 汉兰达 + 汉兰达 2026款 → 汉兰达 2026款)."""
    out: list[str] = []
    for part in parts:
        if out and part.startswith(out[-1]):
            out[-1] = part
        elif not (out and out[-1].startswith(part)):
            out.append(part)
    return out


def _cells_of(row: Row) -> tuple[str, ...]:
    return tuple(c.cell_text(v) for v in row)


def _lead_row(
    line: int, row: Row, cells: _Cells, cfg: LeadsConfig, moment: Moment
) -> LeadRow | RejectedRow:
    problems: list[str] = []
    join: dict[str, str] = {str(k): v for k, v in cfg.join.items()}
    platform_id = None
    if found := cells.first("platform_id"):
        header, value = found
        platform_id = c.text(c.cell_text(value), PLATFORM_ID_MAX + 1)
        if platform_id and len(platform_id) > PLATFORM_ID_MAX:
            problems.append(f"{header}过长：{c.short(platform_id)}")
    phone = None
    if found := cells.first("phone"):
        try:
            phone = c.phone(c.cell_text(found[1]), found[0])
        except c.BadCell as bad:
            if not platform_id:
                problems.append(bad.reason)
    elif not platform_id:
        problems.append(f"{cells.header('phone')}为空" if cells.has("phone") else "没有手机号")

    times: dict[str, datetime | None] = {}
    for field in ("created_at", "assigned_at", "first_contact_at", "visited_at", "test_drive_at"):
        times[field] = None
        if found := cells.first(field):
            try:
                # 到店/试驾 ahead of now are bookings (预约), not errors.
                planned = field in ("visited_at", "test_drive_at")
                times[field] = moment(found[1], found[0], planned)
            except c.BadCell as bad:
                problems.append(bad.reason)

    inquiry = None
    if found := cells.first("inquiry"):
        header, raw = found[0], c.cell_text(found[1])
        meaning = cfg.inquiry.lookup(header, raw)
        if meaning is None:
            problems.append(f"{header}未知：{c.short(raw)}")
        inquiry = meaning or None

    level = None
    if found := cells.first("level"):
        raw = c.cell_text(found[1])
        level = unicodedata.normalize("NFKC", raw).strip().upper().removesuffix("级").strip()
        if level not in LEVELS:
            problems.append(f"{found[0]}未知：{c.short(raw)}")

    if problems:
        return RejectedRow(line, "；".join(problems), _cells_of(row))
    channel = [
        p
        for _, v in cells.values("channel_path")
        if (p := c.text(c.cell_text(v), CHANNEL_PART_MAX))
    ]
    return LeadRow(
        line=line,
        phone=phone,
        platform_id=platform_id,
        name=cells.text("name", NAME_MAX, join),
        city=cells.text("city", CITY_MAX, join),
        car_model=cells.text("car_model", CAR_MODEL_MAX, join),
        created_at=times["created_at"],
        channel_path=tuple(_merged(channel)),
        inquiry=inquiry,  # type: ignore[arg-type]  # validated by the config's Literal
        level=level,
        consultant_name=cells.text("consultant_name", CONSULTANT_MAX, join),
        assigned_at=times["assigned_at"],
        first_contact_at=times["first_contact_at"],
        visited_at=times["visited_at"],
        test_drive_at=times["test_drive_at"],
        defeat_reason=cells.text("defeat_reason", DEFEAT_REASON_MAX, join, one_line=False),
        cells=_cells_of(row),
    )


def _owner_row(
    line: int, row: Row, cells: _Cells, cfg: OwnersConfig, moment: Moment, tz: tzinfo
) -> OwnerRow | RejectedRow:
    problems: list[str] = []
    join: dict[str, str] = {str(k): v for k, v in cfg.join.items()}
    qq_id = None
    if found := cells.first("qq_id"):
        raw = unicodedata.normalize("NFKC", c.cell_text(found[1])).strip()
        if _QQ.match(raw):
            qq_id = raw
        else:
            problems.append(f"{found[0]}无效：{c.short(raw)}")
    wechat = cells.text("wechat", WECHAT_MAX, join)
    phone = None
    if found := cells.first("phone"):
        try:
            phone = c.phone(c.cell_text(found[1]), found[0])
        except c.BadCell as bad:
            if not (qq_id or wechat):
                problems.append(bad.reason)
    elif not (qq_id or wechat) and not problems:
        problems.append("没有手机号、QQ号或微信号")
    vin = None
    if found := cells.first("vin"):
        raw = c.cell_text(found[1])
        vin = re.sub(r"\s", "", unicodedata.normalize("NFKC", raw)).upper()
        if not _VIN.match(vin):
            problems.append(f"{found[0]}应为17位字母或数字：{c.short(raw)}")
    plate = None
    if found := cells.first("plate"):
        cleaned = c.text(unicodedata.normalize("NFKC", c.cell_text(found[1])), PLATE_MAX * 2)
        plate = _PLATE_NOISE.sub("", cleaned or "").upper()[:PLATE_MAX] or None
    purchased_on = None
    if found := cells.first("purchased_on"):
        try:
            purchased_on = moment(found[1], found[0], False).astimezone(tz).date()
        except c.BadCell as bad:
            problems.append(bad.reason)
    if problems:
        return RejectedRow(line, "；".join(problems), _cells_of(row))
    return OwnerRow(
        line=line,
        name=cells.text("name", NAME_MAX, join),
        phone=phone,
        qq_id=qq_id,
        wechat=wechat,
        car_model=cells.text("car_model", CAR_MODEL_MAX, join),
        plate=plate,
        vin=vin,
        purchased_on=purchased_on,
        cells=_cells_of(row),
    )


__all__ = [
    "ImportFile",
    "ImportFileError",
    "LeadFile",
    "OwnerFile",
    "open_lead_file",
    "open_owner_file",
]
