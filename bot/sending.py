"""The one way to post into a QQ group: `await send_group(bot, group_id, message)`.

Every outgoing group message takes a slot in one send queue: a global token
bucket plus one per group (bot.throttle), so a busy bot never floods a group or
the account (QQ mutes or bans floods). Messages to one group keep their order.

- Long text is split at line boundaries (SEND_MAX_LENGTH); more than
  SEND_FORWARD_THRESHOLD chunks go out as one forward message instead.
- A failed send is logged. A send that may have arrived (timed out, or refused
  by the client with anything but a "request refused" code: classify_failure) is
  never retried; a send surely not made is retried once.
- A `str` is always plain text: "[CQ:at,qq=all]" typed by a user stays text.
  (NoneBot's own `matcher.send("...")` parses CQ codes: prefer `reply` here.)
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from nonebot.adapters import Bot as BaseBot
from nonebot.adapters import Event as BaseEvent
from nonebot.adapters.onebot.v11 import (
    ActionFailed,
    Bot,
    GroupMessageEvent,
    Message,
    MessageSegment,
    NetworkError,
)
from nonebot.adapters.onebot.v11 import Event as OneBotEvent
from nonebot.exception import ApiNotAvailable as BaseApiNotAvailable
from nonebot.log import logger

from bot.adapters.wechat.client import ApiError as WeChatApiError
from bot.adapters.wechat.client import NetworkError as WeChatNetworkError
from bot.adapters.wechat.client import WeChatError
from bot.throttle import SendingConfig, Throttle, looks_like_timeout, plan_text
from desk.phone import mask_phones_in_text

__all__ = [
    "GroupSender",
    "SendFailure",
    "SendResult",
    "SendingConfig",
    "classify_failure",
    "configure_sending",
    "reply",
    "send_group",
]

Sendable = str | Message | MessageSegment


@dataclass
class SendResult:
    ok: bool
    message_ids: list[int] = field(default_factory=list)
    error: str | None = None
    uncertain: bool = False  # it may have arrived (in part): never resent
    retryable: bool = True  # surely not sent: worth another try later


# OneBot v11 retcodes for a request refused before its action ran (the WebSocket
# counterparts of HTTP 400/401/403/404). Every other failure code is the client's own,
# and some answer one even when the send itself went wrong (go-cqhttp: 100
# SEND_MSG_API_ERROR), so such a message may have arrived.
REFUSED_RETCODES = frozenset({1400, 1401, 1403, 1404})
FINAL_RETCODES = frozenset({1400, 1404})  # the same request is refused again


@dataclass(frozen=True, slots=True)
class SendFailure:
    error: str
    uncertain: bool  # it may have arrived: never send it again
    retryable: bool = True  # surely not sent: another try may work


def classify_failure(exc: BaseException, *, unknown_may_have_arrived: bool = False) -> SendFailure:
    """What a failed send means for a resend, for every transport (QQ, WeChat),
    conservatively: only a failure raised before the request went out, or a request
    the platform refused as such, was surely not sent. `unknown_may_have_arrived`:
    how to read an exception of no known kind (the OneBot adapter raises those
    before the request is on the wire; the WeChat client may raise them after)."""
    error = repr(exc)
    if isinstance(exc, WeChatApiError):  # WeChat answered with an error code: nothing happened
        return SendFailure(error, uncertain=False, retryable=exc.retryable)
    if isinstance(exc, WeChatNetworkError):  # uncertain when the request may have reached WeChat
        return SendFailure(error, uncertain=exc.uncertain)
    if isinstance(exc, WeChatError):  # cannot be made (e.g. no customer-contact secret)
        return SendFailure(error, uncertain=False, retryable=False)
    if isinstance(exc, ActionFailed):
        retcode = exc.info.get("retcode")
        text = " ".join(str(v) for v in exc.info.values())
        if type(retcode) is int and retcode in REFUSED_RETCODES and not looks_like_timeout(text):
            return SendFailure(error, uncertain=False, retryable=retcode not in FINAL_RETCODES)
        return SendFailure(error, uncertain=True)
    if isinstance(exc, BaseApiNotAvailable):  # no connection to the client, or no such action
        return SendFailure(error, uncertain=False)
    if isinstance(exc, NetworkError | TimeoutError):  # no answer after the request went out
        return SendFailure(error, uncertain=True)
    return SendFailure(error, uncertain=unknown_may_have_arrived)


_SURROGATE = re.compile("[\ud800-\udfff]")


def sendable_text(text: str) -> str:
    """`text` with lone surrogates (undecodable bytes of an input a reply echoes) as U+FFFD:
    a reply must encode to UTF-8, or the platform's API refuses the whole message."""
    return _SURROGATE.sub("\ufffd", text)


