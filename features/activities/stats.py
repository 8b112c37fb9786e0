"""群统计: a group's joins, leaves, speakers, messages and check-ins over a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from desk import Desk, UnitOfWork
from desk.reports import Period
from features.activities.counter import COUNTER, MessageCounter
from features.activities.counting import flush_counts
from features.activities.models import Checkin, GroupActivity, MemberChange


@dataclass(frozen=True)
class GroupStats:
    joined: int  # people
    left: int  # people
    speakers: int
    messages: int
    checkins: int


async def group_stats(
    desk: Desk, group_id: str, period: Period, counter: MessageCounter = COUNTER
) -> GroupStats:
    """The figures of `period`, the counts of the last minute included (flushed in
    the same transaction)."""

    async def step(uow: UnitOfWork) -> GroupStats:
        await flush_counts(uow, counter)
        s = uow.session
        first = uow.calendar.local_date(period.start)
        last = uow.calendar.local_date(period.end - timedelta(microseconds=1))

        async def changed(change: str) -> int:
            return int(
                await s.scalar(
                    select(func.count(func.distinct(MemberChange.user_id))).where(
                        MemberChange.group_id == group_id,
                        MemberChange.change == change,
                        MemberChange.at >= period.start,
                        MemberChange.at < period.end,
                    )
                )
                or 0
            )

        in_days = (
            GroupActivity.group_id == group_id,
            GroupActivity.day >= first,
            GroupActivity.day <= last,
        )
        speakers, messages = (
            await s.execute(
                select(
                    func.count(func.distinct(GroupActivity.user_id)),
                    func.coalesce(func.sum(GroupActivity.messages), 0),
                ).where(*in_days)
            )
        ).one()
        checkins = await s.scalar(
            select(func.count()).where(
                Checkin.group_id == group_id, Checkin.day >= first, Checkin.day <= last
            )
        )
        return GroupStats(
            await changed("join"), await changed("leave"), int(speakers or 0), int(messages or 0),
            int(checkins or 0),
        )  # fmt: skip

    return await desk.write(step)


@dataclass(frozen=True)
class MemberSplit:
    """A group's members: owners (desk.owners), staff (the roster, the bot), and
    the rest, the prospects."""

    members: int
    owners: int
    staff: int

    @property
    def prospects(self) -> int:
        return self.members - self.owners - self.staff


async def member_split(desk: Desk, member_ids: list[str], staff_ids: set[str]) -> MemberSplit:
    """Split a group's member list (QQ ids, from the QQ client) by who they are."""
    members = list(dict.fromkeys(member_ids))
    staff = {m for m in members if m in staff_ids}
    owners = await desk.owners_among(m for m in members if m not in staff)
    return MemberSplit(len(members), len(owners), len(staff))


@dataclass(frozen=True)
class GroupRow:
    group_id: str
    stats: GroupStats


async def groups_in(uow: UnitOfWork, period: Period, limit: int = 100) -> list[GroupRow]:
    """Every group with anything in `period` (报表's groups' activity), the most
    messages first. Reads what is flushed: the caller flushes first for the last minute."""
    s = uow.session
    first = uow.calendar.local_date(period.start)
    last = uow.calendar.local_date(period.end - timedelta(microseconds=1))
    figures: dict[str, dict[str, int]] = {}
    changes = await s.execute(
        select(
            MemberChange.group_id, MemberChange.change, func.count(func.distinct(MemberChange.user_id))
        )
        .where(MemberChange.at >= period.start, MemberChange.at < period.end)
        .group_by(MemberChange.group_id, MemberChange.change)
    )  # fmt: skip
    for group_id, change, n in changes.all():
        figures.setdefault(group_id, {})["joined" if change == "join" else "left"] = int(n)
    talk = await s.execute(
        select(
            GroupActivity.group_id, func.count(func.distinct(GroupActivity.user_id)),
            func.coalesce(func.sum(GroupActivity.messages), 0),
        )
        .where(GroupActivity.day >= first, GroupActivity.day <= last)
        .group_by(GroupActivity.group_id)
    )  # fmt: skip
    for group_id, speakers, messages in talk.all():
        figures.setdefault(group_id, {}).update(speakers=int(speakers), messages=int(messages))
    checkins = await s.execute(
        select(Checkin.group_id, func.count())
        .where(Checkin.day >= first, Checkin.day <= last)
        .group_by(Checkin.group_id)
    )
    for group_id, n in checkins.all():
        figures.setdefault(group_id, {})["checkins"] = int(n)
    fields = ("joined", "left", "speakers", "messages", "checkins")
    rows = [
        GroupRow(group_id, GroupStats(*(f.get(name, 0) for name in fields)))
        for group_id, f in figures.items()
    ]
    rows.sort(key=lambda r: (-r.stats.messages, -r.stats.checkins, -r.stats.joined, r.group_id))
    return rows[:limit]
