"""People in referrals are handles, the desk's referrer format (bot.people.Origin.handle):
"qq:<QQ id>", "wechat:<Official Account openid>", "wecom:<WeCom external userid>".

Also what every use case runs on: `Referrals`, built by a front per call (the desk,
the config and the wording of the texts the use cases write to the desk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from desk import Desk
from desk.outbox import outbox_key
from desk.text import clean_text
from features.referral.config import ReferralConfig

MAX_NAME_STORED = 32  # a display name as kept (group card, nickname)

# handle prefix -> the desk's keyword for that contact (find_lead / capture_in)
HANDLE_FIELDS = {"qq": "qq_id", "wechat": "wechat_openid", "wecom": "wecom_external_userid"}
# handle prefix -> the desk's contact kind (desk.capture.existing_lead)
HANDLE_KINDS = {"qq": "qq", "wechat": "wechat_openid", "wecom": "wecom_external"}
# handle prefix -> the outbox channel of a DM to that person (a WeCom customer has none:
# the app cannot write to an external contact)
DM_CHANNELS = {"qq": "qq", "wechat": "wechat_oa"}


def split_handle(handle: str) -> tuple[str, str] | None:
    """ "wechat:o6_b…" -> ("wechat", "o6_b…"); None when it is not a person's handle."""
    kind, _, value = handle.partition(":")
    return (kind, value) if kind in HANDLE_FIELDS and value else None


def contact_fields(handle: str) -> dict[str, Any]:
    """The desk keyword for a handle: {"wechat_openid": "o6_b…"} ({} when unknown)."""
    parts = split_handle(handle)
    return {HANDLE_FIELDS[parts[0]]: parts[1]} if parts else {}


def contact_handles(handle: str) -> list[tuple[str, str]]:
    """The desk's (kind, value) lookup for a handle ([] when unknown)."""
    parts = split_handle(handle)
    return [(HANDLE_KINDS[parts[0]], parts[1])] if parts else []


def platform_key(*parts: object) -> str:
    """A platform event's key for the desk and the referral (a long one is digested)."""
    return outbox_key(":".join(str(p) for p in parts))


def clean_name(name: str | None) -> str | None:
    """A display name fit to store: one line, unfit characters dropped, at most 32."""
    cleaned = " ".join(clean_text(name).split())[:MAX_NAME_STORED]
    return cleaned or None


@dataclass(frozen=True)
class Friend:
    """Who a referral brought: shown masked by the front, never a full number."""

    name: str | None
    phone: str | None
    handle: str | None


class Wording(Protocol):
    """The texts a use case writes to the desk (lead notes, the referrer's DMs in the
    outbox): the front's texts.py provides them, so features/ holds no reply text."""

    def lead_note_refer(self, referrer_name: str | None, referrer: str, car_model: str | None) -> str: ...  # fmt: skip
    def lead_note_code(self, referrer_name: str | None, code: str) -> str: ...
    def lead_note_invite(self, inviter: str) -> str: ...
    def account(self, handle: str) -> str: ...
    def visited_dm(self, friend: Friend, points: int) -> str: ...
    def won_dm(self, friend: Friend, reward: str) -> str: ...
    def fulfilled_dm(self, friend: Friend, reward: str) -> str: ...


@dataclass(frozen=True)
class Referrals:
    """What every referral use case runs on; cheap to build per call."""

    desk: Desk
    config: ReferralConfig
    wording: Wording
