"""The refusals of the events use cases, typed and carrying their data; the
front (bot/plugins/events/texts.py) words each one. Raised before anything is
written, or inside the transaction, which then changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from desk import DeskError


class EventError(DeskError):
    """Base of the events feature's refusals."""


@dataclass(eq=False)
class UsageError(EventError):
    """Wrong arguments for `command` (the front answers with its usage line)."""

    command: str


@dataclass(eq=False)
class BadTime(EventError):
    text: str  # what could not be read as a time


@dataclass(eq=False)
class EventNotFound(EventError):
    """No such event, or not one the asker can see from where they ask."""

    event_id: int


@dataclass(eq=False)
class NotYourGroup(EventError):
    """A DM sign-up for an event of a group the asker is not in (nothing else told)."""

    event_id: int


@dataclass(eq=False)
class NotOnOA(EventError):
    """An Official Account follower asked for an event not published there."""

    event_id: int


# -- creating an event -------------------------------------------------------------


@dataclass(eq=False)
class BadTitle(EventError):
    limit: int


@dataclass(eq=False)
class BadPlace(EventError):
    limit: int


@dataclass(eq=False)
class BadCapacity(EventError):
    limit: int


class BadCars(EventError):
    """Cars not between 1 and the seats."""


@dataclass(eq=False)
class StartPast(EventError):
    starts_at: datetime


@dataclass(eq=False)
class StartTooFar(EventError):
    days: int


@dataclass(eq=False)
class DeadlineAfterStart(EventError):
    deadline_at: datetime
    starts_at: datetime


@dataclass(eq=False)
class DeadlinePast(EventError):
    deadline_at: datetime


# -- signing up ----------------------------------------------------------------------


@dataclass(eq=False)
class BadParty(EventError):
    limit: int


class CarsOverParty(EventError):
    """More cars than people."""


@dataclass(eq=False)
class BadNote(EventError):
    limit: int


@dataclass(eq=False)
class PartyTooBig(EventError):
    event_id: int
    capacity: int
    party: int


@dataclass(eq=False)
class CarsTooMany(EventError):
    event_id: int
    limit: int


@dataclass(eq=False)
class EventCancelled(EventError):
    event_id: int
    title: str


@dataclass(eq=False)
class EventStarted(EventError):
    event_id: int
    title: str


@dataclass(eq=False)
class SignupClosed(EventError):
    """Past the deadline, or 关闭报名."""

    event_id: int
    title: str


@dataclass(eq=False)
class NotSignedUp(EventError):
    event_id: int


# -- managing ------------------------------------------------------------------------


@dataclass(eq=False)
class AttendNobody(EventError):
    """到场 with nobody @-ed or named by QQ id."""

    event_id: int


@dataclass(eq=False)
class AttendTooEarly(EventError):
    event_id: int
    starts_at: datetime


@dataclass(eq=False)
class AlreadyCancelled(EventError):
    event_id: int
    title: str


@dataclass(eq=False)
class CancelTooLate(EventError):
    """取消活动 after the event started."""

    event_id: int
    title: str
