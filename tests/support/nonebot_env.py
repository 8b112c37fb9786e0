"""NoneBot for the bot tests, as nonebug documents it.

- nonebug's session fixtures call `nonebot.init(**NONEBOT_INIT_KWARGS)` once per
  test session; `after_nonebot_init` registers the OneBot v11 adapter.
- Plugins are loaded by the `bot_plugins` session fixture, after init. Never import
  `bot.plugins.<name>` at a test module's top level: a plugin package imported
  before NoneBot loads it is not a plugin (its load then fails). Import it inside
  the test instead.
- Build bots with `ctx.create_bot(base=Bot, adapter=adapter)` and events with
  `group_event` / `private_event` below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import nonebot
import pytest
from nonebot.adapters.onebot.v11 import Adapter, GroupMessageEvent, PrivateMessageEvent
from nonebug import NONEBOT_INIT_KWARGS

from desk import SYSTEM, Desk, FrozenClock
from desk.settings import build_settings
from tests.desk.conftest import database_url

MANAGER_QQ = 90001  # a SUPERUSER, hence a manager
SELF_ID = 10000
_message_ids = count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[NONEBOT_INIT_KWARGS] = {
        "driver": "~fastapi",
        "superusers": {str(MANAGER_QQ)},
        "command_start": {"/", ""},
        "log_level": "DEBUG",
    }


@pytest.fixture(scope="session", autouse=True)
async def after_nonebot_init(after_nonebot_init: None) -> None:
    nonebot.get_driver().register_adapter(Adapter)


@pytest.fixture(scope="session", autouse=True)
def bot_plugins(nonebug_init: None) -> set[str]:
    """The plugins under test, loaded once per session."""
    loaded = set()
    for module in (
        "bot.plugins.help",
        "bot.plugins.deskchat",
        "bot.plugins.intent",
        "bot.plugins.activities",
        "bot.plugins.events",
        "bot.plugins.referral",
        "bot.plugins.privacy",
        "bot.plugins.webdesk",
        "bot.plugins.owners",
        "tests.plugins.help.fixture_plugins.sample_commands",
    ):
        # tests/security loads them too when it runs first
        plugin = nonebot.get_plugin_by_module_name(module) or nonebot.load_plugin(module)
        assert plugin is not None, f"{module} did not load"
        loaded.add(plugin.id_)
    return loaded


@pytest.fixture(autouse=True)
def unthrottled_sending():
    """No rate-limit waits in plugin tests (the queue itself is tested in test_sending)."""
    from bot.sending import SendingConfig, configure_sending

    fast = {
        "send_global_rate": 1e6,
        "send_global_burst": 1000,
        "send_group_rate": 1e6,
        "send_group_burst": 1000,
    }
    yield configure_sending(SendingConfig(**fast))
    configure_sending(None)


def adapter() -> Adapter:
    return nonebot.get_adapter(Adapter)


def _message(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "data": {"text": text}}]


def group_event(
    text: str, *, user_id: int = 20001, group_id: int = 123456, message_id: int | None = None
) -> GroupMessageEvent:
    event = Adapter.json_to_event(
        {
            "time": 1_790_000_000,
            "self_id": SELF_ID,
            "post_type": "message",
            "message_type": "group",
            "sub_type": "normal",
            "message_id": next(_message_ids) if message_id is None else message_id,
            "group_id": group_id,
            "user_id": user_id,
            "anonymous": None,
            "message": _message(text),
            "raw_message": text,
            "font": 0,
            "sender": {
                "user_id": user_id,
                "nickname": f"用户{user_id}",
                "card": "",
                "role": "member",
            },
        }  # fmt: skip
    )
    assert isinstance(event, GroupMessageEvent)
    return event


def private_event(
    text: str, *, user_id: int = 20001, message_id: int | None = None
) -> PrivateMessageEvent:
    event = Adapter.json_to_event(
        {
            "time": 1_790_000_000,
            "self_id": SELF_ID,
            "post_type": "message",
            "message_type": "private",
            "sub_type": "friend",
            "message_id": next(_message_ids) if message_id is None else message_id,
            "user_id": user_id,
            "message": _message(text),
            "raw_message": text,
            "font": 0,
            "sender": {"user_id": user_id, "nickname": f"用户{user_id}"},
        }  # fmt: skip
    )
    assert isinstance(event, PrivateMessageEvent)
    return event


# Friday 2026-11-27 10:00 in Shanghai: inside working hours.
DESK_START = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CONSULTANT_QQ = 10001
OTHER_CONSULTANT_QQ = 10002
ROSTER_MANAGER_QQ = 90002


@pytest.fixture
def desk_clock() -> FrozenClock:
    return FrozenClock(DESK_START)


@pytest.fixture
async def desk(tmp_path: Path, desk_clock: FrozenClock) -> AsyncIterator[Desk]:
    """A fresh desk for the plugins (through bot.desk_runtime), with a small roster:
    consultants 10001 (on duty) and 10002 (off duty), roster manager 90002."""
    from bot.desk_runtime import set_desk

    # On PostgreSQL when DESK_TEST_POSTGRES_URL is set (scripts/test.sh runs the
    # features' service tests there too), else SQLite in tmp_path.
    d = await Desk.open(build_settings({"database_url": database_url(tmp_path)}), desk_clock)
    await d.add_member(SYSTEM, name="王顾问", qq_id=str(CONSULTANT_QQ))
    await d.add_member(SYSTEM, name="李顾问", qq_id=str(OTHER_CONSULTANT_QQ), on_duty=False)
    await d.add_member(SYSTEM, name="周经理", qq_id=str(ROSTER_MANAGER_QQ), role="manager")
    set_desk(d)
    try:
        yield d
    finally:
        set_desk(None)
        await d.close()


@asynccontextmanager
async def restarted(desk: Desk, clock: FrozenClock) -> AsyncIterator[Desk]:
    """The bot restarted on the same database: `desk` closed, a new one opened on its
    settings and made the plugins' desk for the block."""
    from bot.desk_runtime import set_desk

    await desk.close()
    fresh = await Desk.open(desk.settings, clock)
    set_desk(fresh)
    try:
        yield fresh
    finally:
        set_desk(None)
        await fresh.close()
