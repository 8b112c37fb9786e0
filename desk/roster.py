"""Consultants and managers: seeded from config/roster.toml, changed at run time."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import or_, select

from desk.errors import ConfigError, DuplicateMember, InvalidInput, MemberNotFound, valid_id
from desk.models import Member
from desk.uow import UnitOfWork
from desk.views import MemberView

QQ_ID_PATTERN = r"^[1-9][0-9]{4,11}$"
QQ_ID = re.compile(QQ_ID_PATTERN)  # a QQ number, as everything here accepts it
QQId = Annotated[str, StringConstraints(pattern=QQ_ID_PATTERN)]


class MemberSpec(BaseModel):
    """One roster entry, from the config file or a 添加顾问 command."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=32)]
    role: Literal["consultant", "manager"] = "consultant"
    qq_id: QQId | None = None
    wecom_userid: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")] | None = (
        None
    )
    dm_channel: Literal["qq", "wecom"] = "qq"
    on_duty: bool = True

    @field_validator("name", mode="before")
    @classmethod
    def _storable(cls, value: object) -> object:
        # pydantic's own error for a lone surrogate is English and reaches the chat;
        # a NUL would fail on PostgreSQL. Lazy import: capture imports roster (via notify).
        from desk.capture import storable

        if isinstance(value, str) and not storable(value):
            raise InvalidInput("name", "含有无法识别的字符")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> MemberSpec:
        if not self.qq_id and not self.wecom_userid:
            raise ValueError("needs qq_id or wecom_userid")
        if self.dm_channel == "wecom" and not self.wecom_userid:
            raise ValueError("dm_channel wecom needs wecom_userid")
        return self


def load_roster_file(path: Path) -> list[MemberSpec]:
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    specs = []
    for i, raw in enumerate(data.get("member", [])):
        try:
            specs.append(MemberSpec.model_validate(raw))
        except InvalidInput as exc:
            raise ConfigError(f"invalid roster in {path}: member[{i}].{exc}") from None
        except ValidationError as exc:
            keys = "; ".join(
                f"member[{i}].{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"invalid roster in {path}: {keys}") from None
    return specs


def validate_spec(**fields: object) -> MemberSpec:
    try:
        return MemberSpec.model_validate(fields)
    except InvalidInput:
        raise
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInput(".".join(map(str, err["loc"])) or "member", err["msg"]) from None


async def find(
    uow: UnitOfWork, *, qq_id: str | None = None, wecom_userid: str | None = None
) -> Member | None:
    conditions = []
    if qq_id:
        conditions.append(Member.qq_id == qq_id)
    if wecom_userid:
        conditions.append(Member.wecom_userid == wecom_userid)
    if not conditions:
        return None
    return (await uow.session.scalars(select(Member).where(or_(*conditions)).limit(1))).first()


async def get(uow: UnitOfWork, member_id: int) -> Member:
    member = await uow.session.get(Member, member_id) if valid_id(member_id) else None
    if member is None:
        raise MemberNotFound(member_id)
    return member


async def add(uow: UnitOfWork, spec: MemberSpec, *, upsert: bool = False) -> Member:
    existing = await find(uow, qq_id=spec.qq_id, wecom_userid=spec.wecom_userid)
    if existing is not None and not upsert:
        raise DuplicateMember(f"{existing.name} is on the roster already")
    member = existing or Member(created_at=uow.now, open_load=0, last_assigned_at=None)
    member.name, member.role, member.dm_channel = spec.name, spec.role, spec.dm_channel
    member.qq_id, member.wecom_userid = spec.qq_id, spec.wecom_userid
    member.active = True
    if existing is None:
        member.on_duty = spec.on_duty
        uow.session.add(member)
    await uow.session.flush()
    return member


async def members(
    uow: UnitOfWork, role: str | None = None, active_only: bool = True
) -> list[MemberView]:
    query = select(Member).order_by(Member.id)
    if role:
        query = query.where(Member.role == role)
    if active_only:
        query = query.where(Member.active.is_(True))
    return [MemberView.of(m) for m in (await uow.session.scalars(query)).all()]


async def managers(uow: UnitOfWork) -> list[Member]:
    """The active managers, read once per transaction (escalations notify them per lead)."""
    if "managers" not in uow.memo:
        query = (
            select(Member)
            .where(Member.role == "manager", Member.active.is_(True))
            .order_by(Member.id)
        )
        uow.memo["managers"] = list((await uow.session.scalars(query)).all())
    return uow.memo["managers"]


def superuser_ids(ids: Iterable[str]) -> tuple[str, ...]:
    """The QQ ids among a front's superusers (other platforms' ids are no QQ address)."""
    return tuple(sorted({str(i).strip() for i in ids if QQ_ID.match(str(i).strip())}))


async def superuser_addresses(uow: UnitOfWork) -> list[str]:
    """QQ ids of the superusers who are not told as an active roster manager: they
    are managers too and get a manager's messages by QQ DM, each message once."""
    if not uow.superusers:
        return []
    told = {m.qq_id for m in await managers(uow)}
    return [qq for qq in uow.superusers if qq not in told]


async def member_names(uow: UnitOfWork) -> dict[int, str]:
    rows = await uow.session.execute(select(Member.id, Member.name))
    return {member_id: name for member_id, name in rows.all()}


async def open_loads(uow: UnitOfWork) -> dict[int, int]:
    """Each active member's open leads (the load the assignment's cap counts)."""
    rows = await uow.session.execute(
        select(Member.id, Member.open_load).where(Member.active.is_(True))
    )
    return {member_id: load for member_id, load in rows.all()}


async def label_name(uow: UnitOfWork, label: str) -> str | None:
    """The roster name behind an actor label ("member:3"); None for anyone else
    (a SUPERUSER off the roster, the system)."""
    kind, _, number = label.partition(":")
    if kind != "member" or not number.isdigit():
        return None
    member = await uow.session.get(Member, int(number))
    return member.name if member is not None else None
