"""Owners' points (积分), shared by the features that give them: check-ins
(activities) and referrals (a referred friend's visit). Pure: no NoneBot.

A person is a platform handle, "qq:20001" (later "wecom:…"), so points follow
the owner across groups. Every award has a key: the same cause twice (a
redelivered message, a rerun job) gives points once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from desk.privacy import Person
from desk.store import PluginBase, UnitOfWork, insert_ignore, upsert


class PointsEntry(PluginBase):
    __tablename__ = "points_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    user_id: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(64))  # where it was earned, if in a group
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))  # checkin | streak | referral_visit …
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_points_entries_user_id", "user_id"),
        Index("ix_points_entries_group_user", "group_id", "user_id"),
    )


class PointsBalance(PluginBase):
    __tablename__ = "points_balances"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


def qq_user(user_id: int | str) -> str:
    return f"qq:{user_id}"


async def award(
    uow: UnitOfWork, user_id: str, delta: int, reason: str, key: str, group_id: str | None = None
) -> bool:
    """Give `delta` points once per `key`; False when that key was awarded before."""
    new = await insert_ignore(
        uow, PointsEntry, ["key"], key=key[:160], user_id=user_id, group_id=group_id,
        delta=delta, reason=reason, at=uow.now,
    )  # fmt: skip
    if new:
        await upsert(
            uow, PointsBalance, ["user_id"],
            {"user_id": user_id, "total": delta, "updated_at": uow.now},
            {"total": PointsBalance.total + delta, "updated_at": uow.now},
        )  # fmt: skip
    return new


async def balance(uow: UnitOfWork, user_id: str) -> int:
    total = await uow.session.scalar(
        select(PointsBalance.total).where(PointsBalance.user_id == user_id)
    )
    return int(total or 0)


async def group_ranking(uow: UnitOfWork, group_id: str, limit: int) -> list[tuple[str, int]]:
    """Members who earned points in this group, by their total points, best first
    (ties: who got there first)."""
    members = select(PointsEntry.user_id).where(PointsEntry.group_id == group_id).distinct()
    rows = await uow.session.execute(
        select(PointsBalance.user_id, PointsBalance.total)
        .where(PointsBalance.user_id.in_(members))
        .order_by(PointsBalance.total.desc(), PointsBalance.updated_at, PointsBalance.user_id)
        .limit(limit)
    )
    return [(user, int(total)) for user, total in rows.all()]


async def group_rank(uow: UnitOfWork, group_id: str, user_id: str) -> int | None:
    """1-based place of `user_id` in this group's ranking; None when not ranked."""
    mine = await uow.session.get(PointsBalance, user_id)
    if mine is None:
        return None
    members = select(PointsEntry.user_id).where(PointsEntry.group_id == group_id).distinct()
    ahead = await uow.session.scalar(
        select(func.count())
        .select_from(PointsBalance)
        .where(
            PointsBalance.user_id.in_(members),
            (PointsBalance.total > mine.total)
            | ((PointsBalance.total == mine.total) & (PointsBalance.updated_at < mine.updated_at)),
        )
    )
    return int(ahead or 0) + 1


async def erase_person(uow: UnitOfWork, person: Person) -> dict[str, int]:
    """Points are the person's own: their entries and balance go (no one else's
    total or the group's ranking depends on them)."""
    users = person.referrer_handles
    if not users:
        return {}
    entries = await uow.session.execute(delete(PointsEntry).where(PointsEntry.user_id.in_(users)))
    balances = await uow.session.execute(
        delete(PointsBalance).where(PointsBalance.user_id.in_(users))
    )
    return {
        "entries": int(entries.rowcount or 0),  # type: ignore[attr-defined]
        "balances": int(balances.rowcount or 0),  # type: ignore[attr-defined]
    }


async def describe_person(uow: UnitOfWork, person: Person) -> dict[str, int] | None:
    users = person.referrer_handles
    if not users:
        return None
    total, entries = (
        await uow.session.execute(
            select(func.coalesce(func.sum(PointsEntry.delta), 0), func.count()).where(
                PointsEntry.user_id.in_(users)
            )
        )
    ).one()
    return {"total": int(total), "entries": int(entries)} if entries else None
