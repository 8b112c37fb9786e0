"""Talking to a running bot (`python -m bot` in a subprocess, tests/e2e/conftest.py)
over its WeChat callbacks, and waiting for what it sends the fake WeChat API."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from desk import Desk
from tests.e2e.conftest import BotProcess, desk_env, midday_timezone, write_desk_config
from tests.support.fake_wechat import Call, FakeWeChat
from tests.support.wechat_callbacks import settings_env

# The bot with every plugin plus the echo fixture plugin (tests/support/wechat_bot.py).
ECHO_BOT = "tests.support.wechat_bot"


def base(bot: BotProcess) -> str:
    return f"http://127.0.0.1:{bot.port}"


async def post(
    bot: BotProcess, path: str, request: tuple[dict[str, str], bytes]
) -> requests.Response:
    query, body = request
    return await asyncio.to_thread(
        requests.post, base(bot) + path, params=query, data=body, timeout=10
    )


async def get(bot: BotProcess, path: str, query: dict[str, str]) -> requests.Response:
    return await asyncio.to_thread(requests.get, base(bot) + path, params=query, timeout=10)


def content(call: Call) -> str:
    """The text of a message/send or custom/send call."""
    return str(((call.body or {}).get("text") or {}).get("content", ""))


def text_to(user: str, *needles: str) -> Callable[[Call], bool]:
    """Matches a text message to `user` (a WeCom userid or an openid) containing all `needles`."""

    def match(call: Call) -> bool:
        return (call.body or {}).get("touser") == user and all(n in content(call) for n in needles)

    return match


async def wait_for(
    fake: FakeWeChat, path: str, match: Callable[[Call], bool], since: int, bot: BotProcess,
    timeout: float = 15.0,  # noqa: ASYNC109
) -> Call:  # fmt: skip
    """The first call to `path` since `since` that `match`es; the bot's log when none came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in fake.requests_to(path, since):
            if match(call):
                return call
        await asyncio.sleep(0.05)
    seen = [c.body for c in fake.requests_to(path, since)]
    raise AssertionError(f"no matching {path} call in {timeout}s; saw {seen}\n{bot.log()}")


def calls_to(fake: FakeWeChat, path: str, since: int, before: int) -> list[Call]:
    """The calls to `path` from index `since` up to (not including) `before`."""
    with fake._lock:  # pyright: ignore[reportPrivateUsage]
        return [c for c in fake.calls[since:before] if c.path == path]


SEND_PATHS = {
    "wecom": "/cgi-bin/message/send",
    "wechat_oa": "/cgi-bin/message/custom/send",
    "wecom_group": "/cgi-bin/externalcontact/add_msg_template",
}
_markers = itertools.count(1)


async def outbox_marker(
    fake: FakeWeChat, bot: BotProcess, desk: Desk, channel: str, address: str,
    sender: str | None = None,
) -> int:  # fmt: skip
    """Queue a message to `address` on `channel` in the bot's outbox and wait until it
    has gone out; returns the index of its call in `fake.calls`. The outbox sends in
    the order things were queued: anything queued before went out before it (so "no
    second DM" is checked up to the marker, not for a fixed while)."""
    text = f"【测试标记 {next(_markers)}】"
    payload = {"text": text} | ({"sender": sender} if sender else {})  # a mass-send's owner
    await desk.notify(key=f"test-marker:{text}", kind="test_marker", channel=channel,
                      address=address, payload=payload, any_hour=True)  # fmt: skip
    call = await wait_for(
        fake, SEND_PATHS[channel], lambda c: text in json.dumps(c.body, ensure_ascii=False), 0, bot
    )
    with fake._lock:  # pyright: ignore[reportPrivateUsage]
        return fake.calls.index(call)


QQ_MANAGER = 90002
# 王顾问, on duty and reached over WeCom (so every new lead is his), and 张经理, a manager on QQ.
WECOM_ROSTER = f"""\
[[member]]
name = "王顾问"
role = "consultant"
wecom_userid = "wangguwen"
dm_channel = "wecom"
on_duty = true

[[member]]
name = "张经理"
role = "manager"
qq_id = "{QQ_MANAGER}"
"""


def wechat_desk_env(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeWeChat, roster: str = WECOM_ROSTER,
    files: dict[str, str] | None = None,
) -> dict[str, str]:  # fmt: skip
    """A desk bot's environment talking to `fake`: a config dir with `roster` and
    `files` (more config files, by name), a midday timezone."""
    config = write_desk_config(tmp_path_factory.mktemp("wechat-config"), roster)
    for name, text in (files or {}).items():
        (config / name).write_text(text, encoding="utf-8")
    return desk_env(config, midday_timezone()) | settings_env(fake.base_url)


def linked_groups_env(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeWeChat, links: str,
    roster: str = WECOM_ROSTER,
) -> dict[str, str]:  # fmt: skip
    """A desk bot's environment whose activities.toml links QQ groups to WeCom
    customer groups (`links`: [[wecom_groups]] tables), talking to `fake`."""
    shipped = Path(__file__).resolve().parents[2] / "config" / "activities.toml"
    activities = shipped.read_text(encoding="utf-8") + links
    return wechat_desk_env(tmp_path_factory, fake, roster, {"activities.toml": activities})
