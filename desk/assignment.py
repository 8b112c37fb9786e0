"""Who gets a new lead: sticky first, then the least-loaded consultant on duty."""

from __future__ import annotations

from sqlalchemy import func, select

from desk.models import Lead, LeadContact, Member
from desk.uow import UnitOfWork
from desk.views import CLOSED_STAGES

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


def is_open(lead: Lead) -> bool:
    return lead.stage not in CLOSED_STAGES
