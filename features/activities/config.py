"""config/activities.toml: the rules of check-ins, the leaderboard and topics as
data, and the WeCom customer groups linked to QQ owner groups. Validated at
start; a bad file raises desk.ConfigError naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from desk.config_file import config_path, load_toml
from desk.roster import QQ_ID_PATTERN

FILENAME = "activities.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckinConfig(_Section):
    """Points for a daily check-in, and the streak bonus on top."""

    base_points: Annotated[int, Field(ge=0, le=1000)] = 5
    streak_bonus_per_day: Annotated[int, Field(ge=0, le=1000)] = 1
    streak_bonus_cap: Annotated[int, Field(ge=0, le=10_000)] = 5
    weekly_bonus: Annotated[int, Field(ge=0, le=10_000)] = 10


class LeaderboardConfig(_Section):
    size: Annotated[int, Field(ge=1, le=50)] = 10  # how many members 积分榜 shows


TopicText = Annotated[str, Field(min_length=1, max_length=400)]


class TopicsConfig(_Section):
    max_chars: Annotated[int, Field(ge=10, le=400)] = 200  # the longest topic
    max_days_ahead: Annotated[int, Field(ge=1, le=3660)] = 366  # how far ahead a plan may be
    max_schedules_per_group: Annotated[int, Field(ge=1, le=500)] = 20  # open plans per group
    defaults: Annotated[list[TopicText], Field(min_length=1)]  # rotating by date


def _id_text(value: object) -> object:
    """A QQ group number may be written with or without quotes in TOML."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class WeComGroupLink(_Section):
    """A WeCom customer group of the same owners as a QQ group, and the staff member
    who owns it (mass-sends go out in the owner's name, after they confirm)."""

    qq_group: Annotated[str, BeforeValidator(_id_text), Field(pattern=QQ_ID_PATTERN)]
    chat_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,128}$")]
    sender: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@\-]{1,64}$")]


class ActivitiesConfig(_Section):
    checkin: CheckinConfig = CheckinConfig()
    leaderboard: LeaderboardConfig = LeaderboardConfig()
    topics: TopicsConfig
    wecom_groups: list[WeComGroupLink] = []

    @model_validator(mode="after")
    def _links_once(self) -> ActivitiesConfig:
        seen = set()
        for link in self.wecom_groups:
            if (link.qq_group, link.chat_id) in seen:
                raise ValueError(
                    f"wecom_groups: {link.chat_id} is linked to QQ group {link.qq_group} twice"
                )
            seen.add((link.qq_group, link.chat_id))
        return self


def wecom_links(config: ActivitiesConfig, qq_group: str) -> list[tuple[str, str]]:
    """(chat id, sender) of the WeCom customer groups linked to a QQ group."""
    return [(g.chat_id, g.sender) for g in config.wecom_groups if g.qq_group == qq_group]


def load_config(path: Path | None = None) -> ActivitiesConfig:
    """Read and validate config/activities.toml; a bad file raises desk.ConfigError."""
    return load_toml(ActivitiesConfig, path or config_path(FILENAME), "activities config")
