"""The minute job's message counts go to the database in one batch (found by
bench/soak.py: at 100 events/s from 2,400 owners, a flush was ~2,000 single
upserts holding the one writer for ~2 s, and every sign-up, check-in and new
lead meanwhile waited: their replies came seconds late)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import event, func, select

from desk import Desk, UnitOfWork

pytestmark = pytest.mark.usefixtures("desk")
OWNERS = 1000


@pytest.fixture(autouse=True)
def _clean_counter() -> Iterator[None]:
    from features.activities.counter import COUNTER

    COUNTER.clear()
    yield
    COUNTER.clear()


async def test_a_minute_of_counts_is_written_in_one_batch(desk: Desk) -> None:
    from features.activities.counter import COUNTER
    from features.activities.counting import flush_counts
    from features.activities.models import GroupActivity

    day = date(2026, 11, 27)
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if "group_messages" in statement:
            statements.append(statement)

    engine = desk.db.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for minute in range(2):  # the second flush adds to the rows of the first
            for user in range(OWNERS):
                COUNTER.add(str(700 + user % 40), str(20_000 + user), day, minute * OWNERS + user)
            await desk.write(flush_counts)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert len(statements) == 2, f"{len(statements)} statements for {2 * OWNERS} counts"

    async def totals(uow: UnitOfWork) -> tuple[int, int, int]:
        s = uow.session
        return (
            int(await s.scalar(select(func.count()).select_from(GroupActivity)) or 0),
            int(await s.scalar(select(func.sum(GroupActivity.messages))) or 0),
            int(await s.scalar(select(func.max(GroupActivity.messages))) or 0),
        )

    assert await desk.read(totals) == (OWNERS, 2 * OWNERS, 2)
