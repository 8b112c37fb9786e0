"""The activities' part of 我的信息 / 删除我的信息 (desk.privacy, registered with
`Desk.add_personal_data`): check-ins, joins/leaves and message counts."""

from __future__ import annotations

from sqlalchemy import func, select, update

from desk import UnitOfWork
from desk.privacy import Person
from features.activities.counting import flush_counts
from features.activities.models import Checkin, GroupActivity, MemberChange


async def erase_person(uow: UnitOfWork, person: Person) -> dict[str, int]:
    """Check-ins, joins/leaves and message counts stay as counts (群统计 reads them)
    under the person's token; the name they checked in with goes."""
    await flush_counts(uow)  # this minute's counts first, so none reappear under their id
    ids, users = person.account_ids, person.referrer_handles
    counts = {}
    if users:
        result = await uow.session.execute(
            update(Checkin)
            .where(Checkin.user_id.in_(users))
            .values(user_id=person.token, name=None)
        )
        counts["checkins"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if ids:
        for column in (MemberChange.user_id, MemberChange.operator_id):
            result = await uow.session.execute(
                update(MemberChange).where(column.in_(ids)).values({column.key: person.token})
            )
            counts["member_changes"] = counts.get("member_changes", 0) + int(result.rowcount or 0)  # type: ignore[attr-defined]
        result = await uow.session.execute(
            update(GroupActivity).where(GroupActivity.user_id.in_(ids)).values(user_id=person.token)
        )
        counts["message_counts"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return counts


async def describe_person(uow: UnitOfWork, person: Person) -> dict[str, int] | None:
    ids, users = person.account_ids, person.referrer_handles
    checkins = messages = 0
    if users:
        checkins = int(
            await uow.session.scalar(
                select(func.count()).select_from(Checkin).where(Checkin.user_id.in_(users))
            )
            or 0
        )
    if ids:
        messages = int(
            await uow.session.scalar(
                select(func.coalesce(func.sum(GroupActivity.messages), 0)).where(
                    GroupActivity.user_id.in_(ids)
                )
            )
            or 0
        )
    if not checkins and not messages:
        return None
    return {"checkins": checkins, "messages": messages}
