"""The batch write path of an import: rows classified and written many at a time,
under the rules a chat capture follows (desk.capture._record), batched.

Per row: created; merged into the lead holding its phone or platform id (撞单: the
consultant kept, only what we did not know filled, a lost lead reopened);
unchanged (the row was imported before: its platform id, or without one a key of
its content, is kept as a lead_contacts handle, so importing a file twice changes
nothing the second time, however long after); duplicate (an earlier row of the
file has the same phone or platform id); rejected (by the reader, or here).

Each batch is one transaction (Desk.write: retried as a whole after a lost race)
with one lookup query for all its handles, executemany inserts and updates, the
rollup's dirty day marked once per day, open_load moved once per consultant and
assignment decided in memory under the same caps. A batch written is never
written again, so an import interrupted and re-run finishes the job. The
consultants get one summary DM each at the end, not one per lead.

Memory does not grow with the file: counters, the preview's first rows, and the
file's handles for the duplicate check in a private temporary SQLite file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update

from desk import notify, outbox, rollup
from desk.capture import CHANNELS, storable
from desk.errors import InvalidInput
from desk.imports.config import ImportsConfig, load_imports_config
from desk.imports.rows import (
    SOURCES,
    ImportReport,
    LeadRow,
    Progress,
    RejectedRow,
    RowOutcome,
)
from desk.models import Lead, LeadContact, Member, TimelineEntry
from desk.phone import mask_phone
from desk.scheduling import first_contact_due, follow_up_due
from desk.store import ignoring_insert, serialize_on
from desk.uow import ADD_LOAD, UnitOfWork, load_of
from desk.views import SYSTEM, Actor

if TYPE_CHECKING:
    from desk.service import Desk

BATCH_SIZE = 500  # rows per transaction: ~0.2 s of SQLite's one writer at a time
PREVIEW_ROWS = 50
ACTION = "imported"  # the timeline entry of a lead an import made or merged into
# The file's 线索评级. O is IDCC's 订单 (the customer has ordered): the lead is
# imported as 已下订 (stage ordered, level O, followed up weekly) like 记为下订.
FILE_LEVELS = ("H", "A", "B", "C", "O")
Rejects = Callable[[RejectedRow], None]


def platform_kind(source: str) -> str:
    """The lead_contacts kind of a platform's lead id (kind is String(16))."""
    return f"plat:{source}"


def row_kind(source: str) -> str:
    """The lead_contacts kind of the content key of a row without a platform id."""
    return f"row:{source}"


# -- config: the level an inquiry type gives ([level_by_inquiry] of config/imports.toml)
def inquiry_levels(config: ImportsConfig | None = None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (config or load_imports_config()).level_by_inquiry.items()}


# -- rows the desk refuses -------------------------------------------------------------
_TEXT_LIMITS = {"name": 64, "car_model": 64, "consultant_name": 32}


def refusal(row: LeadRow) -> str | None:
    """Why the desk cannot keep this row (Chinese, for the errors file), or None."""
    if row.phone is None and not row.platform_id:
        return "没有有效的手机号"
    if row.platform_id is not None and (
        not 0 < len(row.platform_id) <= 128 or not storable(row.platform_id)
    ):
        return "平台线索ID无效（最多 128 个字符）"
    for name, limit in _TEXT_LIMITS.items():
        value = getattr(row, name)
        if value is not None and not storable(value):
            return "含有无法识别的字符"
        if value is not None and len(value) > limit:
            return f"{_FIELD_NAMES[name]}太长（最多 {limit} 字）"
    if row.level is not None and row.level not in FILE_LEVELS:
        return "线索评级只能是 H/A/B/C/O"
    return None


_FIELD_NAMES = {"name": "姓名", "car_model": "意向车型", "consultant_name": "顾问姓名"}


def content_key(source: str, row: LeadRow) -> str:
    """A row's identity without a platform id: its fields but the line number."""
    values = [
        source, row.phone, row.platform_id, row.name, row.city, row.car_model, row.created_at,
        list(row.channel_path), row.inquiry, row.level, row.consultant_name, row.assigned_at,
        row.first_contact_at, row.visited_at, row.test_drive_at, row.defeat_reason,
    ]  # fmt: skip
    text = json.dumps(values, ensure_ascii=False, default=_iso)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


