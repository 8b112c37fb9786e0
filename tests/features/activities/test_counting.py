"""Message counts: counted once per message in memory, flushed to the database in
the caller's transaction, and given back unless that transaction commits (so
desk.write may retry the step, and a failed commit loses nothing)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, func, select

from desk import Desk, UnitOfWork
from features.activities.counter import COUNTER, MessageCounter
from features.activities.counting import count_message, flush_counts
from features.activities.members import record_member_change, recorded_member
from features.activities.models import GroupActivity
from features.activities.stats import group_stats

DAY = date(2026, 11, 27)


async def stored(desk: Desk) -> int:
    async def step(uow: UnitOfWork) -> int:
        return int(await uow.session.scalar(select(func.sum(GroupActivity.messages))) or 0)

    return await desk.read(step)


def test_counter_counts_each_message_once_and_restores_a_batch() -> None:
    counter = MessageCounter(remember_ids=2)
    assert counter.add("1", "a", DAY, 1)
    assert not counter.add("1", "a", DAY, 1)
    assert counter.add("2", "a", DAY, 1)  # the same id in another group is another message
    assert counter.add("1", "b", DAY, 2)
    assert counter.add("1", "a", DAY, 1)  # forgotten: only the last 2 ids are kept
    batch = counter.take()
    assert batch == {("1", DAY, "a"): 2, ("2", DAY, "a"): 1, ("1", DAY, "b"): 1}
    assert counter.pending() == 0
    counter.add("1", "a", DAY, 9)
    counter.restore(batch)
    assert counter.take()[("1", DAY, "a")] == 3


async def test_a_flush_that_commits_empties_memory(desk: Desk) -> None:
    assert count_message("1", "a", DAY, 1) and count_message("1", "b", DAY, 2)
    await desk.write(flush_counts)
    assert (COUNTER.pending(), await stored(desk)) == (0, 2)


async def test_a_failed_step_gives_the_counts_back(desk: Desk) -> None:
    count_message("1", "a", DAY, 1)

    async def fails_after_flushing(uow: UnitOfWork) -> None:
        await flush_counts(uow)
        raise RuntimeError("a later step of the same use case failed")

    with pytest.raises(RuntimeError):
        await desk.write(fails_after_flushing)
    assert (COUNTER.pending(), await stored(desk)) == (1, 0)
    await desk.write(flush_counts)  # the next flush writes them
    assert (COUNTER.pending(), await stored(desk)) == (0, 1)


async def test_a_failed_commit_gives_the_counts_back(desk: Desk) -> None:
    count_message("1", "a", DAY, 1)
    engine = desk.db.write_engine.sync_engine

    def refuse(conn) -> None:  # noqa: ANN001 - SQLAlchemy's connection
        raise RuntimeError("the commit failed")

    event.listen(engine, "commit", refuse)
    try:
        with pytest.raises(RuntimeError):
            await desk.write(flush_counts)
    finally:
        event.remove(engine, "commit", refuse)
    assert COUNTER.pending() == 1
    await desk.write(flush_counts)
    assert (COUNTER.pending(), await stored(desk)) == (0, 1)


async def test_group_stats_include_the_last_minute(desk: Desk) -> None:
    count_message("1", "a", DAY, 1)
    count_message("1", "b", DAY, 2)
    count_message("2", "a", DAY, 3)
    await record_member_change(
        desk, group_id="1", user_id="c", change="join", sub_type="approve", operator_id=None,
        event_key="k1",
    )  # fmt: skip
    figures = await group_stats(desk, "1", desk.period("today"))
    assert (figures.joined, figures.left, figures.speakers, figures.messages) == (1, 0, 2, 2)
    assert COUNTER.pending() == 0
    assert await recorded_member(desk, "1", "a")  # spoke there
    assert await recorded_member(desk, "1", "c")  # joined
    assert not await recorded_member(desk, "1", "z")
