"""活动 on the web desk: the events with their sign-ups and waitlist; a manager
ticks who came (Official Account followers too: the chat's 到场 cannot name them)
and downloads the sign-up sheet; consultants only look."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from nonebug import App
from openpyxl import load_workbook

from desk import Desk, FrozenClock
from features.events import manage, signups
from features.events.export import signup_list
from features.events.manage import EventDraft
from features.events.signups import SignupRequest
from tests.support.chat import ask_charted
from tests.support.nonebot_env import ROSTER_MANAGER_QQ, private_event
from tests.support.web import Browser
from web import services

GROUP = "123456"


async def an_event(desk: Desk, clock: FrozenClock, *, hours: int = 5) -> int:
    """试驾会 today (or `hours` on): 张三 and an Official Account follower signed up,
    王五 waitlisted."""
    ev = services.events(desk)
    draft = EventDraft("试驾会", clock.now() + timedelta(hours=hours), "展厅", 2, None, None)
    event_id = (
        await manage.create(ev, draft, group_id=GROUP, created_by=str(ROSTER_MANAGER_QQ))
    ).event.id
    await signups.sign_up(ev, SignupRequest(event_id, "20001", "张三", GROUP))
    await signups.sign_up(
        ev, SignupRequest(event_id, "oa-openid-1", platform="wechat_oa", fallback_name="公众号用户")
    )
    await signups.sign_up(ev, SignupRequest(event_id, "20003", "王五", GROUP))
    return event_id


async def signup_ids(desk: Desk, event_id: int) -> list[int]:
    return [r.signup_id for r in (await signup_list(services.events(desk), event_id, None)).rows]


async def stats_in_chat(app: App, event_id: int) -> str:
    return await ask_charted(app, private_event(f"活动统计 {event_id}", user_id=ROSTER_MANAGER_QQ))


async def test_the_events_and_an_events_sign_ups(
    manager: Browser, desk: Desk, desk_clock: FrozenClock
):
    event_id = await an_event(desk, desk_clock)
    listing = await manager.get("/desk/events")
    assert listing.status_code == 200
    assert f"#{event_id} 试驾会" in listing.text and "报名 2 人，候补 1 组" in listing.text
    page = await manager.get(f"/desk/events/{event_id}")
    assert page.status_code == 200
    text = page.text
    assert "张三" in text and "公众号用户" in text and "王五" in text and "候补第1位" in text
    zhang, follower, waiting = await signup_ids(desk, event_id)
    assert (
        f'name="attended" value="{zhang}"' in text and f'name="attended" value="{follower}"' in text
    )
    assert f'name="attended" value="{waiting}"' not in text  # the waitlist holds no seat
    assert 'id="export"' in text


async def test_ticking_names_marks_attendance_the_chat_counts(
    app: App, manager: Browser, desk: Desk, desk_clock: FrozenClock
):
    event_id = await an_event(desk, desk_clock)
    zhang, follower, _ = await signup_ids(desk, event_id)
    done = await manager.post(f"/desk/events/{event_id}/attended", {"attended": [zhang, follower]})
    assert done.status_code == 303
    page = await manager.get(done.headers["location"])
    assert "已登记到场 2 人" in page.text
    assert f'name="attended" value="{zhang}"' not in page.text and "已到场" in page.text
    assert "到场：2人（2组）" in await stats_in_chat(app, event_id)

    nobody = await manager.post(f"/desk/events/{event_id}/attended", {})
    assert nobody.status_code == 400 and "请勾选到场的人" in nobody.text
    junk = await manager.post(f"/desk/events/{event_id}/attended", {"attended": ["x", "-1"]})
    assert junk.status_code == 400
    missing = await manager.post("/desk/events/999999/attended", {"attended": [zhang]})
    assert missing.status_code == 409 and "没有找到活动" in missing.text


async def test_attendance_waits_for_the_events_day(
    app: App, manager: Browser, desk: Desk, desk_clock: FrozenClock
):
    event_id = await an_event(desk, desk_clock, hours=48)
    zhang, _, _ = await signup_ids(desk, event_id)
    early = await manager.post(f"/desk/events/{event_id}/attended", {"attended": [zhang]})
    assert early.status_code == 409 and "当天才能登记到场" in early.text
    assert "到场：0人" in await stats_in_chat(app, event_id)


async def test_the_export_is_a_real_spreadsheet_of_the_sign_ups(
    manager: Browser, desk: Desk, desk_clock: FrozenClock
):
    event_id = await an_event(desk, desk_clock)
    response = await manager.get(f"/desk/events/{event_id}/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert f"#{event_id} 试驾会" in str(rows[0][0]) and rows[1][:3] == ["序号", "昵称", "QQ"]
    assert [(r[1], r[2], r[5]) for r in rows[2:]] == [
        ("张三", "20001", "已报名"), ("公众号用户", None, "已报名"), ("王五", "20003", "候补第1位"),
    ]  # fmt: skip


async def test_a_consultant_may_look_but_not_mark_or_export(
    app: App, consultant: Browser, desk: Desk, desk_clock: FrozenClock
):
    event_id = await an_event(desk, desk_clock)
    zhang, _, _ = await signup_ids(desk, event_id)
    page = await consultant.get(f"/desk/events/{event_id}")
    assert page.status_code == 200 and "张三" in page.text
    assert 'name="attended"' not in page.text and 'id="export"' not in page.text
    assert (await consultant.get(f"/desk/events/{event_id}/export.xlsx")).status_code == 403
    refused = await consultant.post(f"/desk/events/{event_id}/attended", {"attended": [zhang]})
    assert refused.status_code == 403
    assert "到场：0人" in await stats_in_chat(app, event_id)


async def test_a_form_without_the_csrf_token_is_refused(
    app: App, manager: Browser, desk: Desk, desk_clock: FrozenClock
):
    event_id = await an_event(desk, desk_clock)
    zhang, _, _ = await signup_ids(desk, event_id)
    forged = await manager.client.post(
        f"/desk/events/{event_id}/attended", data={"attended": [zhang]}
    )
    assert forged.status_code == 403
    assert "到场：0人" in await stats_in_chat(app, event_id)
