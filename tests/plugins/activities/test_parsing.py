"""The front's reading of 设置话题's words (bot/plugins/activities/parsing.py) and
the small formatters of texts.py. Pure, but inside the plugin package: imported
late (tests/support/nonebot_env.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from features.activities.config import load_config
from features.activities.plans import TopicError

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SH).astimezone(UTC)  # Friday
TOPICS = load_config().topics


def parsing() -> ModuleType:
    from bot.plugins.activities import parsing

    return parsing


def local(dt: datetime) -> datetime:
    return dt.astimezone(SH)


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
    text, plan = parsing().parse_topic_args(args, NOW, SH, TOPICS)
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
    with pytest.raises(TopicError) as caught:
        parsing().parse_topic_args(args, NOW, SH, TOPICS)
    assert caught.value.kind == kind


@pytest.mark.parametrize(
    ("user", "shown"), [("qq:31234567", "用户****4567"), ("qq:12", "用户****12")]
)
def test_masked_qq(user: str, shown: str) -> None:
    from bot.plugins.activities import texts

    assert texts.masked_qq(user) == shown
