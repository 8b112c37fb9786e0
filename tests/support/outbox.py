"""A desk on a SQLite file of its own, its outbox rows read straight from the file, and
the WeChat outbox delivered by hand: for tests that deliver the outbox themselves
(tests/bot/dispatch, the WeChat plugins)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.adapters.wechat import Bot
from bot.dispatch import deliver_one, wechat
from desk import Desk, FrozenClock
from desk.settings import build_settings
from tests.support.clock import at

START = at(11, 27, 10)  # a Friday, in working hours


@asynccontextmanager
async def sqlite_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """A desk on tmp_path/desk.db with its clock frozen at START; closed afterwards."""
    d = await Desk.open(
        build_settings({"database_url": f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"}),
        FrozenClock(START),
    )
    try:
        yield d
    finally:
        await d.close()


def outbox_status(desk: Desk, key: str) -> tuple[str, int]:
    """(status, attempts) of the outbox row `key` of a sqlite_desk."""
    path = desk.settings.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        row = db.execute("select status, attempts from outbox where key = ?", (key,)).fetchone()
    assert row is not None, key
    return row[0], row[1]


async def deliver_all(desk: Desk, bot: Bot, channel: str = "wecom") -> int:
    """Send what is due on `channel` through the WeChat `bot`; how many items were claimed."""
    items = await desk.claim_notifications([channel], 20)
    for item in items:
        await deliver_one(desk, wechat.senders(bot, desk.settings.tz), item)
    return len(items)
