"""The activities' use cases: the shipped config and the message counter empty
(the desk and its clock: tests/features/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desk import FrozenClock
from features.activities.config import ActivitiesConfig, load_config
from features.activities.counter import COUNTER


@pytest.fixture
def clock(desk_clock: FrozenClock) -> FrozenClock:
    return desk_clock


@pytest.fixture(scope="session")
def config() -> ActivitiesConfig:
    """The shipped config/activities.toml."""
    return load_config()


@pytest.fixture(autouse=True)
def _empty_counter() -> Iterator[None]:
    COUNTER.clear()
    yield
    COUNTER.clear()
