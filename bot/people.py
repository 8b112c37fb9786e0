"""People across platforms, for the features' services. Pure: no NoneBot.

Features key people by `Origin.handle` ("qq:20001", "wecom:zhangsan",
"wechat:o6_bmjrPTlm6_2sgVt7hMZOPfL2M"), the desk's referrer format, so points
and referrals follow a person on one platform. bot.platform builds an Origin
from an adapter's event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from desk import Desk, MemberView

Platform = Literal["qq", "wecom", "wechat_oa"]
# The desk's handle prefixes (desk.assignment.REFERRER_KINDS).
HANDLE_PREFIX: dict[str, str] = {"qq": "qq", "wecom": "wecom", "wechat_oa": "wechat"}


@dataclass(frozen=True)
class Origin:
    platform: Platform
    self_id: str  # the bot account that received it
    user_id: str
    group_id: str | None  # None: a direct message
    nickname: str | None
    message_id: str | None

    @property
    def handle(self) -> str:
        return f"{HANDLE_PREFIX[self.platform]}:{self.user_id}"

    @property
    def event_key(self) -> str | None:
        """The platform's id of this message, for the desk's one-effect-per-event keys."""
        if self.message_id is None:
            return None
        return f"{self.platform}:{self.self_id}:msg:{self.message_id}"


async def staff_member(desk: Desk, platform: str, user_id: str) -> MemberView | None:
    """The roster member behind this account: QQ ids and WeCom user ids are on the
    roster; an Official Account follower is never staff."""
    if platform == "qq":
        return await desk.member_by(qq_id=user_id)
    if platform == "wecom":
        return await desk.member_by(wecom_userid=user_id)
    return None
