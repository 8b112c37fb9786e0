"""Delivers the desk's outbox as QQ private messages and group posts, and runs
its schedules (the desk's and the features').

One background task claims notifications only while a QQ client is
connected (so a disconnected client fails nothing), one at a time just before
sending it (its lease then covers its own send only), and reports back: sent;
surely not sent (retried by the desk with backoff); or maybe arrived (timed
out, or refused by the client with its own error code: uncertain, never resent
blindly). bot.sending.classify_failure tells the last two apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nonebot
from nonebot.adapters.onebot.v11 import Bot, Message, MessageSegment

from bot.notify_texts import render
from bot.sending import SendFailure, as_message, classify_failure, send_group
from desk import Desk, OutboxItem

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
IDLE_SECONDS = 2.0
SCHEDULE_SECONDS = 60.0


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
        await desk.notification_uncertain(item.id, result.error or "may have arrived")
    else:
        error = result.error or "not sent"
        await desk.notification_failed(item.id, error, retryable=result.retryable)


async def report_failure(desk: Desk, item: OutboxItem, failure: SendFailure) -> None:
    if failure.uncertain:
        await desk.notification_uncertain(item.id, failure.error)
    else:
        await desk.notification_failed(item.id, failure.error, retryable=failure.retryable)


async def deliver_one(desk: Desk, bot: Bot, item: OutboxItem) -> None:
    if item.channel == "qq_group":
        await post_one(desk, bot, item)
        return
    text = render(item.kind, item.payload, desk.settings.tz)
    if not item.address or not item.address.isdigit() or not text:
        await desk.notification_failed(item.id, "no QQ address or empty text", retryable=False)
        return
    try:
        # Segments, not a str: the client would run CQ codes in a lead's nickname or message.
        await bot.send_private_msg(user_id=int(item.address), message=as_message(text))
    except Exception as exc:
        failure = classify_failure(exc)
        outcome = "may have arrived; not retried" if failure.uncertain else "not sent"
        log.warning("DM %s to %s %s: %r", item.key, item.address, outcome, exc)
        await report_failure(desk, item, failure)
    else:
        await desk.notification_sent(item.id)


async def deliver_round(desk: Desk, bot: Bot) -> int:
    """Claim one notification and deliver it; returns how many were handled."""
    items = await desk.claim_notifications(QQ_CHANNELS, 1)
    for item in items:
        await deliver_one(desk, bot, item)
    return len(items)


async def delivery_loop(desk: Desk, stop: asyncio.Event) -> None:
    while not stop.is_set():
        pause = IDLE_SECONDS
        try:
            bot = connected_qq_bot()
            if bot is not None:
                pause = 0 if await deliver_round(desk, bot) else POLL_SECONDS
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
