"""Personal data in chat: pending confirmations and the replies' text. No NoneBot.

An erasure waits for 「确认删除」 from the same account within CONFIRM_MINUTES;
anything else that account sends in the DM meanwhile cancels it. Pending
confirmations live in memory: after a restart the person simply asks again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.formatting import shorten, stage_name, when
from bot.plugins.privacy import texts
from desk.privacy import PersonalData

CONFIRM_MINUTES = 5
MAX_NOTES_SHOWN = 10
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


def erasure_summary(data: PersonalData) -> str | None:
    """What 删除我的信息 will erase, one line each; None when nothing is kept."""
    lines = []
    if data.lead is not None:
        lines.append(texts.SUMMARY_LEAD.format(lead_id=data.lead.id))
    events = data.features.get("events") or {}
    if events.get("signups"):
        lines.append(texts.SUMMARY_SIGNUPS.format(n=len(events["signups"])))
    activities = data.features.get("activities") or {}
    if data.features.get("points") or activities.get("checkins"):
        lines.append(texts.SUMMARY_POINTS)
    if activities.get("messages"):
        lines.append(texts.SUMMARY_MESSAGES)
    if data.features.get("referral"):
        lines.append(texts.SUMMARY_REFERRAL)
    return "\n".join(lines) or None


def _contact(kind: str, value: str) -> str:
    return f"{texts.CONTACT_KINDS.get(kind, kind)} {value}"


def format_personal_data(data: PersonalData, tz: ZoneInfo) -> str:
    """我的信息, in full: it goes to the person's own DM."""
    if data.empty:
        return texts.NOTHING_KEPT
    lines = [texts.MINE_HEADER]
    lead = data.lead
    if lead is not None:
        lines.append(
            texts.MINE_LEAD.format(
                lead_id=lead.id,
                stage=stage_name(lead.stage),
                consultant=data.consultant or texts.NO_CONSULTANT,
            )  # fmt: skip
        )
        if lead.car_model:
            lines.append(texts.MINE_CAR.format(car=lead.car_model))
        if data.contacts:
            lines.append(
                texts.MINE_CONTACTS.format(
                    contacts="、".join(_contact(k, v) for k, v in data.contacts)
                )
            )
        if data.notes:
            shown = data.notes[-MAX_NOTES_SHOWN:]
            more = (
                texts.MINE_NOTES_SHOWN.format(n=len(shown)) if len(shown) < len(data.notes) else ""
            )
            lines.append(texts.MINE_NOTES.format(n=len(data.notes), shown=more))
            lines += [
                texts.MINE_NOTE.format(when=when(at, tz), text=shorten(note, 60))
                for at, note in shown
            ]
    signups = (data.features.get("events") or {}).get("signups") or []
    if signups:
        lines.append(texts.MINE_SIGNUPS)
        for s in signups:
            lines.append(
                texts.MINE_SIGNUP.format(
                    event_id=s["event_id"],
                    title=shorten(s["title"], 20),
                    when=when(s["starts_at"], tz),
                    party=s["party"],
                    status=texts.SIGNUP_STATUS.get(s["status"], s["status"]),
                )  # fmt: skip
            )
    owner: list[str] = []
    points = data.features.get("points") or {}
    if points:
        owner.append(texts.MINE_POINTS.format(total=points["total"], entries=points["entries"]))
    activities = data.features.get("activities") or {}
    if activities.get("checkins"):
        owner.append(texts.MINE_CHECKINS.format(n=activities["checkins"]))
    if activities.get("messages"):
        owner.append(texts.MINE_MESSAGES.format(n=activities["messages"]))
    if owner:
        lines.append(" · ".join(owner))
    referral = data.features.get("referral") or {}
    parts = []
    if referral.get("code"):
        parts.append(texts.MINE_CODE.format(code=referral["code"]))
    if referral.get("referrals_made"):
        parts.append(texts.MINE_REFERRALS.format(n=referral["referrals_made"]))
    if referral.get("rewards"):
        parts.append(texts.MINE_REWARDS.format(n=referral["rewards"]))
    if referral.get("referred"):
        parts.append(texts.MINE_REFERRED)
    if parts:
        lines.append(" · ".join(parts))
    lines.append(texts.MINE_FOOTER)
    return "\n".join(lines)
