"""A feature's config file (config/<name>.toml), read and validated at start.

The file next to desk.toml wins (DESK_CONFIG_DIR), else the repository's
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


def config_path(filename: str) -> Path:
    custom = os.environ.get("DESK_CONFIG_DIR")
    if custom and (Path(custom) / filename).exists():
        return Path(custom) / filename
    return DEFAULT_CONFIG_DIR / filename


def describe(exc: ValidationError) -> str:
    """'checkin.base_points: Input should be …; …' (every problem, by key)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
    )


def load_toml(
    model: type[M], path: Path, what: str, error: type[Exception] = ConfigError
) -> M:
    """`what` names the file in messages, e.g. "events config"."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise error(f"cannot read {what} {path}: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(f"invalid {what} in {path}: {describe(exc)}") from None
