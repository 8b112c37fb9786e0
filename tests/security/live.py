"""What the security tests that run the real bot share: staff on QQ and WeCom, and
the bot's settings with WeChat pointed at a local fake WeChat API."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    ROSTER_TOML,
    desk_env,
    midday_timezone,
    write_desk_config,
)
from tests.support.fake_wechat import FakeWeChat
from tests.support.wechat_callbacks import settings_env

WECOM_MANAGER = "zhaoliu"
WECOM_SEND = "/cgi-bin/message/send"
WECOM_MANAGER_ROSTER = f"""\
[[member]]
name = "赵六"
role = "manager"
wecom_userid = "{WECOM_MANAGER}"
dm_channel = "wecom"
"""
STAFF_ROSTER = f"{ROSTER_TOML}\n{WECOM_MANAGER_ROSTER}"  # QQ consultant and manager, WeCom manager


def wechat_bot_env(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    fake: FakeWeChat,
    roster: str = STAFF_ROSTER,
) -> dict[str, str]:
    """A desk bot's environment: `roster`, midday in its timezone, WeChat on."""
    config = write_desk_config(tmp_path_factory.mktemp(f"{name}-config"), roster)
    return desk_env(config, midday_timezone()) | settings_env(fake.base_url)