# -- duplicates within the file ---------------------------------------------------------
class _SeenInFile:
    """The file's phones and platform ids so far, and the line each came first on,
    in a private temporary SQLite file (deleted on close): the check costs one
    query and one executemany per batch, and no memory that grows with the file."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("")
        self._db.execute("CREATE TABLE seen (h TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")

    def close(self) -> None:
        self._db.close()

    def earlier(self, rows: list[LeadRow]) -> dict[int, str]:
        """For each row of the batch that repeats an earlier one: the reason."""
        keys = [[f"{kind}:{value}" for kind, value in _file_handles(r)] for r in rows]
        wanted = sorted({k for ks in keys for k in ks})
        known: dict[str, int] = {}
        for i in range(0, len(wanted), 900):  # SQLite's older 999-variable limit
            chunk = wanted[i : i + 900]
            marks = ",".join("?" * len(chunk))
            known.update(self._db.execute(f"SELECT h, line FROM seen WHERE h IN ({marks})", chunk))
        added: list[tuple[str, int]] = []
        reasons: dict[int, str] = {}
        for row, ks in zip(rows, keys, strict=True):
            hit = next((k for k in ks if k in known), None)
            if hit is not None:
                what = "手机号" if hit.startswith("phone:") else "平台线索ID"
                reasons[row.line] = f"与第 {known[hit]} 行重复（同一{what}）"
                continue
            for k in ks:
                known[k] = row.line
                added.append((k, row.line))
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", added)
        return reasons


def _file_handles(row: LeadRow) -> list[tuple[str, str]]:
    pairs = [("phone", row.phone), ("plat", row.platform_id)]
    return [(k, v) for k, v in pairs if v]


# -- the roster, in memory for a batch -----------------------------------------------------
@dataclass(slots=True)
class _Member:
    id: int
    name: str
    role: str
    on_duty: bool
    open_load: int
    last_assigned_at: datetime | None
    qq_id: str | None
    wecom_userid: str | None
    dm_channel: str


_ROSTER = cast(Table, Member.__table__)
_ACTIVE_MEMBERS = select(
    _ROSTER.c.id, _ROSTER.c.name, _ROSTER.c.role, _ROSTER.c.on_duty, _ROSTER.c.open_load,
    _ROSTER.c.last_assigned_at, _ROSTER.c.qq_id, _ROSTER.c.wecom_userid, _ROSTER.c.dm_channel,
).where(_ROSTER.c.active.is_(True)).order_by(_ROSTER.c.id)  # fmt: skip
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Roster:
    """The active members, their loads moved as the batch assigns (written once at
    the end), and assignment.pick's choice made in memory under the same cap."""

    def __init__(self, members: list[_Member], cap: int, now: datetime) -> None:
        self.by_id = {m.id: m for m in members}
        names: dict[str, list[_Member]] = {}
        for m in members:
            names.setdefault(m.name, []).append(m)
        # a name two members share names nobody for sure: the file's consultant is ignored
        self.by_name = {n: ms[0] for n, ms in names.items() if len(ms) == 1}
        self.cap = cap
        self.now = now
        self.delta: dict[int, int] = {}
        self.picked: set[int] = set()

    def pick(self) -> _Member | None:
        """Fewest open leads first, then the longest waiting; the cap skips the full."""
        eligible = [
            m for m in self.by_id.values()
            if m.role == "consultant" and m.on_duty and (not self.cap or m.open_load < self.cap)
        ]  # fmt: skip
        if not eligible:
            return None
        chosen = min(
            eligible,
            key=lambda m: (
                m.open_load, m.last_assigned_at is not None, m.last_assigned_at or _EPOCH, m.id,
            ),
        )  # fmt: skip
        chosen.last_assigned_at = self.now
        self.picked.add(chosen.id)
        return chosen

    def move(self, old: int | None, new: int | None) -> None:
        """UnitOfWork._move_load's rule, counted: a lead's open load moves owner."""
        if old == new:
            return
        for member_id, d in ((old, -1), (new, +1)):
            if member_id is None:
                continue
            self.delta[member_id] = self.delta.get(member_id, 0) + d
            if member_id in self.by_id:
                self.by_id[member_id].open_load += d

    def carry(self, delta: dict[int, int], picked: dict[int, datetime]) -> None:
        """A dry run's earlier batches, never written: their loads and picks."""
        for member_id, d in delta.items():
            if member_id in self.by_id:
                self.by_id[member_id].open_load += d
        for member_id, at in picked.items():
            if member_id in self.by_id:
                self.by_id[member_id].last_assigned_at = at


