"""Logging in to the web desk: `登录` in a DM sends a one-time link; the link opens a
session once, for a few minutes; sessions end at 退出, at 退出登录 in the chat, and
when they expire; pages refuse anyone without one, and forms without the CSRF token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nonebug import App

from bot.roles import CONSULTANT
from bot.texts import ROLE_REFUSAL
from desk import Desk, FrozenClock
from tests.support.chat import ask
from tests.support.nonebot_env import CONSULTANT_QQ, group_event, private_event
from tests.support.web import LINK, Browser


async def link_from_dm(app: App, qq: int = CONSULTANT_QQ) -> str:
    reply = await ask(app, private_event("登录", user_id=qq))
    found = LINK.search(reply)
    assert found, reply
    assert "只能用一次" in reply
    return found.group(1)


async def test_a_consultant_logs_in_with_the_link_from_a_dm(app: App, browser, desk: Desk):
    token = await link_from_dm(app)
    b: Browser = await browser()
    form = await b.get(f"/desk/login/{token}")
    assert form.status_code == 200 and "进入线索台" in form.text
    # Opening the page spends nothing (a chat app's link preview must not use it up).
    assert "desk_session" not in b.client.cookies
    response = await b.client.post("/desk/login", data={"token": token})
    assert response.status_code == 303 and response.headers["location"] == "/desk/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/desk" in cookie
    home = await b.get("/desk/")
    assert home.status_code == 200
    assert "王顾问" in home.text and "工作台" in home.text
    assert "战败审核" not in home.text  # a consultant's menu has no manager pages


async def test_a_link_works_once(app: App, browser, desk: Desk):
    token = await link_from_dm(app)
    first, second = await browser(), await browser()
    assert (await first.open_link(token)).status_code == 303
    again = await second.open_link(token)
    assert again.status_code == 400 and "已经用过" in again.text
    assert (await second.get("/desk/")).status_code == 401


async def test_an_expired_or_unknown_link_is_refused_with_a_clear_page(
    app: App, browser, desk: Desk, desk_clock: FrozenClock
):
    token = await link_from_dm(app)
    desk_clock.advance(minutes=11)
    b = await browser()
    expired = await b.open_link(token)
    assert (
        expired.status_code == 400
        and "已过期" in expired.text
        and "重新发送「登录」" in expired.text
    )
    unknown = await b.open_link("not-a-real-token")
    assert unknown.status_code == 400 and "无效" in unknown.text
    assert "desk_session" not in b.client.cookies


async def test_login_is_for_staff_in_a_dm(app: App, desk: Desk):
    in_group = await ask(app, group_event("登录", user_id=CONSULTANT_QQ))
    assert "私聊" in in_group and "/desk/login/" not in in_group
    owner = await ask(app, private_event("登录", user_id=20001))
    assert owner == ROLE_REFUSAL[CONSULTANT]


async def test_pages_need_a_session(browser, desk: Desk):
    b = await browser()
    response = await b.get("/desk/")
    assert response.status_code == 401 and "发送「登录」" in response.text
    b.client.cookies.set("desk_session", "forged", domain="desk.test", path="/desk")
    assert (await b.get("/desk/")).status_code == 401


async def test_logout_needs_the_csrf_token_and_ends_the_session(consultant: Browser):
    forged = await consultant.client.post("/desk/logout", data={"csrf": "wrong"})
    assert forged.status_code == 403 and "刷新" in forged.text
    assert (await consultant.get("/desk/")).status_code == 200
    out = await consultant.post("/desk/logout")
    assert out.status_code == 200 and "已退出" in out.text
    assert (await consultant.get("/desk/")).status_code == 401


async def test_logout_in_the_chat_ends_every_session(app: App, consultant: Browser, desk: Desk):
    reply = await ask(app, private_event("退出登录", user_id=CONSULTANT_QQ))
    assert "1 个登录" in reply
    assert (await consultant.get("/desk/")).status_code == 401


async def test_a_session_expires(consultant: Browser, desk_clock: FrozenClock):
    desk_clock.advance(timedelta(hours=12, minutes=1))
    assert (await consultant.get("/desk/")).status_code == 401


async def test_login_attempts_are_rate_limited(browser, desk: Desk):
    b = await browser()
    statuses = [
        (await b.client.post("/desk/login", data={"token": f"guess{i}"})).status_code
        for i in range(12)
    ]
    assert statuses[0] == 400 and statuses[-1] == 429


@pytest.mark.parametrize("path", ["/desk/", "/desk/login/abc"])
async def test_pages_forbid_other_origins_and_framing(browser, path: str, desk: Desk):
    response = await (await browser()).get(path)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_every_asset_is_served_by_the_app(consultant: Browser):
    home = await consultant.get("/desk/")
    for asset in (
        "/desk/static/desk.css",
        "/desk/static/desk.js",
        "/desk/static/vendor/htmx.min.js",
    ):
        assert asset in home.text
        response = await consultant.get(asset)
        assert response.status_code == 200 and len(response.content) > 100, asset
    assert "http://" not in home.text.split("<main>")[0] and "https://" not in home.text


async def test_the_chinese_font_is_served_by_the_app(consultant: Browser):
    css = (await consultant.get("/desk/static/desk.css")).text
    assert 'url("/desk/font/NotoSansSC-Regular.otf")' in css
    font = await consultant.get("/desk/font/NotoSansSC-Regular.otf")
    assert font.status_code == 200 and font.content[:4] == b"OTTO"  # OpenType/CFF
    assert "max-age" in font.headers["cache-control"]


def test_a_login_link_never_reaches_a_log_line():
    from nonebot.log import logger

    from bot.logs import install_log_privacy
    from tests.support.chat import logged

    install_log_privacy()
    with logged("INFO") as lines:
        logger.info("sent http://192.168.1.20:8080/desk/login/AbC-123_xyz to 13812345678")
    assert [line.strip() for line in lines] == [
        "sent http://192.168.1.20:8080/desk/login/*** to 138****5678"
    ]
