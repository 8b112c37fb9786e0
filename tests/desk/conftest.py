"""Desk fixtures: a fresh database per test, a frozen clock, a small roster.

The database is a SQLite file in the test's tmp_path; with
DESK_TEST_POSTGRES_URL set (postgresql+asyncpg://user@host:port/admin_db, see
scripts/pg_test_server.sh) it is instead a PostgreSQL database of its own for
each tmp_path, cloned from a template migrated once per session and dropped at
the session's end (not when the whole throwaway cluster goes:
DESK_TEST_POSTGRES_DIR set). Tests that only make sense on SQLite carry
@pytest.mark.sqlite_only; the PostgreSQL run deselects them (-m "not sqlite_only").
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from desk import SYSTEM, Desk, FrozenClock, MemberView
from desk.db import migrate, open_database
from desk.models import OutboxMessage
from desk.settings import build_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
POSTGRES_URL = os.environ.get("DESK_TEST_POSTGRES_URL") or None


def local(*args: int) -> datetime:
    """A Shanghai wall-clock time, e.g. local(2026, 11, 27, 10, 0)."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


# Friday 2026-11-27 10:00 in Shanghai: inside working hours.
START = local(2026, 11, 27, 10, 0)


class PostgresDatabases:
    """One PostgreSQL database per test folder on the server at `admin_url`.

    Every database is a copy (CREATE DATABASE ... TEMPLATE) of one migrated
    once per session, so a test pays for a file copy, not for the migrations.
    Called from sync code and from inside running event loops alike, so the
    server is talked to from a worker thread with its own event loop.
    """

    def __init__(self, admin_url: str) -> None:
        self.admin = make_url(admin_url)
        if self.admin.get_backend_name() != "postgresql":
            raise ValueError(
                f"DESK_TEST_POSTGRES_URL must be postgresql+asyncpg://, not {admin_url}"
            )
        # unique per session: a reused server never hands a test another run's data
        self.prefix = f"desk_test_{uuid.uuid4().hex[:10]}_"
        self.template = f"{self.prefix}template"
        self.created: dict[str, str] = {}  # folder -> database
        self._template_ready = False
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk-test-pg")

    def url(self, database: str) -> str:
        return self.admin.set(database=database).render_as_string(hide_password=False)

    def url_for(self, folder: Path) -> str:
        """The URL of `folder`'s database, created (from the template) on first use."""
        key = str(folder)
        with self._lock:
            if key not in self.created:
                name = self.prefix + hashlib.sha1(key.encode()).hexdigest()[:16]
                self._worker.submit(asyncio.run, self._create(name)).result()
                self.created[key] = name
            return self.url(self.created[key])

    async def _connect(self):
        import asyncpg  # the `postgres` extra

        dsn = self.admin.set(drivername="postgresql").render_as_string(hide_password=False)
        return await asyncpg.connect(dsn)

    async def _create(self, name: str) -> None:
        conn = await self._connect()
        try:
            if not self._template_ready:  # the session's first database: build the template
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.template}"')
                await conn.execute(f'CREATE DATABASE "{self.template}"')
                db = open_database(self.url(self.template))
                try:
                    await migrate(db)
                finally:
                    await db.dispose()
                self._template_ready = True
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        finally:
            await conn.close()

    def drop_all(self) -> None:
        with self._lock:
            if not self._template_ready:
                return
            names = [*self.created.values(), self.template]
            self.created.clear()
            self._worker.submit(asyncio.run, self._drop(names)).result()
        self._worker.shutdown()

    async def _drop(self, names: list[str]) -> None:
        conn = await self._connect()
        try:
            for name in names:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


_postgres = PostgresDatabases(POSTGRES_URL) if POSTGRES_URL else None


def database_url(tmp_path: Path) -> str:
    """The desk database of a test folder: the same one every time it is asked
    for (a restart reopens it), `tmp_path/desk.db` unless on PostgreSQL."""
    if _postgres is None:
        return f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    return _postgres.url_for(tmp_path)


def make_settings(tmp_path: Path, **overrides: object):
    data: dict = {"database_url": database_url(tmp_path)}
    data.update(overrides)
    return build_settings(data)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL the sqlite_only tests are deselected, as -m "not sqlite_only" would."""
    if _postgres is None:
        return
    sqlite_only = [item for item in items if item.get_closest_marker("sqlite_only")]
    if sqlite_only:
        config.hook.pytest_deselected(items=sqlite_only)
        items[:] = [item for item in items if not item.get_closest_marker("sqlite_only")]


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


async def table_names(desk: Desk) -> set[str]:
    """The tables in the desk's database (any dialect)."""
    async with desk.db.read_engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
