"""The bot's settings: one object, built once at start and passed down.

`load_settings(config, environ)` reads NoneBot's config (`.env`, `.env.{ENVIRONMENT}`
and `nonebot.init` overrides, lower-case keys) with the environment winning for
every key of ours, as NoneBot lets it win for its own (see .env.example). It
validates everything at once and raises desk.ConfigError naming each bad key;
bot.app turns that into a refused start. Nothing here writes to os.environ.

Who gets what: the desk runtime the desk settings, the config dir and the
rehearsal clock; the WeChat adapter its settings; the send queue, the duplicate
filter, the command limit and the body limit theirs; desk.config_file the config
dir, where the features find config/<name>.toml.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.adapters.wechat.config import ALL_KEYS as WECHAT_KEYS
from bot.adapters.wechat.config import WeChatSettings, parse_settings
from bot.command_limit import CommandLimitConfig
from bot.dedupe import DedupeConfig
from bot.loader import describe_error
from bot.throttle import SendingConfig
from bot.transport import HttpConfig
from desk import ConfigError, DeskSettings
from desk.imports.config import FILENAME as IMPORTS_FILENAME
from desk.imports.config import ImportsConfig, load_imports_config
from desk.roster import load_roster_file
from desk.settings import DEFAULT_CONFIG_DIR, DESK_KEYS
from desk.settings import load_settings as load_desk_settings
from web.config import WebConfig

RUNTIME_MODELS: tuple[type[BaseModel], ...] = (
    SendingConfig, DedupeConfig, CommandLimitConfig, HttpConfig, WebConfig,
)  # fmt: skip
KEYS = (
    DESK_KEYS
    + WECHAT_KEYS
    + tuple(name.upper() for model in RUNTIME_MODELS for name in model.model_fields)
)


M = TypeVar("M", bound=BaseModel)


class BotSettings(BaseModel):
    """Everything the bot reads from its settings, validated; see .env.example."""

    model_config = ConfigDict(frozen=True)

    config_dir: Path = Field(
        default=DEFAULT_CONFIG_DIR,
        description="DESK_CONFIG_DIR: desk.toml, roster.toml and the features' <name>.toml",
    )
    desk: DeskSettings = DeskSettings()
    clock_shift_file: Path | None = Field(
        default=None, description="DESK_CLOCK_SHIFT_FILE: rehearsals only (desk.clock.ShiftedClock)"
    )
    wechat: WeChatSettings = WeChatSettings()
    sending: SendingConfig = SendingConfig()
    dedupe: DedupeConfig = DedupeConfig()
    command_limit: CommandLimitConfig = CommandLimitConfig()
    http: HttpConfig = HttpConfig()
    web: WebConfig = WebConfig()
    # config/imports.toml (the web desk's 导入), validated at start; None: not loaded.
    imports: ImportsConfig | None = None

    @property
    def roster_file(self) -> Path:
        """roster.toml next to desk.toml."""
        return self.config_dir / "roster.toml"


def collect(config: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Our keys (upper-case) from NoneBot's config (lower-case names) and the
    environment, which wins; blank values count as unset."""
    values: dict[str, str] = {}
    for key in KEYS:
        raw = environ.get(key)
        if raw is None:
            raw = config.get(key.lower())
        if raw is not None and str(raw).strip():
            values[key] = str(raw).strip()
    return values


def _wechat(values: Mapping[str, str]) -> WeChatSettings:
    try:
        return parse_settings({k: v for k, v in values.items() if k in WECHAT_KEYS})
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def wechat_settings(config: Mapping[str, Any], environ: Mapping[str, str]) -> WeChatSettings:
    """The WeChat part alone (the adapter's tests and tools)."""
    return _wechat(collect(config, environ))


def _validated(model: type[M], values: Mapping[str, str], problems: list[str]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems.append(f"bot runtime: {describe_error(exc)}")
        return model()


def load_settings(config: Mapping[str, Any], environ: Mapping[str, str]) -> BotSettings:
    """The settings, every problem named at once (desk.ConfigError)."""
    values = collect(config, environ)
    lower = {key.lower(): value for key, value in values.items()}
    problems: list[str] = []
    sending = _validated(SendingConfig, lower, problems)
    dedupe = _validated(DedupeConfig, lower, problems)
    command_limit = _validated(CommandLimitConfig, lower, problems)
    http = _validated(HttpConfig, lower, problems)
    web = _validated(WebConfig, lower, problems)
    wechat = WeChatSettings()
    try:
        wechat = _wechat(values)
    except ConfigError as exc:
        problems.append(str(exc))
    config_dir = Path(values.get("DESK_CONFIG_DIR") or DEFAULT_CONFIG_DIR)
    desk = DeskSettings()
    try:
        desk = load_desk_settings(config_dir, values)
    except ConfigError as exc:
        problems.append(str(exc))
    try:
        load_roster_file(config_dir / "roster.toml")  # a bad roster stops the start too
    except ConfigError as exc:
        problems.append(str(exc))
    imports: ImportsConfig | None = None
    try:  # the web desk's 导入 reads files by it: a bad one stops the start, not an import
        custom = config_dir / IMPORTS_FILENAME
        imports = load_imports_config(custom if custom.exists() else None)
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("\n".join(problems))
    shift = values.get("DESK_CLOCK_SHIFT_FILE")
    return BotSettings(
        config_dir=config_dir, desk=desk, clock_shift_file=Path(shift) if shift else None,
        wechat=wechat, sending=sending, dedupe=dedupe, command_limit=command_limit, http=http,
        web=web, imports=imports,
    )  # fmt: skip
