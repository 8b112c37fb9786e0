"""The events use cases on the features' desk (tests/features/conftest.py), with
plain words for what they queue (the front's wording is tested in tests/plugins/events)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from desk import Desk
from features.events.config import EventsConfig
from features.events.core import EventInfo, Events

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SH)  # a Friday


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
def events(desk: Desk) -> Events:
    return Events(desk, EventsConfig(), PlainTexts())
