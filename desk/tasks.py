"""Each consultant's day (每日回访目标, 进店前一日确认, 每日预计进店) and the
scheduled digests, reports and escalations that go out through the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, select, text

from desk import capture, notify, outbox, reports, roster
from desk.models import OPEN_DUE_SQL, Lead, Member
from desk.uow import UnitOfWork
from desk.views import CLOSED_STAGES, SYSTEM, DefeatRequest, TaskItem, TaskList

TASK_LIMIT = 50  # per list: a phone screen shows ten; the digest eight
ESCALATION_WINDOW = timedelta(days=7)


# Lost leads are revisited on the date the manager set; a revisit missed by
# more than this is stale and leaves the list.
REVISIT_WINDOW = timedelta(days=30)
_COLUMNS = (
    Lead.id,
    Lead.name,
    Lead.level,
    Lead.stage,
    Lead.next_follow_up_at,
    Lead.expected_visit_at,
)


def _item(row: Row, due: datetime | None, now: datetime) -> TaskItem:
    return TaskItem(
        row.id, row.name, row.level, row.stage, due, overdue=due is not None and due < now
    )


async def _rows(
    uow: UnitOfWork, *conditions: Any, order: Any = Lead.next_follow_up_at
) -> Sequence[Row]:
    query = select(*_COLUMNS).where(*conditions).order_by(order, Lead.id).limit(TASK_LIMIT)
    return (await uow.session.execute(query)).all()


async def task_list(uow: UnitOfWork, member_id: int, day: date) -> TaskList:
    """Each query reads one index range and only the columns a task shows."""
    day_start, day_end = uow.calendar.day_bounds(day)
    next_day_end = uow.calendar.day_bounds(uow.calendar.next_working_day(day))[1]
    mine, due, open_due = (
        Lead.consultant_id == member_id,
        Lead.next_follow_up_at,
        text(OPEN_DUE_SQL),
    )
    today = await _rows(uow, mine, open_due, due >= day_start, due < day_end)
    overdue = await _rows(uow, mine, open_due, due < day_start)
    # A lead the consultant was just told of waits for its first call even when
    # that falls due after today (captured after hours): listed from the start.
    waiting = await _rows(uow, mine, Lead.stage == "new", due >= day_end)
    revisits = await _rows(
        uow, mine, Lead.stage == "lost", due >= day_start - REVISIT_WINDOW, due < day_end
    )
    visits = await _rows(
        uow, mine, Lead.stage.in_(("invited", "confirmed")),
        Lead.expected_visit_at >= day_start, Lead.expected_visit_at < next_day_end,
        order=Lead.expected_visit_at,
    )  # fmt: skip
    tasks = TaskList(member_id=member_id, day=day.isoformat())
    now = uow.now
    for rows, bucket in ((overdue, tasks.overdue), (today, tasks.follow_ups)):
        for row in rows:
            if row.stage == "new":
                tasks.first_contacts.append(_item(row, row.next_follow_up_at, now))
            elif row.stage != "invited":
                bucket.append(_item(row, row.next_follow_up_at, now))
            # invited: the confirmation call is listed with the visits below
    tasks.first_contacts.extend(_item(row, row.next_follow_up_at, now) for row in waiting)
    tasks.revisits.extend(_item(row, row.next_follow_up_at, now) for row in revisits)
    for row in visits:
        if row.expected_visit_at < day_end:
            tasks.visits_today.append(_item(row, row.expected_visit_at, now))
        elif row.stage == "invited":
            tasks.visits_to_confirm.append(_item(row, row.expected_visit_at, now))
    tasks.first_contacts.sort(key=lambda t: t.due_at or now)
    return tasks


def task_payload(tasks: TaskList) -> dict:
    def items(bucket: list[TaskItem]) -> list[dict]:
        return [
            {"lead_id": t.lead_id, "name": t.name, "level": t.level, "stage": t.stage,
             "due_at": t.due_at.isoformat() if t.due_at else None, "overdue": t.overdue}
            for t in bucket
        ]  # fmt: skip

    return {
        "day": tasks.day,
        "first_contacts": items(tasks.first_contacts),
        "overdue": items(tasks.overdue),
        "follow_ups": items(tasks.follow_ups),
        "visits_to_confirm": items(tasks.visits_to_confirm),
        "visits_today": items(tasks.visits_today),
        "revisits": items(tasks.revisits),
    }


async def run_schedules(uow: UnitOfWork) -> int:
    """Queue what is due now: digests, the evening report, escalations.
    Keys carry the date, so running this every minute, or after a restart,
    never queues the same thing twice. Returns how many were considered."""
    cal, now = uow.calendar, uow.now
    today = cal.local_date(now)
    local_time = cal.local(now).time()
    count = 0
    members = (
        await uow.session.scalars(select(Member).where(Member.active.is_(True)).order_by(Member.id))
    ).all()
    due: list[tuple[str, Member | str]] = []  # (key, roster member or a superuser's QQ id)
    if cal.is_working_day(today) and local_time >= uow.settings.digests.consultant_digest_at:
        due += [
            (f"digest:{m.id}:{today.isoformat()}", m) for m in members if m.role == "consultant"
        ]
    if local_time >= uow.settings.digests.manager_report_at:
        due += [(f"report:{m.id}:{today.isoformat()}", m) for m in members if m.role == "manager"]
        due += [
            (f"report:qq:{qq}:{today.isoformat()}", qq)
            for qq in await roster.superuser_addresses(uow)
        ]
    # Most minutes everything is queued already: skip building what exists.
    queued = await outbox.existing_keys(uow, [key for key, _ in due])
    report: dict | None = None
    for key, to in due:
        if key in queued:
            continue
        if isinstance(to, Member) and to.role == "consultant":
            payload, kind = task_payload(await task_list(uow, to.id, today)), "daily_digest"
        else:
            report = report or await reports.daily_report(uow, today)
            payload, kind = report, "daily_report"
        if isinstance(to, Member):
            await outbox.enqueue(uow, key=key, kind=kind, payload=payload, member=to, any_hour=True)
        else:
            await outbox.enqueue(
                uow, key=key, kind=kind, payload=payload, channel="qq", address=to, any_hour=True
            )
        count += 1
    count += await escalate_overdue_first_contacts(uow)
    await outbox.purge_finished(uow)
    await capture.purge_processed(uow)
    return count


async def escalate_overdue_first_contacts(uow: UnitOfWork) -> int:
    overdue = (
        await uow.session.scalars(
            select(Lead)
            .where(
                Lead.stage == "new",
                Lead.first_contacted_at.is_(None),
                Lead.first_contact_escalated_at.is_(None),
                Lead.first_contact_due_at < uow.now,
                Lead.first_contact_due_at > uow.now - ESCALATION_WINDOW,
            )
            .order_by(Lead.first_contact_due_at)
            .limit(500)
        )
    ).all()
    if not overdue:
        return 0
    names = await roster.member_names(uow)
    for lead in overdue:
        # Recorded on the lead (with its timeline entry), so each miss is reported once.
        await uow.change(lead, SYSTEM, "escalated", first_contact_escalated_at=uow.now)
        await notify.escalate_first_contact(uow, lead, names.get(lead.consultant_id or -1))
    return len(overdue)


async def defeat_queue(uow: UnitOfWork, limit: int = 100) -> list[DefeatRequest]:
    """The leads waiting for a 战败 review, the longest waiting first."""
    query = (
        select(
            Lead.id, Lead.name, Member.name, Lead.defeat_reason, Lead.defeat_category,
            Lead.defeat_requested_at,
        )
        .outerjoin(Member, Member.id == Lead.consultant_id)
        .where(Lead.stage == "defeat_requested")
        .order_by(Lead.defeat_requested_at, Lead.id)
        .limit(limit)
    )  # fmt: skip
    return [DefeatRequest(*row) for row in (await uow.session.execute(query)).all()]


async def unassigned(uow: UnitOfWork, limit: int = 100) -> list[Lead]:
    query = (
        select(Lead)
        .where(Lead.consultant_id.is_(None), Lead.stage.not_in(CLOSED_STAGES))
        .order_by(Lead.created_at, Lead.id)
        .limit(limit)
    )
    return list((await uow.session.scalars(query)).all())
