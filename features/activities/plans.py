"""When a topic is posted (a Plan: once, daily or weekly) and what a topic may be.

The chat front reads the words of 设置话题 into a time (bot/plugins/activities/
parsing.py); the rules on it are here. A refusal is a TopicError with a `kind`
and its facts, which the front turns into a reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from desk.errors import DeskError
from desk.text import clean_text
from features.activities.config import TopicsConfig

TopicErrorKind = Literal["usage", "too_long", "bad_time", "past", "too_far", "too_many"]


class TopicError(DeskError):
    """A 设置话题 that cannot be done: `kind` says why, `params` give the facts
    (too_long/too_many: max; bad_time: text; past: at (UTC); too_far: days)."""

    def __init__(self, kind: TopicErrorKind, **params: object) -> None:
        super().__init__(kind)
        self.kind: TopicErrorKind = kind
        self.params = params


Repeat = Literal["once", "daily", "weekly"]


@dataclass(frozen=True)
class Plan:
    """When a topic is posted: once at `at`, or daily / weekly at a local time."""

    repeat: Repeat
    at: datetime  # the first post, UTC
    local_time: time
    weekday: int | None = None  # 0 = Monday, weekly only


def next_occurrence(after: datetime, tz: ZoneInfo, at: time, weekday: int | None) -> datetime:
    """The first local `at` (on `weekday`, if given) strictly after `after`, in UTC."""
    day = after.astimezone(tz).date()
    for offset in range(9):
        candidate_day = day + timedelta(days=offset)
        if weekday is not None and candidate_day.weekday() != weekday:
            continue
        candidate = datetime.combine(candidate_day, at, tzinfo=tz).astimezone(UTC)
        if candidate > after:
            return candidate
    raise AssertionError("a week always has the day")


def once(at: datetime, now: datetime, tz: ZoneInfo, cfg: TopicsConfig) -> Plan:
    """A single post at `at`: later than now, and not further ahead than allowed."""
    if at <= now:
        raise TopicError("past", at=at)
    if at > now + timedelta(days=cfg.max_days_ahead):
        raise TopicError("too_far", days=cfg.max_days_ahead)
    return Plan("once", at, at.astimezone(tz).time().replace(second=0, microsecond=0))


def repeating(clock: time, weekday: int | None, now: datetime, tz: ZoneInfo) -> Plan:
    """Every day (weekday None) or every week on `weekday` at the local `clock`."""
    clock = clock.replace(second=0, microsecond=0)
    repeat: Repeat = "daily" if weekday is None else "weekly"
    return Plan(repeat, next_occurrence(now, tz, clock, weekday), clock, weekday)


def topic_text(text: str, cfg: TopicsConfig) -> str:
    """The topic as stored and posted (unfit characters dropped); TopicError when
    there is none or it is too long."""
    text = clean_text(text)
    if not text:
        raise TopicError("usage")
    if len(text) > cfg.max_chars:
        raise TopicError("too_long", max=cfg.max_chars)
    return text
