"""events (being built)."""

from nonebot.plugin import PluginMetadata

__plugin_meta__ = PluginMetadata(name="events", description="", usage="", extra={"commands": []})
