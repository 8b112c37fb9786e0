"""The bot process: NoneBot2 + FastAPI driver + OneBot v11 adapter (spec §4).

`python -m bot` runs `main()`. Settings come from `.env`, `.env.{ENVIRONMENT}`
and the environment, as NoneBot reads them (see .env.example). QQ clients
connect to ws://HOST:PORT/onebot/v11/ws with ONEBOT_ACCESS_TOKEN.

Start-up order: NoneBot config -> the one settings object (bot.settings: runtime,
WeChat, desk, config dir), handed to each part -> desk hooks -> plugins. Any invalid setting or plugin stops the start with
exit code 1 and a message naming the plugin and key.
"""

from __future__ import annotations

import gc
import os
import sys
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import nonebot
from nonebot.adapters.onebot.v11.config import Config as OneBotConfig
from nonebot.drivers import ASGIMixin, Driver
from pydantic import ValidationError

from bot.adapters.wechat import register_wechat
from bot.desk_runtime import start_desk, stop_desk, use_settings, when_desk_opens
from bot.hooks import install_busy_reply, install_dedupe
from bot.loader import StartupError, describe_error, load_bot_plugins
from bot.logs import install_log_privacy
from bot.prefilter import install_command_limit, install_prefilter
from bot.sending import configure_sending
from bot.settings import BotSettings, load_settings
from bot.timeparse import parse_when
from bot.transport import OneBotWsAdapter, check_access_token, install_body_limit
from desk import ConfigError
from desk.config_file import use_config_dir
from web.app import body_limits, install_web_desk

DEFAULT_COMMAND_START = {"/", ""}  # commands work with or without "/"


def init_nonebot(**overrides: Any) -> Driver:
    """nonebot.init with this project's defaults; the OneBot v11 adapter registered."""
    try:
        nonebot.init(**overrides)
    except ValidationError as exc:
        raise StartupError(f"NoneBot settings: {describe_error(exc)}") from exc
    except (ImportError, ValueError) as exc:  # e.g. a DRIVER that is not installed
        raise StartupError(f"NoneBot settings: {exc}") from exc
    driver = nonebot.get_driver()
    config = driver.config
    if "command_start" not in config.model_fields_set:  # NoneBot's own default is {"/"}
        config.command_start = set(DEFAULT_COMMAND_START)
    if not isinstance(driver, ASGIMixin):
        raise StartupError(
            f"DRIVER={config.driver!r} serves no WebSocket: use DRIVER=~fastapi "
            "(QQ clients connect to /onebot/v11/ws)"
        )
    driver.register_adapter(OneBotWsAdapter)  # "OneBot V11", reverse WebSocket only
    return driver


def read_settings(driver: Driver) -> BotSettings:
    """The one settings object, from NoneBot's config and the environment; a bad
    value stops the start naming the key."""
    try:
        return load_settings(driver.config.model_dump(), os.environ)
    except ConfigError as exc:
        raise StartupError(str(exc)) from None


def register_wechat_adapter(driver: Driver, settings: BotSettings) -> bool:
    """The WeChat adapter, only when WECOM_* / WECHAT_OA_* settings are present; it
    records each callback's key in the desk once that opens."""
    adapter = register_wechat(driver, settings.wechat)
    if adapter is None:
        return False
    when_desk_opens(lambda desk: adapter.use_claim(desk.once))
    return True


def install_runtime(settings: BotSettings) -> None:
    """The send queue, the duplicate-event filter, the busy reply and the per-person
    command limit, from validated settings."""
    configure_sending(settings.sending)
    install_dedupe(settings.dedupe)
    install_busy_reply()
    install_prefilter()
    install_command_limit(settings.command_limit)


def settle_memory() -> None:
    """Load what first use would load (jionlp's tables), then move the ~135k
    start-up objects out of the garbage collector's sight: a full collection
    over them stalls every reply in flight for 70-300 ms on this hardware."""
    parse_when("明天下午3点", datetime.now(UTC), ZoneInfo("Asia/Shanghai"))
    gc.collect()
    gc.freeze()


def register_desk_hooks(driver: Driver) -> None:
    """The desk opens (migrations, roster seed, outbox delivery, schedules) before
    the first QQ client is served, and closes at shutdown."""

    @driver.on_startup
    async def _open_desk() -> None:
        await start_desk()
        settle_memory()

    @driver.on_shutdown
    async def _close_desk() -> None:
        await stop_desk()


def check_open(driver: Driver, wechat: bool) -> None:
    """No placeholder token; no empty one where others reach the port."""
    config = driver.config
    token = nonebot.get_plugin_config(OneBotConfig).onebot_access_token
    check_access_token(token, config.host, config.port, wechat)


def create_app(**overrides: Any) -> Driver:
    """Everything but serving; raises StartupError when the bot must not start."""
    driver = init_nonebot(**overrides)
    install_log_privacy()  # after init: NoneBot sets its own patcher there
    settings = read_settings(driver)
    check_open(driver, register_wechat_adapter(driver, settings))
    install_body_limit(driver, settings.http, body_limits(settings.web))
    install_web_desk(driver.server_app, settings.web)  # pyright: ignore[reportAttributeAccessIssue]
    use_settings(settings)
    use_config_dir(settings.config_dir)
    install_runtime(settings)
    register_desk_hooks(driver)
    load_bot_plugins()
    return driver


def main() -> None:
    try:
        create_app()
    except StartupError as exc:
        print(f"bot not started:\n{exc}", file=sys.stderr)
        raise SystemExit(1) from None
    nonebot.run()
