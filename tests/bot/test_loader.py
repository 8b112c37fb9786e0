"""A plugin that fails to load stops the start, naming the plugin and the key."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from bot.loader import StartupError, describe_error, load_bot_plugins, plugin_modules


class Limits(BaseModel):
    send_group_rate: float = Field(gt=0)


def test_describe_validation_error_names_env_keys() -> None:
    with pytest.raises(ValidationError) as info:
        Limits(send_group_rate=0)
    assert describe_error(info.value).startswith("invalid config: SEND_GROUP_RATE: ")


def test_describe_other_errors() -> None:
    assert describe_error(FileNotFoundError("config/x.toml")) == "FileNotFoundError: config/x.toml"
    with pytest.raises(ValidationError) as info:
        Limits(send_group_rate=-1)
    wrapped = RuntimeError("bad intent.toml")
    wrapped.__cause__ = info.value  # as `raise RuntimeError(...) from exc` leaves it
    assert describe_error(wrapped) == (
        "bad intent.toml (invalid config: SEND_GROUP_RATE: Input should be greater than 0)"
    )


def test_plugin_modules_skips_private_names() -> None:
    assert "bot.plugins.help" in plugin_modules()
    assert plugin_modules("tests.bot.fixture_broken") == [
        "tests.bot.fixture_broken.good_plugin",
        "tests.bot.fixture_broken.lazy_config",
        "tests.bot.fixture_broken.needs_config",
    ]


def test_a_broken_plugin_stops_the_start() -> None:
    with pytest.raises(StartupError) as info:
        load_bot_plugins("tests.bot.fixture_broken")
    message = str(info.value)
    assert 'plugin "needs_config" (tests.bot.fixture_broken.needs_config) did not load' in message
    assert "FIXTURE_REWARD_POINTS: Field required" in message
    assert 'plugin "lazy_config"' in message and "FIXTURE_LAZY_LIMIT" in message
    assert "good_plugin" not in message
