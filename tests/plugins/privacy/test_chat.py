"""个人信息 in chat (spec §7): 我的信息, 删除我的信息 with its confirmation, and a
manager's 删除线索, through every loaded plugin as an owner would use them.

The owner 20001 (group card 小王) asks a price in the group, checks in, signs up
for an event with a note, gets a referral code and refers a friend; their phone
is known from a DM. After the erasure no table holds their phone, name, QQ id
or words.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import Adapter, GroupMessageEvent, PrivateMessageEvent
from nonebug import App
from sqlalchemy import select, text

from bot.roles import MANAGER
from bot.texts import ROLE_REFUSAL
from desk import Desk, FrozenClock
from desk.models import OutboxMessage, PrivacyAudit
from tests.desk.conftest import table_names
from tests.support.chat import ask, no_handler_raises, no_reply, reply_to
from tests.support.nonebot_env import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    ROSTER_MANAGER_QQ,
    SELF_ID,
    private_event,
)

pytestmark = pytest.mark.usefixtures("desk")

OWNER, GROUP = 20001, 123456
NAME, PHONE, FRIEND_PHONE = "小王", "13812345678", "13900001111"
WORDS = "落地多少钱"
SECRETS = (PHONE, NAME, str(OWNER), WORDS, "带老婆")


def texts() -> ModuleType:
    from bot.plugins.privacy import texts

    return texts


@pytest.fixture(autouse=True)
def _fresh_confirmations() -> Iterator[None]:
    from bot.plugins.privacy import CONFIRMATIONS

    with no_handler_raises(CONFIRMATIONS):
        yield


def group(text: str, user: int = OWNER, nickname: str = NAME) -> GroupMessageEvent:
    event = Adapter.json_to_event(
        {
            "time": 1_790_000_000, "self_id": SELF_ID, "post_type": "message",
            "message_type": "group", "sub_type": "normal", "message_id": _next_id(),
            "group_id": GROUP, "user_id": user, "anonymous": None,
            "message": [{"type": "text", "data": {"text": text}}], "raw_message": text, "font": 0,
            "sender": {"user_id": user, "nickname": nickname, "card": nickname, "role": "member"},
        }
    )  # fmt: skip
    assert isinstance(event, GroupMessageEvent)
    return event


_ids = iter(range(900_000, 10**7))


def _next_id() -> int:
    return next(_ids)


def dm(text: str, user: int = OWNER) -> PrivateMessageEvent:
    return private_event(text, user_id=user)


async def said(app: App, event: Any) -> str:
    return (await reply_to(app, event)).extract_plain_text()


async def a_known_owner(app: App, desk: Desk) -> int:
    """Leaves the owner's traces in every feature; returns their lead number."""
    await said(app, group(f"这车{WORDS}？"))
    created = await said(app, group("发起活动 试驾会 周六上午10点 店里 20人", MANAGER_QQ, "经理"))
    assert created.startswith("已发起活动 #1"), created
    assert "已报名" in await said(app, group("报名 1 2人 带老婆"))
    assert "签到成功" in await said(app, group("签到"))
    assert "推荐码" in await said(app, dm("推荐码"))
    assert "感谢推荐" in await said(app, dm(f"推荐 老李 {FRIEND_PHONE}"))
    captured = await desk.capture(channel="qq_dm", qq_id=str(OWNER), phone=PHONE, name=NAME)
    return captured.lead.id


async def leftovers(desk: Desk) -> list[str]:
    """Rows of any table that still hold the owner's phone, name, QQ id or words."""
    found = []
    async with desk.db.reader() as session:
        for table in sorted(await table_names(desk)):
            result = await session.execute(text(f'SELECT * FROM "{table}"'))
            for row in result.all():
                line = " | ".join(str(v) for v in row)
                if any(s in line for s in SECRETS):
                    found.append(f"{table}: {line}")
    return found


async def consultant_dms(desk: Desk, kind: str) -> list[dict[str, Any]]:
    async with desk.db.reader() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))
        return [dict(r.payload) | {"to": r.address} for r in rows]


