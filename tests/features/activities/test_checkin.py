"""签到 and 积分 without NoneBot: the points rule, names kept for the board, places
given once under concurrency, a person's points and the leaderboard."""

from __future__ import annotations

import asyncio

import pytest

from desk import Desk
from features.activities.checkin import (
    BoardRow,
    check_in,
    checkin_points,
    clean_name,
    leaderboard,
    my_points,
)
from features.activities.config import ActivitiesConfig


@pytest.mark.parametrize(
    ("streak", "points", "bonus"),
    [(1, 5, 0), (2, 6, 1), (6, 10, 5), (7, 20, 15), (8, 10, 5), (14, 20, 15), (30, 10, 5)],
)
def test_checkin_points(config: ActivitiesConfig, streak: int, points: int, bonus: int) -> None:
    assert checkin_points(config.checkin, streak) == (points, bonus)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("张三", "张三"),
        ("张三 13812345678", "张三 138****5678"),
        ("李四138-1234-5678", "李四138****5678"),
        ("王五 2023款", "王五 2023款"),
        ("  \x00  ", None),
        (None, None),
        ("名" * 40, "名" * 32),
        ("两行\n名字", "两行 名字"),
    ],
)
def test_names_kept_for_the_board(name: str | None, shown: str | None) -> None:
    assert clean_name(name) == shown


async def test_simultaneous_checkins_get_distinct_places(
    desk: Desk, config: ActivitiesConfig
) -> None:
    results = await asyncio.gather(
        *(
            check_in(
                desk, config.checkin, group_id="1", qq=str(qq), name=None, message_key=f"m{qq}"
            )
            for qq in range(5)
        )
    )
    assert sorted(r.rank for r in results) == [1, 2, 3, 4, 5]


async def test_the_same_person_twice_at_once_checks_in_once(
    desk: Desk, config: ActivitiesConfig
) -> None:
    results = await asyncio.gather(
        *(
            check_in(desk, config.checkin, group_id="1", qq="7", name=None, message_key=f"m{n}")
            for n in range(3)
        )
    )
    assert sorted(r.status for r in results) == ["already", "already", "new"]


async def test_the_same_message_again_is_a_duplicate(desk: Desk, config: ActivitiesConfig) -> None:
    first = await check_in(desk, config.checkin, group_id="1", qq="7", name="张三", message_key="m")
    again = await check_in(desk, config.checkin, group_id="1", qq="7", name="张三", message_key="m")
    assert (first.status, first.rank, first.points, first.total) == ("new", 1, 5, 5)
    assert again.status == "duplicate"


async def test_points_and_board(desk: Desk, config: ActivitiesConfig) -> None:
    assert await my_points(desk, "7", "1") == (await my_points(desk, "7", None))
    for qq, name in (("31234567", None), ("20002", "李四 13812345678")):
        await check_in(desk, config.checkin, group_id="1", qq=qq, name=name, message_key=qq)
    view = await my_points(desk, "20002", "1")
    assert (view.total, view.streak, view.rank) == (5, 1, 1)  # a tie (same time) shares a place
    assert (await my_points(desk, "20002", None)).rank is None
    assert await leaderboard(desk, "1", 10) == [
        BoardRow("qq:20002", "李四 138****5678", 5),
        BoardRow("qq:31234567", None, 5),
    ]
    assert await leaderboard(desk, "2", 10) == []
