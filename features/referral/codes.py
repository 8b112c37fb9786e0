"""Personal codes (推荐码): their shape, finding one in a message or a WeCom `state`,
and the use cases that hand one out and keep its WeCom 联系我 QR."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select, update

from desk import UnitOfWork, storable
from desk.store import insert_ignore
from features.referral.config import ReferralConfig
from features.referral.models import ReferralCode
from features.referral.people import Referrals, clean_name

# Look-alikes left out (0/O, 1/I/L), so a code read aloud or copied by hand still works.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_SCAN = 2000  # a code is looked for in the head of a message
MAX_STATE = 30  # a WeCom contact way's state is at most 30 characters
MAX_MEMBERS = 500


def code_pattern(config: ReferralConfig) -> re.Pattern[str]:
    """A code as a token of its own: no ASCII letter or digit glued on either side
    (Chinese around it is fine: "推荐码TJ7K3MQ谢谢")."""
    body = f"[{CODE_ALPHABET}{CODE_ALPHABET.lower()}]{{{config.code_length}}}"
    return re.compile(f"(?<![0-9A-Za-z]){config.code_prefix}{body}(?![0-9A-Za-z])", re.IGNORECASE)


def find_code(text: str, pattern: re.Pattern[str], prefix: str) -> str | None:
    """The first code-shaped token in `text`, upper-cased; None when there is none.
    Codes always carry a digit, so a word like "TJHAPPY" is chat."""
    if not isinstance(text, str) or not text:
        return None
    normalized = unicodedata.normalize("NFKC", text[:MAX_SCAN])
    for found in pattern.finditer(normalized):
        code = found.group(0).upper()
        if any(ch.isdigit() for ch in code[len(prefix) :]):
            return code
    return None


def code_in_state(state: str | None, pattern: re.Pattern[str], prefix: str) -> str | None:
    """The code a WeCom contact way / join way `state` carries: the whole state is a
    code (our contact ways set state = the code); anything else is someone else's."""
    if not isinstance(state, str) or len(state) > MAX_STATE:
        return None
    code = find_code(state.strip(), pattern, prefix)
    return code if code is not None and code == state.strip().upper() else None


def joined_with_codes(
    group: object, member_ids: list[str], pattern: re.Pattern[str], prefix: str
) -> list[tuple[str, str]]:
    """[(external userid, code)] of the customers in a WeCom `groupchat/get` answer
    (member_list entries: userid, type 2 = external, state) who joined through a
    join way whose state is a code. `member_ids`: the members the event names as
    new (all external members when the event names none)."""
    members = group.get("member_list") if isinstance(group, dict) else None
    wanted = set(member_ids)
    found: list[tuple[str, str]] = []
    for member in members if isinstance(members, list) else []:
        if not isinstance(member, dict) or member.get("type") != 2:
            continue  # type 1: staff of the corp
        userid = member.get("userid")
        if not isinstance(userid, str) or not 0 < len(userid) <= 64:
            continue
        if wanted and userid not in wanted:
            continue
        code = code_in_state(member.get("state"), pattern, prefix)
        if code is not None:
            found.append((userid, code))
    return found[:MAX_MEMBERS]


def new_code(config: ReferralConfig) -> str:
    while True:
        body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(config.code_length))
        if any(ch.isdigit() for ch in body) and any(ch.isalpha() for ch in body):
            return config.code_prefix + body


def stored_code(code: str) -> str:
    """A quoted code as the table keys it."""
    return code.upper()[:16]


@dataclass(frozen=True)
class OwnCode:
    """An owner's code and the WeCom QR made for it (None: not made yet)."""

    code: str
    contact_qr: str | None


async def own_code(r: Referrals, owner: str, owner_name: str | None) -> OwnCode:
    """The owner's (a handle) code, made on first ask, with its WeCom QR if made."""

    async def step(uow: UnitOfWork) -> OwnCode:
        row = await uow.session.scalar(select(ReferralCode).where(ReferralCode.owner == owner))
        if row is not None:
            return OwnCode(row.code, row.contact_qr)
        candidate = new_code(r.config)
        for _ in range(20):  # a taken code (rare) would only cost a retry of the step
            if await uow.session.get(ReferralCode, candidate) is None:
                break
            candidate = new_code(r.config)
        # A concurrent first ask by the same owner: theirs wins, read it back.
        await insert_ignore(
            uow, ReferralCode, ["owner"], code=candidate, owner=owner,
            owner_name=clean_name(owner_name), created_at=uow.now,
        )  # fmt: skip
        mine = await uow.session.scalar(select(ReferralCode).where(ReferralCode.owner == owner))
        assert mine is not None
        return OwnCode(mine.code, mine.contact_qr)

    return await r.desk.write(step)


async def code_by(r: Referrals, code: str) -> OwnCode | None:
    """A code as stored (with its QR), None when there is no such code."""
    row = await r.desk.read(lambda uow: uow.session.get(ReferralCode, stored_code(code)))
    return OwnCode(row.code, row.contact_qr) if row is not None else None


async def save_contact_way(r: Referrals, code: str, config_id: str, qr: str) -> str | None:
    """Keep the WeCom contact way made for `code`; one made meanwhile wins (the first
    stored is the one owners already shared). The stored QR; None when the code does
    not exist or the values cannot be stored."""
    if not (0 < len(config_id) <= 64 and 0 < len(qr) <= 512 and storable(config_id + qr)):
        return None

    async def step(uow: UnitOfWork) -> str | None:
        await uow.session.execute(
            update(ReferralCode)
            .where(ReferralCode.code == code, ReferralCode.contact_qr.is_(None))
            .values(contact_config_id=config_id, contact_qr=qr)
        )
        return await uow.session.scalar(
            select(ReferralCode.contact_qr).where(ReferralCode.code == code)
        )

    return await r.desk.write(step)
