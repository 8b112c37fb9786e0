"""Who may use what: the roles a chat user holds.

Roles are ranked member < consultant < manager, and `asker_roles` returns the
implied lower roles too, so "may use" is just `required in roles`.
"""

from __future__ import annotations

from nonebot.adapters import Bot, Event
from nonebot.permission import SUPERUSER

from bot.desk_runtime import get_desk
from bot.people import staff_member
from bot.platform import platform_of

MEMBER = "member"  # anyone in a group or DM: owners, prospects
CONSULTANT = "consultant"  # 网销顾问 / 直销员 in the roster
MANAGER = "manager"  # 销售经理: SUPERUSERS and roster managers

ROLES = (MEMBER, CONSULTANT, MANAGER)  # lowest first


def with_implied(role: str) -> set[str]:
    """{"manager"} -> {"member", "consultant", "manager"}."""
    return set(ROLES[: ROLES.index(role) + 1])


async def is_superuser(bot: Bot, event: Event) -> bool:
    """Whether the sender is in SUPERUSERS. Those are QQ ids: on WeChat a WeCom
    userid or an openid that merely spells the same digits (an employee number)
    is someone else; WeCom managers are roster managers (their wecom_userid)."""
    return platform_of(bot, event) == "qq" and await SUPERUSER(bot, event)


async def asker_roles(bot: Bot, event: Event) -> set[str]:
    """The roles of the event's sender, implied ones included: SUPERUSERS and
    roster managers are managers, roster consultants consultants, the rest members."""
    if await is_superuser(bot, event):
        return with_implied(MANAGER)
    member = await staff_member(get_desk(), platform_of(bot, event), event.get_user_id())
    if member is None:
        return with_implied(MEMBER)
    return with_implied(MANAGER if member.role == MANAGER else CONSULTANT)
