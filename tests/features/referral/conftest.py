"""The referral use cases on the features' desk (tests/features/conftest.py):
`Referrals` with a plain wording, so no chat front is imported."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from desk import Desk
from features.referral.config import ReferralConfig, load_config
from features.referral.models import Referral
from features.referral.people import Friend, Referrals
from features.referral.rewards import Attached, attach


class PlainWording:
    """features.referral.people.Wording in plain words the tests can look for."""

    def lead_note_refer(self, referrer_name: str | None, referrer: str, car_model: str | None) -> str:  # fmt: skip
        return f"referred by {referrer_name} ({referrer}) model {car_model}"

    def lead_note_code(self, referrer_name: str | None, code: str) -> str:
        return f"code {code} of {referrer_name}"

    def lead_note_invite(self, inviter: str) -> str:
        return f"invited by {inviter}"

    def account(self, handle: str) -> str:
        return f"account {handle}"

    def visited_dm(self, friend: Friend, points: int) -> str:
        return f"visited: {friend.name} {friend.phone} +{points}"

    def won_dm(self, friend: Friend, reward: str) -> str:
        return f"won: {friend.name} {reward}"

    def fulfilled_dm(self, friend: Friend, reward: str) -> str:
        return f"fulfilled: {friend.name} {reward}"


@pytest.fixture
def config() -> ReferralConfig:
    return load_config()


@pytest.fixture
def r(desk: Desk, config: ReferralConfig) -> Referrals:
    """The referral use cases' `Referrals` on the desk (as the chat front builds it)."""
    return Referrals(desk, config, PlainWording())


@pytest.fixture
def attached(r: Referrals) -> Attached:
    """The rewards subscribed to the desk, as the front does when the desk opens."""
    return attach(r)


async def referrals(desk: Desk) -> list[Any]:
    """Every Referral row, oldest first."""

    async def step(uow: Any) -> list[Any]:
        return list(await uow.session.scalars(select(Referral).order_by(Referral.id)))

    return await desk.read(step)