def _owner(consultant_id: int | None, stage: str | None) -> int | None:
    return consultant_id if load_of(stage) else None


# -- statements ---------------------------------------------------------------------------
_LEADS = cast(Table, Lead.__table__)
_CONTACTS = cast(Table, LeadContact.__table__)
_LEAD_COLUMNS = tuple(c.name for c in _LEADS.columns if c.name != "id")
_INSERT_LEADS = insert(_LEADS).returning(_LEADS.c.id, sort_by_parameter_order=True)
_INSERT_LEADS_WITH_IDS = insert(_LEADS)
_LAST_LEAD = select(func.max(_LEADS.c.id))
_INSERT_CONTACTS = insert(_CONTACTS)
_TIMELINE_INSERT = insert(cast(Table, TimelineEntry.__table__))
# What a merge may change (every merged row sets them all: one executemany).
_MERGE_COLUMNS = (
    "name", "phone", "car_model", "level", "stage", "consultant_id", "next_follow_up_at",
    "first_contact_due_at", "lost_at", "first_contact_escalated_at", "updated_at",
)  # fmt: skip
_UPDATE_LEADS = update(_LEADS).where(_LEADS.c.id == bindparam("lead_id"))
_BUMP_LOADS = update(_ROSTER).where(_ROSTER.c.id == bindparam("member_id")).values(**ADD_LOAD)
_STAMP_PICKS = (
    update(_ROSTER)
    .where(_ROSTER.c.id == bindparam("member_id"))
    .values(last_assigned_at=bindparam("assigned_at", type_=_ROSTER.c.last_assigned_at.type))
)
_LOOKUPS: dict[tuple[int, bool], Any] = {}


def _lookup(kinds: int, lock: bool) -> Any:
    """The leads holding any of the batch's handles, one query: per kind, its values
    as one expanding IN (k0, v0, k1, v1 …); built once per shape."""
    stmt = _LOOKUPS.get((kinds, lock))
    if stmt is None:
        match = (
            and_(
                _CONTACTS.c.kind == bindparam(f"k{i}"),
                _CONTACTS.c.value.in_(bindparam(f"v{i}", expanding=True)),
            )
            for i in range(kinds)
        )
        stmt = (
            select(*_LEADS.c, _CONTACTS.c.kind.label("h_kind"), _CONTACTS.c.value.label("h_value"))
            .join(_CONTACTS, _CONTACTS.c.lead_id == _LEADS.c.id)
            .where(or_(*match))
        )
        if lock:  # a concurrent capture of the same person waits (PostgreSQL)
            stmt = stmt.with_for_update(of=_LEADS)
        _LOOKUPS[(kinds, lock)] = stmt
    return stmt


