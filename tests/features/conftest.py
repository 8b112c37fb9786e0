"""TEMPORARY: the features' service tests still import the plugin packages, so they
run under NoneBot; the features move out of the plugins (issue #10) replaces this."""

from tests.support.nonebot_env import *  # noqa: F403 - its fixtures and pytest_configure
from tests.support.wechat_fixtures import fake_server, fake_wechat, wechat_settings  # noqa: F401
