"""bot.hooks: which failures get the busy reply, and the one log line about them.
(The reply itself is driven through nonebug in test_deskchat / test_activities.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.hooks import _cause, desk_unavailable
from desk.roster import load_roster_file


def test_database_errors_and_os_errors_from_the_desk_are_unavailability() -> None:
    assert desk_unavailable(OperationalError("UPDATE …", {}, Exception("database is locked")))
    assert not desk_unavailable(ValueError("a bug"))
    assert not desk_unavailable(None)
    assert not desk_unavailable(ConnectionResetError("the QQ client went away"))  # not the desk's


def test_an_os_error_raised_inside_the_desk_is_unavailability(tmp_path: Path) -> None:
    with pytest.raises(OSError) as raised:
        load_roster_file(tmp_path)  # a folder: the desk's read fails, as on a broken disk
    assert desk_unavailable(raised.value)


def test_the_log_line_names_the_cause_without_phones_or_parameters() -> None:
    exc = DBAPIError(
        "INSERT INTO leads (phone) VALUES (?)",
        ("13812345678",),
        Exception("disk full <b>\n13812345678"),
    )
    line = _cause(exc)
    assert line == "DBAPIError: disk full <b> ***"
    assert "1381234" not in line and "INSERT" not in line
