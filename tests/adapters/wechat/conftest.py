"""WeChat adapter tests: the fake WeChat API (tests/support/fake_wechat.py) and
callbacks built with wechatpy's crypto (tests/support/wechat_callbacks.py)."""

from tests.support.wechat_fixtures import (  # noqa: F401
    bot_module,
    fake_server,
    fake_wechat,
    live_bot,
    wechat_settings,
)
