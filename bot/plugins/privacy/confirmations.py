"""Pending erasures in chat, waiting for their confirmation. No NoneBot.

An erasure waits for 「确认删除」 from the same account within CONFIRM_MINUTES;
anything else that account sends in the DM meanwhile cancels it. Pending
confirmations live in memory: after a restart the person simply asks again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

CONFIRM_MINUTES = 5
# The desk's handle kind of a person's own account; WeCom app users are staff.
HANDLE_KINDS = {"qq": "qq", "wechat_oa": "wechat_openid"}

Account = tuple[str, str]  # (platform, user id)


@dataclass(frozen=True)
class Pending:
    target: Literal["self"] | int  # the asker's own data, or a lead number (a manager)
    until: datetime


class Confirmations:
    """Erasures asked for and not yet confirmed, by account."""

    def __init__(self, minutes: int = CONFIRM_MINUTES) -> None:
        self.window = timedelta(minutes=minutes)
        self._pending: dict[Account, Pending] = {}

    def ask(self, account: Account, target: Literal["self"] | int, now: datetime) -> None:
        self._drop_expired(now)
        self._pending[account] = Pending(target, now + self.window)

    def waiting(self, account: Account) -> bool:
        return account in self._pending

    def take(self, account: Account, now: datetime) -> Pending | None:
        """The pending request, gone from the list; None when none or expired."""
        pending = self._pending.pop(account, None)
        return pending if pending is not None and now <= pending.until else None

    def clear(self) -> None:
        self._pending.clear()

    def _drop_expired(self, now: datetime) -> None:
        for account in [a for a, p in self._pending.items() if now > p.until]:
            del self._pending[account]
