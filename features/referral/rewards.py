"""Rewards follow the desk, and a friend who leaves early voids the referral.

- The StageChanged handler gives the visit points and the deal reward; `reconcile`
  (a minute job) applies any the handler missed (events are published after commit:
  a crash in between loses them). Both use the same idempotency keys, so a reward is
  given once. The referrer is told by a DM in the outbox, in the same transaction.
- A friend invited into a group who leaves within `stay_days` voids the referral:
  pending rewards are cancelled and points already given taken back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update

from desk import LeadEvent, StageChanged, UnitOfWork
from desk.models import Lead
from desk.privacy import Person
from desk.store import insert_ignore
from features import points
from features.referral.models import (
    CANCELLED,
    PENDING,
    SOURCE_JOIN,
    Referral,
    ReferralReward,
)
from features.referral.people import DM_CHANNELS, Friend, Referrals, split_handle
from features.referral.privacy import describe_person, erase_person

VISIT_STAGES = ("visited", "ordered", "won")  # reached the showroom, recorded or implied
RECONCILE_BATCH = 500
MAX_GROUP_MEMBERS = 500


def friend_of(ref: Referral) -> Friend:
    return Friend(ref.friend_name, ref.phone, ref.friend)


@dataclass(frozen=True)
class Attached:
    """What `attach` registered on a desk (the event bus unsubscribes by identity)."""

    stage_handler: Callable[[LeadEvent], Awaitable[None]]
    reconcile_job: Callable[[UnitOfWork], Awaitable[int]]


def attach(r: Referrals) -> Attached:
    """Subscribe the rewards to the desk's stage changes, add the reconcile job and the
    personal-data holder. Once per desk (the front calls it when the desk opens)."""

    async def stage_handler(event: LeadEvent) -> None:
        await on_stage_changed(r, event)

    async def reconcile_job(uow: UnitOfWork) -> int:
        return await reconcile(r, uow)

    async def erase(uow: UnitOfWork, person: Person) -> dict[str, int]:
        return await erase_person(r, uow, person)

    r.desk.events.subscribe(StageChanged, stage_handler)
    r.desk.add_schedule(reconcile_job)
    r.desk.add_personal_data("referral", erase, describe_person)
    return Attached(stage_handler, reconcile_job)


async def on_stage_changed(r: Referrals, event: LeadEvent) -> None:
    """Visit points and the deal reward as the desk moves a referred lead on."""
    if not isinstance(event, StageChanged) or not event.referrer:
        return
    if event.new_stage not in VISIT_STAGES:
        return

    async def step(uow: UnitOfWork) -> int:
        ref = await uow.session.scalar(
            select(Referral).where(Referral.lead_id == event.lead_id).with_for_update()
        )
        if ref is None:
            return 0
        return await _apply(r, uow, ref, visited=True, won=event.new_stage == "won")

    await r.desk.write(step)


async def reconcile(r: Referrals, uow: UnitOfWork) -> int:
    """Minute job: rewards the event handler missed, from the leads' current state.
    Only referrals whose lead earned something not given yet are read (no cursor
    kept in memory: a rerun after a failed commit sees the same rows)."""
    visited = or_(Lead.stage.in_(VISIT_STAGES), Lead.visit_count > 0)
    due = or_(Referral.visit_rewarded_at.is_(None), Lead.stage == "won")
    rows = (
        await uow.session.execute(
            select(Referral, Lead.stage, Lead.visit_count)
            .join(Lead, Lead.id == Referral.lead_id)
            .where(Referral.voided_at.is_(None), Referral.deal_rewarded_at.is_(None), visited, due)
            .order_by(Referral.id)
            .limit(RECONCILE_BATCH)
            .with_for_update(of=Referral)
        )
    ).all()
    applied = 0
    for ref, stage, visit_count in rows:
        seen = stage in VISIT_STAGES or visit_count > 0
        applied += await _apply(r, uow, ref, visited=seen, won=stage == "won")
    return applied


async def _apply(r: Referrals, uow: UnitOfWork, ref: Referral, *, visited: bool, won: bool) -> int:
    """Give what the lead's progress earns and was not given yet; the keys make it once."""
    if ref.voided_at is not None:
        return 0
    applied = 0
    friend = friend_of(ref)
    if (visited or won) and ref.visit_rewarded_at is None:
        ref.visit_rewarded_at = uow.now
        gained = r.config.visit_points
        key = f"referral:{ref.lead_id}:visit"
        if gained and await points.award(uow, ref.referrer, gained, "referral_visit", key=key):
            ref.points += gained
            await dm_referrer(r, uow, ref, key, r.wording.visited_dm(friend, gained))
        applied += 1
    if won and ref.deal_rewarded_at is None:
        ref.deal_rewarded_at = uow.now
        new = await insert_ignore(
            uow, ReferralReward, ["lead_id"], referral_id=ref.id, lead_id=ref.lead_id,
            referrer=ref.referrer, reward=r.config.deal_reward, status=PENDING,
            created_at=uow.now,
        )  # fmt: skip
        if new:
            text = r.wording.won_dm(friend, r.config.deal_reward)
            await dm_referrer(r, uow, ref, f"referral:{ref.lead_id}:deal", text)
        applied += 1
    return applied


