"""Event sign-ups over WeChat, end to end: the real bot (`python -m bot`) with
WeCom and Official Account settings pointing at the fake WeChat server, a QQ
client for the owner group, real encrypted callbacks for the followers.

A manager creates an event in a QQ group linked to a WeCom customer group (the
announcement becomes a mass-send task there); Official Account followers sign
up by DM (a lead with their openid), the second is waitlisted, and when the
first cancels the second is told by a customer-service message.
"""

from __future__ import annotations

import asyncio
import re

import pytest
import requests

from desk import Desk
from tests.e2e.conftest import (
    BotProcess,
    connected,
    desk_settings,
    message_text,
)
from tests.support.fake_wechat import FakeWeChat
from tests.support.wechat_callbacks import oa_post, oa_text
from tests.support.wechat_live import (
    QQ_MANAGER,
    calls_to,
    linked_groups_env,
    outbox_marker,
    text_to,
    wait_for,
)

QQ_GROUP = 123456
CHAT = "wrOgQhDgAAAcwMTB7KRzUTDbfbBREVNT"
FIRST = "o6_bmjrPTlm6_2sgVt7hMZOPfE2E"
SECOND = "o6_bmjrPTlm6_2sgVt7hMZOPfE3E"
OA_SEND = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/externalcontact/add_msg_template"
LINKS = f"""
[[wecom_groups]]
qq_group = {QQ_GROUP}
chat_id = "{CHAT}"
sender = "zhangsan"
"""


@pytest.fixture(scope="module")
def live_env(tmp_path_factory: pytest.TempPathFactory, fake_server: FakeWeChat) -> dict[str, str]:
    return linked_groups_env(tmp_path_factory, fake_server, LINKS)


async def follower_says(bot: BotProcess, openid: str, text: str) -> None:
    query, body = oa_post(oa_text(openid, text))
    url = f"http://127.0.0.1:{bot.port}/wechat/oa"
    response = await asyncio.to_thread(requests.post, url, params=query, data=body, timeout=10)
    assert (response.status_code, response.text) == (200, "success")


async def test_followers_sign_up_and_the_waitlisted_one_is_told_by_dm(
    live_bot: BotProcess, live_env: dict[str, str], fake_server: FakeWeChat
) -> None:
    mark = fake_server.mark()
    async with connected(live_bot) as qq:
        await qq.send_group_message(QQ_GROUP, QQ_MANAGER, "发起活动 试驾会 明天下午3点 展厅 1人")
        created = await qq.wait_for_call(
            "send_group_msg", lambda c: "已发起活动 #" in message_text(c), timeout=15
        )
    event_id = int(re.search(r"已发起活动 #(\d+)", message_text(created)).group(1))  # pyright: ignore[reportOptionalMemberAccess]

    # the announcement, as a mass-send task for the linked customer group
    task = await wait_for(
        fake_server, TEMPLATE, lambda c: (c.body or {}).get("chat_id_list") == [CHAT], mark,
        live_bot,
    )  # fmt: skip
    assert task.body is not None and task.body["sender"] == "zhangsan"
    assert f"#{event_id}「试驾会」" in task.body["text"]["content"]

    await follower_says(live_bot, FIRST, f"报名 {event_id}")
    await wait_for(
        fake_server, OA_SEND, text_to(FIRST, f"已报名活动 #{event_id}「试驾会」"), mark, live_bot
    )
    await follower_says(live_bot, SECOND, f"报名 {event_id}")
    await wait_for(fake_server, OA_SEND, text_to(SECOND, "名额已满", "候补第 1 位"), mark, live_bot)
    desk = await Desk.open(desk_settings(live_bot.workdir, live_env))
    try:
        first = await desk.find_lead(wechat_openid=FIRST)
        second = await desk.find_lead(wechat_openid=SECOND)
    finally:
        await desk.close()
    assert first is not None and first.source == f"event:{event_id}"
    assert second is not None and second.id != first.id

    await follower_says(live_bot, FIRST, f"取消报名 {event_id}")
    await wait_for(fake_server, OA_SEND, text_to(FIRST, "已取消活动"), mark, live_bot)
    await wait_for(
        fake_server, OA_SEND, text_to(SECOND, f"活动 #{event_id}「试驾会」有空位了"), mark,
        live_bot,
    )  # fmt: skip
    await follower_says(live_bot, SECOND, "我的报名")
    await wait_for(fake_server, OA_SEND, text_to(SECOND, "｜1人｜已报名"), mark, live_bot)
    desk = await Desk.open(desk_settings(live_bot.workdir, live_env))
    try:  # a later message through the outbox: anything queued before went out first
        end = await outbox_marker(fake_server, live_bot, desk, "wechat_oa", SECOND)
    finally:
        await desk.close()
    promoted = [
        c for c in calls_to(fake_server, OA_SEND, mark, end) if text_to(SECOND, "有空位了")(c)
    ]
    assert len(promoted) == 1  # told once
    assert len(calls_to(fake_server, TEMPLATE, mark, end)) == 1
    assert "Traceback" not in live_bot.log(3000)
