"""The referral plugin's tables (荐友购车). No NoneBot.

The database enforces the anti-fraud rules that must hold under concurrency:
one referral per phone, per friend's QQ, per lead; one code per owner; one
reward per won lead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from desk.store import PluginBase

# Where a referral came from.
SOURCE_COMMAND = "command"  # 推荐 <称呼> <手机号>
SOURCE_CODE = "code"  # the friend quoted a code in a message (DM or group)
SOURCE_JOIN = "join"  # the friend's request to join a QQ group quoted a code
SOURCE_INVITE = "invite"  # the owner invited the friend into a QQ group

# Reward ledger states.
PENDING = "pending"
FULFILLED = "fulfilled"
CANCELLED = "cancelled"


class ReferralCode(PluginBase):
    """An owner's personal code (推荐码)."""

    __tablename__ = "referral_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), unique=True)  # "qq:<id>"
    owner_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Referral(PluginBase):
    """One friend attributed to one referrer; the friend is a lead on the desk."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referrer: Mapped[str] = mapped_column(String(64))  # "qq:<id>"
    referrer_name: Mapped[str | None] = mapped_column(String(64))  # group card / nickname then
    friend_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)  # one phone once
    friend_qq: Mapped[str | None] = mapped_column(String(16), unique=True)
    lead_id: Mapped[int] = mapped_column(Integer, unique=True)
    source: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[str | None] = mapped_column(String(64))
    event_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime]
    # In the group since (invites; a join request once let in): the stay window starts here.
    joined_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer, default=0)  # visit points earned (net)
    visit_rewarded_at: Mapped[datetime | None]
    deal_rewarded_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_referrals_referrer_created", "referrer", "created_at"),)


class ReferralReward(PluginBase):
    """The reward ledger (奖励台账): one row per won referred lead, fulfilled by a manager."""

    __tablename__ = "referral_rewards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    lead_id: Mapped[int] = mapped_column(Integer, unique=True)
    referrer: Mapped[str] = mapped_column(String(64))
    reward: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending | fulfilled | cancelled
    created_at: Mapped[datetime]
    fulfilled_at: Mapped[datetime | None]
    fulfilled_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_referral_rewards_status", "status", "id"),)
