"""Who gets a lead without an active consultant: sticky first (the referring
owner's consultant), then the least-loaded consultant on duty."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from desk.models import Lead, LeadContact, Member
from desk.outbox import Recipient
from desk.store import serialize_on
from desk.uow import ADD_LOAD, UnitOfWork, load_of

# A referrer is written as "<contact kind>:<value>", e.g. "qq:10001".
REFERRER_KINDS = {
    "qq": "qq",
    "phone": "phone",
    "wechat": "wechat_openid",
    "wecom": "wecom_external",
}

_ROSTER = cast(Table, Member.__table__)
_RECIPIENT = (_ROSTER.c.id, _ROSTER.c.qq_id, _ROSTER.c.wecom_userid, _ROSTER.c.dm_channel)


async def consultant_for(
    uow: UnitOfWork, current: int | None, referrer: str | None, stage: str
) -> Recipient | None:
    """The consultant of a lead in `stage`: its own while active; else the referrer's
    consultant (sticky); else the pick. None: nobody can take it (managers are told)."""
    if current is not None:
        row = (await uow.session.execute(_ACTIVE, {"member_id": current})).first()
        if row is not None:
            return Recipient(*row)
    return await _referrers_consultant(uow, referrer) or await pick(uow, stage)


_ACTIVE = select(*_RECIPIENT).where(
    _ROSTER.c.id == bindparam("member_id"), _ROSTER.c.active.is_(True)
)


async def _referrers_consultant(uow: UnitOfWork, referrer: str | None) -> Recipient | None:
    """The consultant of the referring owner's own lead record, if active."""
    if not referrer or ":" not in referrer:
        return None
    prefix, value = referrer.split(":", 1)
    kind = REFERRER_KINDS.get(prefix)
    if kind is None:
        return None
    query = (
        select(*_RECIPIENT)
        .join(Lead, Lead.consultant_id == _ROSTER.c.id)
        .join(LeadContact, LeadContact.lead_id == Lead.id)
        .where(LeadContact.kind == kind, LeadContact.value == value, _ROSTER.c.active.is_(True))
        .limit(1)
    )
    row = (await uow.session.execute(query)).first()
    return Recipient(*row) if row is not None else None


async def pick(uow: UnitOfWork, stage: str) -> Recipient | None:
    """Round-robin weighted by open load: fewest open leads first, then the one who
    waited longest since their last assignment; the cap skips the full. The same
    statement writes the pick's last_assigned_at and the load a lead in `stage`
    adds (UnitOfWork's rule and expression, told with took_load)."""
    # SQLite has one writer at a time; PostgreSQL runs captures side by side, so
    # picks take turns (until commit) and each sees the load the last one added.
    await serialize_on(uow, "assignment")
    stmt = _pick_statement(uow.settings.assignment.cap_per_consultant)
    delta = load_of(stage)
    row = (await uow.session.execute(stmt, {"assigned_at": uow.now, "delta": delta})).first()
    if row is None:
        return None
    if delta:
        uow.took_load(row.id)
    uow.expire_member(row.id, "last_assigned_at", "open_load")
    return Recipient(*row)


_PICKS: dict[int, Any] = {}


def _pick_statement(cap: int) -> Any:
    """UPDATE … WHERE id = (the pick) RETURNING: the pick and its bookkeeping in one
    statement (one round trip); built once per cap, so its compiled form is reused."""
    stmt = _PICKS.get(cap)
    if stmt is not None:
        return stmt
    r = _ROSTER.c
    choice = select(r.id).where(r.role == "consultant", r.active.is_(True), r.on_duty.is_(True))
    if cap:
        choice = choice.where(r.open_load < cap)
    choice = choice.order_by(
        r.open_load, r.last_assigned_at.is_not(None), r.last_assigned_at, r.id
    ).limit(1)
    stmt = _PICKS[cap] = (
        update(_ROSTER)
        .where(r.id == choice.scalar_subquery())
        .values(
            last_assigned_at=bindparam("assigned_at", type_=r.last_assigned_at.type), **ADD_LOAD
        )
        .returning(*_RECIPIENT)
    )
    return stmt
