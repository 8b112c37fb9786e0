"""A desk for the activities' use cases, without NoneBot: a fresh database per
test (SQLite in tmp_path, or PostgreSQL with DESK_TEST_POSTGRES_URL), a frozen
clock at Friday 2026-11-27 10:00 in Shanghai, and the message counter empty."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from desk import Desk, FrozenClock
from desk.settings import build_settings
from features.activities.config import ActivitiesConfig, load_config
from features.activities.counter import COUNTER
from tests.desk.conftest import START, database_url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    d = await Desk.open(build_settings({"database_url": database_url(tmp_path)}), clock)
    try:
        yield d
    finally:
        await d.close()


@pytest.fixture(scope="session")
def config() -> ActivitiesConfig:
    """The shipped config/activities.toml."""
    return load_config()


@pytest.fixture(autouse=True)
def _empty_counter() -> Iterator[None]:
    COUNTER.clear()
    yield
    COUNTER.clear()
