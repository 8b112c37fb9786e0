"""顾问 (manager): the roster with each member's open leads and web logins; add a
member, put one on or off duty, end someone's web sessions. The assignment cap is
the desk's setting (desk.toml), shown, not edited here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from desk import Desk, MemberView
from desk.errors import DuplicateMember, InvalidInput
from web import texts
from web.core import (
    PREFIX,
    DeskDep,
    DeskRoute,
    FormManagerDep,
    ManagerDep,
    PageError,
    Staff,
    page,
)

router = APIRouter(route_class=DeskRoute)
DONE = {
    "added": lambda m, n: texts.MEMBER_ADDED.format(name=m.name, qq=m.qq_id or "—"),
    "on": lambda m, n: texts.MEMBER_ON_DUTY.format(name=m.name),
    "off": lambda m, n: texts.MEMBER_OFF_DUTY.format(name=m.name),
    "ended": lambda m, n: texts.SESSIONS_ENDED.format(name=m.name, count=n),
}
ADD_ERRORS = {"name": texts.BAD_NAME, "qq_id": texts.BAD_QQ, "role": texts.BAD_ROLE}


def _number(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else 0


async def _roster(
    request: Request, desk: Desk, manager: Staff, *, status: int = 200, error: str = "",
    form: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    members = await desk.members()
    loads, sessions = await desk.open_loads(), await desk.live_web_sessions()
    done = ""
    by_id = {m.id: m for m in members}
    word, member = request.query_params.get("done", ""), request.query_params.get("member", "")
    if word in DONE and (target := by_id.get(_number(member))) is not None:
        done = DONE[word](target, _number(request.query_params.get("count", "")))
    return page(
        request, "roster.html", manager, status, members=members, loads=loads,
        sessions=sessions, cap=desk.settings.assignment.cap_per_consultant, done=done,
        error=error, form=form or {},
    )  # fmt: skip


@router.get("/roster", name="roster")
async def roster(request: Request, desk: DeskDep, manager: ManagerDep) -> Response:
    return await _roster(request, desk, manager)


def _done(word: str, member: MemberView, count: int = 0) -> Response:
    query = f"done={word}&member={member.id}" + (f"&count={count}" if word == "ended" else "")
    return RedirectResponse(f"{PREFIX}/roster?{query}", status_code=303)


@router.post("/roster/add", name="add_member")
async def add_member(
    request: Request, desk: DeskDep, manager: FormManagerDep,
    name: Annotated[str, Form(max_length=100)] = "",
    qq: Annotated[str, Form(max_length=40)] = "",
    role: Annotated[str, Form(max_length=20)] = "consultant",
) -> Response:  # fmt: skip
    form = {"name": name, "qq": qq, "role": role}
    try:
        added = await desk.add_member(manager.actor, name=name, qq_id=qq.strip(), role=role)
    except DuplicateMember:
        error = texts.DUPLICATE_MEMBER
        return await _roster(request, desk, manager, status=409, error=error, form=form)
    except InvalidInput as exc:
        error = ADD_ERRORS.get(exc.field, texts.BAD_INPUT.format(message=exc.field))
        return await _roster(request, desk, manager, status=400, error=error, form=form)
    return _done("added", added)


@router.post("/roster/{member_id}/duty", name="set_duty")
async def set_duty(
    member_id: int, desk: DeskDep, manager: FormManagerDep,
    on_duty: Annotated[str, Form(max_length=4)] = "",
) -> Response:  # fmt: skip
    changed = await desk.set_on_duty(member_id, on_duty == "1")
    return _done("on" if changed.on_duty else "off", changed)


@router.post("/roster/{member_id}/end-sessions", name="end_sessions")
async def end_sessions(member_id: int, desk: DeskDep, manager: FormManagerDep) -> Response:
    member = next((m for m in await desk.members() if m.id == member_id), None)
    if member is None:
        raise PageError(404, texts.NOT_FOUND)
    count = await desk.end_web_sessions_of(member.id)
    return _done("ended", member, count)
