"""The dispatcher's WeChat transports: the outbox contract (sent, failed and
retried, final failure, uncertain after a timeout)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nonebot.config import Config, Env
from nonebot.drivers.fastapi import Driver as FastAPIDriver

from bot.adapters.wechat import Adapter, Bot
from bot.adapters.wechat.config import WeChatSettings
from bot.dispatch import deliver_round, wechat
from desk import SYSTEM, Desk, FrozenClock
from tests.support.fake_wechat import AGENT_ID, CORP_ID, OA_APP_ID, FakeWeChat
from tests.support.outbox import deliver_all, outbox_status, sqlite_desk


@pytest.fixture
def adapter(wechat_settings: WeChatSettings) -> Adapter:
    driver = FastAPIDriver(Env(environment="test"), Config(_env_file=None))  # pyright: ignore[reportCallIssue]
    return Adapter(driver, settings=wechat_settings)


@pytest.fixture
def wecom_bot(adapter: Adapter) -> Bot:
    return Bot(adapter, f"wecom:{CORP_ID}:{AGENT_ID}", "wecom")


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with sqlite_desk(tmp_path) as d:
        await d.add_member(SYSTEM, name="王顾问", wecom_userid="wangguwen", dm_channel="wecom")
        yield d


async def queue(desk: Desk, key: str, address: str, text: str, channel: str = "wecom") -> None:
    await desk.notify(key=key, kind="owner_dm", channel=channel, address=address,
                      payload={"text": text}, any_hour=True)  # fmt: skip


async def test_a_new_lead_reaches_a_wecom_consultant(
    desk: Desk, wecom_bot: Bot, fake_wechat: FakeWeChat
) -> None:
    lead = await desk.capture(
        channel="wechat_oa", wechat_openid="o_openid_1", name="小赵", message="想看看新车"
    )
    assert await deliver_all(desk, wecom_bot) == 1
    (sent,) = fake_wechat.requests_to("/cgi-bin/message/send")
    assert sent.body is not None and sent.body["touser"] == "wangguwen"
    text = sent.body["text"]["content"]
    assert f"【新线索 #{lead.lead.id}】" in text and "原话：想看看新车" in text
    assert outbox_status(desk, f"lead:{lead.lead.id}:new")[0] == "sent"
    assert await deliver_all(desk, wecom_bot) == 0  # sent once


async def test_refused_send_is_retried_later_unknown_user_is_not(
    desk: Desk, wecom_bot: Bot, fake_wechat: FakeWeChat
) -> None:
    fake_wechat.user_errors["busy"] = 45009  # frequency limit: try again later
    fake_wechat.user_errors["ghost"] = 81013  # not in the app's visible range
    await queue(desk, "k-busy", "busy", "hi")
    await queue(desk, "k-ghost", "ghost", "hi")
    await deliver_all(desk, wecom_bot)
    assert outbox_status(desk, "k-busy") == ("pending", 1)
    assert outbox_status(desk, "k-ghost")[0] == "dead"


async def test_timeout_is_uncertain_and_never_resent(
    desk: Desk, wecom_bot: Bot, fake_wechat: FakeWeChat
) -> None:
    fake_wechat.delays["/cgi-bin/message/send"] = 2.5  # WECHAT_TIMEOUT is 1 s here
    await queue(desk, "k-slow", "wangguwen", "hi")
    await deliver_all(desk, wecom_bot)
    assert outbox_status(desk, "k-slow")[0] == "uncertain"
    fake_wechat.delays.clear()
    assert await deliver_all(desk, wecom_bot) == 0
    assert len(fake_wechat.requests_to("/cgi-bin/message/send")) == 1


async def test_a_long_digest_that_fails_midway_is_uncertain(
    desk: Desk, wecom_bot: Bot, fake_wechat: FakeWeChat
) -> None:
    calls = []
    real = fake_wechat.answer

    def second_piece_fails(call):
        if call.path == "/cgi-bin/message/send":
            calls.append(call)
            if len(calls) == 2:
                return {"errcode": 45009, "errmsg": "busy"}
        return real(call)

    fake_wechat.answer = second_piece_fails  # type: ignore[method-assign]
    try:
        await queue(desk, "k-long", "wangguwen", "第一行\n" * 1000)
        await deliver_all(desk, wecom_bot)
    finally:
        del fake_wechat.answer
    assert outbox_status(desk, "k-long")[0] == "uncertain"  # piece 1 arrived: no blind resend


async def test_oa_follower_dm_is_a_customer_service_message(
    desk: Desk, adapter: Adapter, fake_wechat: FakeWeChat
) -> None:
    oa_bot = Bot(adapter, f"oa:{OA_APP_ID}", "oa")
    await queue(desk, "k-oa", "o_openid_1", "顾问王先生会尽快联系您", channel="wechat_oa")
    assert await deliver_all(desk, oa_bot, "wechat_oa") == 1
    (sent,) = fake_wechat.requests_to("/cgi-bin/message/custom/send")
    assert sent.body == {
        "touser": "o_openid_1",
        "msgtype": "text",
        "text": {"content": "顾问王先生会尽快联系您"},
    }
    assert outbox_status(desk, "k-oa")[0] == "sent"


async def test_a_wechat_round_leaves_a_qq_message_in_flight_alone(
    desk: Desk, wecom_bot: Bot, fake_wechat: FakeWeChat
) -> None:
    await desk.notify(key="k-qq", kind="owner_dm", channel="qq", address="30001",
                      payload={"text": "积分到账"}, any_hour=True)  # fmt: skip
    await queue(desk, "k-wecom", "wangguwen", "hi")
    [qq] = await desk.claim_notifications(["qq", "qq_group"], 1)  # the QQ loop sends it…
    assert isinstance(desk.clock, FrozenClock)
    desk.clock.advance(seconds=desk.settings.outbox.lease_seconds + 1)  # …slowly
    assert await deliver_round(desk, wechat.senders(wecom_bot, desk.settings.tz)) == 1
    assert outbox_status(desk, "k-wecom")[0] == "sent"
    assert outbox_status(desk, "k-qq")[0] == "sending"  # still the QQ loop's
    assert await desk.notification_sent(qq.id)
    assert outbox_status(desk, "k-qq")[0] == "sent"
