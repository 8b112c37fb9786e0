"""The dealer's lead flow (新线索 → 跟进中 → 已邀约 → 已确认 → 已到店 → 已下订 → 已成交,
with 战败 review, 未到店 and reopen). Each step checks who acts and from which
stage, then changes the lead through UnitOfWork.change (timeline included)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from desk import notify, owners
from desk.capture import MAX_AHEAD, check_note, claim_event
from desk.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    LeadNotFound,
    MemberNotFound,
    valid_id,
)
from desk.events import StageChanged
from desk.models import Lead, Member, TimelineEntry
from desk.scheduling import confirmation_due, follow_up_due, level_for_purchase
from desk.settings import FOLLOW_UP_LEVELS
from desk.uow import UnitOfWork
from desk.views import Actor, LeadView


async def load(uow: UnitOfWork, actor: Actor, lead_id: int) -> Lead:
    """The lead, locked for update, if the actor may touch it."""
    if not valid_id(lead_id):
        raise LeadNotFound(lead_id if isinstance(lead_id, int) else 0)
    query = select(Lead).where(Lead.id == lead_id).with_for_update()
    lead = (await uow.session.scalars(query.execution_options(populate_existing=True))).first()
    if lead is None:
        raise LeadNotFound(lead_id)
    if not actor.is_manager and lead.consultant_id != actor.member_id:
        raise Forbidden("只能操作自己的线索")
    return lead


def _future(
    uow: UnitOfWork, field: str, at: datetime | None, *, required: bool = False
) -> datetime | None:
    if at is None:
        if required:
            raise InvalidInput(field, "需要一个时间")
        return None
    if at.tzinfo is None:
        raise InvalidInput(field, "时间缺少时区")
    if at <= uow.now:
        raise InvalidInput(field, "时间已经过去了")
    if at > uow.now + MAX_AHEAD:
        raise InvalidInput(field, "时间太远了")
    return at


# The same rule for a time edited on the web desk's lead detail (desk.leadlist).
check_future = _future


LEVEL_REFUSAL = f"级别只能是 {'/'.join(FOLLOW_UP_LEVELS)}"


def _level(level: str | None) -> str | None:
    if level is None:
        return None
    code = level.strip().upper()
    if code not in FOLLOW_UP_LEVELS:
        raise InvalidInput("level", LEVEL_REFUSAL)
    return code


def _first_contact(uow: UnitOfWork, lead: Lead) -> dict[str, object]:
    return {"first_contacted_at": uow.now} if lead.first_contacted_at is None else {}


def _contact_level(uow: UnitOfWork, lead: Lead, code: str | None) -> str:
    """The given level, else the lead's own, else the configured first-contact default."""
    return code or (
        uow.settings.lifecycle.default_level_after_contact if lead.level == "N" else lead.level
    )


def _due(uow: UnitOfWork, explicit: datetime | None, level: str) -> datetime:
    """The time the consultant named (kept inside working hours), else the level's rule."""
    if explicit is not None:
        return uow.calendar.clamp(explicit)
    return follow_up_due(uow.settings, uow.calendar, uow.now, level)


Values = Callable[[Lead], dict[str, Any]]


async def _step(
    uow: UnitOfWork, actor: Actor, lead_id: int, action: str, allowed: tuple[str, ...],
    note: str | None, values: Values, *, recorded_as: str | None = None,
) -> tuple[Lead, TimelineEntry]:  # fmt: skip
    """Load (with the actor's right), check the stage, change with its timeline
    entry, and announce a stage change once the transaction commits."""
    lead = await load(uow, actor, lead_id)
    if lead.stage not in allowed:
        raise InvalidTransition(lead.id, lead.stage, action)
    old_stage = lead.stage
    entry = await uow.change(lead, actor, recorded_as or action, note, **values(lead))
    if lead.stage != old_stage:
        uow.events.append(
            StageChanged(lead.id, uow.now, actor.label, old_stage, lead.stage, lead.referrer)
        )
    return lead, entry


