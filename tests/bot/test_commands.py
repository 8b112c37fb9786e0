"""Command words trigger only as whole words, with or without "/" (bot.commands,
the parse bot.front routes by)."""

from __future__ import annotations

import pytest
from nonebot.adapters.onebot.v11 import Adapter

from bot import front
from bot.commands import split_command
from tests.support.nonebot_env import SELF_ID, group_event

WORDS = {"推荐", "帮助", "线索统计"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("推荐", ("推荐", "")),
        ("推荐 张三 13800000000", ("推荐", "张三 13800000000")),
        ("/推荐 张三", ("推荐", "张三")),
        ("／推荐", ("推荐", "")),  # full-width slash
        ("/ 推荐", ("推荐", "")),
        ("  推荐\n张三  ", ("推荐", "张三")),
        ("推荐\u3000张三", ("推荐", "张三")),  # ideographic space
        ("线索统计 本月", ("线索统计", "本月")),
    ],
)
def test_whole_words_trigger(text: str, expected: tuple[str, str]) -> None:
    assert split_command(text, WORDS) == expected


@pytest.mark.parametrize(
    "text",
    [
        "推荐一下机油",
        "帮我推荐",
        "推荐人",
        "/推荐一下",
        "线索",
        "",
        "   ",
        "/",
        "推 荐",
        "x" * 5000,
        "😀推荐",
    ],
)
def test_chat_does_not_trigger(text: str) -> None:
    assert split_command(text, WORDS) is None


def test_only_message_events_are_parsed() -> None:
    assert front.parse(group_event("/帮助 签到")) == ("帮助", "签到", False)
    assert front.parse(group_event("帮助我看看这个车")) is None
    notice = Adapter.json_to_event(
        {
            "time": 1,
            "self_id": SELF_ID,
            "post_type": "notice",
            "notice_type": "group_increase",
            "sub_type": "approve",
            "group_id": 1,
            "user_id": 2,
            "operator_id": 3,
        }  # fmt: skip
    )
    assert notice is not None and front.parse(notice) is None
