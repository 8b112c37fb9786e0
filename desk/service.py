"""The desk's public API: one object the bot, a web page and a CLI share.

Each method is one use case in one transaction: it opens the unit of work,
calls the service functions, commits, and only then publishes domain events.
Writes go through the database's writer, reads through its readers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from desk import access, leadlist, lifecycle, outbox, privacy, reports, rollup, roster, tasks
from desk import capture as capture_mod
from desk import owners as owners_mod
from desk.calendar import WorkCalendar
from desk.clock import Clock, SystemClock
from desk.db import Database, migrate, open_database
from desk.errors import Forbidden, InvalidInput, valid_id
from desk.events import EventBus
from desk.imports import write as import_write
from desk.imports.rows import ImportReport, LeadRow, Progress, RejectedRow, RowOutcome
from desk.models import Lead, TimelineEntry
from desk.phone import normalize_phone
from desk.settings import DeskSettings
from desk.uow import UnitOfWork
from desk.views import (
    SYSTEM,
    Actor,
    CaptureResult,
    DefeatRequest,
    LeadDetail,
    LeadView,
    MemberView,
    OutboxItem,
    TaskList,
    TimelineView,
)  # fmt: skip

log = logging.getLogger(__name__)
IMPORT_BATCH_ROWS = 500  # rows per transaction of an import
IMPORT_PREVIEW_ROWS = 50  # outcomes an ImportReport keeps
T = TypeVar("T")
_RETRIES = 3
ROSTER_CACHE_SECONDS = 30.0
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


async def _rows(rows: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return state in _RETRYABLE_SQLSTATES


class Desk:
    def __init__(
        self, settings: DeskSettings, db: Database, clock: Clock | None = None,
        superusers: Iterable[str] = (),
    ) -> None:  # fmt: skip
        self.settings = settings
        self.superusers = roster.superuser_ids(superusers)
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.calendar = WorkCalendar(settings)
        self.events = EventBus()
        self._roster_index: dict[tuple[str, str], MemberView] = {}
        self._roster_loaded_at = float("-inf")
        self._schedules: list[Callable[[UnitOfWork], Awaitable[int]]] = []
        self._holders: dict[str, privacy.Holder] = {}
        self.add_personal_data("owners", owners_mod.erase, owners_mod.describe)

    @classmethod
    async def open(
        cls, settings: DeskSettings, clock: Clock | None = None, roster_file: Path | None = None,
        superusers: Iterable[str] = (),
    ) -> Desk:  # fmt: skip
        """Open the database, apply migrations, seed the roster from config.
        `superusers`: QQ ids the front treats as managers (NoneBot's SUPERUSERS);
        they are told what roster managers are told."""
        db = open_database(settings.database_url, echo=settings.echo_sql)
        desk = cls(settings, db, clock, superusers)
        await migrate(db)
        specs = roster.load_roster_file(roster_file) if roster_file else []
        if specs:
            async with desk._write() as uow:
                for spec in specs:
                    await roster.add(uow, spec, upsert=True)
        return desk

    async def close(self) -> None:
        await self.db.dispose()

    # -- units of work -----------------------------------------------------
    @asynccontextmanager
    async def _write(self) -> AsyncIterator[UnitOfWork]:
        async with self.db.writer() as session, session.begin():
            uow = UnitOfWork(
                session, self.clock.now(), self.settings, self.calendar, superusers=self.superusers
            )
            yield uow
        await self.events.publish(uow.events)

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[UnitOfWork]:
        async with self.db.reader() as session, session.begin():
            yield UnitOfWork(
                session, self.clock.now(), self.settings, self.calendar, superusers=self.superusers
            )

    async def _run(self, step: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """A write use case, retried when a concurrent writer won a race: it took a
        unique key first, or PostgreSQL chose this transaction as a deadlock victim."""
        for attempt in range(_RETRIES):
            try:
                async with self._write() as uow:
                    return await step(uow)
            except DBAPIError as exc:
                if attempt == _RETRIES - 1 or not _retryable(exc):
                    raise
                log.info(
                    "retrying after a concurrent write (attempt %d): %s", attempt + 1, exc.orig
                )
        raise AssertionError("unreachable")

    # -- features' own tables (desk.store) ---------------------------------------
    async def write(self, step: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run a feature's use case in one write transaction (retried as a whole
        after a lost race); domain events are published after the commit."""
        return await self._run(step)

    async def read(self, step: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run a feature's query on a read snapshot."""
        async with self._read() as uow:
            return await step(uow)

    async def capture_in(
        self, uow: UnitOfWork, actor: Actor = SYSTEM, **fields: Any
    ) -> CaptureResult:
        """`capture` inside a feature's own transaction (e.g. with its sign-up row)."""
        return await capture_mod.capture(uow, capture_mod.parse_capture(**fields), actor)

    async def capture_prospect_in(
        self, uow: UnitOfWork, actor: Actor = SYSTEM, **fields: Any
    ) -> CaptureResult | None:
        """`capture_in` for a prospect: None, and nothing written, when the person
        is staff (on the roster) or a customer already (a won lead), decided in the
        same transaction as the capture (e.g. a sign-up to an event)."""
        return await capture_mod.capture_prospect(uow, capture_mod.parse_capture(**fields), actor)

    async def notify_in(
        self, uow: UnitOfWork, *, key: str, kind: str, channel: str, address: str,
        payload: dict[str, Any], any_hour: bool = False, lead_id: int | None = None,
        not_before: datetime | None = None,
    ) -> None:  # fmt: skip
        """`notify` inside a feature's own transaction; `not_before` schedules it."""
        outbox.check_direct(key, kind, channel, address, payload)
        await outbox.enqueue(
            uow, key=key, kind=kind, channel=channel, address=address, payload=payload,
            any_hour=any_hour, lead_id=lead_id, not_before=not_before,
        )  # fmt: skip

    async def cancel_notification_in(self, uow: UnitOfWork, key: str) -> bool:
        """Withdraw a queued notification that is not sent yet."""
        return await outbox.cancel(uow, key)

    def add_schedule(self, step: Callable[[UnitOfWork], Awaitable[int]]) -> None:
        """A feature's periodic job (reminders, scheduled posts): `run_schedules` runs
        it every minute in its own transaction. It must be idempotent."""
        if step not in self._schedules:
            self._schedules.append(step)

    def add_personal_data(
        self, name: str, erase: privacy.Eraser, describe: privacy.Describer | None = None
    ) -> None:
        """A feature that keeps personal data in its own tables: `erase(uow, person)`
        deletes or anonymises its rows of `person` (a desk.privacy.Person) inside the
        erasure's transaction and returns row counts by what; `describe(uow, person)`
        returns what it keeps for 我的信息 (data, or None when nothing)."""
        self._holders[name] = privacy.Holder(name, erase, describe)

    async def describe_person(
        self, kind: str, value: str, *, audit: bool = True
    ) -> privacy.PersonalData:
        """我的信息: what is kept about the person behind their own handle
        (kind: qq | wechat_openid | wecom_external | phone); audited unless it is
        only the preview of an erasure still to be confirmed."""

        async def step(uow: UnitOfWork) -> privacy.PersonalData:
            person, lead = await privacy.person_by_handle(uow, kind, value)
            holders = list(self._holders.values())
            return await privacy.describe(uow, person, lead, holders, audit=audit)

        return await self._run(step)

    async def erase_person(self, kind: str, value: str) -> privacy.Erasure:
        """删除我的信息, confirmed by the person behind the handle: their lead loses its
        identity, the features their rows; audited, the consultant told by number."""

        async def step(uow: UnitOfWork) -> privacy.Erasure:
            person, lead = await privacy.person_by_handle(uow, kind, value)
            actor = Actor(role="system", label="person")
            return await privacy.erase(
                uow, person, lead, list(self._holders.values()), actor, "person"
            )

        return await self._run(step)

    async def erase_lead(self, actor: Actor, lead_id: int) -> privacy.Erasure:
        """删除线索: a manager erases a lead's person on their request (e.g. by phone)."""
        if not actor.is_manager:
            raise Forbidden("只有经理可以删除线索")

        async def step(uow: UnitOfWork) -> privacy.Erasure:
            person, lead = await privacy.person_by_lead(uow, actor, lead_id)
            return await privacy.erase(
                uow, person, lead, list(self._holders.values()), actor, "manager"
            )

        return await self._run(step)

    async def leads(self, ids: list[int]) -> dict[int, LeadView]:
        """Leads by id (a feature's own rows point at them), without permission checks:
        callers show owners only what is theirs (e.g. their referrals' progress)."""
        wanted = sorted({i for i in ids if valid_id(i)})[:1000]
        if not wanted:
            return {}
        async with self._read() as uow:
            rows = await uow.session.scalars(select(Lead).where(Lead.id.in_(wanted)))
            return {lead.id: LeadView.of(lead) for lead in rows}

    async def record_signal(
        self, lead_id: int, signal: str, note: str | None = None, actor: Actor = SYSTEM,
        *, context: dict[str, Any] | None = None, key: str | None = None,
    ) -> bool:  # fmt: skip
        """Something the lead did that the consultant should hear of (e.g. left an
        owner group: a churn signal): a timeline entry and a DM. With `key`, the same
        signal twice has one effect. False when the lead does not exist or the key
        was seen."""
        return await self._run(
            lambda uow: lifecycle.record_signal(uow, actor, lead_id, signal, note, context, key)
        )

    # -- capture and lifecycle ---------------------------------------------
    async def capture(self, actor: Actor = SYSTEM, **fields: Any) -> CaptureResult:
        """A sign of a person from any channel; see desk.capture.Capture for fields."""
        c = capture_mod.parse_capture(**fields)
        return await self._run(lambda uow: capture_mod.capture(uow, c, actor))

    async def follow_up(self, actor: Actor, lead_id: int, result: str, **kw: Any) -> LeadView:
        return await self._run(lambda uow: lifecycle.follow_up(uow, actor, lead_id, result, **kw))

    async def set_level(
        self, actor: Actor, lead_id: int, level: str, note: str | None = None
    ) -> LeadView:
        return await self._run(lambda uow: lifecycle.set_level(uow, actor, lead_id, level, note))

    async def invite(
        self, actor: Actor, lead_id: int, visit_at: datetime, note: str | None = None
    ) -> LeadView:
        return await self._run(lambda uow: lifecycle.invite(uow, actor, lead_id, visit_at, note))

    async def confirm_visit(self, actor: Actor, lead_id: int, note: str | None = None) -> LeadView:
        return await self._run(lambda uow: lifecycle.confirm_visit(uow, actor, lead_id, note))

    async def record_visit(
        self, actor: Actor, lead_id: int, note: str | None = None, **kw: Any
    ) -> LeadView:
        return await self._run(lambda uow: lifecycle.record_visit(uow, actor, lead_id, note, **kw))

    async def record_no_show(self, actor: Actor, lead_id: int, note: str | None = None) -> LeadView:
        return await self._run(lambda uow: lifecycle.record_no_show(uow, actor, lead_id, note))

    async def record_order(self, actor: Actor, lead_id: int, note: str | None = None) -> LeadView:
        return await self._run(lambda uow: lifecycle.record_order(uow, actor, lead_id, note))

    async def record_deal(self, actor: Actor, lead_id: int, note: str | None = None) -> LeadView:
        return await self._run(lambda uow: lifecycle.record_deal(uow, actor, lead_id, note))

    async def request_defeat(self, actor: Actor, lead_id: int, reason: str) -> LeadView:
        return await self._run(lambda uow: lifecycle.request_defeat(uow, actor, lead_id, reason))

    async def review_defeat(self, actor: Actor, lead_id: int, approve: bool, **kw: Any) -> LeadView:
        return await self._run(
            lambda uow: lifecycle.review_defeat(uow, actor, lead_id, approve, **kw)
        )

    async def assign(
        self, actor: Actor, lead_id: int, member_id: int, note: str | None = None
    ) -> LeadView:
        return await self._run(lambda uow: lifecycle.assign(uow, actor, lead_id, member_id, note))

    async def lead(self, actor: Actor, lead_id: int) -> LeadDetail:
        """A lead with its whole timeline, if the actor may see it."""
        async with self._read() as uow:
            lead = await lifecycle.load(uow, actor, lead_id)
            entries = await uow.session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.lead_id == lead.id)
                .order_by(TimelineEntry.id)
            )
            return LeadDetail(LeadView.of(lead), [TimelineView.of(e) for e in entries])

    async def find_lead(self, *, phone: str | None = None, qq_id: str | None = None,
                        wechat_openid: str | None = None,
                        wecom_external_userid: str | None = None) -> LeadView | None:  # fmt: skip
        """The lead behind a contact handle (e.g. to check a referral)."""
        handles = []
        if phone:
            handles.append(("phone", normalize_phone(phone)))
        if qq_id:
            handles.append(("qq", qq_id))
        if wechat_openid:
            handles.append(("wechat_openid", wechat_openid))
        if wecom_external_userid:
            handles.append(("wecom_external", wecom_external_userid))
        async with self._read() as uow:
            lead = await capture_mod.existing_lead(uow, handles)
            return LeadView.of(lead) if lead else None

    # -- owners (desk.owners) -----------------------------------------------------
    async def import_owners(
        self, rows: Iterable[Any] | AsyncIterable[Any], *, dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:  # fmt: skip
        """Import the dealer's existing customers: OwnerRow and RejectedRow
        (desk.imports.rows) as the file reader yields them, a batch per transaction.
        Re-importing a list changes nothing; a dry run decides the same, writes nothing."""
        report = ImportReport(source="owners", dry_run=dry_run)
        seen: dict[tuple[str, str], int] = {}
        batch: list[Any] = []

        async def flush() -> None:
            chunk = list(batch)
            batch.clear()
            tried: list[dict[tuple[str, str], int]] = []

            async def step(uow: UnitOfWork) -> list[RowOutcome]:
                tried.append(dict(seen))  # a retried batch starts from the same handles
                return await owners_mod.import_batch(uow, chunk, tried[-1], dry_run=dry_run)

            outcomes = await (self.read(step) if dry_run else self._run(step))
            seen.update(tried[-1])
            for outcome in outcomes:
                report.counts[outcome.outcome] += 1
                if len(report.preview) < IMPORT_PREVIEW_ROWS:
                    report.preview.append(outcome)
            if progress is not None:
                progress(report.rows, None)

        async for row in _rows(rows):
            batch.append(row)
            if len(batch) >= IMPORT_BATCH_ROWS:
                await flush()
        if batch:
            await flush()
        if progress is not None:
            progress(report.rows, report.rows)
        return report

    async def mark_owner(
        self, actor: Actor, *, qq_id: str | None = None, phone: str | None = None,
        wechat_openid: str | None = None, wecom_external_userid: str | None = None,
        name: str | None = None, car_model: str | None = None,
    ) -> owners_mod.OwnerMark:  # fmt: skip
        """设为车主 (managers): the person behind the handles is an owner from now on."""
        if not actor.is_manager:
            raise Forbidden("只有经理可以设置车主")
        handles = owners_mod.handles_of(
            phone=phone, qq_id=qq_id, wechat_openid=wechat_openid,
            wecom_external_userid=wecom_external_userid,
        )  # fmt: skip
        return await self._run(
            lambda uow: owners_mod.mark(uow, actor, handles, name=name, car_model=car_model)
        )

    async def unmark_owner(
        self, actor: Actor, *, qq_id: str | None = None, phone: str | None = None
    ) -> owners_mod.OwnerView | None:
        """取消车主 (managers): None when the person was no owner."""
        if not actor.is_manager:
            raise Forbidden("只有经理可以设置车主")
        handles = owners_mod.handles_of(phone=phone, qq_id=qq_id)
        return await self._run(lambda uow: owners_mod.unmark(uow, actor, handles))

    async def find_owner(
        self, *, phone: str | None = None, qq_id: str | None = None,
        wechat_openid: str | None = None, wecom_external_userid: str | None = None,
    ) -> owners_mod.OwnerView | None:  # fmt: skip
        """The owner behind any of the handles (bad handles find nobody)."""
        try:
            handles = owners_mod.handles_of(
                phone=phone, qq_id=qq_id, wechat_openid=wechat_openid,
                wecom_external_userid=wecom_external_userid,
            )  # fmt: skip
        except InvalidInput:
            return None
        async with self._read() as uow:
            owner = await owners_mod.owner_of(uow, handles)
            return owners_mod.OwnerView.of(owner) if owner is not None else None

    async def is_owner(self, **handles: str | None) -> bool:
        return await self.find_owner(**handles) is not None

    async def owners_among(self, qq_ids: Iterable[str]) -> set[str]:
        """Which of these QQ ids are owners' (e.g. a group's members, for 群统计)."""
        wanted = sorted({q for q in qq_ids if isinstance(q, str) and owners_mod.QQ_ID.match(q)})
        async with self._read() as uow:
            return await owners_mod.owners_among(uow, "qq", wanted)

    # -- imports (desk.imports) --------------------------------------------------
    async def import_leads(
        self,
        rows: Iterable[LeadRow | RejectedRow] | AsyncIterable[LeadRow | RejectedRow],
        *,
        source: str,
        actor: Actor = SYSTEM,
        dry_run: bool = False,
        progress: Progress | None = None,
        batch_size: int = import_write.BATCH_SIZE,
        rejects: Callable[[RejectedRow], None] | None = None,
        total: int | None = None,
    ) -> ImportReport:
        """Import a lead export's rows (desk.imports.read yields them) under the
        capture's rules, `batch_size` rows per transaction: each row created, merged
        into the lead holding its phone or platform id (撞单), unchanged (imported
        before), a duplicate of an earlier row, or rejected. `source`: one of
        desk.imports.rows.SOURCES, the new leads' channel. `dry_run`: the same
        classification, nothing written (created rows have no lead id). `rejects`
        gets every rejected row (the reader's and the desk's) for the errors file;
        `progress(rows done, total)` is called after each batch. Re-running an
        import interrupted halfway finishes it. Each consultant gets one summary DM."""
        if not actor.is_manager:
            raise Forbidden("只有经理可以导入线索")
        return await import_write.import_leads(
            self, rows, source=source, actor=actor, dry_run=dry_run, progress=progress,
            batch_size=batch_size, rejects=rejects, total=total,
        )  # fmt: skip

    # -- the web desk's 线索 pages (desk.leadlist) -------------------------------
    async def lead_list(
        self, actor: Actor, filter: leadlist.LeadFilter | None = None, *, offset: int = 0,
        limit: int = 50, order: leadlist.Order = "recent",
    ) -> leadlist.LeadPage:  # fmt: skip
        """One page of leads matching the filter, with the total (counted up to
        leadlist.TOTAL_CAP, then `capped`); a consultant sees only their own.
        order: "recent" (newest first) or "due" (next due first, leads without a
        due time last)."""
        f = filter or leadlist.LeadFilter()
        async with self._read() as uow:
            return await leadlist.lead_list(uow, actor, f, offset=offset, limit=limit, order=order)

    async def lead_board(
        self, actor: Actor, filter: leadlist.LeadFilter | None = None, *,
        newest: int = leadlist.BOARD_NEWEST,
    ) -> leadlist.LeadBoard:  # fmt: skip
        """The board by stage: every stage's count and its `newest` leads."""
        f = filter or leadlist.LeadFilter()
        async with self._read() as uow:
            return await leadlist.lead_board(uow, actor, f, newest=newest)

    async def filter_options(self) -> leadlist.FilterOptions:
        """The channels and groups present, and the consultants, for the filters."""
        async with self._read() as uow:
            return await leadlist.filter_options(uow)

    async def update_lead(self, actor: Actor, lead_id: int, **fields: Any) -> LeadView:
        """Edit the lead detail's fields (desk.leadlist.EDITABLE), with its timeline entry."""
        return await self._run(lambda uow: leadlist.update_lead(uow, actor, lead_id, **fields))

    # -- roster --------------------------------------------------------------
    async def add_member(self, actor: Actor, **fields: Any) -> MemberView:
        if not actor.is_manager:
            raise Forbidden("只有经理可以添加顾问")
        spec = roster.validate_spec(**fields)

        async def step(uow: UnitOfWork) -> MemberView:
            return MemberView.of(await roster.add(uow, spec))

        added = await self._run(step)
        self._roster_changed()
        return added

    async def set_on_duty(self, member_id: int, on_duty: bool) -> MemberView:
        async def step(uow: UnitOfWork) -> MemberView:
            member = await roster.get(uow, member_id)
            member.on_duty = on_duty
            return MemberView.of(member)

        changed = await self._run(step)
        self._roster_changed()
        return changed

    async def members(self, role: str | None = None) -> list[MemberView]:
        async with self._read() as uow:
            return await roster.members(uow, role)

    async def member_by(
        self, *, qq_id: str | None = None, wecom_userid: str | None = None
    ) -> MemberView | None:
        """The active roster member with this QQ id or WeCom user id.

        Asked on every message that may come from staff, so the roster (a few
        dozen rows) is held in memory: refreshed after this desk changes it, and
        at least every ROSTER_CACHE_SECONDS for changes made by another process."""
        if time.monotonic() - self._roster_loaded_at > ROSTER_CACHE_SECONDS:
            members = await self.members()
            self._roster_index = {("qq", m.qq_id): m for m in members if m.qq_id} | {
                ("wecom", m.wecom_userid): m for m in members if m.wecom_userid
            }
            self._roster_loaded_at = time.monotonic()
        if qq_id:
            return self._roster_index.get(("qq", qq_id))
        if wecom_userid:
            return self._roster_index.get(("wecom", wecom_userid))
        return None

    def _roster_changed(self) -> None:
        self._roster_loaded_at = float("-inf")

    async def open_loads(self) -> dict[int, int]:
        """Open leads per active member id (the load the assignment cap counts)."""
        async with self._read() as uow:
            return await roster.open_loads(uow)

    async def defeat_queue(self, actor: Actor, limit: int = 100) -> list[DefeatRequest]:
        """战败审核: the leads waiting for a manager's review, the longest waiting first."""
        if not actor.is_manager:
            raise Forbidden("只有经理可以审核战败")
        if not isinstance(limit, int) or not 0 < limit <= 500:
            raise InvalidInput("limit", "1..500")
        async with self._read() as uow:
            return await tasks.defeat_queue(uow, limit)

    async def unassigned_leads(self, limit: int = 100) -> list[LeadView]:
        if not isinstance(limit, int) or not 0 < limit <= 500:
            raise InvalidInput("limit", "1..500")
        async with self._read() as uow:
            return [LeadView.of(lead) for lead in await tasks.unassigned(uow, limit)]

    # -- tasks, schedules, outbox ----------------------------------------------
    async def tasks_for(self, member_id: int, day: date | None = None) -> TaskList:
        async with self._read() as uow:
            await roster.get(uow, member_id)
            return await tasks.task_list(uow, member_id, day or self.calendar.local_date(uow.now))

    async def run_schedules(self) -> int:
        """Queue digests, reports and escalations that are due, then run the features'
        jobs (add_schedule), each in its own transaction; call every minute."""
        count = await self._run(tasks.run_schedules)
        for step in list(self._schedules):
            try:
                count += await self._run(step)
            except Exception:  # one feature's failing job must not stop the others
                log.exception("scheduled job %r failed", step)
        return count

    async def claim_notifications(
        self, channels: list[str] | None = None, limit: int = 20
    ) -> list[OutboxItem]:
        if not 0 < limit <= 500:
            raise InvalidInput("limit", "1..500")
        return await self._run(lambda uow: outbox.claim(uow, channels, limit))

    async def notification_sent(self, message_id: int) -> bool:
        return await self._run(lambda uow: outbox.mark_sent(uow, message_id))

    async def notification_failed(
        self, message_id: int, error: str, *, retryable: bool = True
    ) -> bool:
        return await self._run(
            lambda uow: outbox.mark_failed(uow, message_id, error, retryable=retryable)
        )

    async def notification_uncertain(self, message_id: int, error: str) -> bool:
        return await self._run(lambda uow: outbox.mark_uncertain(uow, message_id, error))

    async def notify(self, *, key: str, kind: str, channel: str, address: str, payload: dict[str, Any],
                     any_hour: bool = False, lead_id: int | None = None) -> None:  # fmt: skip
        """Queue a DM to someone off the roster (an owner, a prospect)."""
        outbox.check_direct(key, kind, channel, address, payload)
        await self._run(lambda uow: outbox.enqueue(
            uow, key=key, kind=kind, channel=channel, address=address, payload=payload,
            any_hour=any_hour, lead_id=lead_id,
        ))  # fmt: skip

    # -- web desk access (desk.access) -------------------------------------------
    async def issue_login_link(self, member_id: int, minutes: int = access.LINK_MINUTES) -> str:
        """A one-time login token for a roster member (the DM's `登录` link)."""
        if not valid_id(member_id):
            raise InvalidInput("member_id", "不是有效的编号")
        return await self._run(lambda uow: access.issue_link(uow, member_id, minutes))

    async def redeem_login_link(
        self, token: str, hours: int = access.SESSION_HOURS
    ) -> access.OpenedSession:
        return await self._run(lambda uow: access.redeem_link(uow, token, hours))

    async def web_session(self, token: str) -> access.WebSessionView | None:
        async with self._read() as uow:
            return await access.session_for(uow, token)

    async def end_web_session(self, token: str) -> bool:
        return await self._run(lambda uow: access.end_session(uow, token))

    async def end_web_sessions_of(self, member_id: int) -> int:
        return await self._run(lambda uow: access.end_sessions_of(uow, member_id))

    async def live_web_sessions(self) -> dict[int, int]:
        async with self._read() as uow:
            return await access.live_sessions(uow)

    # -- reports ---------------------------------------------------------------
    async def refresh_reports(self) -> int:
        """Rebuild the report rollup's dirty days (desk.rollup), if any: a write
        transaction only when there is something to do. How many days."""
        async with self._read() as uow:
            if not await rollup.has_dirty_days(uow):
                return 0
        return await self._run(rollup.refresh)

    def period(self, name: str, today: date | None = None) -> reports.Period:
        return reports.period(
            self.calendar, name, today or self.calendar.local_date(self.clock.now())
        )

    async def funnel(
        self, p: reports.Period, by: reports.GroupBy = None, consultant_id: int | None = None
    ) -> list[reports.FunnelRow]:
        await self.refresh_reports()
        async with self._read() as uow:
            return await reports.funnel(uow, p, by, consultant_id)

    async def defeat_reasons(
        self, p: reports.Period, consultant_id: int | None = None
    ) -> list[tuple[str, int]]:
        async with self._read() as uow:
            return await reports.defeat_reasons(uow, p, consultant_id)

    async def top_defeat_reasons(
        self, p: reports.Period, limit: int = 10, consultant_id: int | None = None
    ) -> list[reports.DefeatReason]:
        async with self._read() as uow:
            return await reports.top_defeat_reasons(uow, p, limit, consultant_id)

    async def consultant_ranking(
        self, p: reports.Period, consultant_id: int | None = None
    ) -> list[reports.ConsultantRank]:
        async with self._read() as uow:
            return await reports.consultant_ranking(uow, p, consultant_id)

    async def cycle_times(
        self, p: reports.Period, consultant_id: int | None = None
    ) -> list[reports.CycleTimes]:
        async with self._read() as uow:
            return await reports.cycle_times(uow, p, consultant_id)

    async def lead_report(
        self, p: reports.Period, by: reports.GroupBy = None, consultant_id: int | None = None
    ) -> reports.LeadReport:
        """The 报表 page's lead figures in one read transaction (the same snapshot
        for the page and its export)."""
        await self.refresh_reports()
        async with self._read() as uow:
            return await reports.lead_report(uow, p, by, consultant_id)

    def custom_period(self, first: date, last: date) -> reports.Period:
        return reports.custom_period(self.calendar, first, last)

    async def daily_report(self, day: date | None = None) -> dict:
        await self.refresh_reports()
        async with self._read() as uow:
            return await reports.daily_report(uow, day or self.calendar.local_date(uow.now))

    async def once(self, key: str) -> bool:
        """True the first time a key is seen, durably (e.g. one reply a day per asker)."""
        if not key or len(key) > 160:
            raise InvalidInput("key", "1..160 characters")
        return await self._run(lambda uow: capture_mod.claim_event(uow, key))

    async def lead_exists(self, lead_id: int) -> bool:
        if not valid_id(lead_id):
            return False
        async with self._read() as uow:
            return await uow.session.get(Lead, lead_id) is not None
