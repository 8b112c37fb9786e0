"""Declares a config it would read later; its default is invalid."""

from nonebot.plugin import PluginMetadata
from pydantic import BaseModel, Field


class Config(BaseModel):
    fixture_lazy_limit: int = Field(default=5, le=3, validate_default=True)


__plugin_meta__ = PluginMetadata(name="lazy", description="", usage="", config=Config)
