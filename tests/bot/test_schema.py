"""The features' tables (desk.store.PluginBase) match the one migration history."""

from __future__ import annotations

import features.points  # noqa: F401 - declares its tables
from desk import Desk
from desk.db import schema_drift
from desk.store import PluginBase


async def test_feature_tables_match_the_migrations(desk: Desk) -> None:
    # The session has loaded every plugin, so every feature's tables are declared.
    assert {
        "points_entries", "points_balances", "activity_checkins", "activity_topics",
        "activity_topic_schedules", "activity_member_changes", "activity_group_messages",
        "events", "event_signups", "referral_codes", "referrals", "referral_rewards",
        "intent_corrections",
    } <= set(PluginBase.metadata.tables)  # fmt: skip
    assert await schema_drift(desk.db, PluginBase.metadata) == []
