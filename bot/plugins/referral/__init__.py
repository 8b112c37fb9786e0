"""referral (being built)."""

from nonebot.plugin import PluginMetadata

__plugin_meta__ = PluginMetadata(name="referral", description="", usage="", extra={"commands": []})
