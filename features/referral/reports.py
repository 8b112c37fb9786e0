"""What owners read: 我的推荐 (their referrals and rewards) and 推荐榜 (the rankings);
what the web desk's 报表 reads: a period's referrals and rewards (summary_in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select

from desk import UnitOfWork
from desk.models import Lead
from desk.reports import Period
from features.referral.models import (
    CANCELLED,
    FULFILLED,
    PENDING,
    Referral,
    ReferralCode,
    ReferralReward,
)
from features.referral.people import Friend, Referrals
from features.referral.rewards import VISIT_STAGES, friend_of

MINE_SHOWN = 20

# A referral's progress, from the referral and its lead.
FOLLOWING, VISITED, WON, LOST, VOID = "following", "visited", "won", "lost", "void"


@dataclass(frozen=True)
class MyReferral:
    friend: Friend
    progress: str  # FOLLOWING | VISITED | WON | LOST | VOID
    points: int
    reward: str | None  # the deal reward, when there is one
    reward_status: str | None  # pending | fulfilled | cancelled


@dataclass(frozen=True)
class MyReferrals:
    rows: list[MyReferral]  # the latest first, at most MINE_SHOWN
    total: int
    valid: int  # not voided
    points: int  # earned by referrals, net


def progress(ref: Referral, stage: str | None, visit_count: int) -> str:
    if ref.voided_at is not None:
        return VOID
    if stage is None:
        return FOLLOWING
    if stage == "won":
        return WON
    if stage == "lost":
        return LOST
    if stage in VISIT_STAGES or visit_count > 0 or ref.visit_rewarded_at is not None:
        return VISITED
    return FOLLOWING


async def my_referrals(r: Referrals, owner: str) -> MyReferrals:
    """我的推荐 of `owner` (a handle)."""

    async def step(uow: UnitOfWork) -> MyReferrals:
        refs = list(
            await uow.session.scalars(
                select(Referral)
                .where(Referral.referrer == owner)
                .order_by(Referral.id.desc())
                .limit(MINE_SHOWN)
            )
        )
        total, valid, earned = (
            await uow.session.execute(
                select(
                    func.count(Referral.id),
                    func.count(Referral.id).filter(Referral.voided_at.is_(None)),
                    func.coalesce(func.sum(Referral.points), 0),
                ).where(Referral.referrer == owner)
            )
        ).one()
        rewards = {
            reward.referral_id: reward
            for reward in await uow.session.scalars(
                select(ReferralReward).where(ReferralReward.referral_id.in_([x.id for x in refs]))
            )
        }
        leads = {
            lead_id: (stage, visits)
            for lead_id, stage, visits in await uow.session.execute(
                select(Lead.id, Lead.stage, Lead.visit_count).where(
                    Lead.id.in_([x.lead_id for x in refs])
                )
            )
        }
        rows = []
        for ref in refs:
            stage, visits = leads.get(ref.lead_id, (None, 0))
            reward = rewards.get(ref.id)
            rows.append(
                MyReferral(
                    friend_of(ref),
                    progress(ref, stage, visits),
                    ref.points,
                    reward.reward if reward else None,
                    reward.status if reward else None,
                )  # fmt: skip
            )
        return MyReferrals(rows, int(total), int(valid), int(earned))

    return await r.desk.read(step)


@dataclass(frozen=True)
class Rank:
    referrer: str  # a handle: the front shows the name, else a masked account
    name: str | None
    count: int  # valid referrals
    deals: int


@dataclass(frozen=True)
class Leaderboard:
    month: list[Rank]
    ever: list[Rank]


async def _ranking(
    uow: UnitOfWork, size: int, since: datetime | None, until: datetime | None = None
) -> list[tuple[str, int, int]]:
    deal = and_(ReferralReward.referral_id == Referral.id, ReferralReward.status != CANCELLED)
    count = func.count(Referral.id)
    deals = func.count(ReferralReward.id)
    query = (
        select(Referral.referrer, count, deals)
        .outerjoin(ReferralReward, deal)
        .where(Referral.voided_at.is_(None))
        .group_by(Referral.referrer)
        .order_by(count.desc(), deals.desc(), func.min(Referral.id))
        .limit(size)
    )
    if since is not None:
        query = query.where(Referral.created_at >= since)
    if until is not None:
        query = query.where(Referral.created_at < until)
    return [(who, int(c), int(d)) for who, c, d in (await uow.session.execute(query)).all()]


async def _names(uow: UnitOfWork, referrers: set[str]) -> dict[str, str]:
    """The referrers' names as stored (their code's, else the latest they referred under)."""
    who = sorted(referrers)
    names: dict[str, str] = {}
    for referrer, name in await uow.session.execute(
        select(ReferralCode.owner, ReferralCode.owner_name).where(
            ReferralCode.owner.in_(who), ReferralCode.owner_name.is_not(None)
        )
    ):
        if name:
            names[referrer] = name
    for referrer, name in await uow.session.execute(
        select(Referral.referrer, Referral.referrer_name)
        .where(Referral.referrer.in_(who), Referral.referrer_name.is_not(None))
        .order_by(Referral.id)
    ):
        if name:  # the latest name they referred under wins
            names[referrer] = name
    return names


async def leaderboard(r: Referrals) -> Leaderboard:
    """This month and all time: valid (not voided) referrals per referrer, ties broken
    by won deals, then by who got there first. Names as stored, never phones."""
    today = r.desk.calendar.local_date(r.desk.clock.now())
    month_start = r.desk.calendar.day_bounds(today.replace(day=1))[0]
    size = r.config.leaderboard_size

    async def step(uow: UnitOfWork) -> Leaderboard:
        month = await _ranking(uow, size, month_start)
        ever = await _ranking(uow, size, None)
        names = await _names(uow, {referrer for referrer, _, _ in month + ever})

        def ranks(rows: list[tuple[str, int, int]]) -> list[Rank]:
            return [Rank(referrer, names.get(referrer), c, d) for referrer, c, d in rows]

        return Leaderboard(ranks(month), ranks(ever))

    return await r.desk.read(step)


@dataclass(frozen=True)
class ReferralSummary:
    """荐友 in a period (报表's referrals and rewards)."""

    referrals: int  # made in the period
    valid: int  # of those, not voided
    visits: int  # referred friends' first visits rewarded in the period
    deals: int  # deal rewards earned in the period (not cancelled)
    rewards_paid: int  # rewards handed out in the period
    rewards_pending: int  # rewards still to hand out now, whenever earned
    top: list[Rank]  # the period's referrers, the most valid referrals first


async def summary_in(uow: UnitOfWork, period: Period, size: int = 10) -> ReferralSummary:
    made = (Referral.created_at >= period.start, Referral.created_at < period.end)
    referrals, valid = (
        await uow.session.execute(
            select(
                func.count(Referral.id), func.count(Referral.id).filter(Referral.voided_at.is_(None))
            ).where(*made)
        )
    ).one()  # fmt: skip
    visits = await uow.session.scalar(
        select(func.count()).where(
            Referral.visit_rewarded_at >= period.start, Referral.visit_rewarded_at < period.end
        )
    )
    deals = await uow.session.scalar(
        select(func.count()).where(
            ReferralReward.created_at >= period.start, ReferralReward.created_at < period.end,
            ReferralReward.status != CANCELLED,
        )
    )  # fmt: skip
    paid = await uow.session.scalar(
        select(func.count()).where(
            ReferralReward.fulfilled_at >= period.start, ReferralReward.fulfilled_at < period.end,
            ReferralReward.status == FULFILLED,
        )
    )  # fmt: skip
    pending = await uow.session.scalar(select(func.count()).where(ReferralReward.status == PENDING))
    top = await _ranking(uow, size, period.start, period.end)
    names = await _names(uow, {referrer for referrer, _, _ in top})
    return ReferralSummary(
        int(referrals), int(valid), int(visits or 0), int(deals or 0), int(paid or 0),
        int(pending or 0), [Rank(who, names.get(who), c, d) for who, c, d in top],
    )  # fmt: skip
