"""Who may use what: the roles a chat user holds.

Roles are ranked member < consultant < manager, and `asker_roles` returns the
implied lower roles too, so "may use" is just `required in roles`.
"""

from __future__ import annotations

from nonebot.adapters import Bot, Event
from nonebot.permission import SUPERUSER

MEMBER = "member"  # anyone in a group or DM: owners, prospects
CONSULTANT = "consultant"  # 网销顾问 / 直销员 in the roster
MANAGER = "manager"  # 销售经理: SUPERUSERS and roster managers

ROLES = (MEMBER, CONSULTANT, MANAGER)  # lowest first


def with_implied(role: str) -> set[str]:
    """{"manager"} -> {"member", "consultant", "manager"}."""
    return set(ROLES[: ROLES.index(role) + 1])


async def asker_roles(bot: Bot, event: Event) -> set[str]:
    """The roles of the event's sender, implied ones included.

    SUPERUSERS are managers; everyone else is a member for now.
    Extend here with the roster lookup (consultants, roster managers).
    """
    if await SUPERUSER(bot, event):
        return with_implied(MANAGER)
    return with_implied(MEMBER)
