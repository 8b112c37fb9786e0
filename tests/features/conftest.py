"""TEMPORARY: the features' service tests still import the plugin packages, so they
run under NoneBot; the features move out of the plugins (issue #10) replaces this."""

from tests.support.nonebot_env import (  # noqa: F401
    after_nonebot_init,
    bot_plugins,
    desk,
    desk_clock,
    pytest_configure,
    unthrottled_sending,
)
from tests.support.wechat_fixtures import fake_server, fake_wechat, wechat_settings  # noqa: F401
