"""nonebug bots for the two WeChat platforms, named as the adapter names them
(`oa:<app id>`, `wecom:<corp id>:<agent id>`, the fake WeChat API's accounts)."""

from __future__ import annotations

from typing import Any

from bot.adapters.wechat import Bot as WeChatBot
from tests.support.fake_wechat import AGENT_ID, CORP_ID, OA_APP_ID

OA_SELF = f"oa:{OA_APP_ID}"
WECOM_SELF = f"wecom:{CORP_ID}:{AGENT_ID}"


def oa_bot(ctx: Any) -> WeChatBot:
    """The Official Account's bot in a nonebug `ctx`."""
    return ctx.create_bot(
        base=WeChatBot, adapter=ctx.create_adapter(), self_id=OA_SELF, platform="oa"
    )


def wecom_bot(ctx: Any) -> WeChatBot:
    """The WeCom app's bot in a nonebug `ctx`."""
    return ctx.create_bot(
        base=WeChatBot, adapter=ctx.create_adapter(), self_id=WECOM_SELF, platform="wecom"
    )
