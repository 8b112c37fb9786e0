"""Desk settings: defaults in config/desk.toml, validated once at start.

A bad value raises ConfigError naming the file and the key, so the start stops
with a readable message instead of running on a guess.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from desk.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
# The environment keys of the desk's settings (the bot's and the command line's).
DESK_KEYS = ("DESK_CONFIG_DIR", "DESK_DATABASE_URL", "DESK_TIMEZONE", "DESK_CLOCK_SHIFT_FILE")
DEFAULT_CONFIG_DIR = REPO_ROOT / "config"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{REPO_ROOT / 'data' / 'desk.db'}"

LevelCode = Literal["N", "H", "A", "B", "C", "O", "F"]
FOLLOW_UP_LEVELS: tuple[str, ...] = ("H", "A", "B", "C")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkingHours(_Strict):
    start: time = time(9, 0)
    end: time = time(18, 0)
    days: Annotated[list[Annotated[int, Field(ge=1, le=7)]], Field(min_length=1)] = [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
    ]
    holidays: list[date] = []

    @model_validator(mode="after")
    def _start_before_end(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class FirstContact(_Strict):
    first_contact_hours: Annotated[float, Field(gt=0, le=72)] = 2


class Interval(_Strict):
    interval_days: Annotated[int, Field(ge=1, le=365)]
    # Upper bound of "expected purchase within N days" that gives this level.
    purchase_within_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class Revisit(_Strict):
    revisit_days: Annotated[int, Field(ge=1, le=3650)] = 30


class Levels(_Strict):
    N: FirstContact = FirstContact()
    H: Interval = Interval(interval_days=2, purchase_within_days=7)
    A: Interval = Interval(interval_days=7, purchase_within_days=30)
    B: Interval = Interval(interval_days=14, purchase_within_days=90)
    C: Interval = Interval(interval_days=30)
    O: Interval = Interval(interval_days=7)  # noqa: E741 (the dealer's level code)
    F: Revisit = Revisit()

    @model_validator(mode="after")
    def _purchase_bounds_increase(self) -> Levels:
        bounds = [
            self.H.purchase_within_days,
            self.A.purchase_within_days,
            self.B.purchase_within_days,
        ]
        if any(b is None for b in bounds) or bounds != sorted(bounds):  # type: ignore[type-var]
            raise ValueError("H, A, B need purchase_within_days in increasing order")
        return self

    def interval_days(self, level: str) -> int:
        spec = getattr(self, level)
        if not isinstance(spec, Interval):
            raise KeyError(level)
        return spec.interval_days


class Lifecycle(_Strict):
    default_level_after_contact: Literal["H", "A", "B", "C"] = "C"
    max_note_chars: Annotated[int, Field(ge=10, le=100_000)] = 2000


class Assignment(_Strict):
    cap_per_consultant: Annotated[int, Field(ge=0)] = 300


class Outbox(_Strict):
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 6
    backoff_base_seconds: Annotated[int, Field(ge=1)] = 30
    backoff_max_seconds: Annotated[int, Field(ge=1)] = 3600
    lease_seconds: Annotated[int, Field(ge=5)] = 300  # one send; see config/desk.toml
    # Delivered (or given-up) notifications are deleted after this many days.
    retention_days: Annotated[int, Field(ge=7, le=3650)] = 90


class ProcessedEvents(_Strict):
    # Platform event keys (one effect per message, a WeChat callback replayed after a
    # restart included) are deleted after this many days; replays are refused by
    # timestamp long before (WeChat: ±300 s), and once-a-day keys need two days.
    retention_days: Annotated[int, Field(ge=2, le=3650)] = 30


class Digests(_Strict):
    consultant_digest_at: time = time(8, 30)
    manager_report_at: time = time(19, 0)


class Defeat(_Strict):
    reasons: Annotated[list[Annotated[str, Field(min_length=1, max_length=20)]], Field(min_length=1)] = [
        "价格", "竞品", "购买他品牌", "预算不足", "暂缓购车", "联系不上", "异地购车", "贷款未过", "其他",
    ]  # fmt: skip


class DeskSettings(_Strict):
    """Everything the desk needs to run; built once and passed in."""

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Asia/Shanghai"
    working_hours: WorkingHours = WorkingHours()
    levels: Levels = Levels()
    lifecycle: Lifecycle = Lifecycle()
    assignment: Assignment = Assignment()
    outbox: Outbox = Outbox()
    processed_events: ProcessedEvents = ProcessedEvents()
    digests: Digests = Digests()
    defeat: Defeat = Defeat()
    # Echo SQL to the log (debugging only).
    echo_sql: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"invalid desk configuration in {source}:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"  {key}: {err['msg']}")
    return "\n".join(lines)


def build_settings(data: dict, source: str = "settings") -> DeskSettings:
    try:
        return DeskSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def load_settings(
    config_dir: Path | None = None, env: Mapping[str, str] | None = None
) -> DeskSettings:
    """Read desk.toml in `config_dir` (default: the repository's config/, or the
    DESK_CONFIG_DIR of `env`), overlay `env`'s DESK_DATABASE_URL / DESK_TIMEZONE,
    validate. The bot passes its collected settings (bot.settings); nothing here
    reads the process environment."""
    env = env or {}
    config_dir = Path(env.get("DESK_CONFIG_DIR") or config_dir or DEFAULT_CONFIG_DIR)
    path = config_dir / "desk.toml"
    data: dict = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from None
    if env.get("DESK_DATABASE_URL"):
        data["database_url"] = env["DESK_DATABASE_URL"]
    if env.get("DESK_TIMEZONE"):
        data["timezone"] = env["DESK_TIMEZONE"]
    return build_settings(data, str(path))


def read_env(environ: Mapping[str, str], cwd: Path | None = None) -> dict[str, str]:
    """The settings the bot would read, for a process without NoneBot (python -m
    desk): `.env`, then `.env.{ENVIRONMENT}` (default prod) in `cwd`, as NoneBot
    reads them, and `environ`, which wins; keys upper-case, blank values unset."""
    cwd = cwd or Path.cwd()
    files: dict[str, str | None] = dict(dotenv_values(cwd / ".env"))
    environment = environ.get("ENVIRONMENT") or files.get("ENVIRONMENT") or "prod"
    files.update(dotenv_values(cwd / f".env.{environment}"))
    values = {k.upper(): v for k, v in files.items() if v is not None}
    values.update({k.upper(): v for k, v in environ.items()})
    return {k: v.strip() for k, v in values.items() if v.strip()}


def superusers_of(values: Mapping[str, str]) -> list[str]:
    """SUPERUSERS as NoneBot reads it (a JSON list of QQ ids); [] when unset or unreadable."""
    try:
        ids = json.loads(values.get("SUPERUSERS", "[]"))
    except ValueError:
        return []
    return [str(i) for i in ids] if isinstance(ids, list) else []
