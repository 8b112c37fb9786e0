"""The owner-group side of the web desk's 报表 for a period: the groups' activity,
the events with their sign-ups and attendance, the referrals and rewards. Composed
from the features' own steps in one transaction, so the page and its export show
one snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from desk import Desk, UnitOfWork
from desk.reports import Period
from features.activities.counter import COUNTER, MessageCounter
from features.activities.counting import flush_counts
from features.activities.stats import GroupRow, groups_in
from features.events.reports import EventsSummary, events_in
from features.referral.reports import ReferralSummary, summary_in


@dataclass(frozen=True)
class OwnerGroupsReport:
    period: Period
    groups: list[GroupRow]  # the most messages first
    events: EventsSummary
    referrals: ReferralSummary


async def owner_groups_report(
    desk: Desk, period: Period, *, top_referrers: int = 10, counter: MessageCounter = COUNTER
) -> OwnerGroupsReport:
    """A write transaction only to add the last minute's message counts first (as
    群统计 does), so the page shows the numbers the chat shows."""

    async def step(uow: UnitOfWork) -> OwnerGroupsReport:
        await flush_counts(uow, counter)
        return OwnerGroupsReport(
            period,
            await groups_in(uow, period),
            await events_in(uow, period),
            await summary_in(uow, period, top_referrers),
        )

    return await desk.write(step)