OPEN_FOR_FOLLOW_UP = ("new", "following", "invited", "confirmed", "visited", "ordered", "lost")
OPEN_FOR_VISIT = ("new", "following", "invited", "confirmed", "visited")
# The stages each step starts from (the web desk offers only the steps a lead allows).
STEP_STAGES: dict[str, tuple[str, ...]] = {
    "follow_up": OPEN_FOR_FOLLOW_UP, "set_level": ("new", "following", "visited"),
    "invite": OPEN_FOR_VISIT, "confirm": ("invited",), "visit": OPEN_FOR_VISIT,
    "no_show": ("invited", "confirmed"), "order": ("following", "invited", "confirmed", "visited"),
    "deal": ("ordered", "visited"), "request_defeat": OPEN_FOR_VISIT + ("ordered",),
}  # fmt: skip


async def follow_up(
    uow: UnitOfWork, actor: Actor, lead_id: int, result: str, *,
    next_at: datetime | None = None, level: str | None = None, purchase_at: datetime | None = None,
) -> LeadView:  # fmt: skip
    """回访: record the result; level from purchase time or as given; next due set."""
    note = check_note(uow, "result", result, required=True)
    next_at = _future(uow, "next_at", next_at)
    purchase_at = _future(uow, "purchase_at", purchase_at)
    given = _level(level)

    def values(lead: Lead) -> dict[str, object]:
        out = _first_contact(uow, lead)
        code = given
        if purchase_at is not None:
            out["expected_purchase_at"] = purchase_at
        known = purchase_at or lead.expected_purchase_at
        if (
            code is None
            and known is not None
            and known > uow.now
            and (purchase_at or lead.level == "N")
        ):
            code = level_for_purchase(uow.settings, uow.now, known)
        new_level = lead.level
        if lead.stage == "lost":
            if code:  # the customer is interested again
                out["stage"], new_level = "following", code
        elif lead.stage != "ordered":  # O stays until delivery
            new_level = _contact_level(uow, lead, code)
            if lead.stage == "new":
                out["stage"] = "following"
        out["level"] = new_level
        if lead.stage == "lost" and "stage" not in out and next_at is None:
            out["next_follow_up_at"] = None  # revisited; no renewed interest, no more calls
        elif next_at is not None or lead.stage not in ("invited", "confirmed"):
            out["next_follow_up_at"] = _due(
                uow, next_at, new_level
            )  # invited keeps the visit schedule
        return out

    lead, _ = await _step(uow, actor, lead_id, "follow_up", STEP_STAGES["follow_up"], note, values)
    return LeadView.of(lead)


async def set_level(
    uow: UnitOfWork, actor: Actor, lead_id: int, level: str, note: str | None = None
) -> LeadView:
    code = _level(level) or ""
    note = check_note(uow, "note", note)

    def values(lead: Lead) -> dict[str, object]:
        out: dict[str, object] = {
            "level": code,
            "next_follow_up_at": follow_up_due(uow.settings, uow.calendar, uow.now, code),
        }
        if lead.stage == "new":
            out.update(stage="following", **_first_contact(uow, lead))
        return out

    if not code:
        raise InvalidInput("level", LEVEL_REFUSAL)
    lead, _ = await _step(
        uow, actor, lead_id, "set_level", STEP_STAGES["set_level"], note, values
    )
    return LeadView.of(lead)


async def invite(
    uow: UnitOfWork, actor: Actor, lead_id: int, visit_at: datetime, note: str | None = None
) -> LeadView:
    """邀约: a visit time is set; the confirmation falls the working day before."""
    visit = _future(uow, "visit_at", visit_at, required=True)
    note = check_note(uow, "note", note)

    def values(lead: Lead) -> dict[str, object]:
        assert visit is not None
        out: dict[str, object] = {
            "stage": "invited", "expected_visit_at": visit, "confirmed_at": None,
            "next_follow_up_at": confirmation_due(uow.calendar, uow.now, visit),
            "level": _contact_level(uow, lead, None), **_first_contact(uow, lead),
        }  # fmt: skip
        if lead.invited_at is None:
            out["invited_at"] = uow.now
        return out

    lead, _ = await _step(uow, actor, lead_id, "invite", STEP_STAGES["invite"], note, values)
    return LeadView.of(lead)


