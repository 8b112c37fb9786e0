"""activities (being built)."""

from nonebot.plugin import PluginMetadata

__plugin_meta__ = PluginMetadata(name="activities", description="", usage="", extra={"commands": []})
