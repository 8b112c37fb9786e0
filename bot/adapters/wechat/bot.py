"""One Bot per WeChat app: "wecom:<corp>:<agent>" (the self-built app) and
"oa:<appid>" (the Official Account).

`send(event, message)` answers the sender: a WeCom app message to a staff
member, a customer-service message to an OA follower. Long texts go out in
pieces WeChat accepts. Other calls go through `call_api` (see adapter
`_call_api` for the action names), e.g. `await bot.send_text(user_id=..., text=...)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nonebot.adapters import Bot as BaseBot
from nonebot.adapters import Event as BaseEvent
from nonebot.adapters import Message as BaseMessage
from nonebot.adapters import MessageSegment as BaseSegment
from typing_extensions import override

from bot.adapters.wechat.event import MessageEvent, Platform
from bot.adapters.wechat.message import Message, MessageSegment

if TYPE_CHECKING:
    from bot.adapters.wechat.adapter import Adapter


class Bot(BaseBot):
    adapter: Adapter  # pyright: ignore[reportIncompatibleVariableOverride]

    def __init__(self, adapter: Adapter, self_id: str, platform: Platform) -> None:
        super().__init__(adapter, self_id)
        self.platform: Platform = platform

    @override
    async def send(
        self, event: BaseEvent, message: str | BaseMessage | BaseSegment, **kwargs: Any
    ) -> list[dict[str, Any]]:
        if not isinstance(event, MessageEvent) or event.platform != self.platform:
            raise ValueError(f"cannot answer {event.get_event_name()} from {self.self_id}")
        return await self.send_to(event.get_user_id(), message)

    async def send_to(self, user_id: str, message: str | BaseMessage | BaseSegment) -> list[dict]:
        """A message to a WeCom userid / an OA openid, whether or not they wrote first
        (the OA only delivers within 48 h of the follower's last message)."""
        msg = _as_message(message)
        if self.platform == "wecom" and msg.is_markdown():
            return await self.call_api(
                "send_markdown", user_id=user_id, content=msg.outgoing_text()
            )
        return await self.call_api("send_text", user_id=user_id, text=msg.outgoing_text())


def _as_message(message: str | BaseMessage | BaseSegment) -> Message:
    """Our Message; another adapter's segments count by their text."""
    if isinstance(message, Message | MessageSegment | str):
        return Message(message)
    return Message(MessageSegment.text(str(message)))
