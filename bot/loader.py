"""Loads every plugin package under bot/plugins, and makes a failure fatal.

NoneBot logs a plugin that raises on import (e.g. its config fails
validation) and starts without it. A bot silently missing a feature is worse
than one that does not start, so `load_bot_plugins` raises `StartupError`
naming the plugin and the offending keys. It also validates each loaded
plugin's declared `PluginMetadata.config`, for plugins that read config lazily.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import nonebot
from nonebot.log import logger
from nonebot.plugin import Plugin
from pydantic import ValidationError

PLUGINS_PACKAGE = "bot.plugins"

_FAILED_IMPORT = re.compile(r'Failed to import "([^"]+)"')


class StartupError(Exception):
    """The bot must not start; the message says why in one line per problem."""


def describe_error(exc: BaseException) -> str:
    """One line per problem; a validation error names each key as its env variable."""
    if isinstance(exc, ValidationError):
        problems = []
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ())]
            key = "__".join(loc).upper() if loc else "(config)"
            problems.append(f"{key}: {error.get('msg', 'invalid')}")
        return "invalid config: " + "; ".join(problems)
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        return f"{exc} ({describe_error(cause)})"
    return f"{type(exc).__name__}: {exc}"


def plugin_modules(package: str = PLUGINS_PACKAGE) -> list[str]:
    """Module names of the plugins in `package` (names starting with "_" are skipped)."""
    pkg = importlib.import_module(package)
    return sorted(
        f"{package}.{info.name}"
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_")
    )


@dataclass
class _Captured:
    message: str
    exception: BaseException | None


@contextmanager
def _captured_errors() -> Iterator[list[_Captured]]:
    """Collect ERROR log records (NoneBot reports import failures only by logging)."""
    records: list[_Captured] = []

    def sink(message) -> None:  # loguru Message: str with a .record
        record = message.record
        exc = record["exception"]
        records.append(_Captured(record["message"], exc.value if exc else None))

    handler = logger.add(sink, level="ERROR", format="{message}")
    try:
        yield records
    finally:
        logger.remove(handler)


def _failure_for(plugin_id: str, module: str, records: list[_Captured]) -> str:
    for record in records:
        match = _FAILED_IMPORT.search(record.message)
        if match and match.group(1) in (plugin_id, module) and record.exception is not None:
            return describe_error(record.exception)
    return "failed to import (see the error logged above)"


def check_plugin_configs(plugins: list[Plugin]) -> list[str]:
    """Validate every declared PluginMetadata.config against the settings."""
    problems = []
    for plugin in plugins:
        config_class = plugin.metadata.config if plugin.metadata else None
        if config_class is None:
            continue
        try:
            nonebot.get_plugin_config(config_class)
        except ValidationError as exc:
            problems.append(f'plugin "{plugin.id_}" ({plugin.module_name}): {describe_error(exc)}')
    return problems


def load_bot_plugins(package: str = PLUGINS_PACKAGE) -> list[Plugin]:
    """Load every plugin in `package`; raise StartupError unless all of them loaded."""
    modules = plugin_modules(package)
    with _captured_errors() as records:
        # Module names, not a directory: works from any working directory.
        loaded = nonebot.load_all_plugins(modules, [])
    by_module = {p.module_name: p for p in loaded}
    problems = [
        f'plugin "{module.rsplit(".", 1)[-1]}" ({module}) did not load: '
        + _failure_for(module.rsplit(".", 1)[-1], module, records)
        for module in modules
        if module not in by_module
    ]
    problems += check_plugin_configs(list(by_module.values()))
    if problems:
        raise StartupError("\n".join(problems))
    return [by_module[m] for m in modules]
