"""NoneBot2 adapter for WeChat over wechatpy: a WeCom self-built app (staff DMs,
customer-group and customer-contact events) and an Official Account
(followers' DMs). Registered by bot.app only when its settings are present;
see config.py for the keys and adapter.py for the routes and actions.

Plugins written against `nonebot.adapters.Bot/Event` work unchanged: a DM's
`get_plaintext()`, `get_user_id()` and `bot.send(event, text)` behave as on QQ.
"""

from bot.adapters.wechat.adapter import Adapter, register_wechat
from bot.adapters.wechat.bot import Bot
from bot.adapters.wechat.config import WeChatSettings, parse_settings
from bot.adapters.wechat.event import (
    Event,
    ExternalChatChangeEvent,
    ExternalContactChangeEvent,
    MessageEvent,
    NoticeEvent,
    OAMessageEvent,
    WeComMessageEvent,
)
from bot.adapters.wechat.message import Message, MessageSegment

__all__ = [
    "Adapter",
    "Bot",
    "Event",
    "ExternalChatChangeEvent",
    "ExternalContactChangeEvent",
    "Message",
    "MessageEvent",
    "MessageSegment",
    "NoticeEvent",
    "OAMessageEvent",
    "WeChatSettings",
    "WeComMessageEvent",
    "parse_settings",
    "register_wechat",
]
