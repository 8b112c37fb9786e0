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
