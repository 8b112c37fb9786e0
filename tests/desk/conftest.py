"""Desk fixtures: a fresh SQLite file per test, a frozen clock, a small roster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from desk import SYSTEM, Desk, FrozenClock, MemberView
from desk.models import OutboxMessage
from desk.settings import build_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    """A Shanghai wall-clock time, e.g. local(2026, 11, 27, 10, 0)."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


# Friday 2026-11-27 10:00 in Shanghai: inside working hours.
START = local(2026, 11, 27, 10, 0)


def make_settings(tmp_path: Path, **overrides: object):
    data: dict = {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"}
    data.update(overrides)
    return build_settings(data)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    d = await Desk.open(make_settings(tmp_path), clock)
    try:
        yield d
    finally:
        await d.close()


@dataclass
class Team:
    manager: MemberView
    wang: MemberView
    li: MemberView


@pytest.fixture
async def team(desk: Desk) -> Team:
    manager = await desk.add_member(SYSTEM, name="张经理", role="manager", qq_id="90001")
    wang = await desk.add_member(SYSTEM, name="王顾问", qq_id="10001")
    li = await desk.add_member(SYSTEM, name="李顾问", qq_id="10002", on_duty=False)
    return Team(manager, wang, li)


async def outbox_rows(desk: Desk) -> list[tuple[str, str | None, str]]:
    """(kind, address, status) of every queued notification, oldest first."""
    async with desk.db.reader() as s:
        rows = await s.execute(
            select(OutboxMessage.kind, OutboxMessage.address, OutboxMessage.status).order_by(
                OutboxMessage.id
            )
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def count_rows(desk: Desk, table: str) -> int:
    async with desk.db.reader() as s:
        return int((await s.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
