"""The WeChat transports talk to the fake WeChat API (tests/support/fake_wechat.py)."""

from tests.support.wechat_fixtures import fake_server, fake_wechat, wechat_settings  # noqa: F401