# -- 删除我的信息 -------------------------------------------------------------------------------


async def test_erasure_waits_for_the_confirmation_then_leaves_nothing(app: App, desk: Desk) -> None:
    lead_id = await a_known_owner(app, desk)

    prompt = await ask(app, dm("删除我的信息"))
    assert f"线索 #{lead_id}" in prompt and "活动报名 1 条" in prompt
    assert "积分和签到" in prompt and "推荐码和推荐记录" in prompt and "确认删除" in prompt
    assert await leftovers(desk)  # nothing erased before the confirmation

    done = await ask(app, dm("确认删除"))

    assert done == texts().ERASED_SELF.format(lead=texts().ERASED_SELF_LEAD)
    assert await leftovers(desk) == []
    assert await consultant_dms(desk, "lead_erased") == [
        {"lead_id": lead_id, "by": "person", "to": str(CONSULTANT_QQ)}
    ]
    # the counts stay: the event still had one party of two, the friend is still a lead
    async with desk.db.reader() as session:
        party = await session.scalar(text("SELECT party FROM event_signups"))
        audits = (await session.scalars(select(PrivacyAudit.action))).all()
    assert party == 2 and list(audits) == ["erase"]
    assert await desk.find_lead(phone=FRIEND_PHONE) is not None
    assert await ask(app, dm("我的信息")) == texts().NOTHING_KEPT


async def test_any_other_reply_cancels(app: App, desk: Desk) -> None:
    await a_known_owner(app, desk)
    await ask(app, dm("删除我的信息"))

    assert await ask(app, dm("算了")) == texts().CANCELLED
    assert await ask(app, dm("确认删除")) == texts().NOTHING_PENDING.format(minutes=5)
    assert await desk.find_lead(qq_id=str(OWNER)) is not None


