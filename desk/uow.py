"""One use case, one transaction: the session plus what every step needs.

`add_lead()` is the only way a lead is written, `change()` the only way its
fields change after: each keeps the consultants' open-load counters in step
(the one place they are kept) and appends the timeline entry in the same
transaction, so nothing changes without its entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from desk import rollup
from desk.calendar import WorkCalendar
from desk.events import LeadEvent
from desk.models import Lead, Member, TimelineEntry
from desk.settings import DeskSettings
from desk.views import CLOSED_STAGES, Actor


@dataclass
class UnitOfWork:
    session: AsyncSession
    now: datetime
    settings: DeskSettings
    calendar: WorkCalendar
    events: list[LeadEvent] = field(default_factory=list)
    # Read-once facts for this transaction (e.g. the managers to notify).
    memo: dict[str, Any] = field(default_factory=dict)
    # Managers by the front's configuration (NoneBot's SUPERUSERS), as QQ ids: told
    # what roster managers are told, without being on the roster.
    superusers: tuple[str, ...] = ()
    # Members whose load a pick already added for the lead being written (see
    # took_load): writing that lead does not add it again.
    _prepaid: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        # desk.rollup's flush listener tells a changed lead's report day by it
        self.session.info[rollup.CALENDAR_KEY] = self.calendar

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def add_timeline(
        self, lead_id: int, actor: Actor, action: str, changes: dict[str, Any], note: str | None
    ) -> TimelineEntry:
        entry = TimelineEntry(
            lead_id=lead_id,
            at=self.now,
            actor=actor.label,
            action=action,
            changes=changes,
            note=note,
        )
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def change(
        self, lead: Lead, actor: Actor, action: str, note: str | None = None, *,
        context: dict[str, Any] | None = None, **values: Any,
    ) -> TimelineEntry:  # fmt: skip
        """Apply `values`, record old → new (plus `context`, e.g. the channel seen via)."""
        diff: dict[str, Any] = dict(context or {})
        for name, new in values.items():
            old = getattr(lead, name)
            if old != new:
                diff[name] = [_jsonable(old), _jsonable(new)]
        await self._track_load(lead, values)
        for name, new in values.items():
            setattr(lead, name, new)
        lead.updated_at = self.now
        return await self.add_timeline(lead.id, actor, action, diff, note)

    async def add_lead(
        self, actor: Actor, values: dict[str, Any], changes: dict[str, Any], note: str | None
    ) -> dict[str, Any]:
        """Write a new lead (`values`: its columns, the rest NULL) with its open load
        and its "created" entry; the row written, with its new id. Core statements
        built once: no ORM flush or identity map for rows never read back."""
        row: dict[str, Any] = dict.fromkeys(_LEAD_COLUMNS)
        row |= values | {"created_at": self.now, "updated_at": self.now}
        inserted = await self.session.execute(_INSERT_LEAD, row)
        row["id"] = lead_id = inserted.inserted_primary_key[0]  # type: ignore[attr-defined]
        await self._move_load(None, _owner(row["consultant_id"], row["stage"]))
        await self.session.execute(
            rollup.mark_statement(self.dialect), rollup.day_rows(self.calendar, [self.now])
        )
        await self.session.execute(
            _INSERT_TIMELINE,
            {"lead_id": lead_id, "at": self.now, "actor": actor.label, "action": "created",
             "changes": changes, "note": note},
        )  # fmt: skip
        return row

    async def _track_load(self, lead: Lead, values: dict[str, Any]) -> None:
        await self._move_load(
            _owner(lead.consultant_id, lead.stage),
            _owner(
                values.get("consultant_id", lead.consultant_id), values.get("stage", lead.stage)
            ),
        )

    async def _move_load(self, old_owner: int | None, new_owner: int | None) -> None:
        """A consultant's open load counts their leads not won or lost."""
        if old_owner == new_owner:
            return
        if new_owner in self._prepaid:
            self._prepaid.remove(new_owner)
            new_owner = None
        for member_id, delta in ((old_owner, -1), (new_owner, +1)):
            if member_id is not None:
                await self.session.execute(_BUMP_LOAD, {"member_id": member_id, "delta": delta})
                self.expire_member(member_id, "open_load")

    def took_load(self, member_id: int) -> None:
        """A statement picked `member_id` and added load_of(stage) for the lead being
        written (assignment.pick: one round trip, not two): its write (add_lead,
        change) does not add it again."""
        self._prepaid.append(member_id)

    def expire_member(self, member_id: int, *columns: str) -> None:
        """A Member this transaction loaded reads `columns` again (after a Core UPDATE)."""
        member = self.session.identity_map.get(
            self.session.sync_session.identity_key(Member, member_id)
        )
        if member is not None:
            self.session.expire(member, list(columns))


def load_of(stage: str | None) -> int:
    """What a lead adds to its consultant's open load: 1 until it is won or lost."""
    return 0 if stage in CLOSED_STAGES else 1


def _owner(consultant_id: int | None, stage: str | None) -> int | None:
    """Whose open load a lead adds to."""
    return consultant_id if load_of(stage) else None


_LEADS, _ROSTER, _TIMELINE = (
    cast(Table, Lead.__table__), cast(Table, Member.__table__), cast(Table, TimelineEntry.__table__)
)  # fmt: skip
_LEAD_COLUMNS = tuple(c.name for c in _LEADS.columns if c.name != "id")
_INSERT_LEAD = insert(_LEADS)
_INSERT_TIMELINE = insert(_TIMELINE)
# The one expression that changes open_load (assignment.pick's UPDATE uses it too).
ADD_LOAD = {"open_load": _ROSTER.c.open_load + bindparam("delta")}
_BUMP_LOAD = update(_ROSTER).where(_ROSTER.c.id == bindparam("member_id")).values(**ADD_LOAD)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
