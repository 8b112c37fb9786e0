"""荐友: the referral reward ledger (features.referral.ledger); a manager marks a
reward handed out (the referrer is told by DM). Consultants may look."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from features.referral import ledger
from features.referral.errors import ReferralError
from web import services, texts
from web.core import PREFIX, DeskDep, DeskRoute, FormManagerDep, PageError, StaffDep, page

router = APIRouter(route_class=DeskRoute)


@router.get("/referrals", name="referrals")
async def referrals(request: Request, desk: DeskDep, staff: StaffDep) -> Response:
    show_all = request.query_params.get("all") == "1"
    entries = await ledger.ledger(services.referrals(desk), show_all=show_all)
    fulfilled = request.query_params.get("fulfilled", "")
    done = (
        texts.FULFILLED.format(id=fulfilled) if fulfilled.isascii() and fulfilled.isdigit() else ""
    )
    return page(
        request, "referrals.html", staff, entries=entries, show_all=show_all, done=done[:80],
        words=services.referral_texts(),
    )  # fmt: skip


@router.post("/referrals/{reward_id}/fulfil", name="fulfil_reward")
async def fulfil(reward_id: int, desk: DeskDep, manager: FormManagerDep) -> Response:
    r = services.referrals(desk)
    try:
        done = await ledger.fulfil(r, reward_id, manager.member.name)
    except ReferralError as refused:
        words = services.referral_texts()
        raise PageError(409, words.not_fulfilled(refused, desk.settings.tz)) from None
    return RedirectResponse(f"{PREFIX}/referrals?fulfilled={done.id}", status_code=303)
