"""Owners (车主): the dealer's existing customers. Not leads: a prospect's capture
(an event sign-up) declines any owner's handle, decided in the capture's own
transaction (desk.capture); a won lead becomes an owner in the deal's transaction.

An owner row holds one handle of each kind (phone, QQ id, Official Account
openid, WeCom external userid), each unique: one person is one owner. A row that
names a known owner fills only what the owner lacks (never overwrites): importing
the same list twice changes nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from sqlalchemy import Table, delete, insert, or_, select

from desk.errors import Forbidden, InvalidInput
from desk.imports.rows import RejectedRow, RowOutcome
from desk.models import LeadContact, Owner
from desk.phone import mask_phone, normalize_phone
from desk.text import clean_text
from desk.uow import UnitOfWork
from desk.views import Actor

if TYPE_CHECKING:
    from desk.models import Lead
    from desk.privacy import Person

Source = Literal["import", "manual", "won"]
# desk.capture's handle kinds -> the owner's column holding that kind
COLUMNS = {
    "phone": "phone", "qq": "qq_id", "wechat_openid": "wechat_openid",
    "wecom_external": "wecom_external_userid",
}  # fmt: skip
KIND_OF = {column: kind for kind, column in COLUMNS.items()}
FACTS = ("name", "car_model", "plate", "vin", "purchased_on")
QQ_ID = re.compile(r"^[1-9][0-9]{4,11}$")
# A WeCom external userid starts wm/wo; an Official Account openid with o.
_WECOM_EXTERNAL = re.compile(r"^w[mo][\w-]{8,126}$")
_HANDLE = re.compile(r"^[\w@.\-:=+/]{1,128}$")
_LIMITS = {"name": 64, "car_model": 64, "plate": 16, "vin": 17}
Handles = list[tuple[str, str]]


@dataclass(frozen=True)
class OwnerView:
    id: int
    name: str | None
    phone: str | None
    qq_id: str | None
    wechat_openid: str | None
    wecom_external_userid: str | None
    car_model: str | None
    plate: str | None
    vin: str | None
    purchased_on: date | None
    source: str
    lead_id: int | None

    @classmethod
    def of(cls, owner: Owner) -> OwnerView:
        return cls(**{f: getattr(owner, f) for f in cls.__dataclass_fields__})

    @property
    def masked_phone(self) -> str | None:
        return mask_phone(self.phone) if self.phone else None


@dataclass(frozen=True)
class OwnerMark:
    owner: OwnerView
    created: bool  # False: the person was an owner already (what was said is filled in)


class OwnerFacts(Protocol):
    """What an owner row of an import carries (desk.imports.rows.OwnerRow)."""

    @property
    def line(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def qq_id(self) -> str | None: ...
    @property
    def wechat(self) -> str | None: ...
    @property
    def car_model(self) -> str | None: ...
    @property
    def plate(self) -> str | None: ...
    @property
    def vin(self) -> str | None: ...
    @property
    def purchased_on(self) -> date | None: ...


def wechat_kind(value: str) -> str:
    """The handle kind of a WeChat id as an owner list gives it (one column for both)."""
    return "wecom_external" if _WECOM_EXTERNAL.match(value) else "wechat_openid"


def handles_of(
    *, phone: str | None = None, qq_id: str | None = None, wechat: str | None = None,
    wechat_openid: str | None = None, wecom_external_userid: str | None = None,
) -> Handles:  # fmt: skip
    """Checked handles in desk.capture's order (phone first); InvalidInput when bad."""
    found: Handles = []
    if phone:
        found.append(("phone", normalize_phone(phone)))
    if qq_id:
        if not QQ_ID.match(qq_id):
            raise InvalidInput("qq_id", "QQ号不对")
        found.append(("qq", qq_id))
    for kind, value in (
        (wechat_kind(wechat) if wechat else "", wechat),
        ("wechat_openid", wechat_openid), ("wecom_external", wecom_external_userid),
    ):  # fmt: skip
        if value:
            if not _HANDLE.match(value):
                raise InvalidInput("wechat", "微信号不对")
            found.append((kind, value))
    return list(dict.fromkeys(found))


def _fact(name: str, value: Any) -> Any:
    if isinstance(value, str):
        value = clean_text(value) if name in ("name", "car_model") else value.strip()
        if not value:
            return None
        if len(value) > _LIMITS[name]:
            raise InvalidInput(name, f"太长了（最多 {_LIMITS[name]} 字）")
    return value


def _matching(handles: Iterable[tuple[str, str]]) -> Any:
    by_column: dict[str, list[str]] = {}
    for kind, value in handles:
        by_column.setdefault(COLUMNS[kind], []).append(value)
    return or_(*(getattr(Owner, column).in_(values) for column, values in by_column.items()))


async def _owners_holding(uow: UnitOfWork, handles: Handles) -> dict[tuple[str, str], Owner]:
    """The owners holding any of `handles`, by each handle they hold (one query);
    locked (PostgreSQL) so two writers of one person serialise."""
    if not handles:
        return {}
    query = select(Owner).where(_matching(handles)).with_for_update()
    found: dict[tuple[str, str], Owner] = {}
    for owner in await uow.session.scalars(query.execution_options(populate_existing=True)):
        for column, kind in KIND_OF.items():
            if (value := getattr(owner, column)) is not None:
                found[(kind, value)] = owner
    return found


