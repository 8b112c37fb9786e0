"""The one settings object: NoneBot's config (.env) with the environment winning,
validated at once, every bad key named in one desk.ConfigError; nothing written
to os.environ."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import load_settings
from desk import ConfigError
from desk.settings import DEFAULT_CONFIG_DIR
from tests.support.wechat_callbacks import settings_env


def test_defaults_without_any_setting() -> None:
    settings = load_settings({}, {})
    assert settings.config_dir == DEFAULT_CONFIG_DIR
    assert settings.roster_file == DEFAULT_CONFIG_DIR / "roster.toml"
    assert settings.clock_shift_file is None and not settings.wechat.enabled
    assert settings.command_limit.command_limit == 10 and settings.sending.send_group_rate == 1


def test_dotenv_values_count_and_the_environment_wins(tmp_path: Path) -> None:
    before = dict(os.environ)
    dotenv = {"desk_timezone": "Asia/Tokyo", "command_limit": 5, "send_group_rate": 2}
    settings = load_settings(
        dotenv,
        {"COMMAND_LIMIT": "7", "DESK_CONFIG_DIR": str(tmp_path), "DESK_CLOCK_SHIFT_FILE": "/x"},
    )
    assert settings.desk.timezone == "Asia/Tokyo"  # from .env, no os.environ detour
    assert settings.command_limit.command_limit == 7 and settings.sending.send_group_rate == 2
    assert settings.config_dir == tmp_path and settings.clock_shift_file == Path("/x")
    assert dict(os.environ) == before


def test_every_bad_key_is_named_at_once(tmp_path: Path) -> None:
    (tmp_path / "roster.toml").write_text('[[member]]\nname = "王"\nqq_id = "abc"\n', "utf-8")
    # The web desk's 导入 reads files by imports.toml: a broken one stops the start.
    (tmp_path / "imports.toml").write_text("[leads]\nfields = 3\n", "utf-8")
    env = settings_env("http://127.0.0.1:9") | {
        "SEND_GROUP_RATE": "0", "DESK_TIMEZONE": "Mars/Base", "WECOM_AGENT_ID": "x",
        "DESK_CONFIG_DIR": str(tmp_path),
    }  # fmt: skip
    with pytest.raises(ConfigError) as info:
        load_settings({}, env)
    message = str(info.value)
    assert "SEND_GROUP_RATE: Input should be greater than 0" in message
    assert "timezone" in message and "WECOM_AGENT_ID" in message and "member[0].qq_id" in message
    assert "imports config" in message and "leads.fields" in message
    assert env["WECOM_SECRET"] not in message
