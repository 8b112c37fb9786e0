"""The web desk's lead queries: the 线索 list and board, the filters' choices, and
the lead detail's field edits. Each common filter reads one index range in order
(migration 0013_lead_list_indexes; bench/web_bench.py times them at 1M leads); a consultant
sees only their own leads whatever the filter says."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import Select, and_, delete, func, literal, select, text
from sqlalchemy.sql import ColumnElement

from desk import lifecycle
from desk.capture import storable
from desk.errors import Forbidden, InvalidInput
from desk.models import OPEN_DUE_SQL, Lead, LeadContact, Member
from desk.phone import normalize_phone
from desk.settings import LevelCode
from desk.text import clean_text
from desk.uow import UnitOfWork
from desk.views import STAGE_NAMES, Actor, LeadView

Reached = Literal["contacted", "invited", "visited", "ordered", "won"]
Order = Literal["recent", "due"]
REACHED_COLUMNS = {
    "contacted": Lead.first_contacted_at,
    "invited": Lead.invited_at,
    "visited": Lead.visited_at,
    "ordered": Lead.ordered_at,
    "won": Lead.won_at,
}
MAX_LIMIT = 200
MAX_OFFSET = 100_000  # deeper pages are what filters are for
MAX_QUERY_CHARS = 32
# A list's total is counted up to this; beyond it the page says "more than".
TOTAL_CAP = 10_000
BOARD_NEWEST = 20
# filter_options: at most this many distinct channels / groups (each one index seek).
MAX_OPTIONS = 500
# A query of digits and phone separators only is a phone number, never a name.
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-().]+$")
_LEAD_REF = re.compile(r"^#(\d{1,10})$")


@dataclass(frozen=True)
class LeadFilter:
    """What the 线索 page filters by; None means any. Times are UTC-aware."""

    stage: str | None = None
    level: str | None = None
    channel: str | None = None
    consultant_id: int | None = None
    group_id: str | None = None
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    reached: Reached | None = None  # the lead got at least this far (the funnel's click)
    overdue: bool = False  # open, and its follow-up or first contact is past due
    query: str | None = None  # a name (substring), a phone number, or "#123"


@dataclass(frozen=True)
class LeadPage:
    items: list[LeadView]
    total: int
    offset: int
    limit: int
    # True when more than TOTAL_CAP leads match: `total` is then TOTAL_CAP, a floor
    # (the page shows "10000+"; a narrower filter gives the exact figure).
    capped: bool = False


@dataclass(frozen=True)
class LeadBoard:
    """The board's columns: every stage of STAGE_NAMES (zeros included) in order,
    with its total and its newest leads."""

    counts: dict[str, int]
    newest: dict[str, list[LeadView]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class FilterOptions:
    channels: list[str]
    groups: list[str]
    consultants: list[tuple[int, str]]  # (member id, name), active ones first


def _conditions(uow: UnitOfWork, actor: Actor, f: LeadFilter) -> list[ColumnElement[bool]]:
    """The WHERE of a filter, with the actor's visibility (a consultant: own only)."""
    if not isinstance(f, LeadFilter):
        raise InvalidInput("filter", "筛选条件不对")
    where: list[ColumnElement[bool]] = []
    if not actor.is_manager:
        if actor.member_id is None:  # `== None` would read as the unassigned leads
            raise Forbidden("只能查看自己的线索")
        # Whatever consultant the filter names, a consultant's view is their own.
        where.append(Lead.consultant_id == actor.member_id)
    elif f.consultant_id is not None:
        where.append(Lead.consultant_id == f.consultant_id)
    if f.stage is not None:
        if f.stage not in STAGE_NAMES:
            raise InvalidInput("stage", "没有这个阶段")
        where.append(Lead.stage == f.stage)
    if f.level is not None:
        if f.level not in get_args(LevelCode):
            raise InvalidInput("level", "没有这个级别")
        where.append(Lead.level == f.level)
    if f.channel is not None:
        where.append(Lead.channel == _short(f.channel, "channel"))
    if f.group_id is not None:
        where.append(Lead.group_id == _short(f.group_id, "group_id"))
    for name, at in (("created_from", f.created_from), ("created_to", f.created_to)):
        if at is not None and (not isinstance(at, datetime) or at.tzinfo is None):
            raise InvalidInput(name, "时间缺少时区")
    if f.created_from is not None:
        where.append(Lead.created_at >= f.created_from)
    if f.created_to is not None:
        where.append(Lead.created_at < f.created_to)
    if f.reached is not None:
        column = REACHED_COLUMNS.get(f.reached)
        if column is None:
            raise InvalidInput("reached", "没有这个阶段")
        where.append(column.is_not(None))
    if f.overdue:
        # The task list's own rule (desk.tasks): an open stage and its due passed;
        # a new lead's first-contact due is its next_follow_up_at.
        where += [text(OPEN_DUE_SQL), Lead.next_follow_up_at < uow.now]
    if f.query is not None:
        where.append(_search(uow, f.query))
    return where


