"""config/events.toml, read and validated at start (a bad value stops it, naming the key)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from desk.config_file import config_path, load_toml
from desk.roster import QQ_ID_PATTERN


def _id_text(value: object) -> object:
    """A QQ group written as a TOML number or string."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class EventsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reminder_hour: Annotated[int, Field(ge=0, le=23)] = 18
    no_show_grace_hours: Annotated[float, Field(ge=0, le=72)] = 3
    max_party: Annotated[int, Field(ge=1, le=100)] = 10
    max_capacity: Annotated[int, Field(ge=1, le=100_000)] = 500
    max_title_chars: Annotated[int, Field(ge=2, le=64)] = 30
    max_place_chars: Annotated[int, Field(ge=2, le=64)] = 40
    max_note_chars: Annotated[int, Field(ge=0, le=200)] = 100
    max_days_ahead: Annotated[int, Field(ge=1, le=3650)] = 365
    list_limit: Annotated[int, Field(ge=1, le=50)] = 10
    recent_limit: Annotated[int, Field(ge=1, le=50)] = 5
    # QQ groups whose events Official Account followers may sign up for (besides
    # the groups linked to WeCom customer groups, whose announcements say so).
    oa_groups: frozenset[
        Annotated[str, BeforeValidator(_id_text), Field(pattern=QQ_ID_PATTERN)]
    ] = frozenset()

    @model_validator(mode="after")
    def _party_fits_an_event(self) -> Self:
        if self.max_party > self.max_capacity:
            raise ValueError(
                f"max_party ({self.max_party}) must not exceed max_capacity ({self.max_capacity})"
            )
        return self


def load_config(path: Path | None = None) -> EventsConfig:
    """Read and validate config/events.toml (DESK_CONFIG_DIR/events.toml when there);
    desk.ConfigError names the key."""
    return load_toml(EventsConfig, path or config_path("events.toml"), "events config")
