"""Referral tracking (荐友购车, spec §3.3): the rules, the state and the replies.

Pure: no NoneBot. The front (`__init__.py`) parses events, decides who is staff
and sends what these functions return.

- People are handles, the desk's referrer format (bot.people.Origin.handle):
  "qq:<QQ id>", "wechat:<Official Account openid>", "wecom:<WeCom external
  userid>".
- A referral attributes one friend (a new lead on the desk) to one referrer:
  by command (推荐 <称呼> <手机号>), by a quoted personal code (推荐码: in a QQ
  or Official Account message, a QQ join request, or the `state` of a WeCom
  contact way / customer-group join way), or by an invitation into a QQ owner
  group. First valid referrer wins: a friend who is already a lead is never
  attributed, and the database keeps one referral per phone, per friend's
  handle and per lead, so two concurrent referrals of one phone give one.
- Every attribution is one `desk.write`: the lead (`capture_in`) and the
  referral row commit together or not at all. A step that finds the friend
  already known raises `_Refused`, which rolls the lead change back (the desk
  would otherwise fill the existing lead's empty referrer).
- Rewards follow the desk: the StageChanged handler gives the visit points and
  the deal reward; `reconcile` (a minute job) applies any the handler missed
  (events are published after commit; a crash in between loses them). Both use
  the same idempotency keys, so a reward is given once.
- A friend invited into a group who leaves within `stay_days` voids the
  referral: pending rewards are cancelled and points already given taken back.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, delete, func, or_, select, update

from bot.plugins.referral import texts
from bot.plugins.referral.models import (
    CANCELLED,
    FULFILLED,
    PENDING,
    SOURCE_CODE,
    SOURCE_COMMAND,
    SOURCE_INVITE,
    SOURCE_JOIN,
    SOURCE_WECOM_CONTACT,
    SOURCE_WECOM_GROUP,
    Referral,
    ReferralCode,
    ReferralReward,
)
from desk import (
    Desk,
    DeskError,
    InvalidInput,
    LeadEvent,
    LeadView,
    StageChanged,
    UnitOfWork,
    mask_phone,
    normalize_phone,
    storable,
)
from desk.config_file import config_path, load_toml
from desk.phone import mask_phones_in_text
from desk.privacy import Person, redact
from desk.store import insert_ignore
from features import points

log = logging.getLogger(__name__)
T = TypeVar("T")

# Look-alikes left out (0/O, 1/I/L), so a code read aloud or copied by hand still works.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
VISIT_STAGES = ("visited", "ordered", "won")  # reached the showroom, recorded or implied
MAX_NAME = 20
MAX_MODEL = 30
MAX_SCAN = 2000  # a code is looked for in the head of a message
MINE_SHOWN = 20
LEDGER_SHOWN = 30
RECONCILE_BATCH = 500
NOTE_MAX = 200
# handle prefix -> the outbox channel of a DM to that person (a WeCom customer has none:
# the app cannot write to an external contact)
DM_CHANNELS = {"qq": "qq", "wechat": "wechat_oa"}


# -- configuration -----------------------------------------------------------------


class ReferralConfigError(ValueError):
    """config/referral.toml is unreadable or invalid; the message names the key."""


# A WeCom userid as the admin console allows it (letters, digits, _ - . @).
WeComUserId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]


class WeComReferralConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Staff whose 联系我 QR code an owner's 推荐码 hands out (WeCom allows 100 per QR);
    # none: no QR, the code alone.
    contact_users: Annotated[tuple[WeComUserId, ...], Field(max_length=100)] = ()


class ReferralConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    visit_points: Annotated[int, Field(ge=0, le=100_000)] = 200
    deal_reward: Annotated[str, Field(min_length=1, max_length=64)] = "保养套餐一次（价值1000元）"
    stay_days: Annotated[int, Field(ge=0, le=365)] = 30
    code_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")] = "TJ"
    code_length: Annotated[int, Field(ge=4, le=8)] = 5
    leaderboard_size: Annotated[int, Field(ge=1, le=50)] = 10
    wecom: WeComReferralConfig = WeComReferralConfig()


def load_config(path: Path | None = None) -> ReferralConfig:
    """Read and validate config/referral.toml (DESK_CONFIG_DIR's copy when there is one)."""
    return load_toml(
        ReferralConfig, path or config_path("referral.toml"), "referral config", ReferralConfigError
    )


# -- codes ---------------------------------------------------------------------------


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
    if not isinstance(state, str) or len(state) > 30:
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
    return found[:500]


def new_code(config: ReferralConfig) -> str:
    while True:
        body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(config.code_length))
        if any(ch.isdigit() for ch in body) and any(ch.isalpha() for ch in body):
            return config.code_prefix + body


# -- small helpers -----------------------------------------------------------------------


def mask_qq(qq: str) -> str:
    return f"{qq[:2]}****{qq[-2:]}" if len(qq) >= 5 else "****"


# handle prefix -> the desk's keyword for that contact (find_lead / capture_in)
HANDLE_FIELDS = {"qq": "qq_id", "wechat": "wechat_openid", "wecom": "wecom_external_userid"}


