"""A prospect whose nickname the database cannot keep (half of an emoji cut off by
the client: a lone surrogate; a NUL) is still a lead: the front mends the name
instead of losing the prospect (found by the fuzz, tests/security/test_fuzz.py:
desk.capture refused the name and the question went unanswered). Unstorable
*words* are still ignored quietly (test_intent_plugin)."""

from __future__ import annotations

import pytest
from nonebot.adapters.onebot.v11 import Adapter, GroupMessageEvent, Message, MessageSegment
from nonebug import App

from desk import SYSTEM, Desk
from tests.support.chat import handler_errors, reply_to
from tests.support.nonebot_env import SELF_ID

pytestmark = pytest.mark.usefixtures("desk")

PROSPECT = 20001
GROUP = 123456


def event(text: str, nickname: str, message_id: int) -> GroupMessageEvent:
    parsed = Adapter.json_to_event({
        "time": 1_790_000_000, "self_id": SELF_ID, "post_type": "message",
        "message_type": "group", "sub_type": "normal", "message_id": message_id,
        "group_id": GROUP, "user_id": PROSPECT, "anonymous": None,
        "message": [{"type": "text", "data": {"text": text}}], "raw_message": text, "font": 0,
        "sender": {"user_id": PROSPECT, "nickname": nickname, "card": "", "role": "member"},
    })  # fmt: skip
    assert isinstance(parsed, GroupMessageEvent)
    return parsed


@pytest.mark.parametrize(
    ("text", "nickname", "kept_text", "kept_name"),
    [
        ("这车落地多少钱？", "小王\x00", "这车落地多少钱？", "小王"),
        ("这车落地多少钱？", "小王\ud83d", "这车落地多少钱？", "小王\ufffd"),
    ],
    ids=["nul-in-nickname", "half-emoji-in-nickname"],
)
async def test_unstorable_characters_do_not_lose_the_prospect(
    app: App, desk: Desk, text: str, nickname: str, kept_text: str, kept_name: str
) -> None:
    from bot.plugins.intent import texts

    errors = handler_errors()
    answer = await reply_to(app, event(text, nickname, 880_001))
    assert answer == Message([MessageSegment.at(PROSPECT), MessageSegment.text(texts.GROUP_ACK)])
    lead = (await desk.lead(SYSTEM, 1)).lead
    assert (lead.first_message, lead.name) == (kept_text, kept_name)
    assert not errors
