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


# Bases by the data a refusal carries; a refusal subclasses the one it needs.


@dataclass(eq=False)
class EventRefusal(EventError):
    """About one event."""

    event_id: int


@dataclass(eq=False)
class TitledRefusal(EventError):
    """About one event, named by its title in the reply."""

    event_id: int
    title: str


@dataclass(eq=False)
class OverLimit(EventError):
    """An input over (or outside) a configured limit."""

    limit: int


class EventNotFound(EventRefusal):
    """No such event, or not one the asker can see from where they ask."""


class NotYourGroup(EventRefusal):
    """A DM sign-up for an event of a group the asker is not in (nothing else told)."""


class NotOnOA(EventRefusal):
    """An Official Account follower asked for an event not published there."""


# -- creating an event -------------------------------------------------------------


class BadTitle(OverLimit):
    """Too long, or unfit characters."""


class BadPlace(OverLimit):
    """Too long, or unfit characters."""


class BadCapacity(OverLimit):
    """Not between 1 and the limit."""


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


class BadParty(OverLimit):
    """Not between 1 and the limit."""


class CarsOverParty(EventError):
    """More cars than people."""


class BadNote(OverLimit):
    """Too long, or unfit characters."""


@dataclass(eq=False)
class PartyTooBig(EventError):
    event_id: int
    capacity: int
    party: int


@dataclass(eq=False)
class CarsTooMany(EventError):
    event_id: int
    limit: int


class EventCancelled(TitledRefusal):
    """Signing up for, or managing, a cancelled event."""


class EventStarted(TitledRefusal):
    """Signing up for, or withdrawing from, a started event."""


class SignupClosed(TitledRefusal):
    """Past the deadline, or 关闭报名."""


class NotSignedUp(EventRefusal):
    """Withdrawing without a sign-up."""


# -- managing ------------------------------------------------------------------------


class AttendNobody(EventRefusal):
    """到场 with nobody @-ed or named by QQ id."""


@dataclass(eq=False)
class AttendTooEarly(EventError):
    event_id: int
    starts_at: datetime


class AlreadyCancelled(TitledRefusal):
    """取消活动 a second time."""


class CancelTooLate(TitledRefusal):
    """取消活动 after the event started."""