# -- one batch -----------------------------------------------------------------------------
@dataclass
class _Batch:
    """What a batch did (kept out of the report until its transaction commits)."""

    outcomes: list[RowOutcome] = field(default_factory=list)
    created: dict[int, int] = field(default_factory=dict)  # consultant -> new leads
    merged: dict[int, int] = field(default_factory=dict)  # consultant -> merged leads
    unassigned: int = 0
    delta: dict[int, int] = field(default_factory=dict)
    picked: dict[int, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class _Plan:
    source: str
    actor: Actor
    levels: dict[str, str]  # inquiry -> level
    dry_run: bool


def _handles(plan: _Plan, row: LeadRow) -> list[tuple[str, str]]:
    """The row's handles, those that say "imported before" first."""
    if row.platform_id:
        pairs = [(platform_kind(plan.source), row.platform_id)]
    else:
        pairs = [(row_kind(plan.source), content_key(plan.source, row))]
    if row.phone:
        pairs.append(("phone", row.phone))
    return pairs


def _context(plan: _Plan, row: LeadRow) -> dict[str, Any]:
    """What the file said that the lead has no column for, kept on its timeline entry."""
    ctx: dict[str, Any] = {"source": plan.source, "line": row.line}
    extra = {
        "platform_id": row.platform_id, "city": row.city, "inquiry": row.inquiry,
        "channel_path": "/".join(row.channel_path) or None, "level": row.level,
        "consultant": row.consultant_name, "defeat_reason": row.defeat_reason,
        "created_at": row.created_at, "assigned_at": row.assigned_at,
        "first_contact_at": row.first_contact_at, "visited_at": row.visited_at,
        "test_drive_at": row.test_drive_at,
    }  # fmt: skip
    for key, value in extra.items():
        if value is not None:
            ctx[key] = value.isoformat() if isinstance(value, datetime) else value
    return ctx


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _run_batch(
    uow: UnitOfWork, plan: _Plan, rows: list[LeadRow], carry: _Batch | None
) -> _Batch:
    out = _Batch()
    now = uow.now
    if not plan.dry_run:
        await serialize_on(uow, "assignment")  # picks take turns with chat captures
    members = [_Member(*r) for r in await uow.session.execute(_ACTIVE_MEMBERS)]
    roster = _Roster(members, uow.settings.assignment.cap_per_consultant, now)
    if carry is not None:
        roster.carry(carry.delta, carry.picked)

    # one lookup for every handle of the batch
    handles = [_handles(plan, r) for r in rows]
    by_kind: dict[str, set[str]] = {}
    for hs in handles:
        for kind, value in hs:
            by_kind.setdefault(kind, set()).add(value)
    params: dict[str, Any] = {}
    for i, (kind, values) in enumerate(sorted(by_kind.items())):
        params[f"k{i}"], params[f"v{i}"] = kind, sorted(values)
    found: dict[tuple[str, str], int] = {}
    leads: dict[int, dict[str, Any]] = {}
    if params:
        result = await uow.session.execute(_lookup(len(by_kind), not plan.dry_run), params)
        for r in result.mappings():
            lead = dict(r)
            found[(lead.pop("h_kind"), lead.pop("h_value"))] = lead["id"]
            leads.setdefault(lead["id"], lead)

    due = first_contact_due(uow.settings, uow.calendar, now)
    ordered_due = follow_up_due(uow.settings, uow.calendar, now, "O")
    new_rows: list[dict[str, Any]] = []
    new_meta: list[tuple[LeadRow, list[tuple[str, str]], dict[str, Any]]] = []
    updates: dict[int, dict[str, Any]] = {}
    merge_contacts: list[dict[str, Any]] = []
    timeline: list[dict[str, Any]] = []
    days: list[datetime] = []

    for row, hs in zip(rows, handles, strict=True):
        lead_id = next((found[h] for h in hs if h in found), None)
        level = row.level or (plan.levels.get(row.inquiry) if row.inquiry else None)
        if lead_id is None:
            values = _new_lead(plan, row, level, now, due, ordered_due)
            member = _consultant(roster, None, row)
            if member is not None:
                values["consultant_id"] = member.id
            roster.move(None, _owner(values["consultant_id"], values["stage"]))
            new_rows.append(values)
            new_meta.append((row, hs, values))
            for h in hs:  # a later row of this batch holding one of them finds this lead
                found[h] = -len(new_rows)
            continue
        if lead_id < 0:  # made earlier in this batch: the file check missed nothing else
            out.outcomes.append(_outcome(row, "duplicate", None, None, "与本批前一行重复"))
            continue
        lead = leads[lead_id]
        before = hs[0] in found  # the row's own key: imported before
        lost_at = lead["lost_at"]  # a reopened lead leaves the 战败 of that day
        changes = _merge(plan, roster, lead, row, level, now, due, reopen=not before)
        if before and not changes:
            out.outcomes.append(_outcome(row, "unchanged", lead_id, lead["consultant_id"]))
            continue
        days += [lead["created_at"], lost_at]
        lead["updated_at"] = now
        updates[lead_id] = {"lead_id": lead_id, **{c: lead[c] for c in _MERGE_COLUMNS}}
        merge_contacts += [{"kind": k, "value": v, "lead_id": lead_id} for k, v in hs]
        for h in hs:
            found[h] = lead_id
        timeline.append({
            "lead_id": lead_id, "at": now, "actor": plan.actor.label, "action": ACTION,
            "changes": {**changes, "seen_via": plan.source, "import": _context(plan, row)},
            "note": None,
        })  # fmt: skip
        if lead["consultant_id"] is not None:
            out.merged[lead["consultant_id"]] = out.merged.get(lead["consultant_id"], 0) + 1
        out.outcomes.append(_outcome(row, "merged", lead_id, lead["consultant_id"]))

    ids: list[int | None] = [None] * len(new_rows)
    if not plan.dry_run and new_rows:
        ids = list(await _insert_leads(uow, new_rows))
    contacts: list[dict[str, Any]] = []
    for lead_id, (row, hs, values) in zip(ids, new_meta, strict=True):
        consultant = values["consultant_id"]
        if consultant is None:
            out.unassigned += 1
        else:
            out.created[consultant] = out.created.get(consultant, 0) + 1
        out.outcomes.append(_outcome(row, "created", lead_id, consultant))
        if lead_id is None:
            continue
        contacts += [{"kind": k, "value": v, "lead_id": lead_id} for k, v in hs]
        changes = {"stage": [None, values["stage"]], "channel": [None, plan.source],
                   "level": [None, values["level"]], "import": _context(plan, row)}  # fmt: skip
        if consultant is not None:
            changes["consultant_id"] = [None, consultant]
        timeline.append({
            "lead_id": lead_id, "at": now, "actor": plan.actor.label, "action": ACTION,
            "changes": changes, "note": None,
        })  # fmt: skip
    out.outcomes.sort(key=lambda o: o.line)
    out.delta = {k: d for k, d in roster.delta.items() if d}
    out.picked = dict.fromkeys(roster.picked, now)
    if plan.dry_run:
        return out

    s = uow.session
    if contacts:  # a new lead's handles must be free (a concurrent capture: retried)
        await s.execute(_INSERT_CONTACTS, contacts)
    if updates:
        await s.execute(_UPDATE_LEADS, list(updates.values()))
    if merge_contacts:  # a merged lead only gains the handles nobody holds yet
        await s.execute(ignoring_insert(uow, LeadContact), merge_contacts)
    if timeline:
        await s.execute(_TIMELINE_INSERT, timeline)
    if new_rows:
        days.append(now)
    marks = rollup.day_rows(uow.calendar, days)
    if marks:
        await s.execute(rollup.mark_statement(uow.dialect), marks)
    if out.delta:
        await s.execute(
            _BUMP_LOADS, [{"member_id": m, "delta": d} for m, d in sorted(out.delta.items())]
        )
    if out.picked:
        await s.execute(
            _STAMP_PICKS, [{"member_id": m, "assigned_at": now} for m in sorted(out.picked)]
        )
    return out


async def _insert_leads(uow: UnitOfWork, rows: list[dict[str, Any]]) -> list[int]:
    """The new leads' ids, in the rows' order, from one executemany. PostgreSQL:
    INSERT … RETURNING sorted by SQLAlchemy's sentinel (the serial id). SQLite has
    no such sentinel, and SQLAlchemy would send one INSERT per row: the ids are
    given instead, after the largest, which is what SQLite would pick (the write
    transaction holds the database's one writer lock since it began)."""
    if uow.dialect == "postgresql":
        inserted = await uow.session.execute(_INSERT_LEADS, rows)
        return list(inserted.scalars().all())
    last = await uow.session.scalar(_LAST_LEAD) or 0
    ids = list(range(last + 1, last + 1 + len(rows)))
    for lead_id, values in zip(ids, rows, strict=True):
        values["id"] = lead_id
    await uow.session.execute(_INSERT_LEADS_WITH_IDS, rows)
    return ids


def _new_lead(
    plan: _Plan, row: LeadRow, level: str | None, now: datetime, due: datetime,
    ordered_due: datetime,
) -> dict[str, Any]:  # fmt: skip
    values: dict[str, Any] = dict.fromkeys(_LEAD_COLUMNS)
    values |= {
        "name": row.name, "phone": row.phone, "car_model": row.car_model,
        "channel": plan.source, "source": ("/".join(row.channel_path) or plan.source)[:128],
        "visit_count": 0, "created_at": now, "updated_at": now,
    }  # fmt: skip
    if level == "O":  # 订单: as 记为下订 leaves it
        values |= {"stage": "ordered", "level": "O", "ordered_at": now,
                   "next_follow_up_at": ordered_due}  # fmt: skip
    else:
        values |= {"stage": "new", "level": level or "N", "next_follow_up_at": due,
                   "first_contact_due_at": due}  # fmt: skip
    return values


def _consultant(roster: _Roster, current: int | None, row: LeadRow) -> _Member | None:
    """The lead's own consultant while active; else the file's, when they are an
    active roster member; else the pick (capped). None: nobody can take it."""
    if current is not None and current in roster.by_id:
        return roster.by_id[current]
    named = roster.by_name.get(row.consultant_name or "")
    return named or roster.pick()


def _merge(
    plan: _Plan, roster: _Roster, lead: dict[str, Any], row: LeadRow, level: str | None,
    now: datetime, due: datetime, *, reopen: bool,
) -> dict[str, Any]:  # fmt: skip
    """desk.capture._record's rules on the lead's row (changed in place): fill what
    we did not know; a lost lead starts afresh; a lead without an active consultant
    gets one. A row imported before only fills. The changes, old → new."""
    values: dict[str, Any] = {
        name: new for name in ("name", "phone", "car_model")
        if (new := getattr(row, name)) and not lead[name]
    }  # fmt: skip
    if level in ("H", "A", "B", "C") and lead["level"] == "N" and lead["stage"] == "new":
        values["level"] = level  # the file rates a lead nobody rated yet
    if reopen:
        if lead["stage"] == "lost":
            values |= {
                "stage": "new", "level": level if level in ("H", "A", "B", "C") else "N",
                "next_follow_up_at": due, "first_contact_due_at": due, "lost_at": None,
                "first_contact_escalated_at": None,
            }  # fmt: skip
        current = lead["consultant_id"]
        member = _consultant(roster, current, row)
        if member is not None and member.id != current:
            values["consultant_id"] = member.id
    roster.move(
        _owner(lead["consultant_id"], lead["stage"]),
        _owner(values.get("consultant_id", lead["consultant_id"]),
               values.get("stage", lead["stage"])),
    )  # fmt: skip
    changes = {
        name: [_jsonable(lead[name]), _jsonable(new)]
        for name, new in values.items()
        if lead[name] != new
    }
    lead.update(values)
    return changes


def _outcome(
    row: LeadRow, outcome: Any, lead_id: int | None, consultant_id: int | None,
    reason: str | None = None,
) -> RowOutcome:  # fmt: skip
    return RowOutcome(
        line=row.line, outcome=outcome, lead_id=lead_id, reason=reason, name=row.name,
        masked_phone=mask_phone(row.phone) if row.phone else None, consultant_id=consultant_id,
    )  # fmt: skip


# -- the whole import ------------------------------------------------------------------------
def check_source(source: str) -> str:
    if source not in SOURCES or source not in CHANNELS:
        raise InvalidInput("source", f"来源只能是 {'/'.join(SOURCES)}")
    return source


class _Tally:
    def __init__(self, report: ImportReport, rejects: Rejects | None) -> None:
        self.report = report
        self.rejects = rejects
        self.unassigned = 0

    def add(self, outcome: RowOutcome) -> None:
        self.report.counts[outcome.outcome] += 1
        if len(self.report.preview) < PREVIEW_ROWS:
            self.report.preview.append(outcome)

    def reject(self, row: RejectedRow) -> None:
        self.add(RowOutcome(line=row.line, outcome="rejected", reason=row.reason))
        if self.rejects is not None:
            self.rejects(row)

    def batch(self, b: _Batch) -> None:
        for outcome in b.outcomes:
            self.add(outcome)
        for counter, part in ((self.report.per_consultant, b.created),
                              (self.report.merged_per_consultant, b.merged)):  # fmt: skip
            for member_id, n in part.items():
                counter[member_id] = counter.get(member_id, 0) + n
        self.report.unassigned += b.unassigned


async def import_leads(
    desk: Desk,
    rows: Iterable[LeadRow | RejectedRow] | AsyncIterable[LeadRow | RejectedRow],
    *,
    source: str,
    actor: Actor = SYSTEM,
    dry_run: bool = False,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    rejects: Rejects | None = None,
    total: int | None = None,
    config: ImportsConfig | None = None,
) -> ImportReport:
    """See Desk.import_leads."""
    plan = _Plan(check_source(source), actor, inquiry_levels(config), dry_run)
    if not isinstance(batch_size, int) or not 0 < batch_size <= 5000:
        raise InvalidInput("batch_size", "1..5000")
    report = ImportReport(source=source, dry_run=dry_run, import_id=uuid.uuid4().hex[:16])
    tally = _Tally(report, rejects)
    seen = _SeenInFile()
    carry = _Batch()  # a dry run's loads and picks so far (nothing is written)
    batch: list[LeadRow] = []

    async def flush() -> None:
        if not batch:
            return
        repeated = seen.earlier(batch)
        fresh = [r for r in batch if r.line not in repeated]
        outcomes = [
            _outcome(r, "duplicate", None, None, repeated[r.line]) for r in batch if r.line in repeated
        ]  # fmt: skip
        if fresh:
            if dry_run:
                b = await desk.read(lambda uow: _run_batch(uow, plan, fresh, carry))
                for m, d in b.delta.items():
                    carry.delta[m] = carry.delta.get(m, 0) + d
                carry.picked |= b.picked
            else:
                b = await desk.write(lambda uow: _run_batch(uow, plan, fresh, None))
            b.outcomes = sorted(outcomes + b.outcomes, key=lambda o: o.line)
        else:
            b = _Batch(outcomes=outcomes)
        tally.batch(b)
        batch.clear()
        if progress is not None:
            progress(report.rows, total)

    async def take(row: LeadRow | RejectedRow) -> None:
        if isinstance(row, RejectedRow):
            tally.reject(row)
            return
        why = refusal(row)
        if why is not None:
            tally.reject(RejectedRow(row.line, why, row.cells))
            return
        batch.append(row)
        if len(batch) >= batch_size:
            await flush()

    try:
        if isinstance(rows, AsyncIterable):
            async for row in rows:
                await take(row)
        else:
            for row in rows:
                await take(row)
        await flush()
    finally:
        seen.close()
    if progress is not None:
        progress(report.rows, total)
    if not dry_run:
        await desk.write(lambda uow: _summaries(uow, report))
    return report


async def _summaries(uow: UnitOfWork, report: ImportReport) -> None:
    """One DM per consultant for the whole import; the managers one when leads
    found nobody to take them."""
    consultants = sorted(set(report.per_consultant) | set(report.merged_per_consultant))
    if consultants:
        rows = await uow.session.execute(
            select(_ROSTER.c.id, _ROSTER.c.qq_id, _ROSTER.c.wecom_userid, _ROSTER.c.dm_channel)
            .where(_ROSTER.c.id.in_(consultants))
            .order_by(_ROSTER.c.id)
        )
        for r in rows:
            await notify.leads_imported(
                uow, report.import_id or "", outbox.Recipient(*r), report.source,
                report.per_consultant.get(r.id, 0), report.merged_per_consultant.get(r.id, 0),
            )  # fmt: skip
    if report.unassigned:
        await notify.import_unassigned(
            uow, report.import_id or "", report.source, report.unassigned
        )
