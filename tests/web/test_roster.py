"""顾问 on the web desk (manager): the roster with loads and logins; add a member,
on/off duty, end someone's web sessions. What the chat's 顾问列表 shows follows;
bad input gets a Chinese line and changes nothing; consultants are refused."""

from __future__ import annotations

import pytest
from nonebug import App

from desk import Desk
from tests.support.chat import ask
from tests.support.nonebot_env import CONSULTANT_QQ, ROSTER_MANAGER_QQ, private_event
from tests.support.web import Browser


async def roster_in_chat(app: App) -> str:
    return await ask(app, private_event("顾问列表", user_id=ROSTER_MANAGER_QQ))


async def member_id(desk: Desk, qq: int) -> int:
    member = await desk.member_by(qq_id=str(qq))
    assert member is not None
    return member.id


async def test_the_roster_shows_loads_logins_and_the_cap(
    manager: Browser, consultant: Browser, desk: Desk
):
    await desk.capture(channel="qq_group:777", qq_id="55555", message="多少钱")
    page = await manager.get("/desk/roster")
    assert page.status_code == 200
    wang = await member_id(desk, CONSULTANT_QQ)
    row = page.text.split(f'id="member-{wang}"')[1].split("</tr>")[0]
    assert "王顾问" in row and "10001" in row and "在班" in row
    assert '<td class="num">1</td>' in row  # one open lead, one web session
    assert "每位顾问最多 300 条未结线索" in page.text


async def test_adding_a_member_shows_in_the_chat(app: App, manager: Browser, desk: Desk):
    done = await manager.post(
        "/desk/roster/add", {"name": "孙顾问", "qq": "10005", "role": "consultant"}
    )
    assert done.status_code == 303
    assert "已添加 孙顾问（QQ 10005）" in (await manager.get(done.headers["location"])).text
    assert "孙顾问 QQ10005 在班" in await roster_in_chat(app)


@pytest.mark.parametrize(
    ("form", "status", "line"),
    [
        ({"name": "孙顾问", "qq": "abc"}, 400, "QQ号应为 5–12 位数字"),
        ({"name": "孙顾问", "qq": "１２３４５６"}, 400, "QQ号应为 5–12 位数字"),
        ({"name": "   ", "qq": "10005"}, 400, "姓名请填写"),
        ({"name": "王二", "qq": str(CONSULTANT_QQ)}, 409, "已经在顾问名单里"),
        ({"name": "孙顾问", "qq": "10005", "role": "boss"}, 400, "角色只能是经理或顾问"),
    ],
)
async def test_bad_input_gets_a_chinese_line_and_changes_nothing(
    app: App, manager: Browser, desk: Desk, form: dict[str, str], status: int, line: str
):
    before = await desk.members()
    response = await manager.post("/desk/roster/add", form)
    assert response.status_code == status and line in response.text, response.text
    assert 'data-action="add-member"' in response.text  # the form again, to correct
    assert await desk.members() == before


async def test_duty_and_sessions(app: App, manager: Browser, consultant: Browser, desk: Desk):
    wang = await member_id(desk, CONSULTANT_QQ)
    off = await manager.post(f"/desk/roster/{wang}/duty", {"on_duty": "0"})
    assert off.status_code == 303
    assert "王顾问 已设为下班" in (await manager.get(off.headers["location"])).text
    assert "王顾问 QQ10001 下班" in await roster_in_chat(app)
    on = await manager.post(f"/desk/roster/{wang}/duty", {"on_duty": "1"})
    assert "已设为在班" in (await manager.get(on.headers["location"])).text
    assert "王顾问 QQ10001 在班" in await roster_in_chat(app)

    ended = await manager.post(f"/desk/roster/{wang}/end-sessions")
    assert "已结束 王顾问 的 1 个登录" in (await manager.get(ended.headers["location"])).text
    assert (await consultant.get("/desk/")).status_code == 401
    assert (await manager.get("/desk/roster")).status_code == 200  # the manager's own goes on
    assert (await manager.post("/desk/roster/999999/duty", {"on_duty": "0"})).status_code == 404


async def test_a_consultant_is_refused_and_nothing_changes(consultant: Browser, desk: Desk):
    assert (await consultant.get("/desk/roster")).status_code == 403
    before = await desk.members()
    manager_id = await member_id(desk, ROSTER_MANAGER_QQ)
    wang = await member_id(desk, CONSULTANT_QQ)
    attempts = [
        ("/desk/roster/add", {"name": "孙顾问", "qq": "10005"}),
        (f"/desk/roster/{wang}/duty", {"on_duty": "0"}),
        (f"/desk/roster/{manager_id}/end-sessions", {}),
    ]
    for url, form in attempts:
        assert (await consultant.post(url, form)).status_code == 403, url
    assert await desk.members() == before


async def test_a_form_without_the_csrf_token_is_refused(manager: Browser, desk: Desk):
    wang = await member_id(desk, CONSULTANT_QQ)
    forged = await manager.client.post(f"/desk/roster/{wang}/duty", data={"on_duty": "0"})
    assert forged.status_code == 403 and "刷新" in forged.text
    assert all(m.on_duty for m in await desk.members() if m.id == wang)