def split_handle(handle: str) -> tuple[str, str] | None:
    """ "wechat:o6_b…" -> ("wechat", "o6_b…"); None when it is not a person's handle."""
    kind, _, value = handle.partition(":")
    return (kind, value) if kind in HANDLE_FIELDS and value else None


def contact_fields(handle: str) -> dict[str, Any]:
    """The desk keyword for a handle: {"wechat_openid": "o6_b…"} ({} when unknown)."""
    parts = split_handle(handle)
    return {HANDLE_FIELDS[parts[0]]: parts[1]} if parts else {}


def account_label(handle: str) -> str:
    """The account behind a handle, for staff (a lead note, the reward ledger)."""
    parts = split_handle(handle)
    if parts is None:
        return handle
    return texts.ACCOUNT[parts[0]].format(id=parts[1])


def platform_key(*parts: object) -> str:
    """A platform event's key for the desk (at most 160 characters: a long one is hashed)."""
    key = ":".join(str(p) for p in parts)
    if len(key) <= 160:
        return key
    return f"{parts[0]}:h:{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()}"


def _clean_name(name: str | None) -> str | None:
    """A display name fit to store: trimmed, no control characters, at most 32 chars."""
    if not name:
        return None
    cleaned = "".join(ch for ch in name if ch.isprintable()).strip()[:32]
    return cleaned if cleaned and storable(cleaned) else None


def friend_label(ref: Referral) -> str:
    """Who the friend is, safe anywhere: a name and a masked phone or QQ, never a full number."""
    if ref.phone:
        return f"{ref.friend_name or texts.FRIEND_UNKNOWN} {mask_phone(ref.phone)}"
    if ref.friend_name:
        return ref.friend_name
    parts = split_handle(ref.friend) if ref.friend else None
    if parts is not None and parts[0] == "qq":
        return texts.FRIEND_QQ.format(masked=mask_qq(parts[1]))
    if parts is not None:
        return texts.FRIEND_ON[parts[0]]
    return texts.FRIEND_UNKNOWN


def referrer_label(name: str | None, referrer: str) -> str:
    """A referrer for everyone to see (推荐榜): a name, else a masked account."""
    if name:
        return name
    parts = split_handle(referrer)
    if parts is not None and parts[0] == "qq":
        return texts.FRIEND_QQ.format(masked=mask_qq(parts[1]))
    if parts is not None and parts[0] == "wechat":
        return texts.WECHAT_OWNER.format(tail=parts[1][-4:])
    return texts.AN_OWNER


def progress(ref: Referral, lead: LeadView | None) -> str:
    """跟进中 / 已到店 / 已成交 / 未成交 / 已失效, from the referral and its lead."""
    if ref.voided_at is not None:
        return texts.STATUS_VOID
    if lead is None:
        return texts.STATUS_FOLLOWING
    if lead.stage == "won":
        return texts.STATUS_WON
    if lead.stage == "lost":
        return texts.STATUS_LOST
    if lead.stage in VISIT_STAGES or lead.visit_count > 0 or ref.visit_rewarded_at is not None:
        return texts.STATUS_VISITED
    return texts.STATUS_FOLLOWING


class _Refused(Exception):
    """Leaves a write step without committing anything. `reason`: "duplicate" (this
    platform event was handled before) or "known" (the friend is already a lead)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedReferral:
    name: str
    phone: str
    car_model: str | None


def parse_refer_args(args: str) -> ParsedReferral | str:
    """'张先生 13812345678 轩逸' → ParsedReferral; otherwise the Chinese line to reply
    ("" for the usage line). The phone may be typed with spaces ("138 1234 5678")."""
    tokens = args.split()
    if len(tokens) < 2:
        return ""
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
            return texts.BAD_PHONE
        name, rest = rest[0], rest[1:]
    if not 1 <= len(name) <= MAX_NAME or not storable(name) or not name.isprintable():
        return texts.BAD_NAME
    model = " ".join(rest) or None
    # The name is echoed to the group and stored as the friend's; a second number
    # ("推荐 139… 138… 轩逸") would be shown in full.
    if mask_phones_in_text(name) != name or (model and mask_phones_in_text(model) != model):
        return texts.PHONE_IN_NAME
    if model is not None and (
        len(model) > MAX_MODEL or not storable(model) or not model.isprintable()
    ):
        return texts.BAD_MODEL
    return ParsedReferral(name, phone, model)


# -- results the front shows ----------------------------------------------------------------


@dataclass(frozen=True)
class CodeOutcome:
    """What quoting a code did: `attributed` True when the friend is now referred."""

    attributed: bool
    reason: str  # attributed | unknown | own | known | duplicate | invalid
    referrer_name: str | None = None


@dataclass(frozen=True)
class OwnCode:
    """An owner's code and the WeCom QR made for it (None: not made yet)."""

    code: str
    contact_qr: str | None


@dataclass(frozen=True)
class _Mine:
    rows: list[Referral]  # the latest first
    total: int
    valid: int
    points: int
    rewards: dict[int, ReferralReward]  # by referral id


# -- the service ---------------------------------------------------------------------------------


