"""The NoneBot set-up of tests/support/nonebot_env.py for the nonebug tests here (test_fuzz.py): its init
settings (superusers, command starts), the adapter, the plugins, the desk and the
unthrottled send queue. The other tests here run the bot as a child process, with\nWeChat pointed at the fake API of `fake`."""

from collections.abc import Iterator

import pytest

from tests.support.fake_wechat import FakeWeChat
from tests.support.nonebot_env import *  # noqa: F403 - its fixtures and pytest_configure


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChat]:
    """A fake WeChat API (real HTTP on 127.0.0.1) per module: no calls of other modules."""
    with FakeWeChat() as server:
        yield server
