"""The bot runtime's tests run NoneBot as nonebug sets it up (tests/support/nonebot_env.py)."""

from tests.support.nonebot_env import (  # noqa: F401
    after_nonebot_init,
    bot_plugins,
    desk,
    desk_clock,
    pytest_configure,
    unthrottled_sending,
)
