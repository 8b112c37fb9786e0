"""The durable outbox: notifications written with their cause, delivered by a front.

Delivery is at most once per key: a message claimed and never reported back
(the process died mid-send, or the send timed out) becomes `uncertain` and is
not resent blindly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from desk.errors import InvalidInput, valid_id
from desk.models import Member, OutboxMessage
from desk.phone import mask_phone, mask_phones_in_text
from desk.store import ignoring_insert
from desk.uow import UnitOfWork
from desk.views import OutboxItem

PENDING, SENDING, SENT, DEAD, UNCERTAIN, UNDELIVERABLE, CANCELLED = (
    "pending", "sending", "sent", "dead", "uncertain", "undeliverable", "cancelled",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Recipient:
    """A roster member as far as a DM needs it (e.g. a new lead's consultant, read
    with the RETURNING of the assignment's UPDATE instead of loading a Member)."""

    id: int
    qq_id: str | None
    wecom_userid: str | None
    dm_channel: str


def member_address(member: Member | Recipient) -> tuple[str, str | None]:
    """The member's preferred DM channel and their address on it."""
    if member.dm_channel == "wecom" and member.wecom_userid:
        return "wecom", member.wecom_userid
    if member.qq_id:
        return "qq", member.qq_id
    if member.wecom_userid:
        return "wecom", member.wecom_userid
    return member.dm_channel, None


async def enqueue(
    uow: UnitOfWork,
    *,
    key: str,
    kind: str,
    payload: dict[str, Any],
    member: Member | Recipient | None = None,
    channel: str | None = None,
    address: str | None = None,
    lead_id: int | None = None,
    any_hour: bool = False,
    not_before: datetime | None = None,
) -> None:
    """Write one notification; a second write with the same key is a no-op.
    `not_before` holds it until then (a scheduled group post)."""
    if member is not None:
        channel, address = member_address(member)
    if channel is None:
        raise ValueError("enqueue needs a member or a channel")
    values = {
        "key": key[:MAX_KEY],
        "kind": kind,
        "recipient_id": member.id if member is not None else None,
        "channel": channel,
        "address": address,
        "lead_id": lead_id,
        "payload": payload,
        "any_hour": any_hour,
        "status": PENDING if address else UNDELIVERABLE,
        "attempts": 0,
        "next_attempt_at": max(uow.now, not_before) if not_before else uow.now,
        "created_at": uow.now,
    }
    await uow.session.execute(ignoring_insert(uow, OutboxMessage, ["key"]), values)


PURGE_BATCH = 5000  # rows per schedule run: keeps the write lock short


async def purge_finished(uow: UnitOfWork) -> int:
    """Delete finished notifications older than the retention (oldest first)."""
    cutoff = uow.now - timedelta(days=uow.settings.outbox.retention_days)
    finished = (SENT, DEAD, UNCERTAIN, UNDELIVERABLE, CANCELLED)
    ids = select(OutboxMessage.id).where(
        OutboxMessage.status.in_(finished), OutboxMessage.next_attempt_at < cutoff
    )
    result = await uow.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.id.in_(ids.order_by(OutboxMessage.id).limit(PURGE_BATCH))
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def existing_keys(uow: UnitOfWork, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    rows = await uow.session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys)))
    return set(rows.all())


# Where a front may address a message itself: DMs to people off the roster, posts
# into a QQ group (address = group id), which the front's send queue paces, and
# mass-send tasks for a WeCom customer group (address = chat id).
DIRECT_CHANNELS = frozenset({"qq", "wecom", "wechat_oa", "qq_group", "wecom_group"})


MAX_KEY = 128  # the outbox's key column


