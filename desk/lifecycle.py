"""The dealer's lead flow (新线索 → 跟进中 → 已邀约 → 已确认 → 已到店 → 已下订 → 已成交,
with 战败 review, 未到店 and reopen). Each step checks who acts and from which
stage, then changes the lead through UnitOfWork.change (timeline included)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from desk import notify
from desk.capture import MAX_AHEAD, check_note
from desk.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    LeadNotFound,
    MemberNotFound,
    valid_id,
)
from desk.events import StageChanged
from desk.models import Lead, Member
from desk.scheduling import confirmation_due, follow_up_due, level_for_purchase
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


def _require_stage(lead: Lead, action: str, allowed: tuple[str, ...]) -> None:
    if lead.stage not in allowed:
        raise InvalidTransition(lead.id, lead.stage, action)


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


def _level(level: str | None) -> str | None:
    if level is None:
        return None
    code = level.strip().upper()
    if code not in ("H", "A", "B", "C"):
        raise InvalidInput("level", "级别只能是 H/A/B/C")
    return code


async def _stage_changed(uow: UnitOfWork, actor: Actor, lead: Lead, old_stage: str) -> None:
    if lead.stage != old_stage:
        uow.events.append(
            StageChanged(lead.id, uow.now, actor.label, old_stage, lead.stage, lead.referrer)
        )


def _first_contact(uow: UnitOfWork, lead: Lead) -> dict[str, object]:
    return {"first_contacted_at": uow.now} if lead.first_contacted_at is None else {}


async def follow_up(
    uow: UnitOfWork, actor: Actor, lead_id: int, result: str, *,
    next_at: datetime | None = None, level: str | None = None, purchase_at: datetime | None = None,
) -> LeadView:  # fmt: skip
    """回访: record the result; level from purchase time or as given; next due set."""
    note = check_note(uow, "result", result, required=True)
    next_at = _future(uow, "next_at", next_at)
    purchase_at = _future(uow, "purchase_at", purchase_at)
    code = _level(level)
    lead = await load(uow, actor, lead_id)
    _require_stage(
        lead,
        "follow_up",
        ("new", "following", "invited", "confirmed", "visited", "ordered", "lost"),
    )
    old_stage = lead.stage
    values: dict[str, object] = _first_contact(uow, lead)
    if purchase_at is not None:
        values["expected_purchase_at"] = purchase_at
    known_purchase = purchase_at or lead.expected_purchase_at
    if code is None and known_purchase is not None and (purchase_at or lead.level == "N"):
        code = level_for_purchase(uow.settings, uow.now, known_purchase) if known_purchase > uow.now else None
    new_level = lead.level
    if lead.stage == "lost":
        if code:  # the customer is interested again
            values["stage"], new_level = "following", code
    elif lead.stage == "ordered":
        pass  # O until delivery
    else:
        new_level = code or (
            uow.settings.lifecycle.default_level_after_contact if lead.level == "N" else lead.level
        )
        if lead.stage == "new":
            values["stage"] = "following"
    values["level"] = new_level
    if next_at is not None:
        values["next_follow_up_at"] = uow.calendar.clamp(next_at)
    elif lead.stage not in ("invited", "confirmed"):
        values["next_follow_up_at"] = follow_up_due(uow.settings, uow.calendar, uow.now, new_level)
    await uow.change(lead, actor, "follow_up", note, **values)
    await _stage_changed(uow, actor, lead, old_stage)
    return LeadView.of(lead)


async def set_level(
    uow: UnitOfWork, actor: Actor, lead_id: int, level: str, note: str | None = None
) -> LeadView:
    code = _level(level)
    assert code is not None
    note = check_note(uow, "note", note)
    lead = await load(uow, actor, lead_id)
    _require_stage(lead, "set_level", ("new", "following", "visited"))
    values = {
        "level": code,
        "next_follow_up_at": follow_up_due(uow.settings, uow.calendar, uow.now, code),
    }
    if lead.stage == "new":
        values.update(stage="following", **_first_contact(uow, lead))
    old_stage = lead.stage
    await uow.change(lead, actor, "set_level", note, **values)
    await _stage_changed(uow, actor, lead, old_stage)
    return LeadView.of(lead)


async def invite(
    uow: UnitOfWork, actor: Actor, lead_id: int, visit_at: datetime, note: str | None = None
) -> LeadView:
    """邀约: a visit time is set; the confirmation falls the working day before."""
    visit = _future(uow, "visit_at", visit_at, required=True)
    assert visit is not None
    note = check_note(uow, "note", note)
    lead = await load(uow, actor, lead_id)
    _require_stage(lead, "invite", ("new", "following", "invited", "confirmed", "visited"))
    old_stage = lead.stage
    values: dict[str, object] = {
        "stage": "invited", "expected_visit_at": visit, "confirmed_at": None,
        "next_follow_up_at": confirmation_due(uow.calendar, uow.now, visit), **_first_contact(uow, lead),
    }  # fmt: skip
    if lead.invited_at is None:
        values["invited_at"] = uow.now
    if lead.level == "N":
        values["level"] = uow.settings.lifecycle.default_level_after_contact
    await uow.change(lead, actor, "invite", note, **values)
    await _stage_changed(uow, actor, lead, old_stage)
    return LeadView.of(lead)


async def confirm_visit(
    uow: UnitOfWork, actor: Actor, lead_id: int, note: str | None = None
) -> LeadView:
    """进店前一日确认: the customer confirmed; the visit day becomes the next task."""
    note = check_note(uow, "note", note)
    lead = await load(uow, actor, lead_id)
    _require_stage(lead, "confirm", ("invited",))
    visit = lead.expected_visit_at
    due = (
        uow.calendar.clamp(max(visit, uow.now))
        if visit
        else follow_up_due(uow.settings, uow.calendar, uow.now, lead.level)
    )
    await uow.change(
        lead, actor, "confirm", note, stage="confirmed", confirmed_at=uow.now, next_follow_up_at=due
    )
    await _stage_changed(uow, actor, lead, "invited")
    return LeadView.of(lead)


async def record_visit(
    uow: UnitOfWork, actor: Actor, lead_id: int, note: str | None = None, *,
    next_at: datetime | None = None, level: str | None = None,
) -> LeadView:  # fmt: skip
    """到店 (first visit or 再次进店): the showroom result and the next follow-up."""
    note = check_note(uow, "note", note)
    next_at = _future(uow, "next_at", next_at)
    code = _level(level)
    lead = await load(uow, actor, lead_id)
    _require_stage(lead, "visit", ("new", "following", "invited", "confirmed", "visited"))
    old_stage = lead.stage
    new_level = code or (
        uow.settings.lifecycle.default_level_after_contact if lead.level == "N" else lead.level
    )
    due = (
        uow.calendar.clamp(next_at)
        if next_at
        else follow_up_due(uow.settings, uow.calendar, uow.now, new_level)
    )
    values: dict[str, object] = {
        "stage": "visited", "level": new_level, "visit_count": lead.visit_count + 1,
        "expected_visit_at": None, "next_follow_up_at": due, **_first_contact(uow, lead),
    }  # fmt: skip
    if lead.visited_at is None:
        values["visited_at"] = uow.now
    await uow.change(lead, actor, "visit", note, **values)
    await _stage_changed(uow, actor, lead, old_stage)
    return LeadView.of(lead)


async def record_no_show(
    uow: UnitOfWork, actor: Actor, lead_id: int, note: str | None = None
) -> LeadView:
    """未到店: back to following, due the next working day."""
    note = check_note(uow, "note", note)
    lead = await load(uow, actor, lead_id)
    _require_stage(lead, "no_show", ("invited", "confirmed"))
    old_stage = lead.stage
    due = uow.calendar.next_working_start(uow.now)
    await uow.change(
        lead,
        actor,
        "no_show",
        note,
        stage="following",
        expected_visit_at=None,
        next_follow_up_at=due,
    )
    await _stage_changed(uow, actor, lead, old_stage)
    return LeadView.of(lead)


async def record_order(
    uow: UnitOfWork, actor: Actor, lead_id: int, note: str | None = None
) -> LeadView:
    """下订: level O, followed up weekly until delivery."""
    note = check_note(uow, "note", note)
    lead = await load(uow, actor, lead_id)
    _require_stage(lead, "order", ("following", "invited", "confirmed", "visited"))
    old_stage = lead.stage
    due = follow_up_due(uow.settings, uow.calendar, uow.now, "O")
    await uow.change(
        lead, actor, "order", note, stage="ordered", level="O", ordered_at=uow.now,
        expected_visit_at=None, next_follow_up_at=due, **_first_contact(uow, lead),
    )  # fmt: skip
    await _stage_changed(uow, actor, lead, old_stage)
    return LeadView.of(lead)


async def record_deal(
    uow: UnitOfWork, actor: Actor, lead_id: int, note: str | None = None
) -> LeadView:
    """成交: delivered; no more follow-ups."""
    note = check_note(uow, "note", note)
    lead = await load(uow, actor, lead_id)
    _require_stage(lead, "deal", ("ordered", "visited"))
    old_stage = lead.stage
    values: dict[str, object] = {"stage": "won", "won_at": uow.now, "next_follow_up_at": None}
    if lead.ordered_at is None:
        values["ordered_at"] = uow.now
    await uow.change(lead, actor, "deal", note, **values)
    await _stage_changed(uow, actor, lead, old_stage)
    return LeadView.of(lead)


def defeat_category(uow: UnitOfWork, reason: str) -> str:
    for category in uow.settings.defeat.reasons:
        if reason.startswith(category):
            return category
    return "其他"


async def request_defeat(uow: UnitOfWork, actor: Actor, lead_id: int, reason: str) -> LeadView:
    """申请战败: a reason is required; the managers are asked to review."""
    text = check_note(uow, "reason", reason, required=True)
    assert text is not None
    lead = await load(uow, actor, lead_id)
    _require_stage(
        lead, "request_defeat", ("new", "following", "invited", "confirmed", "visited", "ordered")
    )
    old_stage = lead.stage
    entry = await uow.change(
        lead, actor, "defeat_request", text, stage="defeat_requested", stage_before_defeat=old_stage,
        defeat_reason=text, defeat_category=defeat_category(uow, text), defeat_requested_at=uow.now,
        next_follow_up_at=None,
    )  # fmt: skip
    consultant = await uow.session.get(Member, lead.consultant_id) if lead.consultant_id else None
    await notify.defeat_requested(uow, lead, consultant.name if consultant else None, entry.id)
    await _stage_changed(uow, actor, lead, old_stage)
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
    lead = await load(uow, actor, lead_id)
    _require_stage(lead, "review_defeat", ("defeat_requested",))
    if approve:
        due = (
            uow.calendar.clamp(revisit_at)
            if revisit_at
            else follow_up_due(uow.settings, uow.calendar, uow.now, "F")
        )
        values: dict[str, object] = {
            "stage": "lost",
            "level": "F",
            "lost_at": uow.now,
            "next_follow_up_at": due,
        }
    else:
        due = (
            uow.calendar.clamp(revisit_at)
            if revisit_at
            else uow.calendar.next_working_start(uow.now)
        )
        level = (
            lead.level
            if lead.level in ("H", "A", "B", "C")
            else uow.settings.lifecycle.default_level_after_contact
        )
        values = {
            "stage": "following",
            "level": level,
            "next_follow_up_at": due,
            "stage_before_defeat": None,
        }
    entry = await uow.change(
        lead, actor, "defeat_approved" if approve else "defeat_rejected", note, **values
    )
    await notify.defeat_reviewed(uow, lead, approve, entry.id)
    await _stage_changed(uow, actor, lead, "defeat_requested")
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
