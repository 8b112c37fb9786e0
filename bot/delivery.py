"""Delivers the desk's outbox as QQ private messages and group posts, and runs
its schedules (the desk's and the features').

One background task claims notifications only while a QQ client is
connected (so a disconnected client fails nothing), sends each, and reports
back: sent; failed for sure (retried by the desk with backoff); or timed out
(uncertain: it may have arrived, so it is never resent blindly).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nonebot
from nonebot.adapters.onebot.v11 import ActionFailed, Bot, Message, MessageSegment, NetworkError

from bot.notify_texts import render
from bot.sending import as_message, send_group
from desk import Desk, OutboxItem

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
IDLE_SECONDS = 2.0
SCHEDULE_SECONDS = 60.0
BATCH = 20


def connected_qq_bot() -> Bot | None:
    for bot in nonebot.get_bots().values():
        if isinstance(bot, Bot):
            return bot
    return None


QQ_CHANNELS = ["qq", "qq_group"]


def group_post(payload: dict) -> Message:
    """A feature's group post: `text`, after an @ of each id in `at` (e.g. the
    people a reminder is for)."""
    message = Message()
    for user_id in payload.get("at") or []:
        if str(user_id).isdigit():
            message += MessageSegment.at(int(user_id)) + " "
    return message + MessageSegment.text(str(payload.get("text") or ""))


async def post_one(desk: Desk, bot: Bot, item: OutboxItem) -> None:
    """Through the group send queue: paced, and never retried after a timeout."""
    if not item.address or not item.address.isdigit() or not item.payload.get("text"):
        await desk.notification_failed(item.id, "no group id or empty text", retryable=False)
        return
    result = await send_group(bot, int(item.address), group_post(item.payload))
    if result.ok:
        await desk.notification_sent(item.id)
    elif result.uncertain:
        await desk.notification_uncertain(item.id, result.error or "timed out")
    else:
        await desk.notification_failed(item.id, result.error or "not sent")


async def deliver_one(desk: Desk, bot: Bot, item: OutboxItem) -> None:
    if item.channel == "qq_group":
        await post_one(desk, bot, item)
        return
    text = render(item.kind, item.payload, desk.settings.tz)
    try:
        if not item.address or not item.address.isdigit() or not text:
            await desk.notification_failed(item.id, "no QQ address or empty text", retryable=False)
            return
        # Segments, not a str: the client would run CQ codes in a lead's nickname or message.
        await bot.send_private_msg(user_id=int(item.address), message=as_message(text))
    except NetworkError as exc:  # timed out after the request went out
        log.warning("DM %s to %s timed out; not retried: %s", item.key, item.address, exc)
        await desk.notification_uncertain(item.id, str(exc))
    except ActionFailed as exc:
        log.warning("DM %s to %s refused by the client: %s", item.key, item.address, exc)
        await desk.notification_failed(item.id, f"action failed: {exc}")
    except Exception as exc:  # connection dropped before sending: safe to retry
        log.warning("DM %s to %s not sent: %r", item.key, item.address, exc)
        await desk.notification_failed(item.id, repr(exc))
    else:
        await desk.notification_sent(item.id)


async def delivery_loop(desk: Desk, stop: asyncio.Event) -> None:
    while not stop.is_set():
        pause = IDLE_SECONDS
        try:
            bot = connected_qq_bot()
            if bot is not None:
                items = await desk.claim_notifications(QQ_CHANNELS, BATCH)
                for item in items:
                    await deliver_one(desk, bot, item)
                pause = 0 if len(items) == BATCH else POLL_SECONDS
        except Exception:
            log.exception("outbox delivery round failed; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)


async def schedule_loop(desk: Desk, stop: asyncio.Event) -> None:
    """Queues digests, reports, escalations and the features' scheduled posts; the
    desk's keys make reruns harmless."""
    while not stop.is_set():
        try:
            await desk.run_schedules()
        except Exception:
            log.exception("scheduled jobs failed; trying again next minute")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SCHEDULE_SECONDS)
