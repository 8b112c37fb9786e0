"""The plugins' chat fronts run in NoneBot as nonebug sets it up
(tests/support/nonebot_env.py); the WeChat ones against the fake WeChat API."""

from tests.support.nonebot_env import *  # noqa: F403 - its fixtures and pytest_configure
from tests.support.wechat_fixtures import (  # noqa: F401
    bot_module,
    fake_server,
    fake_wechat,
    live_bot,
    wechat_settings,
)
