"""The pre-filter: plain chat skips every matcher; commands, intent and @bot pass."""

from __future__ import annotations

import pytest
from nonebot import on_message
from nonebot.adapters.onebot.v11 import Bot
from nonebug import App

from bot.prefilter import install_prefilter, uninstall_prefilter, wanted
from tests.support.nonebot_env import adapter, group_event


@pytest.mark.parametrize(
    ("text", "passes"),
    [
        ("今天天气不错，出去跑一圈", False),
        ("推荐一下机油", False),  # a command word inside a word is chat
        ("😂😂😂", False),
        ("", False),
        ("帮助", True),
        ("/跟进 12 在比价", True),
        ("今日", True),
        ("这车落地多少钱？", True),  # the intent plugin's interest
        ("跟进 12 " + "很长的备注" * 600, True),  # a command with a pasted note
    ],
)
def test_what_passes(text: str, passes: bool) -> None:
    assert wanted(text) is passes


@pytest.fixture
def prefilter():
    install_prefilter()
    yield
    uninstall_prefilter()


@pytest.mark.usefixtures("prefilter")
async def test_plain_chat_reaches_no_matcher_but_a_mention_does(app: App) -> None:
    probe = on_message(priority=99, block=False)

    @probe.handle()
    async def _seen() -> None:
        await probe.send("seen")

    try:
        async with app.test_matcher(probe) as ctx:
            bot = ctx.create_bot(base=Bot, adapter=adapter())
            ctx.receive_event(bot, group_event("今天天气不错，出去跑一圈"))
            mention = group_event("在吗", user_id=20002)
            mention.to_me = True
            ctx.receive_event(bot, mention)
            ctx.should_call_send(mention, "seen", result={"message_id": 1})
    finally:
        probe.destroy()