def as_message(message: Sendable) -> Message:
    """A Message; a str is one text segment (no CQ-code parsing). Text is made sendable."""
    if isinstance(message, MessageSegment):
        message = Message(message)
    if not isinstance(message, Message):
        return Message(MessageSegment.text(sendable_text(str(message))))
    if not any(seg.is_text() and _SURROGATE.search(seg.data.get("text", "")) for seg in message):
        return message
    return Message(
        MessageSegment.text(sendable_text(seg.data.get("text", ""))) if seg.is_text() else seg
        for seg in message
    )


def masked_phones(message: Message) -> Message:
    """The message with every mobile number in its text masked: a group reply never
    shows one in full, whatever a user typed into the text it echoes."""
    return Message(
        MessageSegment.text(mask_phones_in_text(seg.data.get("text", ""))) if seg.is_text() else seg
        for seg in message
    )


def _text_only(message: Message) -> tuple[Message, str] | None:
    """(leading non-text segments such as @ or reply, the text) or None when text and
    other segments are interleaved and the message cannot be split."""
    head = Message()
    index = 0
    while index < len(message) and message[index].type in ("at", "reply"):
        head.append(message[index])
        index += 1
    rest = message[index:]
    if not all(seg.is_text() for seg in rest):
        return None
    return head, "".join(seg.data.get("text", "") for seg in rest)


