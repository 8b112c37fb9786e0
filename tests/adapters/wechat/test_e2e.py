"""End to end: the real bot (with the echo fixture plugin) in a subprocess,
WeCom and Official Account settings pointing WECHAT_API_BASE at the fake
WeChat server, real encrypted callbacks POSTed to its HTTP port."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from desk import Desk
from tests.e2e.conftest import (
    BotProcess,
    desk_settings,
    run_bot_until_exit,
)
from tests.support.fake_wechat import FakeWeChat
from tests.support.wechat_callbacks import (
    oa_post,
    oa_text,
    oa_verify_query,
    settings_env,
    wecom_crypto,
    wecom_post,
    wecom_text,
    wecom_verify_query,
)
from tests.support.wechat_live import (
    ECHO_BOT,
    calls_to,
    get,
    outbox_marker,
    post,
    text_to,
    wait_for,
    wechat_desk_env,
)


@pytest.fixture(scope="module")
def bot_module() -> str:
    return ECHO_BOT


@pytest.fixture(scope="module")
def live_env(tmp_path_factory: pytest.TempPathFactory, fake_server: FakeWeChat) -> dict[str, str]:
    return wechat_desk_env(tmp_path_factory, fake_server)


async def test_url_verification(live_bot: BotProcess) -> None:
    response = await get(live_bot, "/wechat/wecom", wecom_verify_query("1616140317555161061"))
    assert (response.status_code, response.text) == (200, "1616140317555161061")
    response = await get(live_bot, "/wechat/oa", oa_verify_query("oa-echo-1"))
    assert (response.status_code, response.text) == (200, "oa-echo-1")


async def test_a_base_type_plugin_answers_on_wecom_and_oa(
    live_bot: BotProcess, fake_server: FakeWeChat
) -> None:
    mark = fake_server.mark()
    response = await post(
        live_bot, "/wechat/wecom", wecom_post(wecom_text("zhangsan", "echo 你好"))
    )
    assert (response.status_code, response.text) == (200, "")
    await wait_for(
        fake_server,
        "/cgi-bin/message/send",
        text_to("zhangsan", "回声：你好（zhangsan）"),
        mark,
        live_bot,
    )
    response = await post(live_bot, "/wechat/oa", oa_post(oa_text("o_openid_1", "echo 多少钱")))
    assert (response.status_code, response.text) == (200, "success")
    await wait_for(
        fake_server,
        "/cgi-bin/message/custom/send",
        text_to("o_openid_1", "回声：多少钱"),
        mark,
        live_bot,
    )


async def test_refused_and_repeated_callbacks_have_no_effect(
    live_bot: BotProcess, fake_server: FakeWeChat
) -> None:
    mark = fake_server.mark()
    forged = wecom_post(wecom_text("mallory", "echo forged"))
    forged[0]["msg_signature"] = "0" * 40
    refused = [
        forged,
        wecom_post(wecom_text("mallory", "echo stale"), timestamp=int(time.time()) - 600),
        wecom_post(wecom_text("mallory", "echo other corp"), crypto=wecom_crypto("wwOTHER")),
        (
            wecom_post(wecom_text("mallory", "x"))[0],
            b"<xml><Encrypt>\x00 ' OR 1=1 --</Encrypt></xml>",
        ),
        ({}, b""),
    ]
    for request in refused:
        response = await post(live_bot, "/wechat/wecom", request)
        assert (response.status_code, response.text) == (403, "forbidden")
    # one genuine message delivered four times (a replay, WeChat's retries)
    genuine = wecom_post(wecom_text("zhangsan", "echo 一次"))
    for _ in range(4):
        assert (await post(live_bot, "/wechat/wecom", genuine)).status_code == 200
    await wait_for(
        fake_server, "/cgi-bin/message/send", text_to("zhangsan", "回声：一次"), mark, live_bot
    )
    # a marker after them: its answer comes once the copies are handled
    assert (
        await post(live_bot, "/wechat/wecom", wecom_post(wecom_text("lisi", "echo 标记")))
    ).status_code == 200
    marker = await wait_for(
        fake_server, "/cgi-bin/message/send", text_to("lisi", "回声：标记"), mark, live_bot
    )
    end = fake_server.calls.index(marker)
    sends = calls_to(fake_server, "/cgi-bin/message/send", mark, end)
    assert [c.body and c.body["touser"] for c in sends] == ["zhangsan"], live_bot.log()
    log = live_bot.log(400)
    assert log.count("callback refused") >= len(refused)
    assert "Traceback" not in log


async def test_desk_notification_reaches_a_wecom_consultant(
    live_bot: BotProcess, live_env: dict[str, str], fake_server: FakeWeChat
) -> None:
    mark = fake_server.mark()
    desk = await Desk.open(desk_settings(live_bot.workdir, live_env))
    try:  # another front (a web desk, the intent plugin) takes a lead
        captured = await desk.capture(
            channel="wechat_oa", wechat_openid="o_openid_9", name="小赵", message="周末想试驾"
        )
    finally:
        await desk.close()
    lead = captured.lead.id
    call = await wait_for(
        fake_server, "/cgi-bin/message/send",
        text_to("wangguwen", f"【新线索 #{lead}】", "原话：周末想试驾"), mark, live_bot,
    )  # fmt: skip
    assert call.query["access_token"].startswith("wecom_app-token-")
    desk = await Desk.open(desk_settings(live_bot.workdir, live_env))
    try:  # a later message through the outbox: nothing more about the lead before it
        end = await outbox_marker(fake_server, live_bot, desk, "wecom", "wangguwen")
    finally:
        await desk.close()
    again = [
        c
        for c in calls_to(fake_server, "/cgi-bin/message/send", mark, end)
        if text_to("wangguwen", f"#{lead}")(c)
    ]
    assert len(again) == 1
    log = live_bot.log(5000)
    for secret in ("WECOM_SECRET", "WECOM_CONTACT_SECRET", "WECHAT_OA_SECRET", "WECOM_AES_KEY"):
        assert live_env[secret] not in log, f"{secret} leaked into the log"
    assert "wecom_app-token-" not in log  # nor an access token


def test_partial_settings_stop_the_start(tmp_path: Path, fake_server: FakeWeChat) -> None:
    env = settings_env(fake_server.base_url)
    del env["WECOM_AES_KEY"]
    result = run_bot_until_exit(tmp_path / "bot", env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "WECOM_AES_KEY: missing" in result.stderr
    assert env["WECOM_SECRET"] not in result.stderr + result.stdout
