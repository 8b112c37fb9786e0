"""Joins and leaves of owner groups: QQ groups (OneBot group_increase /
group_decrease) and WeCom customer groups ("wecom:<chat id>", customers only),
once per event; and whether the records say someone is in a group."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import func, select

from desk import Desk, UnitOfWork
from desk.store import insert_ignore
from features.activities.models import GroupActivity, MemberChange

Change = Literal["join", "leave"]

# WeCom customer groups: member ids of customers start with these; others are staff.
EXTERNAL_PREFIXES = ("wm", "wo")
JOIN_SCENES = {0: "invite", 1: "link", 3: "qrcode"}
QUIT_SCENES = {0: "leave", 1: "kick"}
WECOM_CHANGES: dict[str, Change] = {"add_member": "join", "del_member": "leave"}


async def record_member_change(
    desk: Desk, *, group_id: str, user_id: str, change: Change, sub_type: str,
    operator_id: str | None, event_key: str,
) -> bool:  # fmt: skip
    """A join or leave, once per event; False for a redelivered event."""

    async def step(uow: UnitOfWork) -> bool:
        return await insert_ignore(
            uow, MemberChange, ["event_key"], group_id=group_id, user_id=user_id, change=change,
            sub_type=sub_type[:16], operator_id=operator_id, event_key=event_key, at=uow.now,
        )  # fmt: skip

    return await desk.write(step)


async def recorded_member(desk: Desk, group_id: str, user_id: str) -> bool:
    """Whether the records say a person is in a group: they joined (and did not
    leave since), or they spoke there (after their latest recorded leave). Joins
    before the bot came are not recorded: a silent old member is not known here."""

    async def step(uow: UnitOfWork) -> bool:
        last = await uow.session.scalar(
            select(MemberChange)
            .where(MemberChange.group_id == group_id, MemberChange.user_id == user_id)
            .order_by(MemberChange.at.desc(), MemberChange.id.desc())
            .limit(1)
        )
        spoke: date | None = await uow.session.scalar(
            select(func.max(GroupActivity.day)).where(
                GroupActivity.group_id == group_id, GroupActivity.user_id == user_id
            )
        )
        if last is None:
            return spoke is not None
        if last.change == "join":
            return True
        return spoke is not None and spoke > uow.calendar.local_date(last.at)

    return await desk.read(step)


def wecom_group_id(chat_id: str) -> str:
    return f"wecom:{chat_id}"


def is_external(member_id: str) -> bool:
    return member_id.startswith(EXTERNAL_PREFIXES)


def wecom_change_key(chat_id: str, detail: str, member_id: str, create_time: int) -> str:
    """One key per customer-group event and member (a redelivered callback has one effect)."""
    key = f"wecom:chat:{chat_id}:{detail}:{member_id}:{create_time}"
    if len(key) <= 160:
        return key
    return "wecom:chat:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WeComGroupChange:
    """A change_external_chat add_member / del_member callback, as the use case needs it."""

    chat_id: str
    detail: str  # add_member | del_member
    member_ids: tuple[str, ...]
    create_time: int
    scene: int | None  # join_scene or quit_scene


async def record_wecom_group_change(desk: Desk, change: WeComGroupChange) -> list[str]:
    """Record the customers (not staff) who joined or left a WeCom customer group, once
    per callback; returns the external user ids the callback named (new or not)."""
    kind = WECOM_CHANGES.get(change.detail)
    members = list(dict.fromkeys(m for m in change.member_ids if is_external(m)))
    if kind is None or not members:
        return []
    scenes = JOIN_SCENES if kind == "join" else QUIT_SCENES
    sub_type = scenes.get(change.scene, "unknown") if change.scene is not None else "unknown"
    group_id = wecom_group_id(change.chat_id)

    async def step(uow: UnitOfWork) -> None:
        for member in members:
            await insert_ignore(
                uow, MemberChange, ["event_key"], group_id=group_id, user_id=member,
                change=kind, sub_type=sub_type, operator_id=None, at=uow.now,
                event_key=wecom_change_key(change.chat_id, change.detail, member, change.create_time),
            )  # fmt: skip

    await desk.write(step)
    return members