class GroupSender:
    """The send queue. Tests build one with a fake clock and sleep."""

    def __init__(
        self,
        config: SendingConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.config = config or SendingConfig()
        self.throttle = Throttle(self.config)
        self._clock = clock
        self._sleep = sleep
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, group_id: int) -> asyncio.Lock:
        if len(self._locks) > Throttle.PRUNE_ABOVE:
            self._locks = {g: lk for g, lk in self._locks.items() if lk.locked()}
        return self._locks.setdefault(group_id, asyncio.Lock())

    def _payloads(self, bot: Bot, message: Sendable) -> list[tuple[str, dict[str, Any]]]:
        """The API calls that deliver `message`: [(action, params), ...]."""
        msg = as_message(message)
        split = _text_only(msg)
        if split is None:
            return [("send_group_msg", {"message": msg})] if msg else []
        head, text = split
        if not head and not text.strip():
            return []
        if len(text) <= self.config.send_max_length:
            return [("send_group_msg", {"message": msg})]
        plan = plan_text(text, self.config)
        if plan.kind == "forward":
            uin = int(bot.self_id) if bot.self_id.isdigit() else 0
            nickname = self.config.send_forward_nickname
            nodes = Message(
                MessageSegment.node_custom(uin, nickname, as_message(chunk))
                for chunk in plan.chunks
            )
            calls = [("send_group_forward_msg", {"messages": nodes})]
            return ([("send_group_msg", {"message": head})] if head else []) + calls
        messages = [as_message(chunk) for chunk in plan.chunks]
        if messages and head:
            messages[0] = head + messages[0]
        return [("send_group_msg", {"message": m}) for m in messages]

    async def send(self, bot: Bot, group_id: int, message: Sendable) -> SendResult:
        """Queue `message` for `group_id` and wait until it is sent (or given up)."""
        calls = self._payloads(bot, message)
        result = SendResult(ok=True)
        async with self._lock(group_id):
            for done, (action, params) in enumerate(calls):
                one = await self._send_one(bot, group_id, action, params)
                result.message_ids.extend(one.message_ids)
                if not one.ok:  # the rest would make no sense without this part
                    # Parts already sent make a resend repeat them: uncertain too.
                    uncertain = one.uncertain or done > 0
                    return SendResult(
                        False, result.message_ids, one.error, uncertain, one.retryable
                    )
        return result

    async def _wait_for_slot(self, group_id: int, action: str) -> bool:
        """Wait for the group's slot, then a global one; False when the wait is too long."""
        now = self._clock()
        delay = self.throttle.group_earliest(group_id, now) - now
        if delay <= self.config.send_max_wait_seconds:
            if delay > 0:
                await self._sleep(delay)
            now = self._clock()
            delay = self.throttle.take_global(now) - now
            if delay <= self.config.send_max_wait_seconds:
                if delay > 0:
                    await self._sleep(delay)
                self.throttle.take_group(group_id, self._clock())
                return True
        logger.warning(f"group {group_id}: send queue too long ({delay:.0f}s); {action} dropped")
        return False

    async def _send_one(
        self, bot: Bot, group_id: int, action: str, params: dict[str, Any]
    ) -> SendResult:
        for attempt in (1, 2):
            if not await self._wait_for_slot(group_id, action):
                return SendResult(False, error="queue too long")
            try:
                data = await bot.call_api(action, group_id=group_id, **params)
            except Exception as exc:
                failure = classify_failure(exc)
                if failure.uncertain:
                    logger.warning(
                        f"group {group_id}: {action} may have arrived; not retried: {exc!r}"
                    )
                    return SendResult(False, error=failure.error, uncertain=True)
                if attempt == 1 and failure.retryable:
                    logger.warning(f"group {group_id}: {action} failed, retrying once: {exc!r}")
                    await self._sleep(self.config.send_retry_delay_seconds)
                    continue
                logger.error(f"group {group_id}: {action} not sent, giving up: {exc!r}")
                return SendResult(False, error=failure.error, retryable=failure.retryable)
            message_id = data.get("message_id") if isinstance(data, dict) else None
            return SendResult(True, [message_id] if isinstance(message_id, int) else [])
        raise AssertionError("unreachable")


class _Current:
    sender: GroupSender | None = None


def configure_sending(config: SendingConfig | None = None, **kwargs: Any) -> GroupSender:
    """Install the process's send queue (bot.app calls this at start; tests may too)."""
    _Current.sender = GroupSender(config, **kwargs)
    return _Current.sender


def get_sender() -> GroupSender:
    if _Current.sender is None:
        _Current.sender = GroupSender()
    return _Current.sender


async def send_group(bot: Bot, group_id: int, message: Sendable) -> SendResult:
    """Send into a group through the rate-limited queue. Never raises for a failed send."""
    return await get_sender().send(bot, int(group_id), message)


async def reply(bot: BaseBot, event: BaseEvent, message: Sendable) -> SendResult:
    """Answer where `event` came from: QQ groups through the queue (phones masked),
    DMs directly; on WeChat (WeCom app, Official Account) as plain text to the sender."""
    if isinstance(event, GroupMessageEvent) and isinstance(bot, Bot):
        return await send_group(bot, event.group_id, masked_phones(as_message(message)))
    try:
        if isinstance(event, OneBotEvent):
            data = await bot.send(event, as_message(message))
        else:  # an @ has no meaning in a DM on another platform: keep the text
            data = await bot.send(event, as_message(message).extract_plain_text())
    except Exception as exc:
        logger.warning(f"reply to {event.get_session_id()} failed: {exc!r}")
        failure = classify_failure(exc)
        return SendResult(False, error=failure.error, uncertain=failure.uncertain,
                          retryable=failure.retryable)  # fmt: skip
    message_id = data.get("message_id") if isinstance(data, dict) else None
    return SendResult(True, [message_id] if isinstance(message_id, int) else [])