async def test_a_late_confirmation_erases_nothing(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    await a_known_owner(app, desk)
    await ask(app, dm("删除我的信息"))
    desk_clock.set(desk_clock.now() + timedelta(minutes=6))

    assert await ask(app, dm("确认删除")) == texts().NOTHING_PENDING.format(minutes=5)
    assert await desk.find_lead(qq_id=str(OWNER)) is not None


async def test_a_confirmation_from_someone_else_does_nothing(app: App, desk: Desk) -> None:
    await a_known_owner(app, desk)
    await ask(app, dm("删除我的信息"))

    assert await ask(app, dm("确认删除", user=30003)) == texts().NOTHING_PENDING.format(minutes=5)
    assert await ask(app, dm("确认删除")) == texts().ERASED_SELF.format(
        lead=texts().ERASED_SELF_LEAD
    )


async def test_in_a_group_the_commands_only_point_to_the_dm(app: App, desk: Desk) -> None:
    await a_known_owner(app, desk)

    for word in ("我的信息", "删除我的信息"):
        answer = await said(app, group(word))
        assert answer == texts().DM_ONLY.format(word=word)
    await no_reply(app, group("确认删除"))
    assert await desk.find_lead(qq_id=str(OWNER)) is not None


async def test_nothing_kept_nothing_to_confirm(app: App) -> None:
    assert await ask(app, dm("删除我的信息", user=30003)) == texts().NOTHING_KEPT


# -- 我的信息 --------------------------------------------------------------------------------


async def test_my_information_lists_what_is_kept(app: App, desk: Desk) -> None:
    lead_id = await a_known_owner(app, desk)

    answer = await ask(app, dm("我的信息"))

    lines = answer.splitlines()
    assert lines[0] == "【我的信息】"
    assert lines[1] == f"线索 #{lead_id} · 新线索 · 顾问 王顾问"
    assert f"QQ {OWNER}" in answer and f"手机 {PHONE}" in answer
    assert f"这车{WORDS}？" in answer
    assert "#1 试驾会" in answer and "2人 已报名" in answer
    assert "积分 " in answer and "签到 1 次" in answer
    assert "推荐码 " in answer and "推荐了 1 位朋友" in answer
    assert FRIEND_PHONE not in answer  # the friend's data is the friend's
    async with desk.db.reader() as session:
        audits = (await session.scalars(select(PrivacyAudit.action))).all()
    assert list(audits) == ["access"]


# -- 删除线索 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("manager", [MANAGER_QQ, ROSTER_MANAGER_QQ], ids=["superuser", "roster"])
async def test_a_manager_erases_a_lead_after_confirming(app: App, desk: Desk, manager: int) -> None:
    lead_id = await a_known_owner(app, desk)

    prompt = await ask(app, dm(f"删除线索 {lead_id}", manager))
    assert prompt == texts().CONFIRM_LEAD.format(lead_id=lead_id, minutes=5)
    done = await ask(app, dm("确认删除", manager))

    assert done.startswith(f"已删除线索 #{lead_id} 的个人信息")
    assert not any(s in done for s in SECRETS)
    assert await leftovers(desk) == []
    assert await consultant_dms(desk, "lead_erased") == [
        {"lead_id": lead_id, "by": "manager", "to": str(CONSULTANT_QQ)}
    ]


async def test_a_consultant_may_not_erase_a_lead(app: App, desk: Desk) -> None:
    lead_id = await a_known_owner(app, desk)

    assert await ask(app, dm(f"删除线索 {lead_id}", CONSULTANT_QQ)) == ROLE_REFUSAL[MANAGER]
    assert await said(app, group(f"删除线索 {lead_id}", CONSULTANT_QQ)) == ROLE_REFUSAL[MANAGER]
    assert await ask(app, dm(f"删除线索 {lead_id}", OWNER)) == ROLE_REFUSAL[MANAGER]
    assert await ask(app, dm("确认删除", CONSULTANT_QQ)) == texts().NOTHING_PENDING.format(
        minutes=5
    )
    assert await desk.find_lead(qq_id=str(OWNER)) is not None


async def test_lead_erasure_is_dm_only_and_checks_its_number(app: App, desk: Desk) -> None:
    lead_id = await a_known_owner(app, desk)

    assert await said(app, group(f"删除线索 {lead_id}", MANAGER_QQ)) == texts().DM_ONLY.format(
        word="删除线索"
    )
    assert await ask(app, dm("删除线索 abc", MANAGER_QQ)) == texts().USAGE_LEAD
    assert await ask(app, dm("删除线索 999", MANAGER_QQ)) == texts().LEAD_NOT_FOUND.format(
        lead_id=999
    )
    assert await desk.find_lead(qq_id=str(OWNER)) is not None


async def test_help_lists_the_commands_by_role(app: App) -> None:
    member = await ask(app, dm("帮助", 30003))
    manager = await ask(app, dm("帮助", MANAGER_QQ))
    assert "我的信息" in member and "删除我的信息" in member and "删除线索" not in member
    assert "删除线索 <号>" in manager
    assert "确认删除 ——" not in manager  # hidden: the prompt tells it


async def test_an_owners_record_is_shown_and_erased(app: App, desk: Desk) -> None:
    """An owner from the dealer's list (desk.owners), never a lead: 我的信息 shows the
    record, 删除我的信息 names it and, confirmed, leaves nothing of it."""
    from desk.imports.rows import OwnerRow

    rows = [OwnerRow(line=2, name=NAME, phone=PHONE, qq_id=str(OWNER), car_model="汉EV")]
    await desk.import_owners(rows)
    mine = await ask(app, dm("我的信息"))
    assert f"车主档案：姓名 {NAME}，电话 {PHONE}，QQ {OWNER}，车型 汉EV" in mine, mine
    prompt = await ask(app, dm("删除我的信息"))
    assert texts().SUMMARY_OWNER in prompt, prompt
    await ask(app, dm("确认删除"))
    assert await leftovers(desk) == []
    assert not await desk.is_owner(phone=PHONE)
