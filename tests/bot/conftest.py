"""The bot runtime's tests run NoneBot as nonebug sets it up (tests/support/nonebot_env.py)."""

from tests.support.nonebot_env import *  # noqa: F403 - its fixtures and pytest_configure
