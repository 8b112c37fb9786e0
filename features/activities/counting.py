"""Message counts: the observer counts in memory (no I/O per message); the minute
job and 群统计 add them to the database in one batch.

Safe to retry: a batch taken from memory goes back unless the transaction that
wrote it commits (a SQLAlchemy session hook decides after the commit or the
rollback, not the step), so desk.write may rerun the step, and a failed commit
loses no count. Two flushes at once take disjoint batches: nothing is counted twice.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from desk import UnitOfWork
from desk.store import upsert_adding
from features.activities.counter import COUNTER, Key, MessageCounter
from features.activities.models import GroupActivity


def count_message(
    group_id: str, user_id: str, day: date, message_id: int, counter: MessageCounter = COUNTER
) -> bool:
    """One more message, in memory only; False when this message was counted already."""
    return counter.add(group_id, user_id, day, message_id)


def _give_back_unless_committed(
    uow: UnitOfWork, counter: MessageCounter, batch: dict[Key, int]
) -> None:
    # The session is the use case's own (one per transaction): its listeners go with it.
    session = uow.session.sync_session
    root = session.get_transaction()
    state = {"committed": False, "settled": False}

    def after_commit(_session: Session) -> None:
        state["committed"] = True

    def after_end(_session: Session, transaction: SessionTransaction) -> None:
        if transaction is not root or state["settled"]:
            return  # a savepoint ended, not the use case's transaction
        state["settled"] = True
        if not state["committed"]:
            counter.restore(batch)

    event.listen(session, "after_commit", after_commit)
    event.listen(session, "after_transaction_end", after_end)


async def flush_counts(uow: UnitOfWork, counter: MessageCounter = COUNTER) -> int:
    """Add the counts gathered in memory to the database, in the caller's transaction
    (the minute job; 群统计 and the erasure of a person first)."""
    batch = counter.take()
    if not batch:
        return 0
    _give_back_unless_committed(uow, counter, batch)
    rows = [
        {"group_id": group_id, "day": day, "user_id": user_id, "messages": n}
        for (group_id, day, user_id), n in sorted(batch.items())
    ]
    # One executemany: a busy minute has thousands of counts, the writer waits on it.
    await upsert_adding(uow, GroupActivity, ["group_id", "day", "user_id"], "messages", rows)
    return 0  # nothing queued for delivery
