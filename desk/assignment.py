"""Who gets a new lead: sticky first, then the least-loaded consultant on duty."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update

from desk.models import Lead, LeadContact, Member
from desk.outbox import Recipient
from desk.uow import UnitOfWork

# PostgreSQL transaction-level advisory lock key (any constant bigint) under which picks take turns.
ASSIGNMENT_LOCK = 0x6465736B_61737369  # "deskassi"

# A referrer is written as "<contact kind>:<value>", e.g. "qq:10001".
REFERRER_KINDS = {
    "qq": "qq",
    "phone": "phone",
    "wechat": "wechat_openid",
    "wecom": "wecom_external",
}


async def referrer_consultant(uow: UnitOfWork, referrer: str | None) -> int | None:
    """The consultant of the referring owner's own lead record, if active."""
    if not referrer or ":" not in referrer:
        return None
    prefix, value = referrer.split(":", 1)
    kind = REFERRER_KINDS.get(prefix)
    if kind is None:
        return None
    query = (
        select(Lead.consultant_id)
        .join(LeadContact, LeadContact.lead_id == Lead.id)
        .join(Member, Member.id == Lead.consultant_id)
        .where(LeadContact.kind == kind, LeadContact.value == value, Member.active.is_(True))
        .limit(1)
    )
    return (await uow.session.execute(query)).scalar_one_or_none()


async def pick_consultant(uow: UnitOfWork) -> Member | None:
    """Round-robin weighted by open load: fewest open leads first, then the
    one who waited longest since their last assignment; the cap skips the full."""
    if uow.dialect == "postgresql":
        # SQLite has one writer at a time; PostgreSQL runs captures side by side, so
        # picks take turns (until commit) and each sees the load the last one added.
        await uow.session.execute(select(func.pg_advisory_xact_lock(ASSIGNMENT_LOCK)))
    cap = uow.settings.assignment.cap_per_consultant
    query = select(Member).where(
        Member.role == "consultant", Member.active.is_(True), Member.on_duty.is_(True)
    )
    if cap:
        query = query.where(Member.open_load < cap)
    query = query.order_by(
        Member.open_load, Member.last_assigned_at.is_not(None), Member.last_assigned_at, Member.id
    )
    member = (
        await uow.session.scalars(query.limit(1).execution_options(populate_existing=True))
    ).first()
    if member is not None:
        member.last_assigned_at = uow.now
    return member


_ROSTER = cast(Table, Member.__table__)
_ASSIGN_CACHE: dict[int, Any] = {}


def _assign_statement(cap: int) -> Any:
    """UPDATE … WHERE id = (the pick) RETURNING: the pick and its bookkeeping in one
    statement (one round trip); built once per cap, so its compiled form is reused."""
    stmt = _ASSIGN_CACHE.get(cap)
    if stmt is not None:
        return stmt
    r = _ROSTER.c
    pick = select(r.id).where(r.role == "consultant", r.active.is_(True), r.on_duty.is_(True))
    if cap:
        pick = pick.where(r.open_load < cap)
    pick = pick.order_by(r.open_load, r.last_assigned_at.is_not(None), r.last_assigned_at, r.id)
    stmt = (
        update(_ROSTER)
        .where(r.id == pick.limit(1).scalar_subquery())
        .values(
            last_assigned_at=bindparam("assigned_at", type_=r.last_assigned_at.type),
            open_load=r.open_load + 1,
        )
        .returning(r.id, r.qq_id, r.wecom_userid, r.dm_channel)
    )
    _ASSIGN_CACHE[cap] = stmt
    return stmt


async def assign_new_lead(uow: UnitOfWork) -> Recipient | None:
    """pick_consultant for a new lead, with the load it adds: same order and cap,
    the pick's last_assigned_at and open_load + 1 written in the same statement."""
    if uow.dialect == "postgresql":
        await uow.session.execute(select(func.pg_advisory_xact_lock(ASSIGNMENT_LOCK)))
    stmt = _assign_statement(uow.settings.assignment.cap_per_consultant)
    row = (await uow.session.execute(stmt, {"assigned_at": uow.now})).first()
    if row is None:
        return None
    _expire_member(uow, row.id)
    return Recipient(row.id, row.qq_id, row.wecom_userid, row.dm_channel)


def _expire_member(uow: UnitOfWork, member_id: int) -> None:
    """A Member this transaction already loaded reloads the columns just written."""
    member = uow.session.identity_map.get(uow.session.sync_session.identity_key(Member, member_id))
    if member is not None:
        uow.session.expire(member, ["open_load", "last_assigned_at"])
