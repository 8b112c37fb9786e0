"""The shapes an import passes between reading, writing and its fronts (CLI, web)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

# Where an import's leads come from: `--source` of `python -m desk import leads`.
SOURCES = ("autohome", "yiche", "dongchedi", "oem", "douyin", "other")
Source = Literal["autohome", "yiche", "dongchedi", "oem", "douyin", "other"]

# 询价 / 试驾 / 置换: the inquiry type the platforms export (汽车之家 order_type 1/2/3).
Inquiry = Literal["price", "test_drive", "trade_in"]


@dataclass(frozen=True, slots=True)
class LeadRow:
    """One valid row of a lead export, normalised. `line` is the row's number in
    the file as a spreadsheet shows it (the header is line 1)."""

    line: int
    phone: str | None  # desk.phone.normalize_phone form; None only with a platform_id
    platform_id: str | None = None  # the platform's own lead id (线索唯一ID): a handle
    name: str | None = None
    city: str | None = None  # 省/市/区 as the file gives them, joined
    car_model: str | None = None  # 车系/车型/意向车型
    created_at: datetime | None = None  # aware; 线索创建时间 / 下单时间 / create_time
    channel_path: tuple[str, ...] = ()  # 一级/二级/三级渠道 names, in order
    inquiry: Inquiry | None = None
    level: str | None = None  # H/A/B/C/O from the file (线索评级)
    consultant_name: str | None = None  # 分配顾问 as the file names them
    assigned_at: datetime | None = None
    first_contact_at: datetime | None = None
    visited_at: datetime | None = None
    test_drive_at: datetime | None = None
    defeat_reason: str | None = None
    cells: tuple[str, ...] = ()  # the raw cells (for a preview); not stored


@dataclass(frozen=True, slots=True)
class OwnerRow:
    """One valid row of an owners file (the dealer's existing customers),
    normalised; at least one of phone, qq_id, wechat is set."""

    line: int
    name: str | None = None
    phone: str | None = None  # desk.phone.normalize_phone form
    qq_id: str | None = None  # digits
    wechat: str | None = None  # 微信号 as the file gives it
    car_model: str | None = None
    plate: str | None = None  # 车牌, upper case, no spaces or dots
    vin: str | None = None  # 车架号: 17 characters, upper case
    purchased_on: date | None = None  # 购车日期 / 交车日期 (the dealer's date)
    cells: tuple[str, ...] = ()  # the raw cells (for a preview); not stored


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row that cannot be imported: why (Chinese, shown to staff), and its cells."""

    line: int
    reason: str
    cells: tuple[str, ...]


Outcome = Literal["created", "merged", "unchanged", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What an import did (or, dry, would do) with one row. `lead_id` is the lead
    it made or merged into (None on a dry run's created rows and on rejections)."""

    line: int
    outcome: Outcome
    lead_id: int | None = None
    reason: str | None = None  # for duplicate and rejected rows
    name: str | None = None
    masked_phone: str | None = None  # desk.phone.mask_phone; never the whole number
    consultant_id: int | None = None


@dataclass(frozen=True, slots=True)
class HeaderReport:
    """How the file's headers were read: the field each mapped column feeds, the
    headers no synonym matched (reported, never guessed), the fields not found."""

    mapped: dict[str, str]  # header as in the file -> field name
    unknown: tuple[str, ...]
    missing: tuple[str, ...]  # fields the import needs and the file lacks


@dataclass
class ImportReport:
    """The summary of one import (or dry run). `preview` keeps the first rows'
    outcomes only: an import's memory must not grow with the file."""

    source: str
    dry_run: bool
    headers: HeaderReport | None = None
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("created", "merged", "unchanged", "duplicate", "rejected"), 0
        )
    )
    preview: list[RowOutcome] = field(default_factory=list)
    per_consultant: dict[int, int] = field(default_factory=dict)  # new leads each got
    errors_file: str | None = None  # path of the rejected rows' .xlsx, when any
    # leads merged into, by their consultant (after the import)
    merged_per_consultant: dict[int, int] = field(default_factory=dict)
    unassigned: int = 0  # new leads nobody could take (the managers are told)
    import_id: str | None = None  # this run's id (its summary DMs' keys)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


# Called with (rows done, rows expected or None) as an import goes.
Progress = Callable[[int, int | None], None]
