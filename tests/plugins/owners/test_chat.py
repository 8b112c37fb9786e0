"""设为车主 / 取消车主 through nonebug: a manager marks a group member as an owner,
whose event sign-ups then make no lead; consultants and owners cannot."""

from __future__ import annotations

from itertools import count
from types import ModuleType
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import Adapter, Bot, GroupMessageEvent, Message
from nonebug import App

from bot.roles import MANAGER
from bot.texts import ROLE_REFUSAL
from desk import Desk
from tests.support.chat import ask
from tests.support.nonebot_env import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    ROSTER_MANAGER_QQ,
    SELF_ID,
    adapter,
    private_event,
)

pytestmark = pytest.mark.usefixtures("desk")

GROUP = 123456
MEMBER = 30001
_ids = count(5000)


def texts() -> ModuleType:
    from bot.plugins.owners import texts

    return texts


def group_msg(user: int, *parts: str | int) -> GroupMessageEvent:
    """A group message: str parts are text, int parts an @ of that QQ id."""
    message: list[dict[str, Any]] = [
        {"type": "at", "data": {"qq": str(p)}} if isinstance(p, int) else
        {"type": "text", "data": {"text": p}}
        for p in parts
    ]  # fmt: skip
    raw = "".join(p if isinstance(p, str) else f"[CQ:at,qq={p}]" for p in parts)
    event = Adapter.json_to_event(
        {
            "time": 1_790_000_000, "self_id": SELF_ID, "post_type": "message",
            "message_type": "group", "sub_type": "normal", "message_id": next(_ids),
            "group_id": GROUP, "user_id": user, "anonymous": None, "message": message,
            "raw_message": raw, "font": 0,
            "sender": {"user_id": user, "nickname": f"用户{user}", "card": "", "role": "member"},
        }
    )  # fmt: skip
    assert isinstance(event, GroupMessageEvent)
    return event


async def group_answer(app: App, event: GroupMessageEvent, card: str | None = "赵哥") -> str:
    """The group reply; the handler first asks the QQ client for the member's card."""
    caught: list[Message] = []

    class Keep:
        def __eq__(self, other: object) -> bool:
            caught.append(Message(other))  # type: ignore[arg-type]
            return True

    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        if card is not None:
            ctx.should_call_api(
                "get_group_member_info",
                {"group_id": GROUP, "user_id": MEMBER},
                result={"card": card, "nickname": "zhao"},
            )
        ctx.should_call_api(
            "send_group_msg", {"group_id": GROUP, "message": Keep()}, result={"message_id": 1}
        )
    assert [s.type for s in caught[0]] == ["text"]
    return caught[0].extract_plain_text()


async def test_a_manager_marks_a_group_member_and_their_sign_up_makes_no_lead(
    app: App, desk: Desk
) -> None:
    answer = await group_answer(app, group_msg(MANAGER_QQ, "设为车主 ", MEMBER, " 汉EV"))
    assert answer == texts().MARKED.format(who=f"赵哥（QQ {MEMBER}）", model="（车型：汉EV）")
    owner = await desk.find_owner(qq_id=str(MEMBER))
    assert owner is not None and (owner.name, owner.car_model, owner.source) == (
        "赵哥", "汉EV", "manual",
    )  # fmt: skip
    again = await group_answer(app, group_msg(ROSTER_MANAGER_QQ, "设为车主 ", MEMBER))
    assert again == texts().ALREADY.format(who=f"赵哥（QQ {MEMBER}）", model="（车型：汉EV）")
    signed_up = await desk.write(
        lambda uow: desk.capture_prospect_in(uow, channel="event:1", qq_id=str(MEMBER))
    )
    assert signed_up is None


async def test_a_manager_marks_by_qq_number_in_a_dm_and_takes_it_back(app: App, desk: Desk) -> None:
    said = await ask(app, private_event(f"设为车主 {MEMBER} 海豹", user_id=MANAGER_QQ))
    assert said == texts().MARKED.format(who=f"QQ {MEMBER}", model="（车型：海豹）")
    assert await desk.is_owner(qq_id=str(MEMBER))
    said = await ask(app, private_event(f"取消车主 {MEMBER}", user_id=MANAGER_QQ))
    assert said == texts().UNMARKED.format(who=f"QQ {MEMBER}")
    assert not await desk.is_owner(qq_id=str(MEMBER))
    said = await ask(app, private_event(f"取消车主 {MEMBER}", user_id=MANAGER_QQ))
    assert said == texts().NOT_AN_OWNER.format(who=f"QQ {MEMBER}")


@pytest.mark.parametrize("asker", [CONSULTANT_QQ, 20001], ids=["consultant", "owner"])
async def test_consultants_and_owners_cannot_mark(app: App, desk: Desk, asker: int) -> None:
    said = await ask(app, private_event(f"设为车主 {MEMBER}", user_id=asker))
    assert said == ROLE_REFUSAL[MANAGER]
    said = await ask(app, private_event(f"取消车主 {MEMBER}", user_id=asker))
    assert said == ROLE_REFUSAL[MANAGER]
    assert not await desk.is_owner(qq_id=str(MEMBER))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("设为车主", "usage", id="nobody"),
        pytest.param("设为车主 小王", "usage", id="not-a-qq"),
        pytest.param("设为车主 12", "usage", id="short-qq"),
        pytest.param(f"设为车主 {SELF_ID}", "self", id="the-bot"),
        pytest.param(f"设为车主 {MEMBER} {'长' * 70}", "long", id="model-too-long"),
    ],
)
async def test_bad_input_is_answered_in_chinese_and_changes_nothing(
    app: App, desk: Desk, text: str, expected: str
) -> None:
    said = await ask(app, private_event(text, user_id=MANAGER_QQ))
    lines = {
        "usage": texts().usage("设为车主"), "self": texts().NOT_SELF,
        "long": texts().BAD_INPUT.format(reason="太长了（最多 64 字）"),
    }  # fmt: skip
    assert said == lines[expected]
    assert not await desk.is_owner(qq_id=str(MEMBER))


async def test_two_people_at_once_are_refused(app: App, desk: Desk) -> None:
    event = group_msg(MANAGER_QQ, "设为车主 ", MEMBER, " ", 30002)
    assert await group_answer(app, event, card=None) == texts().ONE_AT_A_TIME
    assert not await desk.is_owner(qq_id=str(MEMBER))
