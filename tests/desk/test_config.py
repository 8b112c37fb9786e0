"""A bad configuration stops the start with a message that names the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk import ConfigError, Desk, FrozenClock, load_settings
from desk.db import schema_drift
from desk.models import Base
from desk.settings import DEFAULT_CONFIG_DIR
from tests.desk.conftest import START, make_settings


def test_shipped_config_loads() -> None:
    settings = load_settings(DEFAULT_CONFIG_DIR, env={})
    assert settings.levels.H.interval_days == 2
    assert settings.working_hours.start.hour == 9


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('timezone = "Mars/Base"', "timezone"),
        ("[levels]\nH = { interval_days = 0, purchase_within_days = 7 }", "levels.H.interval_days"),
        ('[working_hours]\nstart = "19:00"\nend = "18:00"', "working_hours"),
        ("[working_hours]\ndays = [0, 8]", "working_hours.days.0"),
        ("[outbox]\nmax_atempts = 3", "outbox.max_atempts"),
        ('[lifecycle]\ndefault_level_after_contact = "Z"', "lifecycle.default_level_after_contact"),
        ("levels = [", "cannot read"),
    ],
)
def test_bad_value_names_the_key(tmp_path: Path, toml: str, key: str) -> None:
    (tmp_path / "desk.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(tmp_path, env={})


def test_environment_overrides_database_url(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert load_settings(DEFAULT_CONFIG_DIR, env={"DESK_DATABASE_URL": url}).database_url == url
    with pytest.raises(ConfigError, match="database_url"):
        load_settings(DEFAULT_CONFIG_DIR, env={"DESK_DATABASE_URL": "mysql://x"})


def test_bad_roster_names_the_entry(tmp_path: Path) -> None:
    from desk.roster import load_roster_file

    path = tmp_path / "roster.toml"
    path.write_text(
        '[[member]]\nname = "王"\nqq_id = "10001"\n[[member]]\nname = "李"\nqq_id = "abc"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"member\[1\]\.qq_id"):
        load_roster_file(path)


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    desk = await Desk.open(make_settings(tmp_path), FrozenClock(START))
    try:
        assert await schema_drift(desk.db, Base.metadata) == []
    finally:
        await desk.close()
