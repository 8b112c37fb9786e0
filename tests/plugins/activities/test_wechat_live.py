"""WeCom customer groups over real HTTP (the fake WeChat server):

- the outbox's "wecom_group" items become mass-send tasks
  (externalcontact/add_msg_template, chat_type group, in the owner's name) with
  the outbox contract: sent = the task exists, refused -> failed (retried unless
  final), a timeout -> uncertain and never resent;
- end to end, the real bot: a topic set in a QQ owner group reaches its linked
  customer group as a mass-send task, joins are recorded and a lead leaving the
  customer group is told to the WeCom consultant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from bot.adapters.wechat import Adapter, Bot
from bot.adapters.wechat.config import WeChatSettings
from bot.settings import wechat_settings
from desk import SYSTEM, Desk
from desk.store import UnitOfWork
from tests.e2e.conftest import (
    BotProcess,
    connected,
    desk_settings,
)
from tests.support.fake_wechat import AGENT_ID, CORP_ID, Call, FakeWeChat
from tests.support.outbox import deliver_all as deliver_wechat
from tests.support.outbox import outbox_status, sqlite_desk
from tests.support.wechat_callbacks import external_chat_change, settings_env, wecom_post
from tests.support.wechat_live import (
    QQ_MANAGER,
    calls_to,
    linked_groups_env,
    outbox_marker,
    post,
    wait_for,
)

CHAT = "wrOgQhDgAAAcwMTB7KRzUTDbfbBRAAAA"
TEMPLATE = "/cgi-bin/externalcontact/add_msg_template"
WECOM_SEND = "/cgi-bin/message/send"


# --- delivery of mass-send tasks -----------------------------------------------------------------


def _driver():  # noqa: ANN202 - a FastAPI driver of its own
    from nonebot.config import Config, Env
    from nonebot.drivers.fastapi import Driver as FastAPIDriver

    return FastAPIDriver(Env(environment="test"), Config(_env_file=None))  # pyright: ignore[reportCallIssue]


@pytest.fixture
def wecom_bot(wechat_settings: WeChatSettings) -> Bot:
    return Bot(Adapter(_driver(), settings=wechat_settings), f"wecom:{CORP_ID}:{AGENT_ID}", "wecom")


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with sqlite_desk(tmp_path) as d:
        yield d


async def queue(desk: Desk, key: str, text: str = "【今日话题】冬季保养", **payload: str) -> None:
    await desk.notify(
        key=key, kind="wecom_mass_send", channel="wecom_group", address=CHAT,
        payload={"text": text, "sender": "zhangsan"} | payload, any_hour=True,
    )  # fmt: skip


async def deliver_all(desk: Desk, bot: Bot) -> int:
    return await deliver_wechat(desk, bot, "wecom_group")


async def test_a_mass_send_task_in_the_owners_name(
    desk: Desk, wecom_bot: Bot, fake_wechat: FakeWeChat
) -> None:
    await queue(desk, "k-topic")
    assert await deliver_all(desk, wecom_bot) == 1
    (call,) = fake_wechat.requests_to(TEMPLATE)
    assert call.body == {
        "chat_type": "group",
        "sender": "zhangsan",
        "text": {"content": "【今日话题】冬季保养"},
        "chat_id_list": [CHAT],
    }
    assert call.query["access_token"].startswith("wecom_contact-token-")  # the contact secret
    assert outbox_status(desk, "k-topic") == ("sent", 1)
    assert await deliver_all(desk, wecom_bot) == 0  # created once
    assert fake_wechat.requests_to(WECOM_SEND) == []  # no app message instead


def _answer_template(fake: FakeWeChat, answer: dict) -> Callable[[], None]:
    real = fake.answer

    def patched(call: Call) -> dict:
        return answer if call.path == TEMPLATE else real(call)

    fake.answer = patched  # type: ignore[method-assign]

    def undo() -> None:
        del fake.answer

    return undo


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"errcode": 45009, "errmsg": "api freq out of limit"}, ("pending", 1)),  # later again
        ({"errcode": 40003, "errmsg": "invalid userid"}, ("dead", 1)),  # final
        ({"errcode": 0, "fail_list": [CHAT], "msgid": "m1"}, ("dead", 1)),  # not the owner's
    ],
)
async def test_refused_tasks(
    desk: Desk, wecom_bot: Bot, fake_wechat: FakeWeChat, answer: dict, expected: tuple
) -> None:
    undo = _answer_template(fake_wechat, answer)
    try:
        await queue(desk, "k-refused")
        await deliver_all(desk, wecom_bot)
    finally:
        undo()
    assert outbox_status(desk, "k-refused") == expected


async def test_a_timeout_is_uncertain_and_never_resent(
    desk: Desk, wecom_bot: Bot, fake_wechat: FakeWeChat
) -> None:
    fake_wechat.delays[TEMPLATE] = 2.5  # WECHAT_TIMEOUT is 1 s here
    await queue(desk, "k-slow")
    await deliver_all(desk, wecom_bot)
    assert outbox_status(desk, "k-slow")[0] == "uncertain"
    fake_wechat.delays.clear()
    assert await deliver_all(desk, wecom_bot) == 0
    assert len(fake_wechat.requests_to(TEMPLATE)) == 1


async def test_no_contact_secret_no_task(desk: Desk, fake_wechat: FakeWeChat) -> None:
    settings = wechat_settings({}, settings_env(fake_wechat.base_url, contact=False))
    bot = Bot(Adapter(_driver(), settings=settings), f"wecom:{CORP_ID}:{AGENT_ID}", "wecom")
    await queue(desk, "k-no-secret")
    await deliver_all(desk, bot)
    assert outbox_status(desk, "k-no-secret")[0] == "dead"
    assert fake_wechat.requests_to(TEMPLATE) == []


@pytest.mark.parametrize(
    "payload", [{"sender": ""}, {"text": "长" * 1400}], ids=["no-sender", "too-long"]
)
async def test_what_cannot_be_a_task_is_not_sent(
    desk: Desk, wecom_bot: Bot, fake_wechat: FakeWeChat, payload: dict[str, str]
) -> None:
    await queue(desk, "k-bad", **payload)
    await deliver_all(desk, wecom_bot)
    assert outbox_status(desk, "k-bad")[0] == "dead"
    assert fake_wechat.requests_to(TEMPLATE) == []


# --- end to end: the real bot ----------------------------------------------------------------------

QQ_GROUP = 123456
CONSULTANT = "wangguwen"
LINKS = f"""
[[wecom_groups]]
qq_group = "{QQ_GROUP}"
chat_id = "{CHAT}"
sender = "zhangsan"
"""


@pytest.fixture(scope="module")
def live_env(tmp_path_factory: pytest.TempPathFactory, fake_server: FakeWeChat) -> dict[str, str]:
    return linked_groups_env(tmp_path_factory, fake_server, LINKS)


async def post_wecom(bot: BotProcess, xml: str) -> requests.Response:
    return await post(bot, "/wechat/wecom", wecom_post(xml))


async def recorded_changes(uow: UnitOfWork) -> list[tuple[str, str, str]]:
    rows = await uow.session.execute(
        text("select group_id, user_id, change from activity_member_changes order by id")
    )
    return [(r[0], r[1], r[2]) for r in rows.all()]


async def test_a_topic_reaches_the_linked_customer_group(
    live_bot: BotProcess, live_env: dict[str, str], fake_server: FakeWeChat
) -> None:
    mark = fake_server.mark()
    async with connected(live_bot) as qq:
        await qq.send_group_message(QQ_GROUP, QQ_MANAGER, "设置话题 冬季保养经验")
        await qq.wait_for_call("send_group_msg", timeout=15)
    call = await wait_for(
        fake_server, TEMPLATE,
        lambda c: (c.body or {}).get("chat_id_list") == [CHAT], mark, live_bot,
    )  # fmt: skip
    assert call.body is not None
    assert (call.body["chat_type"], call.body["sender"]) == ("group", "zhangsan")
    assert "冬季保养经验" in call.body["text"]["content"]
    desk = await Desk.open(desk_settings(live_bot.workdir, live_env))
    try:  # a later mass-send task through the outbox: no second topic task before it
        end = await outbox_marker(
            fake_server, live_bot, desk, "wecom_group", CHAT, sender="zhangsan"
        )
    finally:
        await desk.close()
    assert len(calls_to(fake_server, TEMPLATE, mark, end)) == 1


async def test_a_lead_leaving_the_customer_group_is_told_to_the_consultant(
    live_bot: BotProcess, live_env: dict[str, str], fake_server: FakeWeChat
) -> None:
    desk = await Desk.open(desk_settings(live_bot.workdir, live_env))
    try:
        lead = (
            await desk.capture(
                channel="wecom_group", wecom_external_userid="wmLEAD0001", name="钱先生"
            )
        ).lead
    finally:
        await desk.close()
    mark = fake_server.mark()
    leave = external_chat_change(CHAT, "del_member", members=("wmLEAD0001", "zhangsan"))
    for _ in range(2):  # WeChat's retry: one effect
        assert (await post_wecom(live_bot, leave)).status_code == 200
    call = await wait_for(
        fake_server, WECOM_SEND,
        lambda c: (c.body or {}).get("touser") == CONSULTANT
        and f"【客户动态 #{lead.id}】" in str((c.body or {}).get("text")),
        mark, live_bot,
    )  # fmt: skip
    assert "退出了车主群" in call.body["text"]["content"]  # pyright: ignore[reportOptionalSubscript]
    desk = await Desk.open(desk_settings(live_bot.workdir, live_env))
    try:
        # a later DM through the outbox: the retry queued no second one before it
        end = await outbox_marker(fake_server, live_bot, desk, "wecom", CONSULTANT)
        told = [
            c for c in calls_to(fake_server, WECOM_SEND, mark, end)
            if f"【客户动态 #{lead.id}】" in str((c.body or {}).get("text"))
        ]  # fmt: skip
        assert len(told) == 1
        timeline = (await desk.lead(SYSTEM, lead.id)).timeline
        recorded = await desk.read(recorded_changes)
    finally:
        await desk.close()
    assert [e.action for e in timeline].count("signal") == 1
    assert recorded == [(f"wecom:{CHAT}", "wmLEAD0001", "leave")]  # staff are not recorded
    assert "Traceback" not in live_bot.log(2000)
