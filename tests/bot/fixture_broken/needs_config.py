"""Reads its config at import; the required key is missing, so the import fails."""

from nonebot import get_plugin_config
from pydantic import BaseModel, Field


class Config(BaseModel):
    fixture_reward_points: int = Field(ge=1)


config = get_plugin_config(Config)