async def dm_referrer(r: Referrals, uow: UnitOfWork, ref: Referral, key: str, text: str) -> None:
    """Tell the referrer: a QQ DM, or an Official Account message (which WeChat
    delivers only within 48 h of the follower's last message to the account)."""
    parts = split_handle(ref.referrer)
    channel = DM_CHANNELS.get(parts[0]) if parts else None
    if parts is not None and channel is not None:
        await r.desk.notify_in(
            uow, key=key, kind="referral_reward", channel=channel, address=parts[1],
            payload={"text": text},
        )  # fmt: skip


# -- group membership ------------------------------------------------------------------


async def joined(r: Referrals, *, group_id: str, friend: str) -> bool:
    """A friend referred by a join request's code was let in: the stay window starts."""

    async def step(uow: UnitOfWork) -> bool:
        result = await uow.session.execute(
            update(Referral)
            .where(
                Referral.friend == friend,
                Referral.group_id == group_id,
                Referral.source == SOURCE_JOIN,
                Referral.joined_at.is_(None),
            )
            .values(joined_at=uow.now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    return await r.desk.write(step)


async def left_group(r: Referrals, *, group_id: str, friend: str) -> bool:
    """A referred friend left the group they joined through the referral: within the
    stay window the referral is voided. True when it was."""
    return await members_left(r, group_id=group_id, friends=[friend]) == 1


async def members_left(r: Referrals, *, group_id: str, friends: list[str]) -> int:
    """People (handles) left group `group_id` (a QQ group, a WeCom customer group):
    how many referrals that voided, in one transaction."""

    async def step(uow: UnitOfWork) -> int:
        refs = await uow.session.scalars(
            select(Referral)
            .where(
                Referral.friend.in_(friends[:MAX_GROUP_MEMBERS]),
                Referral.group_id == group_id,
                Referral.joined_at.is_not(None),
                Referral.voided_at.is_(None),
            )
            .order_by(Referral.id)
            .with_for_update()
        )
        voided = 0
        for ref in refs.all():
            stayed = uow.now - (ref.joined_at or uow.now)
            if ref.joined_at is None or stayed > timedelta(days=r.config.stay_days):
                continue
            await _void(r, uow, ref, "left_group")
            voided += 1
        return voided

    return await r.desk.write(step)


async def wecom_group_left(r: Referrals, *, chat_id: str, member_ids: list[str]) -> int:
    """Customers left customer group `chat_id`: how many referrals that voided."""
    return await members_left(r, group_id=chat_id, friends=[f"wecom:{u}" for u in member_ids])


async def _void(r: Referrals, uow: UnitOfWork, ref: Referral, reason: str) -> None:
    ref.voided_at, ref.void_reason = uow.now, reason
    if ref.points:  # points given meanwhile are taken back: the referral earns nothing
        await points.award(
            uow, ref.referrer, -ref.points, "referral_void", key=f"referral:{ref.lead_id}:void"
        )
        ref.points = 0
    await uow.session.execute(
        update(ReferralReward)
        .where(ReferralReward.referral_id == ref.id, ReferralReward.status == PENDING)
        .values(status=CANCELLED)
    )
    for what in ("visit", "deal"):
        await r.desk.cancel_notification_in(uow, f"referral:{ref.lead_id}:{what}")
