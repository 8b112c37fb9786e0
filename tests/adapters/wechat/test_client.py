"""The API client against the fake WeChat server: API base override, one token
per credential (fetched once, under a lock, with a timeout), invalid-token
retry, errors that say whether the request may have been acted on."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.wechat.client import ApiError, NetworkError, WeChatError, make_clients
from bot.adapters.wechat.config import WeChatSettings
from bot.adapters.wechat.tokens import TokenCache
from tests.support.fake_wechat import AGENT_ID, FakeWeChat


async def test_wecom_text_goes_to_the_api_base_with_a_fresh_token(
    fake_wechat: FakeWeChat, wechat_settings: WeChatSettings
) -> None:
    wecom = make_clients(wechat_settings).wecom
    assert wecom is not None
    await wecom.send_text("wangguwen", "【新线索 #1】")
    (token_call,) = fake_wechat.requests_to("/cgi-bin/gettoken")
    assert token_call.query["corpsecret"] == "wecom-app-secret-0001"
    (sent,) = fake_wechat.requests_to("/cgi-bin/message/send")
    assert sent.body == {
        "touser": "wangguwen", "toparty": "", "totag": "", "agentid": AGENT_ID,
        "msgtype": "text", "text": {"content": "【新线索 #1】"},
    }  # fmt: skip
    assert sent.query["access_token"].startswith("wecom_app-token-")


async def test_concurrent_calls_share_one_token_fetch(
    fake_wechat: FakeWeChat, wechat_settings: WeChatSettings
) -> None:
    fake_wechat.delays["/cgi-bin/gettoken"] = 0.3
    wecom = make_clients(wechat_settings).wecom
    assert wecom is not None
    await asyncio.gather(*(wecom.send_text(f"user{i}", "hi") for i in range(8)))
    assert len(fake_wechat.requests_to("/cgi-bin/gettoken")) == 1
    assert len(fake_wechat.requests_to("/cgi-bin/message/send")) == 8


async def test_two_secrets_of_one_corp_keep_separate_tokens(
    fake_wechat: FakeWeChat, wechat_settings: WeChatSettings
) -> None:
    """The contact API refuses the app's token (48002): each secret has its own."""
    clients = make_clients(wechat_settings)
    assert clients.wecom is not None
    await clients.wecom.send_text("wangguwen", "hi")
    group = await clients.wecom.get_group_chat("wrOgAAA")
    await clients.wecom.send_text("wangguwen", "again")
    assert [m["userid"] for m in group["member_list"]] == ["wangguwen", "wmEXTERNAL01"]
    fetched = sorted(c.query["corpsecret"] for c in fake_wechat.requests_to("/cgi-bin/gettoken"))
    assert fetched == ["wecom-app-secret-0001", "wecom-contact-secret-0001"]
    assert clients.tokens.fetches == 2


async def test_contact_way_and_group_mass_send(
    fake_wechat: FakeWeChat, wechat_settings: WeChatSettings
) -> None:
    wecom = make_clients(wechat_settings).wecom
    assert wecom is not None
    way = await wecom.add_contact_way("ref-20001", ["wangguwen"], remark="老客推荐")
    assert way["config_id"] == "cfg-ref-20001"
    (call,) = fake_wechat.requests_to("/cgi-bin/externalcontact/add_contact_way")
    assert call.body is not None
    assert (call.body["type"], call.body["scene"], call.body["state"], call.body["user"]) == (
        1, 2, "ref-20001", ["wangguwen"],
    )  # fmt: skip
    task = await wecom.add_group_msg_template("wangguwen", "周六车友会", ["wrOgAAA"])
    assert task["msgid"] == "msg-template-1"
    (call,) = fake_wechat.requests_to("/cgi-bin/externalcontact/add_msg_template")
    assert call.body == {
        "chat_type": "group", "sender": "wangguwen", "text": {"content": "周六车友会"},
        "chat_id_list": ["wrOgAAA"],
    }  # fmt: skip
    with pytest.raises(ValueError):
        await wecom.add_contact_way("x" * 31, ["wangguwen"])


async def test_contact_api_without_its_secret_is_unavailable(
    wechat_settings: WeChatSettings,
) -> None:
    assert wechat_settings.wecom is not None
    no_contact = wechat_settings.model_copy(
        update={"wecom": wechat_settings.wecom.model_copy(update={"contact_secret": None})}
    )
    wecom = make_clients(no_contact).wecom
    assert wecom is not None and wecom.contact is None
    with pytest.raises(WeChatError):
        await wecom.get_group_chat("wrOgAAA")


async def test_oa_customer_service_message(
    fake_wechat: FakeWeChat, wechat_settings: WeChatSettings
) -> None:
    oa = make_clients(wechat_settings).oa
    assert oa is not None
    await oa.send_text("o_openid_1", "您好，顾问稍后联系您")
    (token_call,) = fake_wechat.requests_to("/cgi-bin/token")
    assert token_call.query["grant_type"] == "client_credential"
    (sent,) = fake_wechat.requests_to("/cgi-bin/message/custom/send")
    assert sent.body == {
        "touser": "o_openid_1",
        "msgtype": "text",
        "text": {"content": "您好，顾问稍后联系您"},
    }


