"""Per-group message counts kept in memory between flushes. No I/O.

The bot's message observer adds one per group message (no text is kept); the
minute job and 群统计 take the counts and add them to the database
(features.activities.counting, which puts a batch back unless its transaction
commits). A crash loses at most the counts since the last flush (about a
minute): acceptable for activity statistics, and the price of costing plain
chat no database write.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date

Key = tuple[str, date, str]  # group id, local day, QQ id


class MessageCounter:
    def __init__(self, remember_ids: int = 20_000) -> None:
        self._counts: dict[Key, int] = {}
        # Recent (group, message id): a message delivered twice counts once.
        self._recent: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._remember = remember_ids

    def add(self, group_id: str, user_id: str, day: date, message_id: int) -> bool:
        """Count one message; False when this message was counted already."""
        seen = (group_id, message_id)
        if seen in self._recent:
            return False
        self._recent[seen] = None
        if len(self._recent) > self._remember:
            self._recent.popitem(last=False)
        key = (group_id, day, user_id)
        self._counts[key] = self._counts.get(key, 0) + 1
        return True

    def take(self) -> dict[Key, int]:
        """The counts so far; the counter starts again from zero (a second flush
        meanwhile takes only newer counts: nothing is written twice)."""
        batch, self._counts = self._counts, {}
        return batch

    def restore(self, batch: dict[Key, int]) -> None:
        """Put back counts whose flush did not commit."""
        for key, n in batch.items():
            self._counts[key] = self._counts.get(key, 0) + n

    def pending(self) -> int:
        return sum(self._counts.values())

    def clear(self) -> None:
        self._counts.clear()
        self._recent.clear()


COUNTER = MessageCounter()
