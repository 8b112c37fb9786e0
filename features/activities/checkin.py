"""签到 and 积分: a daily check-in per group (points, a streak bonus, a place in
the day's order), a person's points, and the group's leaderboard."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import func, select

from desk import Desk, UnitOfWork, mask_phone
from desk.store import serialize_on
from desk.text import clean_text
from features.activities.config import CheckinConfig
from features.activities.models import Checkin
from features.points import award, balance, group_rank, group_ranking, qq_user

# A run of 7+ digits in a group card ("张三 138 1234 5678" is common): maybe a phone.
_LONG_NUMBER = re.compile(r"\d(?:[ -]?\d){6,}")


def clean_name(name: str | None) -> str | None:
    """A group card or nickname to keep for 积分榜: one line, short, and any phone
    number in it masked (phone numbers are never posted to a group)."""
    one_line = " ".join(clean_text(name).split())
    masked = _LONG_NUMBER.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group())), one_line)
    return masked[:32] or None


def checkin_points(cfg: CheckinConfig, streak: int) -> tuple[int, int]:
    """(points, of which streak bonus) for the `streak`-th consecutive day."""
    bonus = min((streak - 1) * cfg.streak_bonus_per_day, cfg.streak_bonus_cap)
    if cfg.weekly_bonus and streak % 7 == 0:
        bonus += cfg.weekly_bonus
    return cfg.base_points + bonus, bonus


@dataclass(frozen=True)
class CheckinResult:
    status: Literal["new", "already", "duplicate"]  # duplicate: the same message again
    rank: int = 0  # place in the group that day
    streak: int = 0
    points: int = 0  # given now (0 unless new)
    bonus: int = 0  # of which streak bonus
    total: int = 0  # the person's points now


def _current_streak(last: Checkin | None, today: date) -> int:
    """The streak still alive today: the last check-in was today or yesterday."""
    if last is None or last.day < today - timedelta(days=1):
        return 0
    return last.streak


async def _last_checkin(uow: UnitOfWork, group_id: str, user: str) -> Checkin | None:
    return await uow.session.scalar(
        select(Checkin)
        .where(Checkin.group_id == group_id, Checkin.user_id == user)
        .order_by(Checkin.day.desc())
        .limit(1)
    )


async def check_in(
    desk: Desk, cfg: CheckinConfig, *, group_id: str, qq: str, name: str | None, message_key: str
) -> CheckinResult:
    """Today's check-in in this group: points once per person, group and local day."""
    user = qq_user(qq)

    async def step(uow: UnitOfWork) -> CheckinResult:
        s = uow.session
        today = uow.calendar.local_date(uow.now)
        if await s.scalar(select(Checkin.id).where(Checkin.message_key == message_key)):
            return CheckinResult("duplicate")
        last = await _last_checkin(uow, group_id, user)
        if last is not None and last.day == today:
            total = await balance(uow, user)
            return CheckinResult("already", last.rank, last.streak, 0, 0, total)
        streak = last.streak + 1 if last and last.day == today - timedelta(days=1) else 1
        # Places are given one at a time per group and day (the unique (group, day,
        # rank) backs it: a clash would fail and desk.write run this step again).
        await serialize_on(uow, "checkin-rank", group_id, today.isoformat())
        taken = await s.scalar(
            select(func.max(Checkin.rank)).where(Checkin.group_id == group_id, Checkin.day == today)
        )
        rank = int(taken or 0) + 1
        points, bonus = checkin_points(cfg, streak)
        s.add(
            Checkin(
                group_id=group_id, user_id=user, day=today, streak=streak, points=points,
                rank=rank, name=clean_name(name), message_key=message_key, at=uow.now,
            )
        )  # fmt: skip
        await s.flush()
        await award(uow, user, points, "checkin", f"checkin:{group_id}:{user}:{today}", group_id)
        return CheckinResult("new", rank, streak, points, bonus, await balance(uow, user))

    return await desk.write(step)


@dataclass(frozen=True)
class PointsView:
    total: int
    streak: int  # in this group; 0 in a DM
    rank: int | None  # in this group; None in a DM or when not ranked


async def my_points(
    desk: Desk, qq: str, group_id: str | None, *, user: str | None = None
) -> PointsView:
    """`user`: a features.points handle of another platform ("wechat:<openid>");
    else the QQ id's."""
    user = user or qq_user(qq)

    async def step(uow: UnitOfWork) -> PointsView:
        total = await balance(uow, user)
        if group_id is None:
            return PointsView(total, 0, None)
        today = uow.calendar.local_date(uow.now)
        streak = _current_streak(await _last_checkin(uow, group_id, user), today)
        return PointsView(total, streak, await group_rank(uow, group_id, user))

    return await desk.read(step)


@dataclass(frozen=True)
class BoardRow:
    user_id: str  # the points handle, "qq:20001"
    name: str | None  # the group card or nickname at their last check-in here
    total: int


async def leaderboard(desk: Desk, group_id: str, size: int) -> list[BoardRow]:
    """The group's best `size` members by total points, best first."""

    async def step(uow: UnitOfWork) -> list[BoardRow]:
        ranking = await group_ranking(uow, group_id, size)
        users = [user for user, _ in ranking]
        latest = (
            select(func.max(Checkin.id))
            .where(
                Checkin.group_id == group_id, Checkin.user_id.in_(users), Checkin.name.is_not(None)
            )
            .group_by(Checkin.user_id)
        )
        rows = await uow.session.execute(
            select(Checkin.user_id, Checkin.name).where(Checkin.id.in_(latest))
        )
        names = {user: name for user, name in rows.all() if name}
        return [BoardRow(user, names.get(user), total) for user, total in ranking]

    return await desk.read(step)
