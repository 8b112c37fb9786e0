"""The fake WeChat API as fixtures: a server on 127.0.0.1 (real HTTP) per session,
reset per test, and settings pointing every call at it. Imported by the conftests
of the tests that talk to WeChat."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.adapters.wechat.config import WeChatSettings
from bot.settings import wechat_settings as read_wechat_settings
from tests.e2e.conftest import BotProcess, running_bot
from tests.support.fake_wechat import FakeWeChat
from tests.support.wechat_callbacks import settings_env


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeWeChat]:
    with FakeWeChat() as server:
        yield server


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


@pytest.fixture(scope="module")
def bot_module() -> str:
    """What `live_bot` runs (`python -m <it>`); a test module needing the echo plugin
    overrides it with tests.support.wechat_live.ECHO_BOT."""
    return "bot"


@pytest.fixture(scope="module")
def live_bot(
    tmp_path_factory: pytest.TempPathFactory, live_env: dict[str, str], bot_module: str
) -> Iterator[BotProcess]:
    """The real bot in a subprocess with the test module's `live_env` fixture (e.g.
    tests.support.wechat_live.wechat_desk_env), for the module's life."""
    with running_bot(tmp_path_factory.mktemp("wechat-bot"), live_env, module=bot_module) as bot:
        yield bot
