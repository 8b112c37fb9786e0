"""From a message that reads as intent to a lead on the desk, and the reply.

Pure: no NoneBot. The front has made sure the sender is not staff (staff
talking shop are not leads: bot.front.roles_of); the same platform
message twice is one capture (the desk's event key); the asker gets at most
one acknowledgement a day per chat, remembered by the desk across restarts.
A person staff withdrew (不是线索: 无效线索) is left alone: no capture, no
acknowledgement, until staff capture them again (desk.capture `automatic`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.people import Origin
from bot.plugins.intent import texts
from desk import Desk, DeskError, mask_phone
from desk.capture import mended_text
from features.intent.detect import IntentMatch

log = logging.getLogger(__name__)
MAX_NOTE = 500  # the desk keeps the first words; the whole chat log is not a note


@dataclass(frozen=True)
class IntentOutcome:
    lead_id: int
    created: bool
    reply: str | None  # None: already acknowledged today


def _channel_and_handle(msg: Origin) -> tuple[str, dict[str, str | None]] | None:
    """Where a prospect can write from: QQ groups and DMs, the Official Account.
    The WeCom app's users are the dealer's own staff, never prospects."""
    if msg.platform == "qq":
        channel = f"qq_group:{msg.group_id}" if msg.group_id else "qq_dm"
        return channel, {"qq_id": msg.user_id, "wechat_openid": None}
    if msg.platform == "wechat_oa":
        return "wechat_oa", {"qq_id": None, "wechat_openid": msg.user_id}
    return None


async def capture_intent(
    desk: Desk, match: IntentMatch, msg: Origin, text: str
) -> IntentOutcome | None:
    """`match` is detect_intent's verdict on `text` (the front's pre-filter);
    `msg` is from someone off the staff."""
    where = _channel_and_handle(msg)
    if where is None:
        return None  # the WeCom app: staff only
    channel, handle = where
    phone = match.phones[0] if match.phones else None
    # A nickname the database cannot keep (half an emoji a client cut off) is mended:
    # desk.capture would refuse it and lose the prospect over a name.
    name = mended_text(msg.nickname or "").strip()[:32] or None
    today = desk.calendar.local_date(desk.clock.now()).isoformat()
    try:
        result = await desk.capture(
            channel=channel, phone=phone, name=name, group_id=msg.group_id,
            message=text.strip()[:MAX_NOTE], event_key=msg.event_key,
            once_key=f"intent-ack:{msg.group_id or 'dm'}:{msg.handle}:{today}",
            qq_id=handle["qq_id"], wechat_openid=handle["wechat_openid"], automatic=True,
        )  # fmt: skip
    except DeskError as exc:  # e.g. a sender id the desk does not accept
        log.warning("intent from %s not captured: %s", msg.handle, exc)
        return None
    if not result.created and not result.duplicate:
        # The desk knew this event key: a redelivery of a captured message has no
        # second effect, not even an acknowledgement on a later day.
        return IntentOutcome(result.lead.id, False, None)
    if not result.first_time:  # acknowledged once today already
        return IntentOutcome(result.lead.id, result.created, None)
    if msg.group_id:
        reply = texts.GROUP_ACK_PHONE.format(masked=mask_phone(phone)) if phone else texts.GROUP_ACK
    else:
        reply = texts.DM_ACK_PHONE.format(masked=mask_phone(phone)) if phone else texts.DM_ACK
    return IntentOutcome(result.lead.id, result.created, reply)
