"""The QQ transport: private messages ("qq") and features' group posts ("qq_group")."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

import nonebot
from nonebot.adapters.onebot.v11 import Bot, Message, MessageSegment

from bot.dispatch.loop import Senders
from bot.notify_texts import render
from bot.sending import SendFailure, as_message, classify_failure, send_group
from desk import OutboxItem

CHANNELS = ("qq", "qq_group")


def group_post(payload: dict) -> Message:
    """A feature's group post: `text`, after an @ of each id in `at` (e.g. the
    people a reminder is for)."""
    message = Message()
    for user_id in payload.get("at") or []:
        if str(user_id).isdigit():
            message += MessageSegment.at(int(user_id)) + " "
    return message + MessageSegment.text(str(payload.get("text") or ""))


async def send_dm(bot: Bot, tz: ZoneInfo, item: OutboxItem) -> SendFailure | None:
    text = render(item.kind, item.payload, tz)
    if not item.address or not item.address.isdigit() or not text:
        return SendFailure("no QQ address or empty text", uncertain=False, retryable=False)
    try:
        # Segments, not a str: the client would run CQ codes in a lead's nickname or message.
        await bot.send_private_msg(user_id=int(item.address), message=as_message(text))
    except Exception as exc:
        return classify_failure(exc)
    return None


async def post(bot: Bot, item: OutboxItem) -> SendFailure | None:
    """Through the group send queue: paced, and never retried after a timeout."""
    if not item.address or not item.address.isdigit() or not item.payload.get("text"):
        return SendFailure("no group id or empty text", uncertain=False, retryable=False)
    result = await send_group(bot, int(item.address), group_post(item.payload))
    if result.ok:
        return None
    error = result.error or ("may have arrived" if result.uncertain else "not sent")
    return SendFailure(error, uncertain=result.uncertain, retryable=result.retryable)


def senders(bot: Bot, tz: ZoneInfo) -> Senders:
    return {"qq": partial(send_dm, bot, tz), "qq_group": partial(post, bot)}


def connected(tz: ZoneInfo) -> Senders:
    """The QQ channels, while a QQ client is connected."""
    for bot in nonebot.get_bots().values():
        if isinstance(bot, Bot):
            return senders(bot, tz)
    return {}
