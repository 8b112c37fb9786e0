"""Claim one notification, send it on its channel, report the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from zoneinfo import ZoneInfo

from bot.sending import SendFailure
from desk import Desk, OutboxItem

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
IDLE_SECONDS = 2.0
BATCH = 1  # claimed one at a time, just before its send: see desk.outbox.claim

# Sends one notification: None when sent, else what the failure means for a resend.
Send = Callable[[OutboxItem], Awaitable[SendFailure | None]]
Senders = Mapping[str, Send]  # outbox channel -> its send, for the connected bots
Connected = Callable[[ZoneInfo], Senders]


async def finish(desk: Desk, item: OutboxItem, failure: SendFailure | None) -> None:
    """Tell the desk how the send went (the desk masks phones in sent payloads)."""
    if failure is None:
        await desk.notification_sent(item.id)
        return
    if failure.uncertain:
        log.warning("%s %s to %s may have arrived; not resent: %s",
                    item.channel, item.key, item.address, failure.error)  # fmt: skip
        await desk.notification_uncertain(item.id, failure.error)
    else:
        log.warning("%s %s to %s not sent: %s", item.channel, item.key, item.address, failure.error)
        await desk.notification_failed(item.id, failure.error, retryable=failure.retryable)


async def deliver_one(desk: Desk, senders: Senders, item: OutboxItem) -> None:
    send = senders.get(item.channel)
    if send is None:  # claimed for a channel no transport serves: a programming error
        failure = SendFailure(f"no transport for channel {item.channel!r}", uncertain=False)
    else:
        try:
            failure = await send(item)
        except Exception as exc:  # a transport's bug after the send may have started
            log.exception("%s %s to %s failed", item.channel, item.key, item.address)
            failure = SendFailure(repr(exc), uncertain=True)
    await finish(desk, item, failure)


async def deliver_round(desk: Desk, senders: Senders) -> int:
    """Claim one notification on `senders`' channels and deliver it; how many were handled."""
    if not senders:
        return 0
    items = await desk.claim_notifications(list(senders), BATCH)
    for item in items:
        await deliver_one(desk, senders, item)
    return len(items)


async def delivery_loop(desk: Desk, stop: asyncio.Event, connected: Connected) -> None:
    """Rounds until `stop`: at once while there is work, else after a short pause."""
    while not stop.is_set():
        pause = IDLE_SECONDS
        try:
            senders = connected(desk.settings.tz)
            if senders:
                pause = 0 if await deliver_round(desk, senders) == BATCH else POLL_SECONDS
        except Exception:
            log.exception("outbox delivery round failed; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
