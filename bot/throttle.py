"""Pure logic behind the group send queue (bot.sending): token buckets and text splitting.

No NoneBot here, so it is tested with a fake clock. Time is in seconds on any
monotonic clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field


class SendingConfig(BaseModel):
    """Settings (env / .env), e.g. SEND_GROUP_RATE=1, SEND_MAX_LENGTH=1500."""

    send_global_rate: float = Field(default=20.0, gt=0, description="messages/s over all groups")
    send_global_burst: int = Field(default=20, ge=1)
    send_group_rate: float = Field(default=1.0, gt=0, description="messages/s into one group")
    send_group_burst: int = Field(default=3, ge=1)
    send_max_length: int = Field(default=1500, ge=50, description="characters per message")
    send_forward_threshold: int = Field(
        default=3, ge=1, description="more chunks than this: one forward message"
    )
    send_max_wait_seconds: float = Field(
        default=120.0, gt=0, description="a message that would wait longer is dropped"
    )
    send_retry_delay_seconds: float = Field(default=1.0, ge=0)
    send_forward_nickname: str = Field(default="车主群助手", min_length=1)


class Bucket:
    """A token bucket as GCRA: `rate` per second on average, up to `burst` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self.tat: float | None = None  # theoretical arrival time of the next message

    def earliest(self, now: float) -> float:
        """The first moment, from `now` on, when one message conforms."""
        return now if self.tat is None else max(now, self.tat - self.tolerance)

    def commit(self, at: float) -> None:
        """Spend one token at `at` (a moment `earliest` allowed)."""
        self.tat = max(self.tat if self.tat is not None else at, at) + self.interval

    def idle(self, now: float) -> bool:
        """Full again: forgetting it changes nothing."""
        return self.tat is None or self.tat <= now


class Throttle:
    """One global bucket plus one bucket per group.

    A message first waits for its group's slot (`group_earliest`), then takes the
    next global slot (`take_global`), then is sent and charged to its group
    (`take_group`). Global slots are only ever taken for "now", in arrival order,
    so a backlog in one busy group never holds up the other groups.
    """

    PRUNE_ABOVE = 1000  # group buckets kept before idle ones are dropped

    def __init__(self, config: SendingConfig) -> None:
        self.config = config
        self.global_bucket = Bucket(config.send_global_rate, config.send_global_burst)
        self.groups: dict[int, Bucket] = {}

    def group_earliest(self, group_id: int, now: float) -> float:
        """When the group's next message may go (without booking it)."""
        bucket = self.groups.get(group_id)
        return now if bucket is None else bucket.earliest(now)

    def take_global(self, now: float) -> float:
        """Book the next global slot from `now` on; returns its moment."""
        at = self.global_bucket.earliest(now)
        self.global_bucket.commit(at)
        return at

    def take_group(self, group_id: int, at: float) -> None:
        """Charge one message sent at `at` to the group."""
        if len(self.groups) > self.PRUNE_ABOVE:
            self.groups = {g: b for g, b in self.groups.items() if not b.idle(at)}
        bucket = self.groups.get(group_id)
        if bucket is None:
            bucket = self.groups[group_id] = Bucket(
                self.config.send_group_rate, self.config.send_group_burst
            )
        bucket.commit(at)


def split_text(text: str, max_length: int) -> list[str]:
    """Split at line boundaries into chunks of at most `max_length` characters.

    A single line longer than the limit is cut hard. Blank chunks are dropped.
    """
    if max_length < 1:
        raise ValueError("max_length must be positive")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) <= max_length:
        return [text] if text.strip() else []
    chunks: list[str] = []
    current: list[str] = []
    size = 0  # length of "\n".join(current)
    for line in text.split("\n"):
        pieces = [line[i : i + max_length] for i in range(0, len(line), max_length)] or [""]
        for piece in pieces:
            extra = len(piece) + (1 if current else 0)
            if current and size + extra > max_length:
                chunks.append("\n".join(current))
                current, size = [], 0
                extra = len(piece)
            current.append(piece)
            size += extra
    if current:
        chunks.append("\n".join(current))
    return [c.strip("\n") for c in chunks if c.strip()]


@dataclass(frozen=True)
class SendPlan:
    """How one outgoing text goes out: as separate messages or one forward message."""

    kind: Literal["messages", "forward"]
    chunks: list[str]


def plan_text(text: str, config: SendingConfig) -> SendPlan:
    chunks = split_text(text, config.send_max_length)
    if len(chunks) > config.send_forward_threshold:
        return SendPlan("forward", chunks)
    return SendPlan("messages", chunks)


TIMEOUT_MARKERS = ("timeout", "timed out", "超时")


def looks_like_timeout(description: str) -> bool:
    """True when an error text says the request timed out (it may still have arrived)."""
    lowered = description.lower()
    return any(marker in lowered for marker in TIMEOUT_MARKERS)
