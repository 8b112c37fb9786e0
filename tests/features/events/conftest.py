"""A desk for the events use-case tests, without NoneBot: a fresh desk on SQLite
in tmp_path (PostgreSQL when DESK_TEST_POSTGRES_URL is set), its clock frozen at
Friday 2026-11-27 10:00 Shanghai, and the events context with plain words for
what the use cases queue (the front's wording is tested in tests/plugins/events)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from desk import SYSTEM, Desk, FrozenClock
from desk.settings import build_settings
from features.events.config import EventsConfig
from features.events.core import EventInfo, Events
from tests.desk.conftest import database_url

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SH)  # a Friday
CONSULTANT_QQ = "10001"


class PlainTexts:
    """features.events.core.EventTexts in plain words a test can read back."""

    def promoted(self, event: EventInfo, party: int, tz: ZoneInfo) -> str:
        return f"promoted #{event.id} {party}"

    def cancelled(self, event: EventInfo, tz: ZoneInfo) -> str:
        return f"cancelled #{event.id}"

    def reminder(self, event: EventInfo, tz: ZoneInfo) -> str:
        return f"reminder #{event.id}"

    def wecom_announcement(self, event: EventInfo, tz: ZoneInfo) -> str:
        return f"announcement #{event.id}"

    def lead_message(self, event: EventInfo) -> str:
        return f"signed up for {event.title}"


@pytest.fixture
def desk_clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def desk(tmp_path: Path, desk_clock: FrozenClock) -> AsyncIterator[Desk]:
    d = await Desk.open(build_settings({"database_url": database_url(tmp_path)}), desk_clock)
    await d.add_member(SYSTEM, name="王顾问", qq_id=CONSULTANT_QQ)
    try:
        yield d
    finally:
        await d.close()


@pytest.fixture
def events(desk: Desk) -> Events:
    return Events(desk, EventsConfig(), PlainTexts())
