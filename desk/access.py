"""Web desk access: one-time login links sent by DM, and the sessions they open.

Tokens are random (secrets.token_urlsafe) and only their SHA-256 is stored, so a
copy of the database opens no session. A link works once, for a few minutes; a
session lasts hours, ends at logout, and a manager can end anyone's sessions.
Members off duty may still log in; inactive (removed) members may not.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import delete, func, select, update

from desk.errors import DeskError
from desk.models import Member, WebLoginLink, WebSession
from desk.uow import UnitOfWork
from desk.views import MemberView

LINK_MINUTES = 10
SESSION_HOURS = 12
_PURGE_AFTER = timedelta(days=7)  # ended or expired rows kept this long, then deleted
MAX_TOKEN = 128  # longer "tokens" are refused before hashing


class LoginRefused(DeskError):
    """A login link that cannot open a session; `reason` says which case."""

    class Reason(Enum):
        UNKNOWN = "unknown"
        USED = "used"
        EXPIRED = "expired"
        INACTIVE = "inactive"

    def __init__(self, reason: LoginRefused.Reason) -> None:
        super().__init__(f"login refused: {reason.value}")
        self.reason = reason


@dataclass(frozen=True)
class WebSessionView:
    member: MemberView
    csrf: str
    expires_at: datetime


@dataclass(frozen=True)
class OpenedSession:
    token: str  # for the cookie; never stored
    session: WebSessionView


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _usable(token: object) -> bool:
    return isinstance(token, str) and 0 < len(token) <= MAX_TOKEN and token.isascii()


async def issue_link(uow: UnitOfWork, member_id: int, minutes: int = LINK_MINUTES) -> str:
    """A new one-time login token for the member (its hash stored)."""
    token = secrets.token_urlsafe(32)
    uow.session.add(
        WebLoginLink(
            token_hash=_hash(token),
            member_id=member_id,
            created_at=uow.now,
            expires_at=uow.now + timedelta(minutes=minutes),
            used_at=None,
        )  # fmt: skip
    )
    await uow.session.execute(
        delete(WebLoginLink).where(WebLoginLink.expires_at < uow.now - _PURGE_AFTER)
    )
    return token


async def redeem_link(uow: UnitOfWork, token: str, hours: int = SESSION_HOURS) -> OpenedSession:
    """Spend the link and open a session; LoginRefused says why not."""
    if not _usable(token):
        raise LoginRefused(LoginRefused.Reason.UNKNOWN)
    link = await uow.session.get(WebLoginLink, _hash(token), with_for_update=True)
    if link is None:
        raise LoginRefused(LoginRefused.Reason.UNKNOWN)
    if link.used_at is not None:
        raise LoginRefused(LoginRefused.Reason.USED)
    if link.expires_at <= uow.now:
        raise LoginRefused(LoginRefused.Reason.EXPIRED)
    member = await uow.session.get(Member, link.member_id)
    if member is None or not member.active:
        raise LoginRefused(LoginRefused.Reason.INACTIVE)
    # Spent atomically: of two concurrent redemptions only one sees used_at NULL.
    spent = await uow.session.execute(
        update(WebLoginLink)
        .where(WebLoginLink.token_hash == link.token_hash, WebLoginLink.used_at.is_(None))
        .values(used_at=uow.now)
    )
    if getattr(spent, "rowcount", 1) != 1:
        raise LoginRefused(LoginRefused.Reason.USED)
    session_token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_hash(session_token), member_id=member.id, csrf=csrf, created_at=uow.now,
        expires_at=uow.now + timedelta(hours=hours), ended_at=None,
    )  # fmt: skip
    uow.session.add(row)
    await uow.session.execute(
        delete(WebSession).where(WebSession.expires_at < uow.now - _PURGE_AFTER)
    )
    return OpenedSession(session_token, WebSessionView(MemberView.of(member), csrf, row.expires_at))


async def session_for(uow: UnitOfWork, token: str) -> WebSessionView | None:
    """The live session behind a cookie: not ended, not expired, member active."""
    if not _usable(token):
        return None
    row = (
        await uow.session.execute(
            select(WebSession, Member)
            .join(Member, Member.id == WebSession.member_id)
            .where(
                WebSession.token_hash == _hash(token),
                WebSession.ended_at.is_(None),
                WebSession.expires_at > uow.now,
                Member.active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    session, member = row
    return WebSessionView(MemberView.of(member), session.csrf, session.expires_at)


async def end_session(uow: UnitOfWork, token: str) -> bool:
    if not _usable(token):
        return False
    result = await uow.session.execute(
        update(WebSession)
        .where(WebSession.token_hash == _hash(token), WebSession.ended_at.is_(None))
        .values(ended_at=uow.now)
    )
    return getattr(result, "rowcount", 0) > 0


async def end_sessions_of(uow: UnitOfWork, member_id: int) -> int:
    """End every live session of the member (logout everywhere; a manager's 强制下线)."""
    result = await uow.session.execute(
        update(WebSession)
        .where(WebSession.member_id == member_id, WebSession.ended_at.is_(None))
        .values(ended_at=uow.now)
    )
    return int(getattr(result, "rowcount", 0))


async def live_sessions(uow: UnitOfWork) -> dict[int, int]:
    """Live sessions per member id (the roster page shows who is logged in)."""
    rows = await uow.session.execute(
        select(WebSession.member_id, func.count())
        .where(WebSession.ended_at.is_(None), WebSession.expires_at > uow.now)
        .group_by(WebSession.member_id)
    )
    return {int(member_id): int(n) for member_id, n in rows.all()}
