"""Why a referral use case refused: typed, with the data the front's reply needs."""

from __future__ import annotations

from datetime import datetime

from desk import DeskError


class ReferralError(DeskError):
    """Base of the referral feature's refusals."""


class InvalidReferral(ReferralError):
    """推荐 <称呼> <手机号> [意向车型] could not be read. `field`: "usage" (too few
    words), "phone", "name", "phone_in_name" (a number where it would be shown),
    "car_model"."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class ReferralRefused(ReferralError):
    """Nothing was recorded. `reason`: "duplicate" (this platform event was handled
    before: say nothing), "self", "known" (the friend is already a lead),
    "not_recorded" (the desk refused the values)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RewardNotFound(ReferralError):
    def __init__(self, reward_id: int) -> None:
        super().__init__(f"reward {reward_id} not found")
        self.reward_id = reward_id


class RewardCancelled(ReferralError):
    """The referral was voided: the reward is not handed out."""

    def __init__(self, reward_id: int) -> None:
        super().__init__(f"reward {reward_id} cancelled")
        self.reward_id = reward_id


class RewardAlreadyFulfilled(ReferralError):
    def __init__(self, reward_id: int, by: str, at: datetime) -> None:
        super().__init__(f"reward {reward_id} already fulfilled")
        self.reward_id, self.by, self.at = reward_id, by, at
