"""The adapter over HTTP, in process: its routes on a FastAPI driver of its own,
events handed to NoneBot (recorded here), replies through the fake API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from async_asgi_testclient import TestClient
from nonebot.config import Config, Env
from nonebot.drivers.fastapi import Driver as FastAPIDriver
from nonebot.exception import ApiNotAvailable

from bot.adapters.wechat import (
    Adapter,
    Bot,
    Event,
    ExternalChatChangeEvent,
    ExternalContactChangeEvent,
    MessageSegment,
    OAMessageEvent,
    WeComMessageEvent,
)
from bot.adapters.wechat import adapter as adapter_module
from bot.adapters.wechat.config import WeChatSettings
from tests.support.fake_wechat import AGENT_ID, CORP_ID, OA_APP_ID, FakeWeChat
from tests.support.wechat_callbacks import (
    external_chat_change,
    external_contact_add,
    oa_post,
    oa_text,
    oa_verify_query,
    wecom_crypto,
    wecom_post,
    wecom_text,
    wecom_verify_query,
)

WECOM_ID = f"wecom:{CORP_ID}:{AGENT_ID}"
OA_ID = f"oa:{OA_APP_ID}"


@dataclass
class Running:
    client: TestClient
    adapter: Adapter
    events: list[tuple[Bot, Event]] = field(default_factory=list)

    async def post(self, path: str, query: dict[str, str], body: bytes):
        return await self.client.post(path, query_string=query, data=body)

    async def get(self, path: str, query: dict[str, str]):
        return await self.client.get(path, query_string=query)

    async def settle(self) -> None:
        """Until the adapter's background work (the start-up token check, the
        handling of each callback) has finished."""
        async with asyncio.timeout(10):
            while self.adapter._tasks:  # pyright: ignore[reportPrivateUsage]
                await asyncio.gather(*self.adapter._tasks)  # pyright: ignore[reportPrivateUsage]


@pytest.fixture
async def running(
    wechat_settings: WeChatSettings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    driver = FastAPIDriver(Env(environment="test"), Config(_env_file=None))  # pyright: ignore[reportCallIssue]
    adapter = Adapter(driver, settings=wechat_settings)
    seen: list[tuple[Bot, Event]] = []

    async def record(bot, event) -> None:
        seen.append((bot, event))

    monkeypatch.setattr(adapter_module, "handle_event", record)
    async with TestClient(driver.asgi) as client:
        yield Running(client, adapter, seen)


async def test_bots_connect_one_per_app(running: Running, fake_wechat: FakeWeChat) -> None:
    assert sorted(running.adapter.bots) == [OA_ID, WECOM_ID]
    await running.settle()  # the start-up token check: one fetch per credential
    assert len(fake_wechat.requests_to("/cgi-bin/gettoken")) == 2
    assert len(fake_wechat.requests_to("/cgi-bin/token")) == 1


async def test_url_verification(running: Running) -> None:
    response = await running.get("/wechat/wecom", wecom_verify_query("1616140317555161061"))
    assert (response.status_code, response.text) == (200, "1616140317555161061")
    response = await running.get("/wechat/oa", oa_verify_query("oa-echo"))
    assert (response.status_code, response.text) == (200, "oa-echo")
    forged = oa_verify_query("oa-echo") | {"signature": "0" * 40}
    response = await running.get("/wechat/oa", forged)
    assert (response.status_code, response.text) == (403, "forbidden")


async def test_wecom_dm_becomes_a_private_message_event(running: Running) -> None:
    response = await running.post(
        "/wechat/wecom", *wecom_post(wecom_text("zhangsan", "今日 ", msg_id=501))
    )
    assert (response.status_code, response.text) == (200, "")
    await running.settle()
    ((bot, event),) = running.events
    assert isinstance(event, WeComMessageEvent) and bot.self_id == WECOM_ID
    assert (event.get_type(), event.get_event_name()) == ("message", "message.private.wecom")
    assert (event.get_plaintext(), event.get_user_id()) == ("今日 ", "zhangsan")
    assert (event.get_session_id(), event.is_tome(), event.msg_id) == ("wecom:zhangsan", True, 501)


async def test_oa_dm_is_answered_success(running: Running) -> None:
    response = await running.post("/wechat/oa", *oa_post(oa_text("o_openid_1", "多少钱")))
    assert (response.status_code, response.text) == (200, "success")
    await running.settle()
    ((bot, event),) = running.events
    assert isinstance(event, OAMessageEvent) and bot.self_id == OA_ID
    assert (event.get_user_id(), event.get_plaintext()) == ("o_openid_1", "多少钱")


async def test_repeated_message_has_one_effect(running: Running) -> None:
    request = wecom_post(wecom_text("zhangsan", "hi", msg_id=777))
    for _ in range(3):  # the same request replayed
        assert (await running.post("/wechat/wecom", *request)).status_code == 200
    retry = wecom_post(wecom_text("zhangsan", "hi", msg_id=777))  # WeChat's retry
    assert (await running.post("/wechat/wecom", *retry)).status_code == 200
    await running.settle()
    assert len(running.events) == 1


@pytest.mark.parametrize(
    "case", ["forged", "stale", "other_corp", "malformed", "empty", "no_query"]
)
async def test_refused_posts_get_403_and_no_effect(running: Running, case: str) -> None:
    query, body = wecom_post(wecom_text("zhangsan", "hi"))
    if case == "forged":
        query["msg_signature"] = "a" * 40
    elif case == "stale":
        import time

        query, body = wecom_post(wecom_text("zhangsan", "hi"), timestamp=int(time.time()) - 400)
    elif case == "other_corp":
        query, body = wecom_post(wecom_text("zhangsan", "hi"), crypto=wecom_crypto("wwOTHER"))
    elif case == "malformed":
        body = b"<xml><Encrypt>" + "\x00😀[CQ:at,qq=all]' OR 1=1".encode() + b"</Encrypt></xml>"
    elif case == "empty":
        body = b""
    else:
        query = {}
    response = await running.post("/wechat/wecom", query, body)
    assert (response.status_code, response.text) == (403, "forbidden")
    await running.settle()
    assert running.events == []


async def test_message_for_another_agent_is_ignored(running: Running) -> None:
    response = await running.post(
        "/wechat/wecom", *wecom_post(wecom_text("zhangsan", "hi", agent=999))
    )
    assert response.status_code == 200
    await running.settle()
    assert running.events == []


async def test_customer_group_and_contact_events(running: Running) -> None:
    await running.post(
        "/wechat/wecom",
        *wecom_post(external_chat_change("wrOgAAA", "add_member", members=("wmA", "wmB"))),
    )
    await running.post(
        "/wechat/wecom", *wecom_post(external_contact_add("wangguwen", "wmEXT1", "ref-20001"))
    )
    await running.settle()
    (_, chat), (_, contact) = running.events
    assert isinstance(chat, ExternalChatChangeEvent)
    assert (chat.get_type(), chat.chat_id, chat.change_type, chat.update_detail) == (
        "notice",
        "wrOgAAA",
        "update",
        "add_member",
    )
    assert (chat.join_scene, chat.mem_change_cnt, chat.member_ids) == (3, 2, ["wmA", "wmB"])
    assert chat.get_event_name() == "notice.wecom.change_external_chat.update.add_member"
    assert isinstance(contact, ExternalContactChangeEvent)
    assert (contact.change_type, contact.staff_user_id, contact.external_user_id, contact.state) == (
        "add_external_contact", "wangguwen", "wmEXT1", "ref-20001",
    )  # fmt: skip
    assert contact.get_user_id() == "wmEXT1"


async def test_send_answers_the_sender_on_its_platform(
    running: Running, fake_wechat: FakeWeChat
) -> None:
    await running.post("/wechat/wecom", *wecom_post(wecom_text("zhangsan", "hi")))
    await running.post("/wechat/oa", *oa_post(oa_text("o_openid_1", "hi")))
    await running.settle()
    (wecom_bot, wecom_event), (oa_bot, oa_event) = running.events
    await wecom_bot.send(wecom_event, "收到")
    await wecom_bot.send(wecom_event, MessageSegment.markdown("**加粗**"))
    await oa_bot.send(oa_event, "您好")
    sends = [c.body for c in fake_wechat.requests_to("/cgi-bin/message/send")]
    assert sends[0] and sends[0]["text"] == {"content": "收到"} and sends[0]["touser"] == "zhangsan"
    assert sends[1] and sends[1]["markdown"] == {"content": "**加粗**"}
    (custom,) = [c.body for c in fake_wechat.requests_to("/cgi-bin/message/custom/send")]
    assert custom == {"touser": "o_openid_1", "msgtype": "text", "text": {"content": "您好"}}
    with pytest.raises(ValueError):
        await oa_bot.send(wecom_event, "wrong platform")


async def test_long_text_goes_out_in_pieces(running: Running, fake_wechat: FakeWeChat) -> None:
    bot = running.adapter.bots[WECOM_ID]
    text = "\n".join(f"· 线索 #{i} 王先生 A级 今天 15:00" for i in range(200))
    results = await bot.call_api("send_text", user_id="wangguwen", text=text)
    pieces = [
        c.body["text"]["content"]
        for c in fake_wechat.requests_to("/cgi-bin/message/send")
        if c.body
    ]
    assert len(results) == len(pieces) > 1
    assert all(len(p.encode()) <= 2048 for p in pieces)
    assert "\n".join(pieces) == text


async def test_actions(running: Running, fake_wechat: FakeWeChat) -> None:
    wecom, oa = running.adapter.bots[WECOM_ID], running.adapter.bots[OA_ID]
    group = await wecom.call_api("get_group_chat", chat_id="wrOgAAA")
    assert group["owner"] == "wangguwen"
    way = await wecom.call_api("add_contact_way", state="ref-1", user_ids=["wangguwen"])
    assert way["qr_code"]
    task = await wecom.call_api("add_group_msg_template", sender="wangguwen", text="周六车友会")
    assert task["msgid"]
    with pytest.raises(ApiNotAvailable):
        await oa.call_api("get_group_chat", chat_id="wrOgAAA")
    with pytest.raises(ApiNotAvailable):
        await wecom.call_api("no_such_action")