async def confirm_visit(
    uow: UnitOfWork, actor: Actor, lead_id: int, note: str | None = None
) -> LeadView:
    """进店前一日确认: the customer confirmed; the visit day becomes the next task."""
    note = check_note(uow, "note", note)

    def values(lead: Lead) -> dict[str, object]:
        visit = lead.expected_visit_at
        due = (
            uow.calendar.clamp(max(visit, uow.now))
            if visit
            else follow_up_due(uow.settings, uow.calendar, uow.now, lead.level)
        )
        return {"stage": "confirmed", "confirmed_at": uow.now, "next_follow_up_at": due}

    lead, _ = await _step(uow, actor, lead_id, "confirm", STEP_STAGES["confirm"], note, values)
    return LeadView.of(lead)


async def record_visit(
    uow: UnitOfWork, actor: Actor, lead_id: int, note: str | None = None, *,
    next_at: datetime | None = None, level: str | None = None,
) -> LeadView:  # fmt: skip
    """到店 (first visit or 再次进店): the showroom result and the next follow-up."""
    note = check_note(uow, "note", note)
    next_at = _future(uow, "next_at", next_at)
    given = _level(level)

    def values(lead: Lead) -> dict[str, object]:
        new_level = _contact_level(uow, lead, given)
        due = _due(uow, next_at, new_level)
        out: dict[str, object] = {
            "stage": "visited", "level": new_level, "visit_count": lead.visit_count + 1,
            "expected_visit_at": None, "next_follow_up_at": due, **_first_contact(uow, lead),
        }  # fmt: skip
        if lead.visited_at is None:
            out["visited_at"] = uow.now
        return out

    lead, _ = await _step(uow, actor, lead_id, "visit", STEP_STAGES["visit"], note, values)
    return LeadView.of(lead)


async def record_no_show(
    uow: UnitOfWork, actor: Actor, lead_id: int, note: str | None = None
) -> LeadView:
    """未到店: back to following, due the next working day."""
    note = check_note(uow, "note", note)
    due = uow.calendar.next_working_start(uow.now)
    lead, _ = await _step(
        uow, actor, lead_id, "no_show", STEP_STAGES["no_show"], note,
        lambda lead: {"stage": "following", "expected_visit_at": None, "next_follow_up_at": due},
    )  # fmt: skip
    return LeadView.of(lead)


async def record_order(
    uow: UnitOfWork, actor: Actor, lead_id: int, note: str | None = None
) -> LeadView:
    """下订: level O, followed up weekly until delivery."""
    note = check_note(uow, "note", note)
    due = follow_up_due(uow.settings, uow.calendar, uow.now, "O")
    lead, _ = await _step(
        uow, actor, lead_id, "order", STEP_STAGES["order"], note,
        lambda lead: {
            "stage": "ordered", "level": "O", "ordered_at": uow.now, "expected_visit_at": None,
            "next_follow_up_at": due, **_first_contact(uow, lead),
        },
    )  # fmt: skip
    return LeadView.of(lead)


async def record_deal(
    uow: UnitOfWork, actor: Actor, lead_id: int, note: str | None = None
) -> LeadView:
    """成交: delivered; no more follow-ups."""
    note = check_note(uow, "note", note)
    lead, _ = await _step(
        uow, actor, lead_id, "deal", STEP_STAGES["deal"], note,
        lambda lead: {"stage": "won", "won_at": uow.now, "next_follow_up_at": None, "ordered_at": lead.ordered_at or uow.now},
    )  # fmt: skip
    await owners.add_won(uow, lead)  # a customer now: no prospect's capture makes a lead of them
    return LeadView.of(lead)


