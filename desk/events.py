"""Domain events: other modules react to lead changes without the desk
importing them. Events are published after the transaction commits, so a
handler only ever sees durable state; a failing handler is logged and does
not undo the change."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeadEvent:
    lead_id: int
    at: datetime
    actor: str


@dataclass(frozen=True)
class LeadCaptured(LeadEvent):
    channel: str
    referrer: str | None
    created: bool  # False: an existing lead seen again (撞单)
    reopened: bool


@dataclass(frozen=True)
class StageChanged(LeadEvent):
    old_stage: str
    new_stage: str
    referrer: str | None


Handler = Callable[[LeadEvent], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[type[LeadEvent], Handler]] = []

    def subscribe(self, event_type: type[LeadEvent], handler: Handler) -> None:
        self._handlers.append((event_type, handler))

    def unsubscribe(self, handler: Handler) -> None:
        self._handlers = [(t, h) for t, h in self._handlers if h is not handler]

    async def publish(self, events: list[LeadEvent]) -> None:
        for event in events:
            for event_type, handler in list(self._handlers):
                if isinstance(event, event_type):
                    try:
                        await handler(event)
                    except Exception:
                        log.exception("event handler %r failed on %r", handler, event)
