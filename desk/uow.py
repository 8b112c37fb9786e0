"""One use case, one transaction: the session plus what every step needs.

`change()` is the only way lead fields are written after creation: it applies
the new values, keeps consultants' open-load counters in step and appends the
timeline entry in the same transaction, so nothing changes without its entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

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

    async def _track_load(self, lead: Lead, values: dict[str, Any]) -> None:
        old_owner = lead.consultant_id if lead.stage not in CLOSED_STAGES else None
        new_stage = values.get("stage", lead.stage)
        new_consultant = values.get("consultant_id", lead.consultant_id)
        new_owner = new_consultant if new_stage not in CLOSED_STAGES else None
        if old_owner == new_owner:
            return
        if old_owner is not None:
            await self.bump_load(old_owner, -1)
        if new_owner is not None:
            await self.bump_load(new_owner, +1)

    async def bump_load(self, member_id: int, delta: int) -> None:
        await self.session.execute(
            update(Member).where(Member.id == member_id).values(open_load=Member.open_load + delta)
        )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
