"""WeCom customer-group mass sends (企业微信客户群群发): the one place that queues
them. A QQ owner group may be linked to customer groups of the same owners
(`[[wecom_groups]]` in config/activities.toml); what is posted in the QQ group
(a topic, an event) is queued for each of them as a mass-send task in the name
of the staff member who owns it (WeCom asks them to confirm before it goes out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from desk import Desk
from desk.outbox import outbox_key
from desk.uow import UnitOfWork

Link = tuple[str, str]  # (customer group chat id, sender's WeCom userid)
Links = Callable[[str], Sequence[Link]]  # QQ group -> its linked customer groups

CHANNEL = "wecom_group"
KIND = "wecom_mass_send"


async def queue_mass_sends(
    desk: Desk, uow: UnitOfWork, key: str, text: str, links: Sequence[Link],
    not_before: datetime | None = None,
) -> int:  # fmt: skip
    """One mass-send task per linked customer group, in the caller's transaction
    (delivered by bot.adapters.wechat.delivery); `key` is the cause's own outbox key
    (each task's key adds the chat id, so a rerun queues each once)."""
    for chat_id, sender in links:
        await desk.notify_in(
            uow, key=outbox_key(f"{key}:wecom:{chat_id}"), kind=KIND, channel=CHANNEL,
            address=chat_id, payload={"text": text, "sender": sender}, any_hour=True,
            not_before=not_before,
        )  # fmt: skip
    return len(links)
