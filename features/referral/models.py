"""The referral tables (荐友购车, features/referral). No NoneBot.

The database enforces the anti-fraud rules that must hold under concurrency:
one referral per phone, per friend (their handle on any platform), per lead;
one code per owner; one reward per won lead.

People are handles, the desk's referrer format: "qq:<QQ id>", "wechat:<OA
openid>", "wecom:<WeCom external userid>" (bot.people.Origin.handle).
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
SOURCE_WECOM_CONTACT = "wecom_contact"  # added staff on WeCom through the owner's QR (state)
SOURCE_WECOM_GROUP = "wecom_group"  # joined a WeCom customer group through a join way (state)

# Reward ledger states.
PENDING = "pending"
FULFILLED = "fulfilled"
CANCELLED = "cancelled"


class ReferralCode(PluginBase):
    """An owner's personal code (推荐码)."""

    __tablename__ = "referral_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), unique=True)  # a handle: "qq:<id>" …
    owner_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # The WeCom 联系我 QR made for this code (state = the code), made once and kept.
    contact_config_id: Mapped[str | None] = mapped_column(String(64))
    contact_qr: Mapped[str | None] = mapped_column(String(512))


class Referral(PluginBase):
    """One friend attributed to one referrer; the friend is a lead on the desk."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referrer: Mapped[str] = mapped_column(String(64))  # a handle: "qq:<id>", "wechat:<openid>"
    referrer_name: Mapped[str | None] = mapped_column(String(64))  # group card / nickname then
    friend_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)  # one phone once
    # The friend's handle when known by an account ("qq:…", "wechat:…", "wecom:…").
    friend: Mapped[str | None] = mapped_column(String(128), unique=True)
    lead_id: Mapped[int] = mapped_column(Integer, unique=True)
    source: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[str | None] = mapped_column(String(64))  # a QQ group / WeCom chat id
    event_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime]
    # In the group since (invites, WeCom group joins; a join request once let in): the stay window starts here.
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