def defeat_category(uow: UnitOfWork, reason: str) -> str:
    for category in uow.settings.defeat.reasons:
        if reason.startswith(category):
            return category
    return "其他"


async def request_defeat(uow: UnitOfWork, actor: Actor, lead_id: int, reason: str) -> LeadView:
    """申请战败: a reason is required; the managers are asked to review."""
    text = check_note(uow, "reason", reason, required=True) or ""
    lead, entry = await _step(
        uow, actor, lead_id, "request_defeat", STEP_STAGES["request_defeat"], text,
        lambda lead: {
            "stage": "defeat_requested", "stage_before_defeat": lead.stage, "defeat_reason": text,
            "defeat_category": defeat_category(uow, text), "defeat_requested_at": uow.now,
            "next_follow_up_at": None,
        },
        recorded_as="defeat_request",
    )  # fmt: skip
    consultant = await uow.session.get(Member, lead.consultant_id) if lead.consultant_id else None
    await notify.defeat_requested(uow, lead, consultant.name if consultant else None, entry.id)
    return LeadView.of(lead)


async def review_defeat(
    uow: UnitOfWork, actor: Actor, lead_id: int, approve: bool, *,
    revisit_at: datetime | None = None, note: str | None = None,
) -> LeadView:  # fmt: skip
    """经理审核: approve → 战败 (level F, revisit date); reject → following, due soon."""
    if not actor.is_manager:
        raise Forbidden("只有经理可以审核战败")
    revisit_at = _future(uow, "revisit_at", revisit_at)
    note = check_note(uow, "note", note)
    if approve or revisit_at:
        due = _due(uow, revisit_at, "F")
    else:
        due = uow.calendar.next_working_start(uow.now)

    def values(lead: Lead) -> dict[str, object]:
        if approve:
            return {"stage": "lost", "level": "F", "lost_at": uow.now, "next_follow_up_at": due}
        level = (
            lead.level
            if lead.level in FOLLOW_UP_LEVELS
            else uow.settings.lifecycle.default_level_after_contact
        )
        return {
            "stage": "following",
            "level": level,
            "next_follow_up_at": due,
            "stage_before_defeat": None,
        }

    lead, entry = await _step(
        uow, actor, lead_id, "review_defeat", ("defeat_requested",), note, values,
        recorded_as="defeat_approved" if approve else "defeat_rejected",
    )  # fmt: skip
    await notify.defeat_reviewed(uow, lead, approve, entry.id)
    return LeadView.of(lead)


async def assign(
    uow: UnitOfWork, actor: Actor, lead_id: int, member_id: int, note: str | None = None
) -> LeadView:
    """分配: a manager gives the lead to a consultant, who is told at once."""
    if not actor.is_manager:
        raise Forbidden("只有经理可以分配线索")
    note = check_note(uow, "note", note)
    member = await uow.session.get(Member, member_id) if valid_id(member_id) else None
    if member is None or not member.active:
        raise MemberNotFound(member_id)
    lead = await load(uow, actor, lead_id)
    if lead.consultant_id == member.id:
        return LeadView.of(lead)
    entry = await uow.change(lead, actor, "assign", note, consultant_id=member.id)
    member.last_assigned_at = uow.now
    await notify.assigned(uow, lead, member, entry.id)
    return LeadView.of(lead)


async def record_signal(
    uow: UnitOfWork, actor: Actor, lead_id: int, signal: str, note: str | None,
    context: dict[str, Any] | None, key: str | None,
) -> bool:  # fmt: skip
    """A lead's own act (left an owner group…): on the timeline, and told to the consultant."""
    if not valid_id(lead_id) or not signal or len(signal) > 32:
        return False
    if key is not None and not await claim_event(uow, key):
        return False
    lead = await uow.session.get(Lead, lead_id)
    if lead is None:
        return False
    note = check_note(uow, "note", note)
    entry = await uow.add_timeline(
        lead.id, actor, "signal", {"signal": signal, **(context or {})}, note
    )
    await notify.signal(uow, lead, signal, note, entry.id)
    return True
