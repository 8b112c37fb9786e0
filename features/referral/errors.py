"""Why a referral use case refused: typed, with the data the front's reply needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from desk import DeskError


class ReferralError(DeskError):
    """Base of the referral feature's refusals."""


@dataclass(eq=False)
class InvalidReferral(ReferralError):
    """推荐 <称呼> <手机号> [意向车型] could not be read. `field`: "usage" (too few
    words), "phone", "name", "phone_in_name" (a number where it would be shown),
    "car_model"."""

    field: str


@dataclass(eq=False)
class ReferralRefused(ReferralError):
    """Nothing was recorded. `reason`: "duplicate" (this platform event was handled
    before: say nothing), "self", "known" (the friend is already a lead),
    "not_recorded" (the desk refused the values)."""

    reason: str


@dataclass(eq=False)
class RewardError(ReferralError):
    """About one reward in the ledger."""

    reward_id: int


class RewardNotFound(RewardError):
    """No such reward."""


class RewardCancelled(RewardError):
    """The referral was voided: the reward is not handed out."""


@dataclass(eq=False)
class RewardAlreadyFulfilled(RewardError):
    by: str
    at: datetime
