"""Attribution: a friend becomes a lead on the desk with an owner as referrer.

By command (推荐 <称呼> <手机号>), by a quoted personal code (a QQ or Official Account
message, a QQ join request, the `state` of a WeCom contact way or customer-group join
way) or by an invitation into a QQ owner group. First valid referrer wins: a friend
who is already a lead is never attributed, and the database keeps one referral per
phone, per friend's handle and per lead, so two concurrent referrals give one.

Each use case is one `desk.write`: the checks, the lead (`capture_in`) and the
referral row commit together or not at all. A step that finds the friend already
known raises, which rolls the lead change back (the desk would otherwise fill the
existing lead's empty referrer).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select

from desk import DeskError, InvalidInput, UnitOfWork, normalize_phone
from desk.capture import existing_lead
from desk.phone import mask_phones_in_text
from desk.store import insert_ignore
from desk.text import checked_text
from features.referral.codes import code_in_state, code_pattern, joined_with_codes, stored_code
from features.referral.errors import InvalidReferral, ReferralRefused
from features.referral.models import (
    SOURCE_CODE,
    SOURCE_COMMAND,
    SOURCE_INVITE,
    SOURCE_WECOM_CONTACT,
    SOURCE_WECOM_GROUP,
    Referral,
    ReferralCode,
)
from features.referral.people import (
    Referrals,
    clean_name,
    contact_fields,
    contact_handles,
    platform_key,
)

log = logging.getLogger(__name__)

MAX_NAME = 20
MAX_MODEL = 30
NOTE_MAX = 200
MAX_GROUP_MEMBERS = 500


@dataclass(frozen=True)
class ReferralRequest:
    """推荐 <称呼> <手机号> [意向车型], read and checked."""

    name: str
    phone: str
    car_model: str | None


def parse_refer_args(args: str) -> ReferralRequest:
    """'张先生 13812345678 轩逸' → ReferralRequest; else InvalidReferral naming the
    field. The phone may be typed with spaces ("138 1234 5678"), or first."""
    tokens = args.split()
    if len(tokens) < 2:
        raise InvalidReferral("usage")
    name, rest = tokens[0], tokens[1:]
    phone: str | None = None
    for take in (3, 2, 1):
        if len(rest) >= take:
            try:
                phone = normalize_phone("".join(rest[:take]))
            except InvalidInput:
                continue
            rest = rest[take:]
            break
    if phone is None:
        try:  # "推荐 13812345678 张先生": the order swapped
            phone = normalize_phone(name)
        except InvalidInput:
            raise InvalidReferral("phone") from None
        name, rest = rest[0], rest[1:]
    if checked_text(name, MAX_NAME) != name:
        raise InvalidReferral("name")
    model = " ".join(rest) or None
    # The name is echoed to the group and stored as the friend's; a second number
    # ("推荐 139… 138… 轩逸") would be shown in full.
    if mask_phones_in_text(name) != name or (model and mask_phones_in_text(model) != model):
        raise InvalidReferral("phone_in_name")
    if model is not None and checked_text(model, MAX_MODEL) != model:
        raise InvalidReferral("car_model")
    return ReferralRequest(name, phone, model)


@dataclass(frozen=True)
class Referred:
    """A friend referred by phone: the new lead."""

    name: str
    phone: str
    lead_id: int


@dataclass(frozen=True)
class CodeOutcome:
    """What quoting a code did: `attributed` True when the friend is now referred."""

    attributed: bool
    reason: str  # attributed | unknown | own | known | duplicate | invalid
    referrer_name: str | None = None


async def _seen(uow: UnitOfWork, event_key: str) -> bool:
    found = await uow.session.scalar(select(Referral.id).where(Referral.event_key == event_key))
    return found is not None


async def _add(uow: UnitOfWork, *, keys: list[str], **values: object) -> None:
    """The referral row; a friend referred meanwhile (one phone once) refuses."""
    if not await insert_ignore(uow, Referral, keys, created_at=uow.now, points=0, **values):
        raise ReferralRefused("known")


async def refer(
    r: Referrals, request: ReferralRequest, *, referrer: str, referrer_name: str | None,
    group_id: str | None, event_key: str,
) -> Referred:  # fmt: skip
    """`referrer` (a handle) refers a friend by phone. ReferralRefused: "duplicate"
    (the same message again), "self", "known", "not_recorded"."""
    name = clean_name(referrer_name)
    note = r.wording.lead_note_refer(name, referrer, request.car_model)[:NOTE_MAX]

    async def step(uow: UnitOfWork) -> Referred:
        if await _seen(uow, event_key):
            raise ReferralRefused("duplicate")
        own = await existing_lead(uow, contact_handles(referrer))
        known = await existing_lead(uow, [("phone", request.phone)])
        if own is not None and (own.phone == request.phone or (known and known.id == own.id)):
            raise ReferralRefused("self")
        if known is not None:
            raise ReferralRefused("known")
        result = await r.desk.capture_in(
            uow, channel="referral", phone=request.phone, name=request.name,
            car_model=request.car_model, referrer=referrer, message=note, event_key=event_key,
        )  # fmt: skip
        if not result.created:
            raise ReferralRefused("known")
        await _add(
            uow, referrer=referrer, referrer_name=name, friend_name=request.name,
            phone=request.phone, lead_id=result.lead.id, source=SOURCE_COMMAND,
            group_id=group_id, event_key=event_key, keys=["phone"],
        )  # fmt: skip
        return Referred(request.name, request.phone, result.lead.id)

    try:
        return await r.desk.write(step)
    except ReferralRefused:
        raise
    except DeskError as exc:  # checked above already; the desk's own limits, to be safe
        log.info("referral by %s refused by the desk: %s", referrer, exc)
        if isinstance(exc, InvalidInput) and exc.field == "car_model":
            raise InvalidReferral("car_model") from None
        raise ReferralRefused("not_recorded") from None


async def attribute_code(
    r: Referrals, code: str, *, friend: str, friend_name: str | None,
    group_id: str | None, event_key: str, source: str = SOURCE_CODE,
    channel: str = "referral", joined: bool = False,
) -> CodeOutcome:  # fmt: skip
    """A friend (a handle) quoted `code` (a message, a join request, a WeCom contact
    or join way's state): attribute them to its owner unless they own it or are
    already a lead. `joined`: they are in group `group_id` now (the stay window
    starts). The caller excludes staff. One transaction."""
    name = clean_name(friend_name)

    async def step(uow: UnitOfWork) -> CodeOutcome:
        row = await uow.session.get(ReferralCode, stored_code(code))
        if row is None:
            return CodeOutcome(False, "unknown")
        if row.owner == friend:
            return CodeOutcome(False, "own")
        note = r.wording.lead_note_code(row.owner_name, row.code)
        reason = await _attribute(
            r, uow, friend=friend, friend_name=name, referrer=row.owner,
            referrer_name=row.owner_name, group_id=group_id, event_key=event_key,
            source=source, note=note, joined=joined, channel=channel,
        )  # fmt: skip
        return CodeOutcome(True, reason, row.owner_name)

    return await _outcome(r, step, friend)


async def invited(
    r: Referrals, *, group_id: str, friend: str, inviter: str, event_key: str,
    friend_name: str | None = None,
) -> bool:  # fmt: skip
    """A member (`inviter`, a handle) invited `friend` into the QQ group (the caller
    excludes staff and the bot as inviter). True when the friend became the
    inviter's referral."""
    if friend == inviter:
        return False
    note = r.wording.lead_note_invite(inviter)

    async def step(uow: UnitOfWork) -> CodeOutcome:
        reason = await _attribute(
            r, uow, friend=friend, friend_name=clean_name(friend_name), referrer=inviter,
            referrer_name=None, group_id=group_id, event_key=event_key, source=SOURCE_INVITE,
            note=note, joined=True,
        )  # fmt: skip
        return CodeOutcome(True, reason)

    return (await _outcome(r, step, friend)).attributed


async def _outcome(
    r: Referrals, step: Callable[[UnitOfWork], Awaitable[CodeOutcome]], friend: str
) -> CodeOutcome:
    """Run an attribution step; a refusal (rolled back) is an outcome, not an error."""
    try:
        return await r.desk.write(step)
    except ReferralRefused as refused:
        return CodeOutcome(False, refused.reason)
    except DeskError as exc:  # e.g. a QQ id or WeChat id the desk does not accept
        log.info("referral of %s not recorded: %s", friend, exc)
        return CodeOutcome(False, "invalid")


async def _attribute(
    r: Referrals, uow: UnitOfWork, *, friend: str, friend_name: str | None, referrer: str,
    referrer_name: str | None, group_id: str | None, event_key: str, source: str, note: str,
    joined: bool, channel: str = "referral",
) -> str:  # fmt: skip
    """A friend known by an account (a handle) becomes a referred lead: "attributed";
    else raises ReferralRefused ("duplicate", "known", "invalid")."""
    contact = contact_fields(friend)
    if not contact:
        raise ReferralRefused("invalid")
    if await _seen(uow, event_key):
        raise ReferralRefused("duplicate")
    if await existing_lead(uow, contact_handles(friend)) is not None:
        raise ReferralRefused("known")
    result = await r.desk.capture_in(
        uow, channel=channel, name=friend_name, group_id=group_id, referrer=referrer,
        message=note[:NOTE_MAX], event_key=event_key, **contact,
    )  # fmt: skip
    if not result.created:
        raise ReferralRefused("known")
    await _add(
        uow, referrer=referrer, referrer_name=referrer_name, friend_name=friend_name,
        friend=friend, lead_id=result.lead.id, source=source, group_id=group_id,
        event_key=event_key, joined_at=uow.now if joined else None, keys=["friend"],
    )  # fmt: skip
    return "attributed"


# -- WeCom: customer contacts and customer groups --------------------------------------


async def wecom_contact_added(
    r: Referrals, state: str | None, *, external_userid: str, event_key: str
) -> CodeOutcome:
    """A customer added a staff member through a contact way: its `state` is an
    owner's code (the QR 推荐码 handed out) -> the customer is that owner's referral."""
    code = code_in_state(state, code_pattern(r.config), r.config.code_prefix)
    if code is None:
        return CodeOutcome(False, "unknown")
    return await attribute_code(
        r, code, friend=f"wecom:{external_userid}", friend_name=None, group_id=None,
        event_key=event_key, source=SOURCE_WECOM_CONTACT, channel="wecom",
    )  # fmt: skip


async def wecom_group_joined(
    r: Referrals, group: object, *, chat_id: str, member_ids: list[str], key_prefix: str
) -> list[CodeOutcome]:
    """Customers joined customer group `chat_id`: those whose join way's state is a
    code (read from `groupchat/get`'s answer `group`) are the owner's referrals, in
    the group from now (leaving within the stay window voids it). One transaction
    per customer: one customer's refusal does not undo another's referral."""
    found = joined_with_codes(group, member_ids, code_pattern(r.config), r.config.code_prefix)
    return [
        await attribute_code(
            r,
            code,
            friend=f"wecom:{userid}",
            friend_name=None,
            group_id=chat_id,
            event_key=platform_key(key_prefix, userid),
            source=SOURCE_WECOM_GROUP,
            channel="wecom_group",
            joined=True,
        )  # fmt: skip
        for userid, code in found[:MAX_GROUP_MEMBERS]
    ]
