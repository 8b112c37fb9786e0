"""Typed domain errors. Fronts map each to a Chinese reply; none is a crash."""

from __future__ import annotations


class DeskError(Exception):
    """Base of every error the desk raises on purpose."""


class ConfigError(DeskError):
    """The configuration is invalid; the message names the key."""


class InvalidInput(DeskError):
    """An argument is malformed (empty reason, absurd phone, note too long…)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ImportFileError(DeskError):
    """An import file cannot be read as a whole (its encoding, its kind, no phone
    column…). The message is Chinese, for staff; nothing was imported."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LeadNotFound(DeskError):
    def __init__(self, lead_id: int) -> None:
        super().__init__(f"lead #{lead_id} not found")
        self.lead_id = lead_id


class MemberNotFound(DeskError):
    def __init__(self, ref: object) -> None:
        super().__init__(f"roster member {ref!r} not found")
        self.ref = ref


class InvalidTransition(DeskError):
    """The step is not allowed from the lead's current stage."""

    def __init__(self, lead_id: int, stage: str, action: str) -> None:
        super().__init__(f"lead #{lead_id} in stage {stage} cannot {action}")
        self.lead_id = lead_id
        self.stage = stage
        self.action = action


class Forbidden(DeskError):
    """The actor may not act on this lead or use this operation."""

    def __init__(self, message: str = "forbidden") -> None:
        super().__init__(message)


class DuplicateMember(DeskError):
    """A roster member with this QQ id or WeCom user id exists already."""


MAX_ID = 2**31  # ids are INTEGER columns: 32 bits on PostgreSQL


def valid_id(value: object) -> bool:
    """A database id: a positive int that fits the id columns (bool is not an id)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < MAX_ID
