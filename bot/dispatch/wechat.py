"""The WeChat transports, over the WeChat adapter's bots (bot.adapters.wechat):

- "wecom": staff DMs as WeCom app messages (markdown when the payload asks);
- "wechat_oa": DMs to Official Account followers as customer-service messages;
- "wecom_group": posts for WeCom customer groups (address = chat id, payload
  "sender" = the group owner's userid) as mass-send tasks
  (externalcontact/add_msg_template). WeCom sends a task only after the owner
  confirms it in WeCom, so "sent" there means the task was created (its msgid
  is logged).

A long DM goes out in pieces; once a piece has gone, a failure is uncertain (a
resend would repeat the pieces). Anything unexpected after the request may have
left is uncertain too (classify_failure(..., unknown_may_have_arrived=True)).
"""

from __future__ import annotations

import logging
from functools import partial
from zoneinfo import ZoneInfo

import nonebot

from bot.adapters.wechat.bot import Bot
from bot.adapters.wechat.event import Platform
from bot.adapters.wechat.message import chunks
from bot.dispatch.loop import Send, Senders
from bot.notify_texts import render
from bot.sending import SendFailure, classify_failure
from desk import OutboxItem

log = logging.getLogger(__name__)

CHANNELS: dict[str, Platform] = {"wecom": "wecom", "wechat_oa": "oa", "wecom_group": "wecom"}
# WeCom's limit for a mass-send text, in bytes: a task is never split (each piece
# would need the owner's confirmation).
MASS_SEND_MAX_BYTES = 4000


def enabled() -> bool:
    """Whether the WeChat adapter is registered (some app is configured)."""
    try:
        nonebot.get_adapter("WeChat")
    except ValueError:
        return False
    return True


def _final(error: str) -> SendFailure:
    return SendFailure(error, uncertain=False, retryable=False)


async def send_dm(bot: Bot, tz: ZoneInfo, item: OutboxItem) -> SendFailure | None:
    text = render(item.kind, item.payload, tz)
    if not item.address or not text.strip():
        return _final("no WeChat address or empty text")
    markdown = bot.platform == "wecom" and item.payload.get("format") == "markdown"
    action = "send_markdown" if markdown else "send_text"
    field = "content" if markdown else "text"
    sent = 0
    try:
        for part in chunks(text):
            await bot.call_api(action, user_id=item.address, **{field: part})
            sent += 1
    except Exception as exc:
        failure = classify_failure(exc, unknown_may_have_arrived=True)
        if sent and not failure.uncertain:  # the first pieces arrived: resending repeats them
            return SendFailure(f"partly sent: {failure.error}", uncertain=True)
        return failure
    return None


async def mass_send(bot: Bot, tz: ZoneInfo, item: OutboxItem) -> SendFailure | None:
    """A customer-group mass-send task for one chat, in its owner's name."""
    text = render(item.kind, item.payload, tz)
    if not item.address or not text.strip():
        return _final("no chat id or empty text")
    sender = item.payload.get("sender")
    if not isinstance(sender, str) or not sender:
        return _final("mass-send without a sender")
    if len(text.encode("utf-8")) > MASS_SEND_MAX_BYTES:
        return _final("mass-send text too long")
    try:
        result = await bot.call_api(
            "add_group_msg_template", sender=sender, text=text, chat_ids=[item.address]
        )
    except Exception as exc:
        return classify_failure(exc, unknown_may_have_arrived=True)
    failed = result.get("fail_list") if isinstance(result, dict) else None
    msgid = result.get("msgid") if isinstance(result, dict) else None
    if isinstance(failed, list) and item.address in failed:
        return _final(f"chat in fail_list (msgid {msgid})")
    log.info("WeCom mass-send %s queued for chat %s: msgid %s", item.key, item.address, msgid)
    return None


def senders(bot: Bot, tz: ZoneInfo) -> Senders:
    """The channels `bot` delivers (by its platform)."""
    sends: dict[str, Send] = {}
    for channel, platform in CHANNELS.items():
        if bot.platform == platform:
            send = mass_send if channel == "wecom_group" else send_dm
            sends[channel] = partial(send, bot, tz)
    return sends


def connected(tz: ZoneInfo) -> Senders:
    """The WeChat channels of the connected apps."""
    sends: dict[str, Send] = {}
    for bot in nonebot.get_bots().values():
        if isinstance(bot, Bot):
            sends.update(senders(bot, tz))
    return sends
