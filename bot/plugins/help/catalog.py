"""The command catalogue, read from plugins' `__plugin_meta__.extra["commands"]`.

Pure apart from the logger: tests feed it (plugin name, metadata) pairs. The
convention is documented in bot/plugins/help/__init__.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from nonebot.log import logger
from nonebot.plugin import PluginMetadata
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.commands import split_command
from bot.plugins.help import texts


class CommandSpec(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cmd: str = Field(min_length=1)
    desc: str = ""
    role: Literal["member", "consultant", "manager"] = "member"
    where: Literal["any", "group", "private"] = "any"
    hidden: bool = False


@dataclass(frozen=True)
class HelpEntry:
    plugin: str  # the plugin's display name
    cmd: str
    line: str  # one line: "cmd —— desc" or the usage line itself
    role: str
    where: str


def _line(spec: CommandSpec) -> str:
    desc = spec.desc.strip()
    if not desc:
        return spec.cmd
    return desc if desc.startswith(spec.cmd) else f"{spec.cmd} —— {desc}"


def entries_of(plugin_id: str, meta: PluginMetadata | None) -> list[HelpEntry]:
    """The help entries one plugin declares; broken entries are skipped with a warning."""
    if meta is None:
        return []
    raw: Any = (meta.extra or {}).get("commands", [])
    if not isinstance(raw, list):
        logger.warning(f'plugin "{plugin_id}": extra["commands"] is not a list; no help shown')
        return []
    entries = []
    for item in raw:
        try:
            spec = CommandSpec.model_validate(item)
        except ValidationError as exc:
            logger.warning(f'plugin "{plugin_id}": help entry {item!r} skipped: {exc}')
            continue
        if not spec.hidden:
            cmd = spec.cmd.strip().lstrip("/")
            spec = spec.model_copy(update={"cmd": cmd})
            entries.append(
                HelpEntry(meta.name or plugin_id, cmd, _line(spec), spec.role, spec.where)
            )
    return entries


def build_catalog(plugins: Iterable[tuple[str, PluginMetadata | None]]) -> list[HelpEntry]:
    """All entries, plugins by name, commands in declaration order; first declaration wins."""
    seen: set[str] = set()
    catalog = []
    for plugin_id, meta in sorted(plugins, key=lambda p: p[1].name if p[1] else p[0]):
        for entry in entries_of(plugin_id, meta):
            if entry.cmd not in seen:
                seen.add(entry.cmd)
                catalog.append(entry)
    return catalog


def visible(catalog: Iterable[HelpEntry], roles: set[str]) -> list[HelpEntry]:
    return [e for e in catalog if e.role in roles]


def render_list(entries: list[HelpEntry]) -> str:
    if not entries:
        return texts.NOTHING
    lines = [texts.HEADER]
    current = None
    for entry in entries:
        if entry.plugin != current:
            current = entry.plugin
            lines.append(texts.SECTION.format(name=current))
        lines.append(texts.LINE.format(line=entry.line, where=texts.WHERE.get(entry.where, "")))
    lines.append(texts.FOOTER)
    return "\n".join(lines)


def render_one(entries: list[HelpEntry], asked: str) -> str:
    """Help for one command ("帮助 签到", "帮助 /签到 12" both ask for 签到)."""
    parsed = split_command(asked, {e.cmd for e in entries})
    entry = next((e for e in entries if parsed and e.cmd == parsed[0]), None)
    if entry is None:
        shown = asked.strip().split(maxsplit=1)[0][:20] if asked.strip() else asked
        return texts.NOT_FOUND.format(cmd=shown)
    return texts.DETAIL.format(
        line=entry.line, where=texts.WHERE.get(entry.where, ""), plugin=entry.plugin
    )