def _short(value: object, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise InvalidInput(name, "筛选条件不对")
    return value


def _search(uow: UnitOfWork, raw: str) -> ColumnElement[bool]:
    """The search box: "#123" is a lead number; digits are a phone number, matched
    exactly through the contacts' unique index (never a LIKE over phones); anything
    else is a part of the name."""
    q = clean_text(raw) if isinstance(raw, str) else ""
    if not q or len(q) > MAX_QUERY_CHARS:
        raise InvalidInput("query", f"搜索内容要在 1 到 {MAX_QUERY_CHARS} 个字之间")
    ref = _LEAD_REF.match(q)
    if ref:
        return Lead.id == int(ref.group(1))
    if _PHONE_LIKE.match(q):
        try:
            phone = normalize_phone(q)
        except InvalidInput:
            raise InvalidInput("query", "请输入完整的 11 位手机号") from None
        holders = select(LeadContact.lead_id).where(
            LeadContact.kind == "phone", LeadContact.value == phone
        )
        return Lead.id.in_(holders)
    # A plain substring test, a third cheaper than LIKE '%…%' per name scanned, and
    # no wildcard to escape; case-sensitive on both dialects alike.
    if uow.dialect == "postgresql":
        return func.strpos(Lead.name, q) > 0
    return func.instr(Lead.name, q) > 0


def _by_name(f: LeadFilter) -> bool:
    """The filter searches a part of a name: a scan of the name index, whatever else."""
    if f.query is None:
        return False
    q = clean_text(f.query)
    return not _PHONE_LIKE.match(q) and not _LEAD_REF.match(q)


async def _count(uow: UnitOfWork, where: list[ColumnElement[bool]]) -> tuple[int, bool]:
    """How many leads match, counted up to TOTAL_CAP (then "more"): past that a
    count costs a row read per lead and tells the page nothing it can use."""
    matching = select(literal(1)).select_from(Lead).where(*where).limit(TOTAL_CAP + 1)
    n = int(
        (
            await uow.session.execute(select(func.count()).select_from(matching.subquery()))
        ).scalar_one()
    )
    return min(n, TOTAL_CAP), n > TOTAL_CAP


async def _leads(uow: UnitOfWork, query: Select[Any]) -> list[LeadView]:
    return [LeadView.of(lead) for lead in await uow.session.scalars(query)]


async def _by_ids(uow: UnitOfWork, ids: list[int]) -> list[LeadView]:
    found = {v.id: v for v in await _leads(uow, select(Lead).where(Lead.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


async def _recent_by_name(
    uow: UnitOfWork, where: list[ColumnElement[bool]], offset: int, limit: int
) -> LeadPage:
    """A name search reads every name once (the name index, not the table): the
    page's ids and the exact total come from that one pass, then the page's rows."""
    query = (
        select(Lead.id, func.count().over())
        .where(*where)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .offset(offset)
        .limit(limit)
    )
    rows = (await uow.session.execute(query)).all()
    if rows:
        return LeadPage(await _by_ids(uow, [r[0] for r in rows]), int(rows[0][1]), offset, limit)
    total, capped = await _count(uow, where) if offset else (0, False)
    return LeadPage([], total, offset, limit, capped)


async def _due_first(
    uow: UnitOfWork, where: list[ColumnElement[bool]], offset: int, limit: int
) -> list[LeadView]:
    """Leads with a due time, soonest first, then those without (closed), newest
    first: two index ranges in order ((consultant_id,) next_follow_up_at), where
    one ORDER BY with NULLs last would sort every lead the filter lets through."""
    due = Lead.next_follow_up_at
    items = await _leads(
        uow,
        select(Lead)
        .where(*where, due.is_not(None))
        .order_by(due, Lead.id)
        .offset(offset)
        .limit(limit),
    )
    if len(items) == limit:
        return items
    if items or not offset:
        with_due = offset + len(items)
    else:  # this page starts past the leads with a due time: how many were they?
        count = select(func.count()).select_from(Lead).where(*where, due.is_not(None))
        with_due = int((await uow.session.execute(count)).scalar_one())
    rest = (
        select(Lead)
        .where(*where, due.is_(None))
        .order_by(Lead.id.desc())  # ids follow creation; the (…, next_follow_up_at) index's order
        .offset(max(0, offset - with_due))
        .limit(limit - len(items))
    )
    return items + await _leads(uow, rest)


async def lead_list(
    uow: UnitOfWork, actor: Actor, f: LeadFilter, *, offset: int, limit: int, order: Order
) -> LeadPage:
    for name, value, top in (("offset", offset, MAX_OFFSET), ("limit", limit, MAX_LIMIT)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            raise InvalidInput(name, f"只能是 0 到 {top}")
    where = _conditions(uow, actor, f)
    if order == "recent":
        if _by_name(f):
            return await _recent_by_name(uow, where, offset, limit)
        recent = select(Lead).where(*where).order_by(Lead.created_at.desc(), Lead.id.desc())
        items = await _leads(uow, recent.offset(offset).limit(limit))
    elif order == "due":
        items = await _due_first(uow, where, offset, limit)
    else:
        raise InvalidInput("order", "排序只能是 最新/到期")
    if offset == 0 and len(items) < limit:
        return LeadPage(items, len(items), offset, limit)  # all of it is on this page
    total, capped = await _count(uow, where)
    return LeadPage(items, total, offset, limit, capped)


async def lead_board(
    uow: UnitOfWork, actor: Actor, f: LeadFilter, *, newest: int = BOARD_NEWEST
) -> LeadBoard:
    if not isinstance(newest, int) or not 0 <= newest <= 50:
        raise InvalidInput("newest", "只能是 0 到 50")
    where = _conditions(uow, actor, f)
    if _by_name(f):
        return await _board_by_name(uow, where, newest)
    # One count per stage, each an index range (stage, …): a GROUP BY over every
    # lead would walk the whole table's worth of index in one go, about 4x slower.
    per_stage = [
        select(func.count()).select_from(Lead).where(*where, Lead.stage == stage).scalar_subquery()
        for stage in STAGE_NAMES
    ]
    row = (await uow.session.execute(select(*per_stage))).one()
    counts = {stage: int(n) for stage, n in zip(STAGE_NAMES, row, strict=True)}
    columns: dict[str, list[LeadView]] = {stage: [] for stage in STAGE_NAMES}
    for stage in STAGE_NAMES:
        if counts[stage] and newest:  # an empty column needs no query
            query = (
                select(Lead)
                .where(*where, Lead.stage == stage)
                .order_by(Lead.created_at.desc(), Lead.id.desc())
                .limit(newest)
            )
            columns[stage] = await _leads(uow, query)
    return LeadBoard(counts, columns)


async def _board_by_name(
    uow: UnitOfWork, where: list[ColumnElement[bool]], newest: int
) -> LeadBoard:
    """The board of a name search in one pass over the names: each stage's count
    and its newest leads' ids by window functions, then those leads' rows."""
    ranked = (
        select(
            Lead.id,
            Lead.stage,
            func.count().over(partition_by=Lead.stage).label("n"),
            func.row_number()
            .over(partition_by=Lead.stage, order_by=(Lead.created_at.desc(), Lead.id.desc()))
            .label("rank"),
        )
        .where(*where)
        .subquery()
    )
    rows = (
        await uow.session.execute(
            select(ranked.c.id, ranked.c.stage, ranked.c.n).where(ranked.c.rank <= max(newest, 1))
        )
    ).all()
    counts = dict.fromkeys(STAGE_NAMES, 0)
    ids: dict[str, list[int]] = {stage: [] for stage in STAGE_NAMES}
    for lead_id, stage, n in rows:
        if stage in counts:
            counts[stage] = int(n)
            ids[stage].append(lead_id)
    found = {v.id: v for v in await _by_ids(uow, [i for s in ids.values() for i in s[:newest]])}
    columns = {
        stage: sorted((found[i] for i in ids[stage][:newest] if i in found),
                      key=lambda v: (v.created_at, v.id), reverse=True)
        for stage in STAGE_NAMES
    }  # fmt: skip
    return LeadBoard(counts, columns)


def _distinct(column: str) -> Any:
    """Distinct non-NULL values of an indexed leads column, one index seek each (a
    loose index scan), so the cost follows the number of values, not of leads."""
    return text(
        f"WITH RECURSIVE v(x, n) AS ("
        f" SELECT (SELECT min({column}) FROM leads), 1"
        f" UNION ALL"
        f" SELECT (SELECT min({column}) FROM leads WHERE {column} > v.x), n + 1"
        f" FROM v WHERE v.x IS NOT NULL AND n < :cap"
        f") SELECT x FROM v WHERE x IS NOT NULL"
    )


_CHANNELS, _GROUPS = _distinct("channel"), _distinct("group_id")


async def filter_options(uow: UnitOfWork) -> FilterOptions:
    cap = {"cap": MAX_OPTIONS}
    channels = list((await uow.session.scalars(_CHANNELS, cap)).all())
    groups = list((await uow.session.scalars(_GROUPS, cap)).all())
    members = await uow.session.execute(
        select(Member.id, Member.name)
        .where(Member.role == "consultant")
        .order_by(Member.active.desc(), Member.id)
    )
    return FilterOptions(channels, groups, [(i, n) for i, n in members.all()])


# -- the lead detail's editable fields ---------------------------------------------
EDITABLE = ("name", "car_model", "budget", "expected_purchase_at", "phone")


def _edited_text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not storable(value):
        raise InvalidInput(name, "含有无法识别的字符")
    value = clean_text(value)
    if len(value) > 64:
        raise InvalidInput(name, "太长了（最多 64 字）")
    return value or None  # an emptied field is cleared


async def update_lead(uow: UnitOfWork, actor: Actor, lead_id: int, **fields: Any) -> LeadView:
    """Change the lead's editable fields; one "edit" timeline entry lists what
    changed (old → new) and who did it. Validated before anything is written."""
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown or not fields:
        raise InvalidInput(",".join(unknown) or "fields", "这些内容不能在这里修改")
    values: dict[str, Any] = {}
    for name in ("name", "car_model", "budget"):
        if name in fields:
            values[name] = _edited_text(name, fields[name])
    if "expected_purchase_at" in fields:
        at = fields["expected_purchase_at"]
        if at is not None and not isinstance(at, datetime):
            raise InvalidInput("expected_purchase_at", "需要一个时间")
        values["expected_purchase_at"] = lifecycle.check_future(uow, "expected_purchase_at", at)
    phone = None
    if "phone" in fields:
        if not isinstance(fields["phone"], str) or not fields["phone"].strip():
            raise InvalidInput("phone", "手机号只能改，不能删除")
        phone = values["phone"] = normalize_phone(fields["phone"])
    lead = await lifecycle.load(uow, actor, lead_id)
    values = {k: v for k, v in values.items() if getattr(lead, k) != v}
    if not values:
        return LeadView.of(lead)
    if phone is not None:
        await _replace_phone(uow, lead, phone)
    await uow.change(lead, actor, "edit", **values)
    return LeadView.of(lead)


async def _replace_phone(uow: UnitOfWork, lead: Lead, phone: str) -> None:
    """The phone contact follows the corrected number: the new one must be nobody
    else's (one person, one lead), the old one stops identifying this lead."""
    holder = await uow.session.scalar(
        select(LeadContact.lead_id).where(LeadContact.kind == "phone", LeadContact.value == phone)
    )
    if holder is not None and holder != lead.id:
        raise InvalidInput("phone", "这个手机号已登记在另一条线索上")
    if lead.phone:
        await uow.session.execute(
            delete(LeadContact).where(
                and_(
                    LeadContact.kind == "phone",
                    LeadContact.value == lead.phone,
                    LeadContact.lead_id == lead.id,
                )
            )
        )
    if holder is None:
        uow.session.add(LeadContact(kind="phone", value=phone, lead_id=lead.id))
        await uow.session.flush()
