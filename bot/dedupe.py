"""Duplicate incoming events: the second copy of an event has no effect (spec §5).

A QQ client may deliver the same event twice (a retry, a reconnect, two
connections for one account). This module is pure (no NoneBot): it derives a
key from the raw OneBot event and remembers keys for a while in a bounded
in-memory set. `bot.hooks` drops an event whose key was seen.

This is the first line only: the set is lost on restart and bounded, so it
cannot make effects durable. Effects that must survive a crash (a lead, a
sign-up, a notification) are made idempotent by the desk, through idempotency
keys such as the capture's `event_key` derived from the platform message id.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from pydantic import BaseModel, Field


class DedupeConfig(BaseModel):
    """Settings (env / .env): DEDUPE_TTL_SECONDS, DEDUPE_MAX_EVENTS."""

    dedupe_ttl_seconds: float = Field(default=600.0, gt=0)
    dedupe_max_events: int = Field(default=20_000, ge=100)


class TTLSet:
    """Keys remembered for `ttl` seconds, at most `max_size` of them (oldest go first)."""

    def __init__(
        self, ttl: float, max_size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl <= 0 or max_size <= 0:
            raise ValueError("ttl and max_size must be positive")
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._seen: OrderedDict[Hashable, float] = OrderedDict()  # key -> expiry, oldest first

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, key: Hashable) -> bool:
        expiry = self._seen.get(key)
        return expiry is not None and expiry > self._clock()

    def add(self, key: Hashable) -> bool:
        """Remember `key`; True when it is new, False when it was seen within the TTL."""
        now = self._clock()
        self._expire(now)
        if key in self._seen:  # not expired: _expire dropped those
            return False
        self._seen[key] = now + self.ttl
        while len(self._seen) > self.max_size:
            self._seen.popitem(last=False)
        return True

    def _expire(self, now: float) -> None:
        # Expiry times grow with insertion order (fixed TTL), so stop at the first live key.
        while self._seen:
            key, expiry = next(iter(self._seen.items()))
            if expiry > now:
                break
            del self._seen[key]


def event_key(data: Mapping[str, Any]) -> str | None:
    """The identity of a raw OneBot v11 event, or None when it is never deduplicated.

    Messages: self_id + message_id. Requests: self_id + flag. Notices: every
    field (including `time`), since notices carry no id. Meta events
    (heartbeats, lifecycle) are never deduplicated.
    """
    post_type = data.get("post_type")
    self_id = data.get("self_id")
    if post_type in ("message", "message_sent"):
        message_id = data.get("message_id")
        return None if message_id is None else f"{post_type}:{self_id}:{message_id}"
    if post_type == "request" and data.get("flag"):
        return f"request:{self_id}:{data['flag']}"
    if post_type in ("notice", "request"):
        body = json.dumps(dict(data), sort_keys=True, ensure_ascii=False, default=str)
        return f"{post_type}:{self_id}:{hashlib.sha1(body.encode()).hexdigest()}"
    return None


class Deduplicator:
    """`first(event_data)`: True the first time an event is seen, False for its copies."""

    def __init__(
        self, config: DedupeConfig | None = None, clock: Callable[[], float] = time.monotonic
    ):
        config = config or DedupeConfig()
        self.seen = TTLSet(config.dedupe_ttl_seconds, config.dedupe_max_events, clock)

    def first(self, data: Mapping[str, Any]) -> bool:
        key = event_key(data)
        return key is None or self.seen.add(key)