class ReferralService:
    """The referral rules on one desk (one per desk: `service_for(desk)`)."""

    def __init__(self, desk: Desk, config: ReferralConfig) -> None:
        # Weak: the desk holds this service (its handlers), not the other way round,
        # so a closed desk (one per test) is freed with its service.
        self._desk = weakref.ref(desk)
        self.config = config
        self.pattern = code_pattern(config)
        self._cursor = 0
        self._attached = False
        # Kept as attributes: the event bus unsubscribes by identity.
        self.stage_handler: Callable[[LeadEvent], Awaitable[None]] = self.on_stage_changed
        self.reconcile_job: Callable[[UnitOfWork], Awaitable[int]] = self.reconcile

    @property
    def desk(self) -> Desk:
        desk = self._desk()
        if desk is None:
            raise RuntimeError("the desk of this referral service is gone")
        return desk

    def attach(self) -> None:
        """Subscribe to the desk's stage changes and add the reconcile job (once)."""
        if not self._attached:
            self.desk.events.subscribe(StageChanged, self.stage_handler)
            self.desk.add_schedule(self.reconcile_job)
            self.desk.add_personal_data("referral", self.erase_person, self.describe_person)
            self._attached = True

    def find_code(self, text: str) -> str | None:
        return find_code(text, self.pattern, self.config.code_prefix)

    async def _write(self, step: Callable[[UnitOfWork], Awaitable[T]]) -> T | _Refused:
        try:
            return await self.desk.write(step)
        except _Refused as refused:
            return refused

    async def _seen_event(self, event_key: str) -> bool:
        async def step(uow: UnitOfWork) -> bool:
            found = await uow.session.scalar(
                select(Referral.id).where(Referral.event_key == event_key)
            )
            return found is not None

        return await self.desk.read(step)

    async def _lead_of(self, handle: str) -> LeadView | None:
        """The lead behind a person's handle, if any."""
        fields = contact_fields(handle)
        return await self.desk.find_lead(**fields) if fields else None

    # -- 推荐 <称呼> <手机号> [意向车型] ------------------------------------------------------
    async def refer(
        self, *, referrer: str, referrer_name: str | None, args: str,
        group_id: str | None, event_key: str,
    ) -> str | None:  # fmt: skip
        """`referrer` (a handle) refers a friend by phone; the reply ("" = usage line,
        None = say nothing: the same message delivered again)."""
        parsed = parse_refer_args(args)
        if isinstance(parsed, str):
            return parsed
        if await self._seen_event(event_key):
            return None
        own = await self._lead_of(referrer)
        known = await self.desk.find_lead(phone=parsed.phone)
        if own is not None and (own.phone == parsed.phone or (known and known.id == own.id)):
            return texts.SELF_REFERRAL
        if known is not None:
            return texts.ALREADY_KNOWN
        name = _clean_name(referrer_name)
        model_note = (
            texts.LEAD_NOTE_MODEL.format(model=parsed.car_model) if parsed.car_model else ""
        )
        note = texts.LEAD_NOTE_REFER.format(
            referrer=name or texts.AN_OWNER, account=account_label(referrer), model=model_note
        )

        async def step(uow: UnitOfWork) -> None:
            if await uow.session.scalar(select(Referral.id).where(Referral.event_key == event_key)):
                raise _Refused("duplicate")
            result = await self.desk.capture_in(
                uow, channel="referral", phone=parsed.phone, name=parsed.name,
                car_model=parsed.car_model, referrer=referrer, message=note[:NOTE_MAX],
                event_key=event_key,
            )  # fmt: skip
            if not result.created:
                raise _Refused("known")
            await self._add(
                uow, referrer=referrer, referrer_name=name, friend_name=parsed.name,
                phone=parsed.phone, lead_id=result.lead.id, source=SOURCE_COMMAND,
                group_id=group_id, event_key=event_key, keys=["phone"],
            )  # fmt: skip

        try:
            outcome = await self._write(step)
        except DeskError as exc:  # checked above already; the desk's own limits, to be safe
            log.info("referral by %s refused by the desk: %s", referrer, exc)
            if isinstance(exc, InvalidInput) and exc.field == "car_model":
                return texts.BAD_MODEL
            return texts.NOT_RECORDED
        if isinstance(outcome, _Refused):
            return None if outcome.reason == "duplicate" else texts.ALREADY_KNOWN
        fields = {
            "name": parsed.name,
            "masked": mask_phone(parsed.phone),
            "points": self.config.visit_points,
            "reward": self.config.deal_reward,
        }
        return (texts.REFERRED_GROUP if group_id else texts.REFERRED_DM).format(**fields)

    async def _add(self, uow: UnitOfWork, *, keys: list[str], **values: object) -> None:
        """The referral row; a friend referred meanwhile (one phone once) refuses."""
        new = await insert_ignore(uow, Referral, keys, created_at=uow.now, points=0, **values)
        if not new:
            raise _Refused("known")

    # -- 推荐码 ---------------------------------------------------------------------------
    async def own_code(self, owner: str, owner_name: str | None) -> OwnCode:
        """The owner's (a handle) code, made on first ask, with its WeCom QR if made."""

        async def step(uow: UnitOfWork) -> OwnCode:
            row = await uow.session.scalar(select(ReferralCode).where(ReferralCode.owner == owner))
            if row is not None:
                return OwnCode(row.code, row.contact_qr)
            candidate = new_code(self.config)
            for _ in range(20):  # a taken code (rare) would only cost a retry of the step
                if await uow.session.get(ReferralCode, candidate) is None:
                    break
                candidate = new_code(self.config)
            # A concurrent first ask by the same owner: theirs wins, read it back.
            await insert_ignore(
                uow, ReferralCode, ["owner"], code=candidate, owner=owner,
                owner_name=_clean_name(owner_name), created_at=uow.now,
            )  # fmt: skip
            mine = await uow.session.scalar(select(ReferralCode).where(ReferralCode.owner == owner))
            assert mine is not None
            return OwnCode(mine.code, mine.contact_qr)

        return await self.desk.write(step)

    async def own_code_by(self, code: str) -> OwnCode | None:
        """A code as stored (with its QR), None when there is no such code."""
        row = await self.desk.read(lambda uow: uow.session.get(ReferralCode, code.upper()[:16]))
        return OwnCode(row.code, row.contact_qr) if row is not None else None

    async def my_code(self, owner: str, owner_name: str | None) -> str:
        """The 推荐码 answer on QQ: the code and where a friend quotes it."""
        own = await self.own_code(owner, owner_name)
        return texts.YOUR_CODE.format(
            code=own.code, points=self.config.visit_points, reward=self.config.deal_reward
        )

    def wechat_code_text(self, code: str, qr: str | None, no_qr: str | None) -> str:
        """The 推荐码 answer on the Official Account: the code, the owner's WeCom QR
        when there is one, else `no_qr` (why there is none)."""
        fields = {"code": code, "points": self.config.visit_points}
        lines = [texts.YOUR_CODE_WECHAT.format(**fields)]
        lines.append(texts.CODE_QR.format(qr=qr) if qr else no_qr or "")
        lines.append(texts.CODE_REWARDS.format(**fields, reward=self.config.deal_reward))
        return "\n".join(line for line in lines if line)

    async def save_contact_way(self, code: str, config_id: str, qr: str) -> str | None:
        """Keep the WeCom contact way made for `code`; one made meanwhile wins (the
        first stored is the one owners already shared). The stored QR, None when the
        code does not exist or the values cannot be stored."""
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

        return await self.desk.write(step)

    async def attribute_code(
        self, code: str, *, friend: str, friend_name: str | None,
        group_id: str | None, event_key: str, source: str = SOURCE_CODE,
        channel: str = "referral", joined: bool = False,
    ) -> CodeOutcome:  # fmt: skip
        """A friend (a handle) quoted `code` (a message, a join request, a WeCom
        contact or join way's state): attribute them to its owner unless they own it
        or are already a lead. `joined`: they are in group `group_id` now (the stay
        window starts). The caller excludes staff."""
        owner_row = await self.desk.read(
            lambda uow: uow.session.get(ReferralCode, code.upper()[:16])
        )
        if owner_row is None:
            return CodeOutcome(False, "unknown")
        owner, owner_name = owner_row.owner, owner_row.owner_name
        if owner == friend:
            return CodeOutcome(False, "own")
        if await self._seen_event(event_key):
            return CodeOutcome(False, "duplicate")
        if await self._lead_of(friend) is not None:
            return CodeOutcome(False, "known")
        shown = owner_name or texts.AN_OWNER
        name = _clean_name(friend_name)
        note = texts.LEAD_NOTE_CODE.format(referrer=shown, code=owner_row.code)
        outcome = await self._attribute(
            friend=friend, friend_name=name, referrer=owner, referrer_name=owner_name,
            group_id=group_id, event_key=event_key, source=source, note=note, joined=joined,
            channel=channel,
        )  # fmt: skip
        if outcome != "attributed":
            return CodeOutcome(False, outcome)
        return CodeOutcome(True, "attributed", shown)

    async def _attribute(
        self, *, friend: str, friend_name: str | None, referrer: str, referrer_name: str | None,
        group_id: str | None, event_key: str, source: str, note: str, joined: bool,
        channel: str = "referral",
    ) -> str:  # fmt: skip
        """A friend known by an account (a handle) becomes a referred lead:
        "attributed", "known", "duplicate" or "invalid"."""
        contact = contact_fields(friend)
        if not contact:
            return "invalid"

        async def step(uow: UnitOfWork) -> None:
            if await uow.session.scalar(select(Referral.id).where(Referral.event_key == event_key)):
                raise _Refused("duplicate")
            result = await self.desk.capture_in(
                uow, channel=channel, name=friend_name, group_id=group_id, referrer=referrer,
                message=note[:NOTE_MAX], event_key=event_key, **contact,
            )  # fmt: skip
            if not result.created:
                raise _Refused("known")
            await self._add(
                uow, referrer=referrer, referrer_name=referrer_name, friend_name=friend_name,
                friend=friend, lead_id=result.lead.id, source=source, group_id=group_id,
                event_key=event_key, joined_at=uow.now if joined else None, keys=["friend"],
            )  # fmt: skip

        try:
            outcome = await self._write(step)
        except DeskError as exc:  # e.g. a QQ id or WeChat id the desk does not accept
            log.info("referral of %s not recorded: %s", friend, exc)
            return "invalid"
        return outcome.reason if isinstance(outcome, _Refused) else "attributed"

    # -- WeCom: customer contacts and customer groups --------------------------------------
    async def wecom_contact_added(
        self, state: str | None, *, external_userid: str, event_key: str
    ) -> CodeOutcome:
        """A customer added a staff member through a contact way: its `state` is an
        owner's code (the QR 推荐码 handed out) -> the customer is that owner's referral."""
        code = code_in_state(state, self.pattern, self.config.code_prefix)
        if code is None:
            return CodeOutcome(False, "unknown")
        return await self.attribute_code(
            code, friend=f"wecom:{external_userid}", friend_name=None, group_id=None,
            event_key=event_key, source=SOURCE_WECOM_CONTACT, channel="wecom",
        )  # fmt: skip

    async def wecom_group_joined(
        self, group: object, *, chat_id: str, member_ids: list[str], key_prefix: str
    ) -> list[CodeOutcome]:
        """Customers joined customer group `chat_id`: those whose join way's state is
        a code (read from `groupchat/get`'s answer `group`) are the owner's referrals,
        in the group from now (leaving within the stay window voids it)."""
        outcomes = []
        for userid, code in joined_with_codes(
            group, member_ids, self.pattern, self.config.code_prefix
        ):
            outcome = await self.attribute_code(
                code, friend=f"wecom:{userid}", friend_name=None, group_id=chat_id,
                event_key=platform_key(key_prefix, userid), source=SOURCE_WECOM_GROUP,
                channel="wecom_group", joined=True,
            )  # fmt: skip
            outcomes.append(outcome)
        return outcomes

    async def wecom_group_left(self, *, chat_id: str, member_ids: list[str]) -> int:
        """Customers left customer group `chat_id`: how many referrals that voided."""
        voided = 0
        for userid in member_ids[:500]:
            voided += await self.left_group(group_id=chat_id, friend=f"wecom:{userid}")
        return voided

    # -- group membership ------------------------------------------------------------------
    async def invited(
        self, *, group_id: str, friend: str, inviter: str, event_key: str,
        friend_name: str | None = None,
    ) -> bool:  # fmt: skip
        """A member (`inviter`, a handle) invited `friend` into the QQ group (the caller
        excludes staff and the bot as inviter). True when the friend became the
        inviter's referral."""
        if friend == inviter or await self._seen_event(event_key):
            return False
        if await self._lead_of(friend) is not None:
            return False
        note = texts.LEAD_NOTE_INVITE.format(account=account_label(inviter))
        outcome = await self._attribute(
            friend=friend, friend_name=_clean_name(friend_name), referrer=inviter, referrer_name=None,
            group_id=group_id, event_key=event_key, source=SOURCE_INVITE, note=note,
            joined=True,
        )  # fmt: skip
        return outcome == "attributed"

    async def joined(self, *, group_id: str, friend: str) -> bool:
        """A friend referred by a join request's code was let in: the stay window starts."""

        async def step(uow: UnitOfWork) -> bool:
            result = await uow.session.execute(
                update(Referral)
                .where(
                    Referral.friend == friend,
                    Referral.group_id == group_id,
                    Referral.source == SOURCE_JOIN,
                    Referral.joined_at.is_(None),
                )
                .values(joined_at=uow.now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self.desk.write(step)

    async def left_group(self, *, group_id: str, friend: str) -> bool:
        """A referred friend left the group they joined through the referral: within
        the stay window the referral is voided. True when it was."""

        async def step(uow: UnitOfWork) -> bool:
            ref = await uow.session.scalar(
                select(Referral)
                .where(
                    Referral.friend == friend,
                    Referral.group_id == group_id,
                    Referral.joined_at.is_not(None),
                    Referral.voided_at.is_(None),
                )
                .with_for_update()
            )
            if ref is None or ref.joined_at is None:
                return False
            if uow.now - ref.joined_at > timedelta(days=self.config.stay_days):
                return False
            await self._void(uow, ref, "left_group")
            return True

        return await self.desk.write(step)

    async def _void(self, uow: UnitOfWork, ref: Referral, reason: str) -> None:
        ref.voided_at, ref.void_reason = uow.now, reason
        if ref.points:  # points given meanwhile are taken back: the referral earns nothing
            await points.award(
                uow, ref.referrer, -ref.points, "referral_void", key=f"referral:{ref.lead_id}:void"
            )
            ref.points = 0
        await uow.session.execute(
            update(ReferralReward)
            .where(ReferralReward.referral_id == ref.id, ReferralReward.status == PENDING)
            .values(status=CANCELLED)
        )
        for what in ("visit", "deal"):
            await self.desk.cancel_notification_in(uow, f"referral:{ref.lead_id}:{what}")

    # -- rewards ---------------------------------------------------------------------------
    async def on_stage_changed(self, event: LeadEvent) -> None:
        """Visit points and the deal reward as the desk moves a referred lead on."""
        if not isinstance(event, StageChanged) or not event.referrer:
            return
        if event.new_stage not in VISIT_STAGES:
            return

        async def step(uow: UnitOfWork) -> int:
            ref = await uow.session.scalar(
                select(Referral).where(Referral.lead_id == event.lead_id).with_for_update()
            )
            if ref is None:
                return 0
            return await self._apply(uow, ref, visited=True, won=event.new_stage == "won")

        await self.desk.write(step)

    async def reconcile(self, uow: UnitOfWork) -> int:
        """Minute job: rewards the event handler missed, from the leads' current state.
        Walks the open referrals in batches (a cursor kept in memory), so a large
        history costs one batch a minute."""
        rows = list(
            await uow.session.scalars(
                select(Referral)
                .where(
                    Referral.voided_at.is_(None),
                    Referral.deal_rewarded_at.is_(None),
                    Referral.id > self._cursor,
                )
                .order_by(Referral.id)
                .limit(RECONCILE_BATCH)
                .with_for_update()
            )
        )
        if not rows:
            self._cursor = 0
            return 0
        leads = await self.desk.leads([r.lead_id for r in rows])
        applied = 0
        for ref in rows:
            lead = leads.get(ref.lead_id)
            if lead is None:
                continue
            visited = lead.stage in VISIT_STAGES or lead.visit_count > 0
            applied += await self._apply(uow, ref, visited=visited, won=lead.stage == "won")
        self._cursor = rows[-1].id if len(rows) == RECONCILE_BATCH else 0
        return applied

    async def _apply(self, uow: UnitOfWork, ref: Referral, *, visited: bool, won: bool) -> int:
        """Give what the lead's progress earns and was not given yet; the keys make it once."""
        if ref.voided_at is not None:
            return 0
        applied = 0
        friend = friend_label(ref)
        if (visited or won) and ref.visit_rewarded_at is None:
            ref.visit_rewarded_at = uow.now
            gained = self.config.visit_points
            key = f"referral:{ref.lead_id}:visit"
            if gained and await points.award(uow, ref.referrer, gained, "referral_visit", key=key):
                ref.points += gained
                await self._dm(uow, ref, key, texts.DM_VISITED.format(friend=friend, points=gained))
            applied += 1
        if won and ref.deal_rewarded_at is None:
            ref.deal_rewarded_at = uow.now
            new = await insert_ignore(
                uow, ReferralReward, ["lead_id"], referral_id=ref.id, lead_id=ref.lead_id,
                referrer=ref.referrer, reward=self.config.deal_reward, status=PENDING,
                created_at=uow.now,
            )  # fmt: skip
            if new:
                text = texts.DM_WON.format(friend=friend, reward=self.config.deal_reward)
                await self._dm(uow, ref, f"referral:{ref.lead_id}:deal", text)
            applied += 1
        return applied

    async def _dm(self, uow: UnitOfWork, ref: Referral, key: str, text: str) -> None:
        """Tell the referrer: a QQ DM, or an Official Account message (which WeChat
        delivers only within 48 h of the follower's last message to the account)."""
        parts = split_handle(ref.referrer)
        channel = DM_CHANNELS.get(parts[0]) if parts else None
        if parts is not None and channel is not None:
            await self.desk.notify_in(
                uow, key=key, kind="referral_reward", channel=channel, address=parts[1],
                payload={"text": text},
            )  # fmt: skip

    # -- 我的推荐 -----------------------------------------------------------------------
    async def my_referrals(self, owner: str) -> str:
        """我的推荐 of `owner` (a handle)."""

        async def step(uow: UnitOfWork) -> _Mine:
            rows = list(
                await uow.session.scalars(
                    select(Referral)
                    .where(Referral.referrer == owner)
                    .order_by(Referral.id.desc())
                    .limit(MINE_SHOWN)
                )
            )
            total, valid, earned = (
                await uow.session.execute(
                    select(
                        func.count(Referral.id),
                        func.count(Referral.id).filter(Referral.voided_at.is_(None)),
                        func.coalesce(func.sum(Referral.points), 0),
                    ).where(Referral.referrer == owner)
                )
            ).one()
            rewards = await uow.session.scalars(
                select(ReferralReward).where(ReferralReward.referral_id.in_([r.id for r in rows]))
            )
            return _Mine(
                rows, int(total), int(valid), int(earned), {r.referral_id: r for r in rewards}
            )

        mine = await self.desk.read(step)
        if not mine.rows:
            return texts.MINE_NONE
        leads = await self.desk.leads([r.lead_id for r in mine.rows])
        lines = [texts.MINE_HEADER.format(count=mine.valid, points=mine.points)]
        for n, ref in enumerate(mine.rows, 1):
            extra = texts.MINE_POINTS.format(points=ref.points) if ref.points else ""
            reward = mine.rewards.get(ref.id)
            if reward is not None:
                state = texts.REWARD_STATES.get(reward.status, reward.status)
                extra += texts.MINE_REWARD.format(reward=reward.reward, state=state)
            status = progress(ref, leads.get(ref.lead_id))
            lines.append(
                texts.MINE_LINE.format(n=n, friend=friend_label(ref), status=status, extra=extra)
            )
        if mine.total > len(mine.rows):
            lines.append(texts.MINE_MORE.format(more=mine.total - len(mine.rows)))
        return "\n".join(lines)

    # -- 推荐榜 -----------------------------------------------------------------------------
    # -- personal data (desk.privacy) ------------------------------------------------------
    @staticmethod
    def _as_friend(person: Person) -> Any:
        conditions = []
        if person.lead_id is not None:
            conditions.append(Referral.lead_id == person.lead_id)
        if person.values("phone"):
            conditions.append(Referral.phone.in_(person.values("phone")))
        if person.referrer_handles:
            conditions.append(Referral.friend.in_(person.referrer_handles))
        return or_(*conditions) if conditions else None

    async def erase_person(self, uow: UnitOfWork, person: Person) -> dict[str, int]:
        """Their code goes; referrals they made stay (the referred friends' leads and
        the counts) under their token, their name gone; rewards not yet handed out are
        cancelled (there is nobody left to hand them to). Referred themselves, the
        referral loses their name, phone and handle; the referrer keeps the credit."""
        counts: dict[str, int] = {}
        owners = person.referrer_handles
        if owners:
            made = (
                await uow.session.execute(
                    select(Referral.lead_id, Referral.referrer_name).where(
                        Referral.referrer.in_(owners)
                    )
                )
            ).all()
            codes = await uow.session.scalars(
                select(ReferralCode.code).where(ReferralCode.owner.in_(owners))
            )
            # The friends' leads say who referred them ("车主 小王（QQ 20001）推荐的好友").
            words = [name for _, name in made if name] + [account_label(h) for h in owners]
            counts["lead_notes"] = await redact(
                uow, [lead_id for lead_id, _ in made], [*words, *owners, *codes.all()]
            )
            result = await uow.session.execute(
                delete(ReferralCode).where(ReferralCode.owner.in_(owners))
            )
            counts["codes"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
            result = await uow.session.execute(
                update(Referral)
                .where(Referral.referrer.in_(owners))
                .values(referrer=person.token, referrer_name=None)
            )
            counts["referrals_made"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
            result = await uow.session.execute(
                update(ReferralReward)
                .where(ReferralReward.referrer.in_(owners), ReferralReward.status == PENDING)
                .values(status=CANCELLED)
            )
            counts["rewards_cancelled"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
            await uow.session.execute(
                update(ReferralReward)
                .where(ReferralReward.referrer.in_(owners))
                .values(referrer=person.token)
            )
        as_friend = self._as_friend(person)
        if as_friend is not None:
            result = await uow.session.execute(
                update(Referral).where(as_friend).values(friend_name=None, phone=None, friend=None)
            )
            counts["referred"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        return counts

    async def describe_person(self, uow: UnitOfWork, person: Person) -> dict[str, Any] | None:
        owners = person.referrer_handles
        data: dict[str, Any] = {}
        if owners:
            code = await uow.session.scalar(
                select(ReferralCode.code).where(ReferralCode.owner.in_(owners)).limit(1)
            )
            made = await uow.session.scalar(
                select(func.count()).select_from(Referral).where(Referral.referrer.in_(owners))
            )
            rewards = await uow.session.scalar(
                select(func.count())
                .select_from(ReferralReward)
                .where(ReferralReward.referrer.in_(owners))
            )
            if code:
                data["code"] = code
            if made:
                data["referrals_made"] = int(made)
            if rewards:
                data["rewards"] = int(rewards)
        as_friend = self._as_friend(person)
        if as_friend is not None:
            referred = await uow.session.scalar(
                select(func.count()).select_from(Referral).where(as_friend)
            )
            if referred:
                data["referred"] = True
        return data or None

    async def leaderboard(self) -> str:
        """This month and all time: valid (not voided) referrals per referrer, ties broken
        by won deals, then by who got there first. Names as stored, never phones."""
        now = self.desk.clock.now()
        today = self.desk.calendar.local_date(now)
        month_start = self.desk.calendar.day_bounds(today.replace(day=1))[0]
        size = self.config.leaderboard_size

        async def ranking(uow: UnitOfWork, since: datetime | None) -> list[tuple[str, int, int]]:
            deal = and_(
                ReferralReward.referral_id == Referral.id, ReferralReward.status != CANCELLED
            )
            count = func.count(Referral.id)
            deals = func.count(ReferralReward.id)
            query = (
                select(Referral.referrer, count, deals)
                .outerjoin(ReferralReward, deal)
                .where(Referral.voided_at.is_(None))
                .group_by(Referral.referrer)
                .order_by(count.desc(), deals.desc(), func.min(Referral.id))
                .limit(size)
            )
            if since is not None:
                query = query.where(Referral.created_at >= since)
            return [(r, int(c), int(d)) for r, c, d in (await uow.session.execute(query)).all()]

        async def step(uow: UnitOfWork) -> tuple[list, list, dict[str, str]]:
            month = await ranking(uow, month_start)
            ever = await ranking(uow, None)
            who = {r for r, _, _ in month + ever}
            names: dict[str, str] = {}
            for referrer, name in await uow.session.execute(
                select(ReferralCode.owner, ReferralCode.owner_name).where(
                    ReferralCode.owner.in_(sorted(who)), ReferralCode.owner_name.is_not(None)
                )
            ):
                if name:
                    names[referrer] = name
            for referrer, name in await uow.session.execute(
                select(Referral.referrer, Referral.referrer_name)
                .where(Referral.referrer.in_(sorted(who)), Referral.referrer_name.is_not(None))
                .order_by(Referral.id)
            ):
                if name:  # the latest name they referred under wins
                    names[referrer] = name
            return month, ever, names

        month, ever, names = await self.desk.read(step)

        def block(header: str, rows: list[tuple[str, int, int]]) -> list[str]:
            out = [header]
            if not rows:
                return [*out, texts.BOARD_EMPTY]
            for n, (referrer, count, deals) in enumerate(rows, 1):
                out.append(
                    texts.BOARD_LINE.format(
                        n=n,
                        name=referrer_label(names.get(referrer), referrer),
                        count=count,
                        deals=texts.BOARD_DEALS.format(deals=deals) if deals else "",
                    )  # fmt: skip
                )
            return out

        lines = [
            *block(texts.BOARD_HEADER_MONTH, month),
            *block(texts.BOARD_HEADER_ALL, ever),
            texts.BOARD_FOOTER,
        ]
        return "\n".join(lines)

    # -- 奖励台账 ----------------------------------------------------------------------------
    async def ledger(self, show_all: bool = False) -> str:
        """The rewards to fulfil, oldest first; with `show_all` the settled ones follow."""

        async def step(uow: UnitOfWork) -> list[tuple[ReferralReward, Referral]]:
            base = select(ReferralReward, Referral).join(
                Referral, Referral.id == ReferralReward.referral_id
            )
            queries = [base.where(ReferralReward.status == PENDING).order_by(ReferralReward.id)]
            if show_all:
                settled = base.where(ReferralReward.status != PENDING)
                queries.append(settled.order_by(ReferralReward.id.desc()))
            rows: list[tuple[ReferralReward, Referral]] = []
            for query in queries:
                found = await uow.session.execute(query.limit(LEDGER_SHOWN - len(rows)))
                rows += [(reward, ref) for reward, ref in found.all()]
                if len(rows) >= LEDGER_SHOWN:
                    break
            return rows

        rows = await self.desk.read(step)
        if not rows:
            return texts.LEDGER_EMPTY_ALL if show_all else texts.LEDGER_EMPTY_PENDING
        header = texts.LEDGER_HEADER_ALL if show_all else texts.LEDGER_HEADER_PENDING
        lines = [header.format(count=len(rows))]
        for reward, ref in rows:
            line = texts.LEDGER_LINE.format(
                id=reward.id, state=texts.REWARD_STATES.get(reward.status, reward.status),
                referrer=self._referrer_with_account(ref), friend=friend_label(ref),
                reward=reward.reward, date=self._date(reward.created_at),
            )  # fmt: skip
            if reward.status == FULFILLED and reward.fulfilled_at is not None:
                line += texts.LEDGER_DONE_BY.format(
                    by=reward.fulfilled_by or "", date=self._date(reward.fulfilled_at)
                )
            lines.append(line)
        lines.append(texts.LEDGER_FOOTER)
        return "\n".join(lines)

    def _date(self, at: datetime) -> str:
        return self.desk.calendar.local(at).strftime("%Y-%m-%d")

    @staticmethod
    def _referrer_with_account(ref: Referral) -> str:
        """Who to hand the reward to: the name and the account (managers only)."""
        account = account_label(ref.referrer)
        return f"{ref.referrer_name}（{account}）" if ref.referrer_name else account

    async def fulfil(self, reward_id: int, by: str) -> str:
        """Mark one reward handed out, durably, with who and when; the referrer is told."""

        async def step(uow: UnitOfWork) -> str:
            found = await uow.session.execute(
                select(ReferralReward, Referral)
                .join(Referral, Referral.id == ReferralReward.referral_id)
                .where(ReferralReward.id == reward_id)
                .with_for_update(of=ReferralReward)
            )
            row = found.first()
            if row is None:
                return texts.LEDGER_NOT_FOUND.format(id=reward_id)
            reward, ref = row
            if reward.status == CANCELLED:
                return texts.LEDGER_CANCELLED.format(id=reward.id)
            if reward.status == FULFILLED:
                return texts.LEDGER_ALREADY.format(
                    id=reward.id, by=reward.fulfilled_by or "",
                    date=self._date(reward.fulfilled_at or uow.now),
                )  # fmt: skip
            reward.status, reward.fulfilled_at, reward.fulfilled_by = FULFILLED, uow.now, by
            text = texts.DM_FULFILLED.format(friend=friend_label(ref), reward=reward.reward)
            await self._dm(uow, ref, f"referral:reward:{reward.id}:fulfilled", text)
            return texts.LEDGER_FULFILLED.format(
                id=reward.id, reward=reward.reward, referrer=self._referrer_with_account(ref)
            )

        return await self.desk.write(step)


# -- one service per desk --------------------------------------------------------------------

_services: weakref.WeakKeyDictionary[Desk, ReferralService] = weakref.WeakKeyDictionary()


def service_for(desk: Desk, config: ReferralConfig | None = None) -> ReferralService:
    """The desk's referral service (created, subscribed and scheduled on first use)."""
    service = _services.get(desk)
    if service is None:
        service = ReferralService(desk, config or load_config())
        _services[desk] = service
    service.attach()
    return service
