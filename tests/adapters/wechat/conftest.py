"""WeChat adapter tests: the fake WeChat API (tests/support/fake_wechat.py) and
callbacks built with wechatpy's crypto (tests/support/wechat_callbacks.py)."""

from tests.support.wechat_fixtures import fake_server, fake_wechat, wechat_settings  # noqa: F401
