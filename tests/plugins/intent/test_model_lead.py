"""The learned scorer in chat (config/intent.toml [model]): an ask no vocabulary word
covers still becomes a lead; owners' fuel price talk still does not."""

from __future__ import annotations

import pytest
from nonebot.adapters.onebot.v11 import Message, MessageSegment
from nonebug import App

from desk import SYSTEM, Desk
from features.intent.detect import load_vocabulary, vocabulary_match
from tests.support.chat import no_reply, reply_to
from tests.support.nonebot_env import group_event

pytestmark = pytest.mark.usefixtures("desk")

PROSPECT = 20001
GROUP = 123456
# another dealer's cheaper quote: the example of an ask the word list missed
ONLY_THE_MODEL = "隔壁店比你们便宜六千，能跟吗"


async def test_a_message_only_the_model_catches_becomes_a_lead(app: App, desk: Desk) -> None:
    from bot.plugins.intent import texts

    assert vocabulary_match(ONLY_THE_MODEL, load_vocabulary()) is None  # not the words' doing
    event = group_event(ONLY_THE_MODEL, user_id=PROSPECT, group_id=GROUP)
    expected = Message([MessageSegment.at(PROSPECT), MessageSegment.text(texts.GROUP_ACK)])
    assert await reply_to(app, event) == expected

    lead = (await desk.lead(SYSTEM, 1)).lead
    assert (lead.first_message, lead.group_id) == (ONLY_THE_MODEL, str(GROUP))
    assert not await desk.lead_exists(2)


async def test_fuel_price_talk_stays_owner_chat(app: App, desk: Desk) -> None:
    await no_reply(
        app, group_event("油价又涨了，92号多少钱一升？", user_id=PROSPECT, group_id=GROUP)
    )
    assert not await desk.lead_exists(1)
