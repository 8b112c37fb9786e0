"""How many commands one person may send (spec §5: nobody floods the bot).

Pure (no NoneBot): bot.prefilter asks `CommandLimiter.take` for every message
that starts with a command word, and drops it without a reply when the sender
is over their allowance. Each person (platform + id) has a token bucket
(bot.throttle.Bucket): `command_limit` commands at once, refilled evenly over
`command_window_seconds`. Staff (roster consultants and managers, WeCom app
users) draw on a second bucket once the first is empty, up to
`command_limit_staff` in all. Ordinary chat is never counted here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Self

from pydantic import BaseModel, Field, model_validator

from bot.throttle import Bucket

MAX_LIMIT, MAX_LIMIT_STAFF = 10_000, 100_000
# For load tests and benches, whose few accounts send far more than people do.
LIMIT_OFF_ENV = {"COMMAND_LIMIT": str(MAX_LIMIT), "COMMAND_LIMIT_STAFF": str(MAX_LIMIT_STAFF)}


class CommandLimitConfig(BaseModel):
    """Settings (env / .env): COMMAND_LIMIT, COMMAND_WINDOW_SECONDS, COMMAND_LIMIT_STAFF."""

    command_limit: int = Field(
        default=10, ge=1, le=MAX_LIMIT, description="commands one person may send per window"
    )
    command_window_seconds: float = Field(default=60.0, gt=0, le=86_400)
    command_limit_staff: int = Field(
        default=60,
        ge=1,
        le=MAX_LIMIT_STAFF,
        description="the same for staff (at least COMMAND_LIMIT)",
    )

    @model_validator(mode="after")
    def _staff_not_below_everyone(self) -> Self:
        if self.command_limit_staff < self.command_limit:
            raise ValueError("command_limit_staff must be at least command_limit")
        return self


Key = Hashable  # (platform, user id)


class CommandLimiter:
    """Per-person buckets; `take` spends one command or says it is over the limit."""

    PRUNE_ABOVE = 10_000  # people remembered before the idle ones are forgotten

    def __init__(
        self, config: CommandLimitConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.clock = clock
        self._buckets: dict[Key, Bucket] = {}
        self._staff_buckets: dict[Key, Bucket] = {}
        self._told_until: dict[Key, float] = {}  # the flood of this key is logged until then

    def _bucket(self, buckets: dict[Key, Bucket], key: Key, count: int, now: float) -> Bucket:
        if len(buckets) > self.PRUNE_ABOVE:
            for old in [k for k, b in buckets.items() if b.idle(now)]:
                del buckets[old]
            self._told_until = {k: t for k, t in self._told_until.items() if t > now}
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = Bucket(count / self.config.command_window_seconds, count)
        return bucket

    @staticmethod
    def _spend(bucket: Bucket, now: float) -> bool:
        if bucket.earliest(now) > now:
            return False
        bucket.commit(now)
        return True

    def take(self, key: Key) -> bool:
        """One command of anyone: True when it is within their allowance (and spent)."""
        now = self.clock()
        return self._spend(self._bucket(self._buckets, key, self.config.command_limit, now), now)

    @property
    def staff_extra(self) -> int:
        return self.config.command_limit_staff - self.config.command_limit

    def take_staff(self, key: Key) -> bool:
        """One more command of a staff member whose ordinary allowance is spent."""
        if self.staff_extra <= 0:
            return False
        now = self.clock()
        bucket = self._bucket(self._staff_buckets, key, self.staff_extra, now)
        return self._spend(bucket, now)

    def first_refusal(self, key: Key) -> bool:
        """True once per person and window: the moment to log that they are flooding."""
        now = self.clock()
        if self._told_until.get(key, now) > now:
            return False
        self._told_until[key] = now + self.config.command_window_seconds
        return True
