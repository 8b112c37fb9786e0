"""Command words trigger only as whole words, with or without "/"."""

from __future__ import annotations

import pytest
from nonebot.adapters.onebot.v11 import Adapter, Bot
from nonebug import App

from bot.rules import (
    WORD_COMMAND_KEY,
    CommandWordRule,
    WordCommand,
    command_word,
    parse_word_command,
)
from tests.support.nonebot_env import SELF_ID, adapter, group_event, private_event

WORDS = {"推荐", "帮助", "线索统计"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("推荐", WordCommand("推荐", "")),
        ("推荐 张三 13800000000", WordCommand("推荐", "张三 13800000000")),
        ("/推荐 张三", WordCommand("推荐", "张三")),
        ("／推荐", WordCommand("推荐", "")),  # full-width slash
        ("/ 推荐", WordCommand("推荐", "")),
        ("  推荐\n张三  ", WordCommand("推荐", "张三")),
        ("推荐\u3000张三", WordCommand("推荐", "张三")),  # ideographic space
        ("线索统计 本月", WordCommand("线索统计", "本月")),
    ],
)
def test_whole_words_trigger(text: str, expected: WordCommand) -> None:
    assert parse_word_command(text, WORDS) == expected


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
    assert parse_word_command(text, WORDS) is None


async def test_rule_on_events_stores_the_parse() -> None:
    rule = CommandWordRule(["/推荐"])  # a leading "/" in the declaration is ignored
    state: dict = {}
    assert await rule(group_event("推荐 张三"), state)
    assert state[WORD_COMMAND_KEY] == WordCommand("推荐", "张三")
    assert await rule(private_event("/推荐"), {})
    assert not await rule(group_event("推荐一下机油"), {})
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
    assert notice is not None and not await rule(notice, {})


async def test_rule_through_nonebot(app: App) -> None:
    rule = command_word("推荐") & None
    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        assert await rule(bot, group_event("推荐 张三"), {})
        assert not await rule(bot, group_event("推荐一下机油"), {})


def test_needs_a_word() -> None:
    with pytest.raises(ValueError):
        CommandWordRule(["", " / "])