def outbox_key(key: str) -> str:
    """`key`, or a digest of it when a long platform id makes it too long for the outbox."""
    if len(key) <= MAX_KEY:
        return key
    return key[:60] + ":" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def check_direct(key: str, kind: str, channel: str, address: str, payload: dict[str, Any]) -> None:
    """A DM a front asks for (to an owner, a prospect): refuse what cannot be delivered."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
        raise InvalidInput("key", f"1..{MAX_KEY} characters")
    if not isinstance(kind, str) or not 0 < len(kind) <= 32:
        raise InvalidInput("kind", "1..32 characters")
    if channel not in DIRECT_CHANNELS:
        raise InvalidInput("channel", f"one of {sorted(DIRECT_CHANNELS)}")
    if not isinstance(address, str) or not 0 < len(address) <= 128:
        raise InvalidInput("address", "1..128 characters")
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError):
        raise InvalidInput("payload", "must be JSON data") from None


async def claim(uow: UnitOfWork, channels: Sequence[str] | None, limit: int) -> list[OutboxItem]:
    """Claim up to `limit` due messages of `channels` (all when None) for sending.

    A front claims one message at a time (limit=1), just before sending it: its
    lease then covers that one send, however long the batch before it took, and a
    process that dies mid-send leaves one message uncertain, not a whole batch."""
    s = uow.session
    # Messages whose lease ran out were maybe sent: mark, never resend blindly. Only
    # the claimed channels: another front's message may still be in flight.
    expired = select(OutboxMessage).where(
        OutboxMessage.status == SENDING, OutboxMessage.lease_until < uow.now
    )
    query = select(OutboxMessage).where(
        OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= uow.now
    )
    if channels:
        expired = expired.where(OutboxMessage.channel.in_(list(channels)))
        query = query.where(OutboxMessage.channel.in_(list(channels)))
    for row in (await s.scalars(expired)).all():
        row.status, row.last_error = UNCERTAIN, "lease expired before delivery was confirmed"
        _finish(row)
    if not uow.calendar.contains(uow.now):
        query = query.where(OutboxMessage.any_hour.is_(True))
    query = query.order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
    rows = list((await s.scalars(query)).all())
    lease_until = uow.now + timedelta(seconds=uow.settings.outbox.lease_seconds)
    for row in rows:
        row.status = SENDING
        row.attempts += 1
        row.lease_until = lease_until
    return [OutboxItem.of(r) for r in rows]


async def _sending(uow: UnitOfWork, message_id: int) -> OutboxMessage | None:
    if not valid_id(message_id):
        return None
    row = await uow.session.get(OutboxMessage, message_id)
    return row if row is not None and row.status == SENDING else None


async def mark_sent(uow: UnitOfWork, message_id: int) -> bool:
    row = await _sending(uow, message_id)
    if row is None:
        return False
    row.status, row.sent_at, row.lease_until = SENT, uow.now, None
    _finish(row)
    return True


async def mark_failed(
    uow: UnitOfWork, message_id: int, error: str, *, retryable: bool = True
) -> bool:
    """A send that failed for sure: retry with backoff, or give up (dead)."""
    row = await _sending(uow, message_id)
    if row is None:
        return False
    cfg = uow.settings.outbox
    row.last_error = storable_text(error)
    row.lease_until = None
    if retryable and row.attempts < cfg.max_attempts:
        delay = min(cfg.backoff_base_seconds * 2 ** (row.attempts - 1), cfg.backoff_max_seconds)
        row.status, row.next_attempt_at = PENDING, uow.now + timedelta(seconds=delay)
    else:
        row.status = DEAD
        _finish(row)
    return True


async def cancel(uow: UnitOfWork, key: str) -> bool:
    """Withdraw a notification not yet sent (e.g. a cancelled event's post)."""
    row = await uow.session.scalar(
        select(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.status == PENDING)
    )
    if row is None:
        return False
    row.status, row.last_error = CANCELLED, "withdrawn before delivery"
    _finish(row)
    return True


async def mark_uncertain(uow: UnitOfWork, message_id: int, error: str) -> bool:
    """A send that timed out: it may have arrived, so it is not retried."""
    row = await _sending(uow, message_id)
    if row is None:
        return False
    row.status, row.last_error, row.lease_until = UNCERTAIN, storable_text(error), None
    _finish(row)
    return True


def without_phones(value: Any) -> Any:
    """`value` (a payload) with every mainland mobile masked: "phone" fields and
    phones inside any text (a customer's first words may carry one)."""
    if isinstance(value, dict):
        return {
            k: mask_phone(v) if k == "phone" and isinstance(v, str) and v else without_phones(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_phones(v) for v in value]
    if isinstance(value, str):
        return mask_phones_in_text(value)
    return value


def _finish(row: OutboxMessage) -> None:
    """A notification that will never be sent (again) keeps no full phone (PIPL:
    kept no longer than needed). Its text was rendered from the payload at the send;
    the masked payload still says to whom and about which lead it went."""
    payload = row.payload or {}
    masked = without_phones(payload)
    if masked != payload:
        row.payload = masked  # a new object: the JSON column sees the change


def storable_text(text: object, limit: int = 500) -> str:
    """Whatever a transport raised, as text the database keeps."""
    cleaned = str(text).encode("utf-8", "replace").decode("utf-8").replace("\x00", "\\0")
    return cleaned[:limit] or "no detail given"
