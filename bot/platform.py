"""From any adapter's message event (QQ through OneBot v11, WeCom and the
Official Account through bot.adapters.wechat) to the `bot.people.Origin` the
features' services work with."""

from __future__ import annotations

from nonebot.adapters import Bot, Event
from nonebot.adapters.onebot.v11 import Bot as OneBotBot
from nonebot.adapters.onebot.v11 import GroupMessageEvent as OneBotGroupMessage
from nonebot.adapters.onebot.v11 import MessageEvent as OneBotMessage
from nonebot.adapters.onebot.v11.event import Reply

from bot.adapters.wechat import Event as WeChatEvent
from bot.adapters.wechat import MessageEvent as WeChatMessage
from bot.people import Origin, Platform
from desk.phone import extract_phones


def platform_of(bot: Bot, event: Event | None = None) -> Platform:
    if isinstance(bot, OneBotBot):
        return "qq"
    if isinstance(event, WeChatEvent):
        return "wechat_oa" if event.platform == "oa" else "wecom"
    return "wechat_oa" if bot.self_id.startswith("oa:") else "wecom"


def is_message(event: Event) -> bool:
    """A message from a person (QQ group or DM, WeCom app or Official Account DM)."""
    return isinstance(event, OneBotMessage | WeChatMessage)


def in_group(event: Event) -> bool:
    return isinstance(event, OneBotGroupMessage)


def origin_of(bot: Bot, event: Event) -> Origin:
    """Who sent a message event (see is_message), where, with its platform id."""
    if isinstance(event, OneBotMessage):
        nickname = (event.sender.card or event.sender.nickname) if event.sender else None
        group = str(event.group_id) if isinstance(event, OneBotGroupMessage) else None
        return Origin(
            "qq", bot.self_id, str(event.user_id), group, nickname or None, str(event.message_id)
        )
    message_id = getattr(event, "msg_id", None) or getattr(event, "message_id", None)
    return Origin(
        platform_of(bot, event),
        bot.self_id,
        event.get_user_id(),
        None,  # WeCom customer groups push no messages to an app: WeChat messages are DMs
        None,
        str(message_id) if message_id else None,
    )


def quoted(event: Event) -> Reply | None:
    """The message a QQ message quote-replies (引用回复): the OneBot adapter fetched
    it with get_msg and took the reply segment out of the message. None otherwise
    (WeChat has no quote the bot is told of)."""
    return event.reply if isinstance(event, OneBotMessage) else None


def tells_of_a_lead(event: Event, args: str) -> bool:
    """`线索` as a quote-reply, or with a phone number (线索 <手机号> <原话>): staff
    telling the bot of a lead it missed (the intent plugin), not asking for a
    lead's detail (线索 <号>, the desk chat)."""
    return quoted(event) is not None or bool(extract_phones(args))