async def test_a_revoked_token_is_replaced_once(
    fake_wechat: FakeWeChat, wechat_settings: WeChatSettings
) -> None:
    wecom = make_clients(wechat_settings).wecom
    assert wecom is not None
    await wecom.send_text("wangguwen", "one")
    fake_wechat.revoke_tokens()  # WeChat invalidated it (e.g. the secret was reset elsewhere)
    await wecom.send_text("wangguwen", "two")
    assert len(fake_wechat.requests_to("/cgi-bin/gettoken")) == 2
    sends = fake_wechat.requests_to("/cgi-bin/message/send")
    assert [s.body and s.body["text"]["content"] for s in sends] == ["one", "two", "two"]
    assert sends[1].query["access_token"] != sends[2].query["access_token"]


async def test_an_expired_token_is_refetched(fake_wechat: FakeWeChat, wechat_settings) -> None:
    now = [1000.0]
    clients = make_clients(wechat_settings, TokenCache(clock=lambda: now[0]))
    assert clients.wecom is not None
    await clients.wecom.send_text("a", "1")
    now[0] += 7200 - 305  # 5 minutes before expiry: still used
    await clients.wecom.send_text("a", "2")
    assert len(fake_wechat.requests_to("/cgi-bin/gettoken")) == 1
    now[0] += 10  # inside the 300 s refresh margin
    await clients.wecom.send_text("a", "3")
    assert len(fake_wechat.requests_to("/cgi-bin/gettoken")) == 2


async def test_wechat_error_codes_are_api_errors(
    fake_wechat: FakeWeChat, wechat_settings: WeChatSettings
) -> None:
    wecom = make_clients(wechat_settings).wecom
    assert wecom is not None
    fake_wechat.user_errors["ghost"] = 81013
    fake_wechat.user_errors["busy"] = 45009
    with pytest.raises(ApiError) as info:
        await wecom.send_text("ghost", "hi")
    assert info.value.errcode == 81013 and not info.value.retryable
    with pytest.raises(ApiError) as info:
        await wecom.send_text("busy", "hi")
    assert info.value.retryable


async def test_bad_secret_fails_the_call_without_sending(
    fake_wechat: FakeWeChat, wechat_settings: WeChatSettings
) -> None:
    assert wechat_settings.wecom is not None
    wrong = wechat_settings.model_copy(
        update={"wecom": wechat_settings.wecom.model_copy(update={"secret": "wrong"})}
    )
    wecom = make_clients(wrong).wecom
    assert wecom is not None
    with pytest.raises(ApiError) as info:
        await wecom.send_text("wangguwen", "hi")
    assert info.value.errcode == 40001
    assert fake_wechat.requests_to("/cgi-bin/message/send") == []


async def test_a_send_that_times_out_is_uncertain(
    fake_wechat: FakeWeChat, wechat_settings: WeChatSettings
) -> None:
    wecom = make_clients(wechat_settings).wecom  # WECHAT_TIMEOUT=1
    assert wecom is not None
    fake_wechat.delays["/cgi-bin/message/send"] = 2.5
    with pytest.raises(NetworkError) as info:
        await wecom.send_text("wangguwen", "hi")
    assert info.value.uncertain
    assert len(fake_wechat.requests_to("/cgi-bin/message/send")) == 1  # it did arrive


async def test_a_token_fetch_that_hangs_times_out(
    fake_wechat: FakeWeChat, wechat_settings: WeChatSettings
) -> None:
    fake_wechat.hold("/cgi-bin/gettoken")  # no answer until released
    wecom = make_clients(wechat_settings).wecom
    assert wecom is not None
    try:
        with pytest.raises(NetworkError):
            await wecom.send_text("wangguwen", "hi")
        # the client gave up while the answer was still held back: its own timeout
        assert "/cgi-bin/gettoken" in fake_wechat.held
        assert len(fake_wechat.requests_to("/cgi-bin/gettoken")) == 1
    finally:
        fake_wechat.release("/cgi-bin/gettoken")
    assert fake_wechat.requests_to("/cgi-bin/message/send") == []


async def test_unreachable_host_is_a_certain_failure(wechat_settings: WeChatSettings) -> None:
    from bot.sim.launcher import free_port

    dead = wechat_settings.model_copy(update={"api_base": f"http://127.0.0.1:{free_port()}"})
    wecom = make_clients(dead).wecom
    assert wecom is not None
    with pytest.raises(NetworkError) as info:
        await wecom.send_text("wangguwen", "hi")
    assert not info.value.uncertain


async def test_token_cache_invalidate_keeps_a_newer_token() -> None:
    cache = TokenCache()
    tokens = iter(["t1", "t2"])

    async def fetch() -> tuple[str, int]:
        return next(tokens), 7200

    key = ("wecom", "corp", "agent:1")
    assert await cache.get(key, fetch) == "t1"
    cache.invalidate(key, "t1")
    assert await cache.get(key, fetch) == "t2"
    cache.invalidate(key, "t1")  # a late report about the old token
    assert cache.current(key) == "t2"
