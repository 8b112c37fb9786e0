"""The one place that opens the database.

SQLite (the embedded default) allows one writer at a time, so writes go
through a single connection that begins with BEGIN IMMEDIATE (no lock-upgrade
deadlocks), while reads use a small pool of WAL snapshot readers and never
block captures. On PostgreSQL both are the same pooled engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# FULL: a commit is what the bot acknowledges (已报名, a captured lead), and in WAL
# mode NORMAL syncs the WAL only at checkpoints, so a power loss may roll back
# commits already acknowledged. FULL syncs the WAL at every commit (cost: see
# bench/desk_bench.py, "durability").
SQLITE_SYNCHRONOUS = "FULL"


@dataclass(frozen=True)
class Database:
    write_engine: AsyncEngine
    read_engine: AsyncEngine
    writer: async_sessionmaker
    reader: async_sessionmaker

    @property
    def dialect(self) -> str:
        return self.write_engine.dialect.name

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


def _sqlite_pragmas(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit BEGIN is deferred).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _json(value: Any) -> str:
    # Chinese as itself: \uXXXX escapes double the size of every payload.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def open_database(url: str, *, echo: bool = False) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            raise ValueError(
                "the desk needs a SQLite file, not :memory: (readers and the writer share it)"
            )
        write_engine = create_async_engine(
            url, echo=echo, pool_size=1, max_overflow=0, pool_timeout=60, json_serializer=_json
        )
        read_engine = create_async_engine(
            url, echo=echo, pool_size=4, max_overflow=4, json_serializer=_json
        )
        _sqlite_pragmas(write_engine, immediate=True)
        _sqlite_pragmas(read_engine, immediate=False)
    else:
        write_engine = create_async_engine(
            url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True, json_serializer=_json
        )
        read_engine = write_engine
    return Database(
        write_engine=write_engine,
        read_engine=read_engine,
        writer=async_sessionmaker(write_engine, expire_on_commit=False),
        reader=async_sessionmaker(read_engine, expire_on_commit=False),
    )


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def migrate(db: Database) -> None:
    """Apply every migration up to head (idempotent)."""

    def _upgrade(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")

    async with db.write_engine.begin() as conn:
        await conn.run_sync(_upgrade)
    if db.dialect == "sqlite":
        # Planner statistics: without them SQLite picks ix_leads_stage over the
        # partial index for the report's still-due count (60 ms vs 1 ms at 1M).
        async with db.write_engine.begin() as conn:
            stats = await conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
            )
            await conn.exec_driver_sql("PRAGMA optimize" if stats.first() else "ANALYZE")


async def schema_drift(db: Database, metadata: Any) -> list[Any]:
    """What the migrated database and `metadata`'s tables disagree on ([] when they
    match). Tables of other metadata (the desk's, or the features') are left out."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def keep(_obj: Any, name: str | None, type_: str, _reflected: bool, _other: Any) -> bool:
        if type_ == "table":
            return name in metadata.tables
        return True

    def _compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"include_object": keep})
        return compare_metadata(context, metadata)

    async with db.write_engine.connect() as conn:
        return await conn.run_sync(_compare)
