"""Which notification each desk change causes, and to whom.

Payloads are data (the fronts format the Chinese text). Keys make every
notification idempotent: the same cause never queues a second message.
"""

from __future__ import annotations

from desk import outbox, roster
from desk.models import Lead, Member
from desk.uow import UnitOfWork
from desk.views import LeadView


def lead_summary(lead: Lead | LeadView) -> dict[str, object]:
    return {
        "lead_id": lead.id,
        "name": lead.name,
        "phone": lead.phone,
        "car_model": lead.car_model,
        "channel": lead.channel,
        "source": lead.source,
        "group_id": lead.group_id,
        "level": lead.level,
        "stage": lead.stage,
        "message": (lead.first_message or "")[:200],
        "referrer": lead.referrer,
        "due_at": lead.next_follow_up_at.isoformat() if lead.next_follow_up_at else None,
    }


async def _to_managers(
    uow: UnitOfWork, key: str, kind: str, payload: dict, lead_id: int | None, any_hour: bool
) -> None:
    for manager in await roster.managers(uow):
        await outbox.enqueue(
            uow, key=f"{key}:to:{manager.id}", kind=kind, payload=payload,
            member=manager, lead_id=lead_id, any_hour=any_hour,
        )  # fmt: skip
    for qq in await roster.superuser_addresses(uow):
        await outbox.enqueue(
            uow, key=f"{key}:to:qq:{qq}", kind=kind, payload=payload,
            channel="qq", address=qq, lead_id=lead_id, any_hour=any_hour,
        )  # fmt: skip


async def new_lead(
    uow: UnitOfWork, lead: Lead | LeadView, consultant: Member | outbox.Recipient | None
) -> None:
    payload = lead_summary(lead)
    if consultant is not None:
        await outbox.enqueue(
            uow, key=f"lead:{lead.id}:new", kind="new_lead", payload=payload,
            member=consultant, lead_id=lead.id, any_hour=True,
        )  # fmt: skip
    else:
        await _to_managers(
            uow, f"lead:{lead.id}:unassigned", "unassigned_lead", payload, lead.id, True
        )


async def seen_again(
    uow: UnitOfWork, lead: Lead, consultant: Member | outbox.Recipient | None, entry_id: int,
    via: str, message: str | None, reopened: bool,
) -> None:  # fmt: skip
    payload = {
        **lead_summary(lead),
        "via": via,
        "message": (message or "")[:200],
        "reopened": reopened,
    }
    if consultant is not None:
        await outbox.enqueue(
            uow, key=f"lead:{lead.id}:seen:{entry_id}", kind="lead_returned", payload=payload,
            member=consultant, lead_id=lead.id, any_hour=True,
        )  # fmt: skip
    else:
        await _to_managers(
            uow, f"lead:{lead.id}:seen:{entry_id}", "unassigned_lead", payload, lead.id, True
        )


async def assigned(uow: UnitOfWork, lead: Lead, consultant: Member, entry_id: int) -> None:
    await outbox.enqueue(
        uow, key=f"lead:{lead.id}:assigned:{entry_id}", kind="lead_assigned", payload=lead_summary(lead),
        member=consultant, lead_id=lead.id, any_hour=True,
    )  # fmt: skip


async def defeat_requested(
    uow: UnitOfWork, lead: Lead, consultant_name: str | None, entry_id: int
) -> None:
    payload = {**lead_summary(lead), "reason": lead.defeat_reason, "category": lead.defeat_category,
               "consultant": consultant_name}  # fmt: skip
    await _to_managers(
        uow, f"lead:{lead.id}:defeat:{entry_id}", "defeat_review", payload, lead.id, True
    )


async def defeat_reviewed(uow: UnitOfWork, lead: Lead, approved: bool, entry_id: int) -> None:
    if lead.consultant_id is None:
        return
    consultant = await uow.session.get(Member, lead.consultant_id)
    if consultant is None:
        return
    payload = {**lead_summary(lead), "approved": approved, "reason": lead.defeat_reason}
    await outbox.enqueue(
        uow, key=f"lead:{lead.id}:review:{entry_id}", kind="defeat_result", payload=payload,
        member=consultant, lead_id=lead.id, any_hour=True,
    )  # fmt: skip


async def escalate_first_contact(uow: UnitOfWork, lead: Lead, consultant_name: str | None) -> None:
    due = lead.first_contact_due_at.isoformat() if lead.first_contact_due_at else "none"
    payload = {**lead_summary(lead), "consultant": consultant_name}
    await _to_managers(
        uow, f"lead:{lead.id}:escalate:{due}", "first_contact_overdue", payload, lead.id, False
    )


async def signal(uow: UnitOfWork, lead: Lead, kind: str, note: str | None, entry_id: int) -> None:
    if lead.consultant_id is None or lead.stage in ("won", "lost"):
        return  # nobody follows it up: a closed lead's signal stays on its timeline
    consultant = await uow.session.get(Member, lead.consultant_id)
    if consultant is None or not consultant.active:
        return
    payload = {**lead_summary(lead), "signal": kind, "note": note}
    await outbox.enqueue(
        uow, key=f"lead:{lead.id}:signal:{entry_id}", kind="lead_signal", payload=payload,
        member=consultant, lead_id=lead.id,
    )  # fmt: skip


async def leads_imported(
    uow: UnitOfWork, import_id: str, consultant: Member | outbox.Recipient, source: str,
    created: int, merged: int,
) -> None:  # fmt: skip
    """An import's one summary to a consultant (its leads are not announced one by one)."""
    await outbox.enqueue(
        uow, key=f"import:{import_id}:to:{consultant.id}", kind="leads_imported",
        payload={"source": source, "created": created, "merged": merged},
        member=consultant, any_hour=False,
    )  # fmt: skip


async def import_unassigned(uow: UnitOfWork, import_id: str, source: str, count: int) -> None:
    """An import's new leads nobody could take: the managers are told once."""
    await _to_managers(
        uow, f"import:{import_id}:unassigned", "import_unassigned",
        {"source": source, "unassigned": count}, None, False,
    )  # fmt: skip
