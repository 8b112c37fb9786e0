"""Personal data in the referral tables (desk.privacy): what 我的信息 shows, and
what 删除我的信息 / 删除线索 erase."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update

from desk import UnitOfWork
from desk.privacy import Person, redact
from features.referral.models import CANCELLED, PENDING, Referral, ReferralCode, ReferralReward
from features.referral.people import Referrals


def _as_friend(person: Person) -> Any:
    conditions = []
    if person.lead_id is not None:
        conditions.append(Referral.lead_id == person.lead_id)
    if person.values("phone"):
        conditions.append(Referral.phone.in_(person.values("phone")))
    if person.referrer_handles:
        conditions.append(Referral.friend.in_(person.referrer_handles))
    return or_(*conditions) if conditions else None


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


async def erase_person(r: Referrals, uow: UnitOfWork, person: Person) -> dict[str, int]:
    """Their code goes; referrals they made stay (the referred friends' leads and the
    counts) under their token, their name gone; rewards not yet handed out are
    cancelled (there is nobody left to hand them to). Referred themselves, the
    referral loses their name, phone and handle; the referrer keeps the credit."""
    counts: dict[str, int] = {}
    owners = person.referrer_handles
    if owners:
        made = (
            await uow.session.execute(
                select(Referral.lead_id, Referral.referrer_name).where(
                    Referral.referrer.in_(owners)
                )
            )
        ).all()
        codes = await uow.session.scalars(
            select(ReferralCode.code).where(ReferralCode.owner.in_(owners))
        )
        # The friends' leads say who referred them ("车主 小王（QQ 20001）推荐的好友").
        words = [name for _, name in made if name] + [r.wording.account(h) for h in owners]
        counts["lead_notes"] = await redact(
            uow, [lead_id for lead_id, _ in made], [*words, *owners, *codes.all()]
        )
        counts["codes"] = _count(
            await uow.session.execute(delete(ReferralCode).where(ReferralCode.owner.in_(owners)))
        )
        counts["referrals_made"] = _count(
            await uow.session.execute(
                update(Referral)
                .where(Referral.referrer.in_(owners))
                .values(referrer=person.token, referrer_name=None)
            )
        )
        counts["rewards_cancelled"] = _count(
            await uow.session.execute(
                update(ReferralReward)
                .where(ReferralReward.referrer.in_(owners), ReferralReward.status == PENDING)
                .values(status=CANCELLED)
            )
        )
        await uow.session.execute(
            update(ReferralReward)
            .where(ReferralReward.referrer.in_(owners))
            .values(referrer=person.token)
        )
    as_friend = _as_friend(person)
    if as_friend is not None:
        counts["referred"] = _count(
            await uow.session.execute(
                update(Referral).where(as_friend).values(friend_name=None, phone=None, friend=None)
            )
        )
    return counts


async def describe_person(uow: UnitOfWork, person: Person) -> dict[str, Any] | None:
    owners = person.referrer_handles
    data: dict[str, Any] = {}
    if owners:
        code = await uow.session.scalar(
            select(ReferralCode.code).where(ReferralCode.owner.in_(owners)).limit(1)
        )
        made = await uow.session.scalar(
            select(func.count()).select_from(Referral).where(Referral.referrer.in_(owners))
        )
        rewards = await uow.session.scalar(
            select(func.count())
            .select_from(ReferralReward)
            .where(ReferralReward.referrer.in_(owners))
        )
        if code:
            data["code"] = code
        if made:
            data["referrals_made"] = int(made)
        if rewards:
            data["rewards"] = int(rewards)
    as_friend = _as_friend(person)
    if as_friend is not None:
        referred = await uow.session.scalar(
            select(func.count()).select_from(Referral).where(as_friend)
        )
        if referred:
            data["referred"] = True
    return data or None
