"""The fake WeChat API as fixtures: a server on 127.0.0.1 (real HTTP) per session,
reset per test, and settings pointing every call at it. Imported by the conftests
of the tests that talk to WeChat."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.adapters.wechat.config import WeChatSettings
from bot.settings import wechat_settings as read_wechat_settings
from tests.support.fake_wechat import FakeWeChat
from tests.support.wechat_callbacks import settings_env


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeWeChat]:
    server = FakeWeChat().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_wechat(fake_server: FakeWeChat) -> FakeWeChat:
    """The fake API with no recorded calls, delays or injected errors."""
    fake_server.reset()
    return fake_server


@pytest.fixture
def wechat_settings(fake_wechat: FakeWeChat) -> WeChatSettings:
    env = settings_env(fake_wechat.base_url)
    env["WECHAT_TIMEOUT"] = "1"
    return read_wechat_settings({}, env)