async def owner_of(uow: UnitOfWork, handles: Handles) -> Owner | None:
    """The owner holding any of the handles; the first handle wins."""
    found = await _owners_holding(uow, handles)
    return next((found[h] for h in handles if h in found), None)


def _fill(
    owner: Owner, facts: dict[str, Any], handles: Handles, held: dict[tuple[str, str], Owner]
) -> dict[str, Any]:
    """What a known owner gains: the facts it lacks, and the handles it has no
    value for that nobody else holds."""
    values = {k: v for k, v in facts.items() if v is not None and getattr(owner, k) is None}
    for kind, value in handles:
        column = COLUMNS[kind]
        if getattr(owner, column) is None and (kind, value) not in held and column not in values:
            values[column] = value
    return values


def _new_row(
    uow: UnitOfWork, facts: dict[str, Any], handles: Handles, source: Source,
    lead_id: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    row: dict[str, Any] = dict.fromkeys(_COLUMNS)
    row |= facts
    for kind, value in handles:
        row[COLUMNS[kind]] = row[COLUMNS[kind]] or value  # the first of a kind
    row |= {"source": source, "lead_id": lead_id, "created_at": uow.now, "updated_at": uow.now}
    return row


async def _upsert(
    uow: UnitOfWork, facts: dict[str, Any], handles: Handles, source: Source,
    *, lead_id: int | None = None, override: tuple[str, ...] = (),
) -> tuple[Owner, bool]:  # fmt: skip
    """The person's owner row, made or filled in; True when made. `override`:
    facts that replace what the owner had (a manager's own word)."""
    held = await _owners_holding(uow, handles)
    owner = next((held[h] for h in handles if h in held), None)
    if owner is None:
        inserted = await uow.session.execute(
            _INSERT, _new_row(uow, facts, handles, source, lead_id)
        )
        owner_id = inserted.inserted_primary_key[0]  # type: ignore[attr-defined]
        made = await uow.session.get(Owner, owner_id)
        assert made is not None
        return made, True
    values = _fill(owner, facts, handles, held)
    values |= {k: facts[k] for k in override if facts.get(k) is not None}
    if lead_id is not None and owner.lead_id is None:
        values["lead_id"] = lead_id
    values = {k: v for k, v in values.items() if getattr(owner, k) != v}
    if values:
        for name, value in values.items():
            setattr(owner, name, value)
        owner.updated_at = uow.now
        await uow.session.flush()
    return owner, False


# -- a manager's mark ---------------------------------------------------------------------


async def mark(
    uow: UnitOfWork, actor: Actor, handles: Handles, *, name: str | None = None,
    car_model: str | None = None,
) -> OwnerMark:  # fmt: skip
    """设为车主: the person becomes (or stays) an owner; a model said replaces the one kept."""
    if not actor.is_manager:
        raise Forbidden("只有经理可以设置车主")
    if not handles:
        raise InvalidInput("handle", "需要QQ号、手机号或微信号")
    facts = {"name": _fact("name", name), "car_model": _fact("car_model", car_model)}
    owner, created = await _upsert(uow, facts, handles, "manual", override=("car_model",))
    return OwnerMark(OwnerView.of(owner), created)


async def unmark(uow: UnitOfWork, actor: Actor, handles: Handles) -> OwnerView | None:
    """取消车主: the person is no owner any more; None when they were not one."""
    if not actor.is_manager:
        raise Forbidden("只有经理可以设置车主")
    owner = await owner_of(uow, handles)
    if owner is None:
        return None
    view = OwnerView.of(owner)
    await uow.session.delete(owner)
    await uow.session.flush()
    return view


# -- a won lead ---------------------------------------------------------------------------


async def add_won(uow: UnitOfWork, lead: Lead) -> OwnerView | None:
    """成交: the lead's person becomes an owner (or a known owner is linked to the
    lead), in the deal's transaction. None when the lead has no handle left."""
    rows = await uow.session.execute(
        select(LeadContact.kind, LeadContact.value)
        .where(LeadContact.lead_id == lead.id)
        .order_by(LeadContact.id)
    )
    handles = [(k, v) for k, v in rows.all() if k in COLUMNS]
    if lead.phone:
        handles.insert(0, ("phone", lead.phone))
    handles = list(dict.fromkeys(handles))
    if not handles:
        return None
    facts = {"name": lead.name, "car_model": lead.car_model, "purchased_on": None}
    if lead.won_at is not None:
        facts["purchased_on"] = uow.calendar.local_date(lead.won_at)
    owner, _ = await _upsert(uow, facts, handles, "won", lead_id=lead.id)
    return OwnerView.of(owner)


# -- an import ----------------------------------------------------------------------------


def row_handles(row: OwnerFacts) -> Handles:
    return handles_of(phone=row.phone, qq_id=row.qq_id, wechat=row.wechat)


def row_facts(row: OwnerFacts) -> dict[str, Any]:
    return {name: _fact(name, getattr(row, name)) for name in FACTS}


async def import_batch(
    uow: UnitOfWork, rows: list[OwnerFacts | RejectedRow], seen: dict[tuple[str, str], int],
    *, dry_run: bool,
) -> list[RowOutcome]:  # fmt: skip
    """One batch of an owner import, in one transaction: one query finds the known
    owners of the whole batch, one executemany inserts the new ones. `seen`: the
    handles of the file's earlier rows (a row sharing one is a duplicate), kept
    across batches. A dry run decides the same and writes nothing."""

    parsed: list[tuple[OwnerFacts, Handles, dict[str, Any]] | RowOutcome] = []
    for row in rows:
        if isinstance(row, RejectedRow):  # the reader's: its reason stands
            parsed.append(RowOutcome(row.line, "rejected", reason=row.reason))
            continue
        try:
            handles, facts = row_handles(row), row_facts(row)
        except InvalidInput as bad:
            parsed.append(RowOutcome(row.line, "rejected", reason=bad.message, name=row.name))
            continue
        shown = {"name": facts["name"], "masked_phone": _masked(handles)}
        if not handles:
            parsed.append(
                RowOutcome(row.line, "rejected", reason="没有手机号、QQ号或微信号", **shown)
            )
        elif (first := next((seen[h] for h in handles if h in seen), None)) is not None:
            reason = f"与第 {first} 行是同一人"
            parsed.append(RowOutcome(row.line, "duplicate", reason=reason, **shown))
        else:
            seen.update(dict.fromkeys(handles, row.line))
            parsed.append((row, handles, facts))
    wanted = [h for p in parsed if not isinstance(p, RowOutcome) for h in p[1]]
    held = await _owners_holding(uow, wanted)
    outcomes: list[RowOutcome] = []
    new_rows: list[dict[str, Any]] = []
    for p in parsed:
        if isinstance(p, RowOutcome):
            outcomes.append(p)
            continue
        row, handles, facts = p
        shown = {"name": facts["name"], "masked_phone": _masked(handles)}
        owner = next((held[h] for h in handles if h in held), None)
        if owner is None:
            new_rows.append(_new_row(uow, facts, handles, "import"))
            outcomes.append(RowOutcome(row.line, "created", **shown))
            continue
        values = _fill(owner, facts, handles, held)
        if values and not dry_run:
            for name, value in values.items():
                setattr(owner, name, value)
            owner.updated_at = uow.now
        outcomes.append(RowOutcome(row.line, "merged" if values else "unchanged", **shown))
    if not dry_run:
        if new_rows:
            await uow.session.execute(_INSERT, new_rows)
        await uow.session.flush()
    return outcomes


def _masked(handles: Handles) -> str | None:
    phone = next((v for k, v in handles if k == "phone"), None)
    return mask_phone(phone) if phone else None


# -- reading ------------------------------------------------------------------------------


async def owners_among(uow: UnitOfWork, kind: str, values: list[str]) -> set[str]:
    """Which of `values` (handles of one kind) are owners' (e.g. a group's members)."""
    column = getattr(Owner, COLUMNS[kind])
    found: set[str] = set()
    for start in range(0, len(values), 500):  # bound the IN list
        chunk = values[start : start + 500]
        found.update(await uow.session.scalars(select(column).where(column.in_(chunk))))
    return found


def held_by_owner(platform: Any, user_id: Any) -> Any:
    """SQL: the person (a feature's platform and user id columns) is an owner; for
    the features' counts of owners among their people (活动统计)."""
    return or_(
        (platform == "qq") & select(Owner.id).where(Owner.qq_id == user_id).exists(),
        (platform == "wechat_oa") & select(Owner.id).where(Owner.wechat_openid == user_id).exists(),
        (platform == "wecom")
        & select(Owner.id).where(Owner.wecom_external_userid == user_id).exists(),
    )


# -- personal data (desk.privacy) ---------------------------------------------------------


def _of_person(person: Person) -> Any:
    handles = [(k, v) for k, v in person.handles if k in COLUMNS]
    conditions = [_matching(handles)] if handles else []
    if person.lead_id is not None:
        conditions.append(Owner.lead_id == person.lead_id)
    return or_(*conditions) if conditions else None


async def describe(uow: UnitOfWork, person: Person) -> dict[str, Any] | None:
    where = _of_person(person)
    if where is None:
        return None
    owners = list(await uow.session.scalars(select(Owner).where(where).order_by(Owner.id)))
    if not owners:
        return None
    return {
        "owners": [
            {k: v for k, v in vars(OwnerView.of(o)).items() if k != "id" and v is not None}
            for o in owners
        ]
    }


async def erase(uow: UnitOfWork, person: Person) -> dict[str, int]:
    where = _of_person(person)
    if where is None:
        return {}
    result = await uow.session.execute(delete(Owner).where(where))
    return {"owners": int(result.rowcount or 0)}  # type: ignore[attr-defined]


_TABLE = cast(Table, Owner.__table__)
_COLUMNS = tuple(c.name for c in _TABLE.columns if c.name != "id")
_INSERT = insert(_TABLE)
