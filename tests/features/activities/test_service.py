"""The activities rules without NoneBot: points, topic arguments, schedules, counting."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from desk import Desk

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SH).astimezone(UTC)  # Friday


def service() -> ModuleType:
    from bot.plugins.activities import service

    return service


def topics_config():  # noqa: ANN201 - the plugin's config type, imported late
    from bot.plugins.activities import CONFIG

    return CONFIG.topics


def local(dt: datetime) -> datetime:
    return dt.astimezone(SH)


@pytest.mark.parametrize(
    ("streak", "points", "bonus"),
    [(1, 5, 0), (2, 6, 1), (6, 10, 5), (7, 20, 15), (8, 10, 5), (14, 20, 15), (30, 10, 5)],
)
def test_checkin_points(streak: int, points: int, bonus: int) -> None:
    from bot.plugins.activities import CONFIG

    assert service().checkin_points(CONFIG.checkin, streak) == (points, bonus)


@pytest.mark.parametrize(
    ("args", "topic", "when"),
    [
        ("冬季保养经验", "冬季保养经验", None),
        ("冬季 保养 经验", "冬季 保养 经验", None),
        ("分享 冬季保养", "分享 冬季保养", None),  # jionlp reads a date in 冬季; it is no time
        ("推荐 周末自驾路线", "推荐 周末自驾路线", None),
        ("第一行\n第二行", "第一行\n第二行", None),
        ("冬季保养经验 明天上午9点", "冬季保养经验", ("once", datetime(2026, 11, 28, 9, 0))),
        ("冬季保养 明天 上午9点", "冬季保养", ("once", datetime(2026, 11, 28, 9, 0))),
        ("自驾 12月1号 14:00", "自驾", ("once", datetime(2026, 12, 1, 14, 0))),
        ("自驾 周六上午10点", "自驾", ("once", datetime(2026, 11, 28, 10, 0))),
        ("早安 每天上午9点", "早安", ("daily", datetime(2026, 11, 28, 9, 0))),
        ("晚安 每日晚上9点", "晚安", ("daily", datetime(2026, 11, 27, 21, 0))),
        ("周报 每周一上午9点", "周报", ("weekly", datetime(2026, 11, 30, 9, 0))),
        ("周末话题 每周日上午10点", "周末话题", ("weekly", datetime(2026, 11, 29, 10, 0))),
        ("周五话题 每星期五上午11点", "周五话题", ("weekly", datetime(2026, 11, 27, 11, 0))),
        ("周五打卡 每周5上午9点", "周五打卡", ("weekly", datetime(2026, 12, 4, 9, 0))),
    ],
)
def test_topic_arguments(args: str, topic: str, when: tuple[str, datetime] | None) -> None:
    text, plan = service().parse_topic_args(args, NOW, SH, topics_config())
    assert text == topic
    if when is None:
        assert plan is None
    else:
        assert plan is not None
        assert (plan.repeat, local(plan.at).replace(tzinfo=None)) == when


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        ("", "usage"),
        ("   ", "usage"),
        ("\x00\x01", "usage"),
        ("明天上午9点", "usage"),
        ("明天 上午9点", "usage"),
        ("每周一上午9点", "usage"),
        ("保养 今天上午9点", "past"),
        ("保养 每天", "bad_time"),
        ("保养 2030年1月1日", "too_far"),
        ("长" * 201, "too_long"),
        ("长" * 201 + " 明天上午9点", "too_long"),
    ],
)
def test_topic_arguments_refused(args: str, kind: str) -> None:
    with pytest.raises(service().TopicError) as caught:
        service().parse_topic_args(args, NOW, SH, topics_config())
    assert caught.value.kind == kind


def test_control_characters_are_dropped_but_not_emoji() -> None:
    assert service().clean_text(" 🚗\x00聊\u200d聊\x07\n车 ") == "🚗聊\u200d聊\n车"


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
    assert service().clean_name(name) == shown


@pytest.mark.parametrize(
    ("user", "shown"), [("qq:31234567", "用户****4567"), ("qq:12", "用户****12")]
)
def test_masked_qq(user: str, shown: str) -> None:
    assert service().masked_qq(user) == shown


def test_next_occurrence() -> None:
    nine = time(9, 0)
    assert local(service().next_occurrence(NOW, SH, nine, None)).day == 28
    assert local(service().next_occurrence(NOW, SH, time(10, 1), None)).day == 27
    assert local(service().next_occurrence(NOW, SH, time(10, 0), None)).day == 28  # strictly after
    assert local(service().next_occurrence(NOW, SH, nine, 4)).day == 4  # next Friday, Dec 4
    assert local(service().next_occurrence(NOW, SH, time(11, 0), 4)).day == 27


def test_counter_counts_each_message_once_and_restores_a_failed_flush() -> None:
    from bot.plugins.activities.counter import MessageCounter

    counter = MessageCounter(remember_ids=2)
    day = date(2026, 11, 27)
    assert counter.add("1", "a", day, 1)
    assert not counter.add("1", "a", day, 1)
    assert counter.add("2", "a", day, 1)  # the same id in another group is another message
    assert counter.add("1", "b", day, 2)
    assert counter.add("1", "a", day, 1)  # forgotten: only the last 2 ids are kept
    batch = counter.take()
    assert batch == {("1", day, "a"): 2, ("2", day, "a"): 1, ("1", day, "b"): 1}
    assert counter.pending() == 0
    counter.add("1", "a", day, 9)
    counter.restore(batch)
    assert counter.take()[("1", day, "a")] == 3


async def test_simultaneous_checkins_get_distinct_places(desk: Desk) -> None:
    from bot.plugins.activities import CONFIG

    results = await asyncio.gather(
        *(
            service().check_in(
                desk, CONFIG.checkin, group_id="1", qq=str(qq), name=None, message_key=f"m{qq}"
            )
            for qq in range(5)
        )
    )
    assert sorted(r.rank for r in results) == [1, 2, 3, 4, 5]


async def test_the_same_person_twice_at_once_checks_in_once(desk: Desk) -> None:
    from bot.plugins.activities import CONFIG

    results = await asyncio.gather(
        *(
            service().check_in(
                desk, CONFIG.checkin, group_id="1", qq="7", name=None, message_key=f"m{n}"
            )
            for n in range(3)
        )
    )
    assert sorted(r.status for r in results) == ["already", "already", "new"]
