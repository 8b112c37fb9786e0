"""Delivers the desk's outbox over WeChat: staff DMs whose dm_channel is "wecom"
as WeCom app messages, DMs to Official Account followers ("wechat_oa") as
customer-service messages, and posts for WeCom customer groups ("wecom_group",
address = chat id, payload "sender" = the group owner's userid) as mass-send
tasks (externalcontact/add_msg_template). WeCom sends a task only after the
owner confirms it in WeCom, so "sent" there means the task was created (its
msgid is logged). Same contract as the QQ loop (bot/delivery.py):

- claimed only while the app's Bot is connected;
- sent -> notification_sent; WeChat refused (error code) -> notification_failed
  (retried by the desk with backoff unless the code is final, e.g. unknown user);
- no answer after the request may have left (read timeout, a piece of a long
  text already sent, anything unexpected) -> notification_uncertain: never
  resent blindly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nonebot

from bot.adapters.wechat.bot import Bot
from bot.adapters.wechat.client import ApiError, NetworkError, WeChatError
from bot.adapters.wechat.event import Platform
from bot.adapters.wechat.message import chunks
from bot.notify_texts import render
from desk import Desk, OutboxItem

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
IDLE_SECONDS = 2.0
BATCH = 1  # claimed one at a time, just before its send: see desk.outbox.claim
CHANNELS: dict[str, Platform] = {"wecom": "wecom", "wechat_oa": "oa", "wecom_group": "wecom"}
# WeCom's limit for a mass-send text, in bytes: a task is never split (each piece
# would need the owner's confirmation).
MASS_SEND_MAX_BYTES = 4000


def wechat_enabled() -> bool:
    """Whether the WeChat adapter is registered (some app is configured)."""
    try:
        nonebot.get_adapter("WeChat")
    except ValueError:
        return False
    return True


def connected_bots() -> dict[str, Bot]:
    """Outbox channel -> the connected Bot that delivers it."""
    bots: dict[str, Bot] = {}
    for bot in nonebot.get_bots().values():
        if isinstance(bot, Bot):
            for channel, platform in CHANNELS.items():
                if bot.platform == platform:
                    bots[channel] = bot
    return bots


async def deliver_mass_send(desk: Desk, bot: Bot, item: OutboxItem, text: str) -> None:
    """A customer-group mass-send task for one chat, in its owner's name."""
    sender = item.payload.get("sender")
    if not isinstance(sender, str) or not sender:
        await desk.notification_failed(item.id, "mass-send without a sender", retryable=False)
        return
    if len(text.encode("utf-8")) > MASS_SEND_MAX_BYTES:
        await desk.notification_failed(item.id, "mass-send text too long", retryable=False)
        return
    try:
        result = await bot.call_api(
            "add_group_msg_template", sender=sender, text=text, chat_ids=[item.address]
        )
    except ApiError as exc:
        log.warning("WeCom mass-send %s to %s refused: %s", item.key, item.address, exc)
        await desk.notification_failed(item.id, str(exc), retryable=exc.retryable)
        return
    except NetworkError as exc:
        log.warning("WeCom mass-send %s to %s: %s", item.key, item.address, exc)
        if exc.uncertain:
            await desk.notification_uncertain(item.id, str(exc))
        else:
            await desk.notification_failed(item.id, str(exc))
        return
    except WeChatError as exc:  # not configured (no customer-contact secret): never sent
        log.warning("WeCom mass-send %s not possible: %s", item.key, exc)
        await desk.notification_failed(item.id, str(exc), retryable=False)
        return
    except Exception as exc:  # unknown: the task may exist
        log.exception("WeCom mass-send %s to %s failed", item.key, item.address)
        await desk.notification_uncertain(item.id, repr(exc))
        return
    failed = result.get("fail_list") if isinstance(result, dict) else None
    msgid = result.get("msgid") if isinstance(result, dict) else None
    if isinstance(failed, list) and item.address in failed:
        log.warning("WeCom mass-send %s: chat %s refused (msgid %s)", item.key, item.address, msgid)
        await desk.notification_failed(
            item.id, f"chat in fail_list (msgid {msgid})", retryable=False
        )
        return
    log.info("WeCom mass-send %s queued for chat %s: msgid %s", item.key, item.address, msgid)
    await desk.notification_sent(item.id)


async def deliver_one(desk: Desk, bot: Bot, item: OutboxItem) -> None:
    text = render(item.kind, item.payload, desk.settings.tz)
    if item.channel == "wecom_group":
        if not item.address or not text.strip():
            await desk.notification_failed(item.id, "no chat id or empty text", retryable=False)
            return
        await deliver_mass_send(desk, bot, item, text)
        return
    if not item.address or not text.strip():
        await desk.notification_failed(item.id, "no WeChat address or empty text", retryable=False)
        return
    markdown = bot.platform == "wecom" and item.payload.get("format") == "markdown"
    action = "send_markdown" if markdown else "send_text"
    field = "content" if markdown else "text"
    sent = 0
    try:
        for part in chunks(text):
            await bot.call_api(action, user_id=item.address, **{field: part})
            sent += 1
    except ApiError as exc:
        log.warning("WeChat DM %s to %s refused: %s", item.key, item.address, exc)
        if sent:  # the first pieces arrived: resending would repeat them
            await desk.notification_uncertain(item.id, f"partly sent: {exc}")
        else:
            await desk.notification_failed(item.id, str(exc), retryable=exc.retryable)
    except NetworkError as exc:
        log.warning("WeChat DM %s to %s: %s", item.key, item.address, exc)
        if exc.uncertain or sent:
            await desk.notification_uncertain(item.id, str(exc))
        else:
            await desk.notification_failed(item.id, str(exc))
    except Exception as exc:  # unknown: it may have gone out
        log.exception("WeChat DM %s to %s failed", item.key, item.address)
        await desk.notification_uncertain(item.id, repr(exc))
    else:
        await desk.notification_sent(item.id)


async def deliver_round(desk: Desk) -> int:
    """One claim-and-send round; returns how many notifications were handled."""
    bots = connected_bots()
    if not bots:
        return 0
    items = await desk.claim_notifications(list(bots), BATCH)
    for item in items:
        await deliver_one(desk, bots[item.channel], item)
    return len(items)


async def wechat_delivery_loop(desk: Desk, stop: asyncio.Event) -> None:
    while not stop.is_set():
        pause = IDLE_SECONDS
        try:
            handled = await deliver_round(desk)
            pause = 0 if handled == BATCH else POLL_SECONDS
        except Exception:
            log.exception("WeChat outbox delivery round failed; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
