"""The reward ledger (奖励台账): managers list the deal rewards and record handing
one out (durably, with who and when; the referrer is told)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from desk import UnitOfWork
from features.referral.errors import RewardAlreadyFulfilled, RewardCancelled, RewardNotFound
from features.referral.models import CANCELLED, FULFILLED, PENDING, Referral, ReferralReward
from features.referral.people import Friend, Referrals
from features.referral.rewards import dm_referrer, friend_of

LEDGER_SHOWN = 30


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    status: str  # pending | fulfilled | cancelled
    referrer: str  # a handle
    referrer_name: str | None
    friend: Friend
    reward: str
    created_at: datetime
    fulfilled_at: datetime | None
    fulfilled_by: str | None


def _entry(reward: ReferralReward, ref: Referral) -> LedgerEntry:
    return LedgerEntry(
        reward.id, reward.status, ref.referrer, ref.referrer_name, friend_of(ref),
        reward.reward, reward.created_at, reward.fulfilled_at, reward.fulfilled_by,
    )  # fmt: skip


async def ledger(r: Referrals, show_all: bool = False) -> list[LedgerEntry]:
    """The rewards to fulfil, oldest first; with `show_all` the settled ones follow
    (the latest first). At most LEDGER_SHOWN."""

    async def step(uow: UnitOfWork) -> list[LedgerEntry]:
        base = select(ReferralReward, Referral).join(
            Referral, Referral.id == ReferralReward.referral_id
        )
        queries = [base.where(ReferralReward.status == PENDING).order_by(ReferralReward.id)]
        if show_all:
            settled = base.where(ReferralReward.status != PENDING)
            queries.append(settled.order_by(ReferralReward.id.desc()))
        rows: list[LedgerEntry] = []
        for query in queries:
            found = await uow.session.execute(query.limit(LEDGER_SHOWN - len(rows)))
            rows += [_entry(reward, ref) for reward, ref in found.all()]
            if len(rows) >= LEDGER_SHOWN:
                break
        return rows

    return await r.desk.read(step)


async def fulfil(r: Referrals, reward_id: int, by: str) -> LedgerEntry:
    """Mark one reward handed out by `by`; the referrer is told (outbox). Raises
    RewardNotFound, RewardCancelled, RewardAlreadyFulfilled."""

    async def step(uow: UnitOfWork) -> LedgerEntry:
        found = await uow.session.execute(
            select(ReferralReward, Referral)
            .join(Referral, Referral.id == ReferralReward.referral_id)
            .where(ReferralReward.id == reward_id)
            .with_for_update(of=ReferralReward)
        )
        row = found.first()
        if row is None:
            raise RewardNotFound(reward_id)
        reward, ref = row
        if reward.status == CANCELLED:
            raise RewardCancelled(reward.id)
        if reward.status == FULFILLED:
            raise RewardAlreadyFulfilled(
                reward.id, reward.fulfilled_by or "", reward.fulfilled_at or uow.now
            )
        reward.status, reward.fulfilled_at, reward.fulfilled_by = FULFILLED, uow.now, by
        text = r.wording.fulfilled_dm(friend_of(ref), reward.reward)
        await dm_referrer(r, uow, ref, f"referral:reward:{reward.id}:fulfilled", text)
        return _entry(reward, ref)

    return await r.desk.write(step)
