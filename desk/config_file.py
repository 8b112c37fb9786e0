"""A feature's config file (config/<name>.toml), read and validated at start.

The file in the config dir wins (DESK_CONFIG_DIR: the bot's settings, which
bot.app hands over with `use_config_dir` at start), else the repository's
default. A bad file raises desk.ConfigError with a message naming the file and
the key, which stops the start (bot.loader).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from desk.errors import ConfigError
from desk.settings import DEFAULT_CONFIG_DIR

M = TypeVar("M", bound=BaseModel)


class _Current:
    config_dir: Path | None = None


def use_config_dir(config_dir: Path | None) -> None:
    """Where config_path looks first from now on (bot.app, from its settings; None: unset)."""
    _Current.config_dir = config_dir


def config_dir() -> Path:
    """The config dir set at start; without a start (a script, a test), the
    DESK_CONFIG_DIR of the environment, else the repository's config/."""
    if _Current.config_dir is not None:
        return _Current.config_dir
    return Path(os.environ.get("DESK_CONFIG_DIR") or DEFAULT_CONFIG_DIR)


def config_path(filename: str) -> Path:
    """`filename` in the config dir when it is there, else the repository's default."""
    custom = config_dir() / filename
    return custom if custom.exists() else DEFAULT_CONFIG_DIR / filename


def describe(exc: ValidationError) -> str:
    """'checkin.base_points: Input should be …; …' (every problem, by key)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
    )


def load_toml(model: type[M], path: Path, what: str) -> M:
    """`what` names the file in messages, e.g. "events config"."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid {what} in {path}: {describe(exc)}") from None
