"""What a feature outside the desk needs to keep its own tables in the desk's
one database and one migration history (spec §4: one database, one place that
opens it).

- Declare tables on `PluginBase` (its own metadata, so the desk's schema checks
  stay the desk's); create them in a migration under desk/migrations/versions.
- Run each use case through `Desk.write(step)` / `Desk.read(step)`: `step`
  gets a `UnitOfWork` (its `session`, `now`, `calendar`) in one transaction,
  retried as a whole when a concurrent writer won a race. Inside it,
  `Desk.capture_in` and `Desk.notify_in` make a lead or a notification in that
  same transaction, so a reply never announces what was not committed.
- Write SQL that runs on SQLite and PostgreSQL alike: `insert_ignore` for
  "insert unless the key exists", `with_for_update()` on the row that
  serialises a decision (e.g. an event's last seat), `serialize_on(uow, …)`
  when there is no row to lock yet (e.g. today's first check-in in a group).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, MetaData, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase

from desk.models import NAMING, UTCDateTime
from desk.uow import UnitOfWork

__all__ = ["PluginBase", "UTCDateTime", "UnitOfWork", "insert_ignore", "serialize_on", "upsert"]


class PluginBase(DeclarativeBase):
    """Tables of the bot's features (activities, events, referral)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


def dialect_insert(uow: UnitOfWork, table: Any) -> Any:
    """INSERT for this database's dialect (the one place the desk tells SQLite
    from PostgreSQL for an ON CONFLICT clause)."""
    return (postgresql.insert if uow.dialect == "postgresql" else sqlite.insert)(table)


_IGNORING: dict[tuple[str, Any, tuple[str, ...] | None], Any] = {}


def ignoring_insert(uow: UnitOfWork, table: Any, keys: list[str] | None = None) -> Any:
    """INSERT … ON CONFLICT (keys) DO NOTHING (any unique key when `keys` is None),
    values given at execute (one dict, or a list for executemany). Built once per
    dialect, table and keys: its compiled form is cached, where a statement built
    per call with .values() is analysed every time."""
    table = getattr(table, "__table__", table)  # Core, not the ORM's bulk insert
    cache_key = (uow.dialect, table, tuple(keys) if keys is not None else None)
    stmt = _IGNORING.get(cache_key)
    if stmt is None:
        stmt = _IGNORING[cache_key] = dialect_insert(uow, table).on_conflict_do_nothing(
            index_elements=keys
        )
    return stmt


async def insert_ignore(uow: UnitOfWork, table: Any, keys: list[str], **values: Any) -> bool:
    """INSERT … ON CONFLICT (keys) DO NOTHING; True when the row was new."""
    result = await uow.session.execute(ignoring_insert(uow, table, keys), values)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def upsert(
    uow: UnitOfWork, table: Any, keys: list[str], values: dict[str, Any], update: dict[str, Any]
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET update (expressions may use
    the table's columns, e.g. {"messages": Table.messages + 3})."""
    stmt = dialect_insert(uow, table).values(**values)
    await uow.session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update))


async def upsert_adding(
    uow: UnitOfWork, table: Any, keys: list[str], column: str, rows: list[dict[str, Any]]
) -> None:
    """Many INSERT … ON CONFLICT (keys) DO UPDATE SET column = column + the new value,
    as one executemany: a thousand rows cost one round trip, not a thousand (the
    writer is held meanwhile, and every other write waits)."""
    if not rows:
        return
    stmt = dialect_insert(uow, table)
    target = getattr(table, "__table__", table).c[column]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={column: target + getattr(stmt.excluded, column)}
    )
    await uow.session.execute(stmt, rows)


async def serialize_on(uow: UnitOfWork, *key: object) -> None:
    """Until this transaction ends, other transactions serialising on the same key
    wait here: a decision that reads then writes (the next place in a queue) stays
    one at a time. SQLite's single writer does this already; on PostgreSQL it is a
    transaction-level advisory lock (retrying a unique-key clash instead fails
    when many collide at once)."""
    if uow.dialect != "postgresql":
        return
    digest = hashlib.blake2b(repr(key).encode("utf-8"), digest_size=8).digest()
    lock = int.from_bytes(digest, "big", signed=True)
    await uow.session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})
