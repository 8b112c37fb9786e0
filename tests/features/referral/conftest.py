"""The referral use cases without NoneBot: a fresh desk per test (tmp_path SQLite, or
PostgreSQL when DESK_TEST_POSTGRES_URL is set) and `Referrals` on it with a plain
wording, so no chat front is imported.

The clock stands at Friday 2026-11-27 10:00 Shanghai (working hours); 王顾问 (QQ
10001) is the only consultant on duty, so every new lead is his.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from desk import SYSTEM, Desk, FrozenClock
from desk.settings import build_settings
from features.referral.config import ReferralConfig, load_config
from features.referral.people import Friend, Referrals
from features.referral.rewards import Attached, attach
from tests.desk.conftest import START, database_url

CONSULTANT_QQ = "10001"
OTHER_CONSULTANT_QQ = "10002"


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
def desk_clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def desk(tmp_path: Path, desk_clock: FrozenClock) -> AsyncIterator[Desk]:
    """A fresh desk: consultants 10001 (on duty) and 10002 (off duty), manager 90002."""
    d = await Desk.open(build_settings({"database_url": database_url(tmp_path)}), desk_clock)
    await d.add_member(SYSTEM, name="王顾问", qq_id=CONSULTANT_QQ)
    await d.add_member(SYSTEM, name="李顾问", qq_id=OTHER_CONSULTANT_QQ, on_duty=False)
    await d.add_member(SYSTEM, name="周经理", qq_id="90002", role="manager")
    try:
        yield d
    finally:
        await d.close()


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
