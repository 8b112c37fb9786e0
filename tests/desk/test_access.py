"""Web desk access (desk.access): a login link opens one session, once, for a few
minutes; sessions end, expire, and die with the member's removal; the database
keeps only hashes, so a copy of it opens nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from desk import Desk, FrozenClock
from desk.access import LoginRefused
from desk.models import Member
from tests.desk.conftest import Team


async def test_a_link_opens_one_session_once(desk: Desk, team: Team) -> None:
    token = await desk.issue_login_link(team.wang.id)
    opened = await desk.redeem_login_link(token)
    session = await desk.web_session(opened.token)
    assert session is not None and session.member.name == "王顾问"
    assert session.csrf and session.csrf == opened.session.csrf
    with pytest.raises(LoginRefused) as refused:
        await desk.redeem_login_link(token)
    assert refused.value.reason is LoginRefused.Reason.USED


async def test_two_browsers_racing_for_one_link_get_one_session(desk: Desk, team: Team) -> None:
    token = await desk.issue_login_link(team.wang.id)
    results = await asyncio.gather(
        *(desk.redeem_login_link(token) for _ in range(4)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, LoginRefused) for r in results if isinstance(r, BaseException))


async def test_links_and_sessions_expire(desk: Desk, team: Team, clock: FrozenClock) -> None:
    late = await desk.issue_login_link(team.wang.id, minutes=5)
    token = await desk.issue_login_link(team.wang.id, minutes=5)
    opened = await desk.redeem_login_link(token, hours=2)
    clock.advance(minutes=6)
    with pytest.raises(LoginRefused) as refused:
        await desk.redeem_login_link(late)
    assert refused.value.reason is LoginRefused.Reason.EXPIRED
    assert await desk.web_session(opened.token) is not None
    clock.advance(hours=2)
    assert await desk.web_session(opened.token) is None


@pytest.mark.parametrize("token", ["", "x" * 500, "不是令牌", "nope"])
async def test_bad_tokens_open_nothing(desk: Desk, team: Team, token: str) -> None:
    with pytest.raises(LoginRefused) as refused:
        await desk.redeem_login_link(token)
    assert refused.value.reason is LoginRefused.Reason.UNKNOWN
    assert await desk.web_session(token) is None


async def test_ending_sessions(desk: Desk, team: Team) -> None:
    phone = (await desk.redeem_login_link(await desk.issue_login_link(team.wang.id))).token
    pc = (await desk.redeem_login_link(await desk.issue_login_link(team.wang.id))).token
    other = (await desk.redeem_login_link(await desk.issue_login_link(team.li.id))).token
    assert await desk.live_web_sessions() == {team.wang.id: 2, team.li.id: 1}
    assert await desk.end_web_session(phone)
    assert not await desk.end_web_session(phone)
    assert await desk.web_session(phone) is None and await desk.web_session(pc) is not None
    assert await desk.end_web_sessions_of(team.wang.id) == 1  # the manager's 结束登录
    assert await desk.web_session(pc) is None
    assert await desk.web_session(other) is not None


async def test_a_removed_member_is_logged_out_and_cannot_log_in(desk: Desk, team: Team) -> None:
    link = await desk.issue_login_link(team.wang.id)
    opened = await desk.redeem_login_link(await desk.issue_login_link(team.wang.id))
    async with desk.db.writer() as s, s.begin():
        await s.execute(update(Member).where(Member.id == team.wang.id).values(active=False))
    assert await desk.web_session(opened.token) is None
    with pytest.raises(LoginRefused) as refused:
        await desk.redeem_login_link(link)
    assert refused.value.reason is LoginRefused.Reason.INACTIVE


async def test_the_database_keeps_no_token(desk: Desk, team: Team, clock: FrozenClock) -> None:
    link = await desk.issue_login_link(team.wang.id)
    opened = await desk.redeem_login_link(link)
    async with desk.db.reader() as s:
        rows = (await s.execute(text("SELECT token_hash FROM web_login_links"))).all()
        rows += (await s.execute(text("SELECT token_hash FROM web_sessions"))).all()
    stored = {r[0] for r in rows}
    assert len(stored) == 2 and link not in stored and opened.token not in stored
    # Rows long expired are purged as new links are issued.
    clock.advance(timedelta(days=8))
    await desk.issue_login_link(team.li.id)
    async with desk.db.reader() as s:
        left = (await s.execute(text("SELECT count(*) FROM web_login_links"))).scalar_one()
    assert left == 1
