"""What 报表 sums instead of reading every lead (report_days): per local day and
consultant, the cohort funnel of the leads created that day (by channel and group
too) and the 战败 approved that day, so a year is a few thousand rows.

A day's rows are rebuilt from `leads` whenever a lead created or lost that day
changes: the transaction that changes it marks the day dirty (report_dirty_days)
— `add_lead` explicitly, every ORM change to a Lead by the session's before_flush
listener below — and `refresh` (before a report, in its own write transaction)
rebuilds the dirty days and clears their marks. desk.reports reads the rollup
only for a period without a dirty day, so a missed refresh costs speed, never
correctness. Days are the desk calendar's local dates, computed in Python
(calendar.day_bounds), never in SQL.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    Date,
    Table,
    and_,
    bindparam,
    delete,
    event,
    func,
    inspect,
    literal,
    null,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from desk.calendar import WorkCalendar
from desk.models import Lead, ReportDay, ReportDirtyDay, UTCDateTime

if TYPE_CHECKING:  # desk.uow imports this module
    from desk.uow import UnitOfWork

FUNNEL_KINDS = ("all", "channel", "group")  # by the day the leads were created
KINDS = (*FUNNEL_KINDS, "defeat")  # 战败: by the day they were approved
_DIMENSION: dict[str, Any] = {"all": None, "channel": Lead.channel, "group": Lead.group_id}
_TABLE, _DIRTY = cast(Table, ReportDay.__table__), cast(Table, ReportDirtyDay.__table__)
CALENDAR_KEY = "desk.calendar"
# The leads 报表's funnel counts: a withdrawn capture (无效线索) was never a lead. The
# one filter of the rollup's rebuild and desk.reports' live queries.
COUNTED = Lead.stage != "invalid"  # session.info: the calendar that tells a lead's day


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement:
    """Portable interval in seconds (the one place the dialects differ)."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


# -- marking -------------------------------------------------------------------------
_MARKS: dict[str, Any] = {}


def mark_statement(dialect: str) -> Any:
    """INSERT the day, or bump its stamp (a refresh that read the old stamp keeps it)."""
    stmt = _MARKS.get(dialect)
    if stmt is None:
        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        ins = make(_DIRTY).values(day=bindparam("day"), stamp=1)
        stmt = _MARKS[dialect] = ins.on_conflict_do_update(
            index_elements=["day"], set_={"stamp": _DIRTY.c.stamp + 1}
        )
    return stmt


def day_rows(calendar: WorkCalendar, created: list[Any]) -> list[dict[str, date]]:
    """The marks for leads created (or lost) at `created` (one per distinct day, in order:
    two transactions marking the same days lock them in the same order)."""
    days = sorted({calendar.local_date(at) for at in created if at is not None})
    return [{"day": d} for d in days]


def _on_flush(session: Session, _context: Any, _instances: Any) -> None:
    created: list[Any] = []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, Lead):
            continue
        if obj in session.dirty and not session.is_modified(obj):
            continue
        attrs = inspect(obj).attrs
        # the days it counts on now, and those it counted on before the change
        for name in ("created_at", "lost_at"):
            created += [getattr(obj, name), *(attrs[name].history.deleted or ())]
    if not created:
        return
    calendar = session.info.get(CALENDAR_KEY)
    if calendar is None:
        raise RuntimeError("a lead changed outside a UnitOfWork: its report day is unknown")
    conn = session.connection()
    conn.execute(mark_statement(conn.dialect.name), day_rows(calendar, created))


event.listen(Session, "before_flush", _on_flush)


# -- rebuilding ----------------------------------------------------------------------
_REBUILDS: dict[tuple[str, str], Any] = {}
_COLUMNS = ["day", "consultant_id", "kind", "value", "detail", "leads", "contacted", "invited",
            "visited", "ordered", "won", "lost", "response_seconds"]  # fmt: skip


def _rebuild_statement(dialect: str, kind: str) -> Any:
    """INSERT … SELECT of one day's rows of one kind, grouped from its leads."""
    stmt = _REBUILDS.get((dialect, kind))
    if stmt is not None:
        return stmt
    consultant = func.coalesce(Lead.consultant_id, 0)
    bounds = (bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))
    day = bindparam("day", type_=Date())
    if kind == "defeat":
        query = (
            select(
                day, consultant, literal(kind), Lead.defeat_category, Lead.defeat_reason,
                func.count(), *(literal(0) for _ in range(5)), func.count(), null(),
            )
            .where(Lead.lost_at >= bounds[0], Lead.lost_at < bounds[1])
            .group_by(consultant, Lead.defeat_category, Lead.defeat_reason)
        )  # fmt: skip
    else:
        dim = _DIMENSION[kind]
        query = (
            select(
                day,
                consultant,
                literal(kind),
                null() if dim is None else dim,
                null(),
                func.count(),
                func.count(Lead.first_contacted_at),
                func.count(Lead.invited_at),
                func.count(Lead.visited_at),
                func.count(Lead.ordered_at),
                func.count(Lead.won_at),
                func.count(Lead.lost_at),
                func.sum(seconds_between(dialect, Lead.first_contacted_at, Lead.created_at)),
            )
            .where(Lead.created_at >= bounds[0], Lead.created_at < bounds[1], COUNTED)
            .group_by(consultant, *([] if dim is None else [dim]))
        )
    stmt = _REBUILDS[(dialect, kind)] = _TABLE.insert().from_select(_COLUMNS, query)
    return stmt


async def has_dirty_days(uow: UnitOfWork) -> bool:
    found = await uow.session.execute(select(_DIRTY.c.day).limit(1))
    return found.first() is not None


async def refresh(uow: UnitOfWork) -> int:
    """Rebuild the dirty days (in the caller's write transaction); how many."""
    session = uow.session
    dirty = (
        await session.execute(
            select(_DIRTY.c.day, _DIRTY.c.stamp).order_by(_DIRTY.c.day).with_for_update()
        )
    ).all()
    if not dirty:
        return 0
    days = [day for day, _ in dirty]
    for i in range(0, len(days), 500):
        await session.execute(
            delete(_TABLE).where(_TABLE.c.kind.in_(KINDS), _TABLE.c.day.in_(days[i : i + 500]))
        )
    for day in days:
        start, end = uow.calendar.day_bounds(day)
        for kind in KINDS:
            await session.execute(
                _rebuild_statement(uow.dialect, kind), {"day": day, "start": start, "end": end}
            )
    await session.execute(
        delete(_DIRTY)
        .where(and_(_DIRTY.c.day == bindparam("d"), _DIRTY.c.stamp == bindparam("s")))
        .execution_options(synchronize_session=False),
        [{"d": day, "s": stamp} for day, stamp in dirty],
    )
    return len(dirty)
