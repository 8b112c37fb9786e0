"""How the chat front reads 发起活动 and 报名 (the use cases check what it read:
tests/features/events). Imports the plugin inside the tests (tests/support/nonebot_env)."""

from __future__ import annotations

from datetime import datetime

import pytest

from features.events.config import EventsConfig
from features.events.manage import check_new_event
from tests.support.clock import SH, at

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SH)  # a Friday


@pytest.mark.parametrize(
    ("args", "title", "start", "place", "capacity", "cars", "deadline"),
    [
        ("自驾游 周六上午10点 4S店 20", "自驾游", at(11, 28, 10), "4S店", 20, None, at(11, 28, 10)),
        ("自驾游 明天下午3点 4S店 门口 20人 8车", "自驾游", at(11, 28, 15), "4S店 门口", 20, 8, at(11, 28, 15)),
        ("试驾会 12月1号 14:00 展厅 10 截止 11月30号 18:00", "试驾会", at(12, 1, 14), "展厅", 10, None, at(11, 30, 18)),
        ("试驾会 周六 上午10点 3号门 10 截止周五18点", "试驾会", at(11, 28, 10), "3号门", 10, None, at(11, 27, 18)),
        ("车友会 下周六 9:00 万达 30位", "车友会", at(12, 5, 9), "万达", 30, None, at(12, 5, 9)),
    ],
)  # fmt: skip
def test_parse_new_event(
    args: str, title: str, start: datetime, place: str, capacity: int, cars: int | None,
    deadline: datetime,
) -> None:  # fmt: skip
    from bot.plugins.events import parse_new_event

    new = check_new_event(parse_new_event(args, NOW, SH), NOW, EventsConfig())
    assert (new.title, new.starts_at, new.place, new.capacity, new.car_capacity, new.deadline_at) == (
        title, start, place, capacity, cars, deadline,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "party", "cars", "note"),
    [
        ("3", None, None, None),
        ("#3 2人", 2, None, None),
        ("3 2", 2, None, None),
        ("3 2人 1车 带孩子 坐后排", 2, 1, "带孩子 坐后排"),
        ("3 1车 2人", 2, 1, None),
        ("3 2020年的车", None, None, "2020年的车"),
    ],
)
def test_parse_signup_args(
    args: str, party: int | None, cars: int | None, note: str | None
) -> None:
    from bot.plugins.events import parse_signup_args

    parsed = parse_signup_args(args)
    assert (parsed.event_id, parsed.party, parsed.cars, parsed.note) == (3, party, cars, note)
