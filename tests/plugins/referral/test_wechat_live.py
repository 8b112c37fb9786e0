"""荐友购车 over WeChat, end to end: the real bot in a subprocess with WeCom and
Official Account settings pointing WECHAT_API_BASE at the fake WeChat server,
real encrypted callbacks POSTed to it, the outcome read from the bot's own
database (a desk opened on it, as another front would) and from the calls the
bot made to the fake server.

An OA follower asks 推荐码 and gets the code with a WeCom contact-way QR whose
state is the code; a customer who adds staff through it (change_external_contact
with that State), or joins a customer group through a join way with that state
(change_external_chat; the state read back with groupchat/get), becomes the
follower's referral, and the consultant hears of the new lead on WeCom.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from desk import Desk, LeadView
from tests.e2e.conftest import (
    REPO_ROOT,
    BotProcess,
    desk_settings,
)
from tests.support.fake_wechat import FakeWeChat
from tests.support.wechat_callbacks import (
    external_chat_change,
    external_contact_add,
    oa_post,
    oa_text,
    wecom_post,
)
from tests.support.wechat_live import ECHO_BOT, post, text_to, wait_for, wechat_desk_env

T = TypeVar("T")
OWNER = "o_referral_owner_00000000001"
CUSTOMER = "wmReferralCustomer0000000001"
MEMBER = "wmReferralGroupMember0000001"
CHAT = "wrReferralChat00000000000001"
CODE = re.compile(r"TJ[0-9A-Z]{5}")


def referral_toml() -> str:
    """The shipped config/referral.toml with the QR reaching 王顾问."""
    shipped = (REPO_ROOT / "config" / "referral.toml").read_text(encoding="utf-8")
    configured = shipped.replace("contact_users = []", 'contact_users = ["wangguwen"]')
    assert configured != shipped, "config/referral.toml: [wecom] contact_users not found"
    return configured


@pytest.fixture(scope="module")
def bot_module() -> str:
    return ECHO_BOT


@pytest.fixture(scope="module")
def live_env(tmp_path_factory: pytest.TempPathFactory, fake_server: FakeWeChat) -> dict[str, str]:
    return wechat_desk_env(tmp_path_factory, fake_server, files={"referral.toml": referral_toml()})


async def eventually(
    probe: Callable[[], Awaitable[T | None]], bot: BotProcess, what: str, within: float = 15.0
) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {within}s\n{bot.log()}")


async def owners_code(bot: BotProcess, fake: FakeWeChat) -> tuple[str, str]:
    """The follower asks 推荐码 on the OA: (the code, the answer's text)."""
    mark = fake.mark()
    response = await post(bot, "/wechat/oa", oa_post(oa_text(OWNER, "推荐码")))
    assert (response.status_code, response.text) == (200, "success")
    call = await wait_for(
        fake, "/cgi-bin/message/custom/send", text_to(OWNER, "您的专属推荐码"), mark, bot
    )
    content = str((call.body or {})["text"]["content"])
    found = CODE.search(content)
    assert found is not None, content
    return found.group(0), content


async def test_a_follower_gets_a_code_with_a_wecom_qr_made_once(
    live_bot: BotProcess, fake_server: FakeWeChat
) -> None:
    mark = fake_server.mark()
    code, answer = await owners_code(live_bot, fake_server)
    [way] = fake_server.requests_to("/cgi-bin/externalcontact/add_contact_way", mark)
    assert way.body is not None and way.body["state"] == code
    assert way.body["user"] == ["wangguwen"]
    assert way.query["access_token"].startswith("wecom_contact-token-")  # the contact secret's
    assert "https://qr/x" in answer  # the fake's QR
    again, answer_again = await owners_code(live_bot, fake_server)
    assert (again, answer_again) == (code, answer)
    ways = fake_server.requests_to("/cgi-bin/externalcontact/add_contact_way", mark)
    assert len(ways) == 1  # stored, not made again


async def test_a_customer_adding_staff_through_the_qr_is_the_owners_referral(
    live_bot: BotProcess, live_env: dict[str, str], fake_server: FakeWeChat
) -> None:
    code, _ = await owners_code(live_bot, fake_server)
    mark = fake_server.mark()
    callback = wecom_post(external_contact_add("wangguwen", CUSTOMER, code))
    for _ in range(2):  # WeChat retries: one effect
        response = await post(live_bot, "/wechat/wecom", callback)
        assert (response.status_code, response.text) == (200, "")
    desk = await Desk.open(desk_settings(live_bot.workdir, live_env))
    try:

        async def lead() -> LeadView | None:
            return await desk.find_lead(wecom_external_userid=CUSTOMER)

        found = await eventually(lead, live_bot, "the customer's lead")
    finally:
        await desk.close()
    assert (found.referrer, found.channel) == (f"wechat:{OWNER}", "wecom")
    await wait_for(
        fake_server, "/cgi-bin/message/send",
        text_to("wangguwen", f"【新线索 #{found.id}】", f"推荐人：公众号粉丝 {OWNER}"),
        mark, live_bot,
    )  # fmt: skip
    assert "Traceback" not in live_bot.log(2000)


async def test_a_customer_joining_a_group_through_the_owners_join_way_is_attributed(
    live_bot: BotProcess, live_env: dict[str, str], fake_server: FakeWeChat
) -> None:
    code, _ = await owners_code(live_bot, fake_server)
    fake_server.group_chats[CHAT] = {
        "chat_id": CHAT,
        "name": "车主群",
        "owner": "wangguwen",
        "member_list": [
            {"userid": "wangguwen", "type": 1, "join_scene": 1},
            {"userid": MEMBER, "type": 2, "join_scene": 3, "state": code,
             "invitor": {"userid": "wangguwen"}},
        ],
    }  # fmt: skip
    mark = fake_server.mark()
    try:
        callback = wecom_post(external_chat_change(CHAT, "add_member", members=(MEMBER,)))
        response = await post(live_bot, "/wechat/wecom", callback)
        assert (response.status_code, response.text) == (200, "")
        desk = await Desk.open(desk_settings(live_bot.workdir, live_env))
        try:

            async def lead() -> LeadView | None:
                return await desk.find_lead(wecom_external_userid=MEMBER)

            found = await eventually(lead, live_bot, "the group member's lead")
        finally:
            await desk.close()
    finally:
        fake_server.group_chats.pop(CHAT, None)
    assert (found.referrer, found.channel, found.group_id) == (
        f"wechat:{OWNER}", "wecom_group", CHAT,
    )  # fmt: skip
    reads = fake_server.requests_to("/cgi-bin/externalcontact/groupchat/get", mark)
    assert reads and all((c.body or {}).get("chat_id") == CHAT for c in reads)
    await wait_for(
        fake_server, "/cgi-bin/message/send",
        text_to("wangguwen", f"【新线索 #{found.id}】"), mark, live_bot,
    )  # fmt: skip
