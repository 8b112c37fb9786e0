"""The features' use cases without NoneBot: a fresh desk per test (SQLite in
tmp_path, or PostgreSQL when DESK_TEST_POSTGRES_URL is set) with its clock frozen
at Friday 2026-11-27 10:00 Shanghai (working hours), and a small roster:
王顾问 (QQ 10001, on duty, so every new lead is his), 李顾问 (10002, off duty)
and 周经理 (90002, manager)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from desk import SYSTEM, Desk, FrozenClock
from desk.settings import build_settings
from tests.desk.conftest import START, database_url

CONSULTANT_QQ = "10001"
OTHER_CONSULTANT_QQ = "10002"
MANAGER_QQ = "90002"


@pytest.fixture
def desk_clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def desk(tmp_path: Path, desk_clock: FrozenClock) -> AsyncIterator[Desk]:
    d = await Desk.open(build_settings({"database_url": database_url(tmp_path)}), desk_clock)
    await d.add_member(SYSTEM, name="王顾问", qq_id=CONSULTANT_QQ)
    await d.add_member(SYSTEM, name="李顾问", qq_id=OTHER_CONSULTANT_QQ, on_duty=False)
    await d.add_member(SYSTEM, name="周经理", qq_id=MANAGER_QQ, role="manager")
    try:
        yield d
    finally:
        await d.close()
