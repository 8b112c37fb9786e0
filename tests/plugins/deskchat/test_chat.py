"""线索台 in chat (spec §3.5) through nonebug, as consultants, managers and owners type it.

The desk fixture's clock stands at Friday 2026-11-27 10:00 Shanghai; 王顾问 (10001) is
the only consultant on duty, so every lead captured in a test is his.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import Bot, GroupMessageEvent, MessageEvent, PrivateMessageEvent
from nonebug import App
from sqlalchemy.exc import OperationalError

from bot.roles import CONSULTANT, MANAGER
from bot.texts import ROLE_REFUSAL
from desk import SYSTEM, Actor, Desk, FrozenClock, LeadView, MemberView
from tests.desk.conftest import database_url
from tests.support.chat import (
    ask,
    ask_charted,
    database_locked,
    handler_errors,
    logged,
    no_reply,
    reply_to,
)
from tests.support.clock import at
from tests.support.nonebot_env import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    OTHER_CONSULTANT_QQ,
    ROSTER_MANAGER_QQ,
    SELF_ID,
    adapter,
    group_event,
    private_event,
)

pytestmark = pytest.mark.usefixtures("desk")  # every plugin reads the roster

OWNER_QQ = 20001  # a car owner: in no roster, no superuser
MANAGERS = [
    pytest.param(MANAGER_QQ, id="superuser"),
    pytest.param(ROSTER_MANAGER_QQ, id="roster-manager"),
]
CONSULTANT_COMMANDS = ("今日", "线索", "跟进", "邀约", "确认", "到店", "未到店", "下订", "成交", "战败", "上班", "下班")  # fmt: skip
MANAGER_COMMANDS = ("线索统计", "审核", "分配", "添加顾问", "顾问列表", "待分配")
ALL_COMMANDS = CONSULTANT_COMMANDS + MANAGER_COMMANDS


def dm(user: int, text: str) -> PrivateMessageEvent:
    return private_event(text, user_id=user)


def group(user: int, text: str) -> GroupMessageEvent:
    return group_event(text, user_id=user)


Where = Callable[[int, str], MessageEvent]  # dm or group
WHERE = [pytest.param(dm, id="dm"), pytest.param(group, id="group")]


def texts() -> ModuleType:
    """The plugin's texts module, imported once the session has loaded the plugins."""
    from bot.plugins.deskchat import texts

    return texts


def usage(command: str) -> str:
    return texts().USAGE_PREFIX + texts().USAGE[command]


# Expected replies in parametrize lists, resolved when the test runs (the plugin's
# texts cannot be imported at collection, before the plugins are loaded).
class Usage(str):
    """The usage line of this command."""


class Text(str):
    """The texts constant of this name."""


class BadTime(str):
    """The "did not understand the time" line for this (shortened) text."""


def resolve(expected: str) -> str:
    if isinstance(expected, Usage):
        return usage(expected)
    if isinstance(expected, Text):
        return getattr(texts(), expected)
    if isinstance(expected, BadTime):
        return texts().BAD_TIME.format(text=expected)
    return expected


@pytest.fixture(autouse=True)
def _no_handler_crash() -> Iterator[None]:
    errors = handler_errors()
    yield
    assert not errors, f"a handler raised: {errors!r}"


async def new_lead(desk: Desk, qq: int = 30001, name: str = "张先生", **fields: Any) -> int:
    """A prospect from the owner group; goes to 王顾问, the one consultant on duty."""
    result = await desk.capture(
        channel="qq_group:123456", qq_id=str(qq), name=name, message="落地多少钱", **fields
    )
    return result.lead.id


async def member(desk: Desk, qq: int) -> MemberView:
    found = await desk.member_by(qq_id=str(qq))
    assert found is not None, qq
    return found


async def member_actor(desk: Desk, qq: int) -> Actor:
    return (await member(desk, qq)).actor()


async def lead_of(desk: Desk, lead_id: int) -> LeadView:
    return (await desk.lead(SYSTEM, lead_id)).lead


async def last_entry(desk: Desk, lead_id: int) -> tuple[str, str | None]:
    entry = (await desk.lead(SYSTEM, lead_id)).timeline[-1]
    return entry.action, entry.note


async def snapshot(desk: Desk) -> tuple[object, ...]:
    """Everything a command could change: roster, leads with their timelines, unassigned."""
    leads = [await desk.lead(SYSTEM, i) for i in range(1, 20) if await desk.lead_exists(i)]
    return tuple(await desk.members()), tuple(leads), tuple(await desk.unassigned_leads(100))


# --- consultant commands: the happy path -------------------------------------------------


async def test_today_lists_the_consultants_tasks(app: App, desk: Desk) -> None:
    assert await ask(app, dm(CONSULTANT_QQ, "今日")) == texts().TODAY_EMPTY
    await new_lead(desk)
    assert await ask(app, dm(CONSULTANT_QQ, "今日")) == (
        "【今日任务 2026-11-27】共 1 项\n⚠ 首次联系（1）\n· #1 张先生 N级 11-27 周五 12:00"
    )


async def test_today_lists_a_lead_told_of_after_hours(
    app: App, desk: Desk, desk_clock: FrozenClock
) -> None:
    """18:40 on a Sunday: the new-lead DM has just arrived, its first call is due
    tomorrow morning, and 今日 (like tomorrow's digest) lists it to be called."""
    desk_clock.set(at(12, 6, 18, 40))
    await new_lead(desk)
    assert await ask(app, dm(CONSULTANT_QQ, "今日")) == (
        "【今日任务 2026-12-06】共 1 项\n⚠ 首次联系（1）\n· #1 张先生 N级 12-07 周一 11:00"
    )


@pytest.mark.parametrize("ref", ["1", "#1", "＃1"])
async def test_detail_shows_the_lead_and_its_timeline(app: App, desk: Desk, ref: str) -> None:
    await new_lead(desk, phone="13812345678")
    assert await ask(app, dm(CONSULTANT_QQ, f"线索 {ref}")) == (
        "#1 张先生 13812345678\n"  # a DM to the lead's own consultant: the full phone
        "新线索 · N级 · 来源 qq_group:123456\n"
        "意向 — · 预计购车 —\n"
        "下次跟进 11-27 周五 12:00\n"
        "—— 记录 ——\n"
        "11-27 周五 10:00 新建 落地多少钱"
    )


async def test_follow_up_with_next_time_and_level(app: App, desk: Desk) -> None:
    lead_id = await new_lead(desk)
    reply = await ask(app, dm(CONSULTANT_QQ, "跟进 1 客户在比价 下次 周六上午10点 级别 a"))
    assert reply == texts().FOLLOWED.format(lead_id=1, level="A", due="11-28 周六 10:00")
    lead = await lead_of(desk, lead_id)
    assert (lead.stage, lead.level, lead.next_follow_up_at) == ("following", "A", at(11, 28, 10))
    assert lead.first_contacted_at is not None
    assert await last_entry(desk, lead_id) == ("follow_up", "客户在比价")


async def test_follow_up_with_purchase_time_sets_the_level(app: App, desk: Desk) -> None:
    lead_id = await new_lead(desk)
    reply = await ask(app, dm(CONSULTANT_QQ, "跟进 1 加了微信 购车 下周一"))
    # buys within 7 days: H, followed up every 2 days
    assert reply == texts().FOLLOWED.format(lead_id=1, level="H", due="11-29 周日 10:00")
    lead = await lead_of(desk, lead_id)
    assert (lead.level, lead.expected_purchase_at) == ("H", at(11, 30, 9))
    assert lead.next_follow_up_at == at(11, 29, 10)


async def test_follow_up_plain_gets_the_default_level(app: App, desk: Desk) -> None:
    lead_id = await new_lead(desk)
    reply = await ask(app, dm(CONSULTANT_QQ, "跟进 1 电话没人接"))
    assert reply == texts().FOLLOWED.format(lead_id=1, level="C", due="12-27 周日 10:00")
    assert (await lead_of(desk, lead_id)).next_follow_up_at == at(12, 27, 10)


async def test_invite_then_confirm(app: App, desk: Desk) -> None:
    lead_id = await new_lead(desk)
    reply = await ask(app, dm(CONSULTANT_QQ, "邀约 1 明天下午3点"))
    assert reply == texts().INVITED.format(
        lead_id=1, visit="11-28 周六 15:00", confirm="11-27 周五 10:00"
    )
    lead = await lead_of(desk, lead_id)
    assert (lead.stage, lead.expected_visit_at) == ("invited", at(11, 28, 15))

    assert await ask(app, dm(CONSULTANT_QQ, "确认 1 客户说准时到")) == texts().CONFIRMED.format(
        lead_id=1, visit="11-28 周六 15:00"
    )
    lead = await lead_of(desk, lead_id)
    assert (lead.stage, lead.next_follow_up_at) == ("confirmed", at(11, 28, 15))
    assert await last_entry(desk, lead_id) == ("confirm", "客户说准时到")


async def test_visit_records_the_showroom_result(app: App, desk: Desk) -> None:
    lead_id = await new_lead(desk)
    reply = await ask(app, dm(CONSULTANT_QQ, "到店 1 试驾了 很满意 级别 H"))
    assert reply == texts().VISITED.format(lead_id=1, count=1, due="11-29 周日 10:00")
    lead = await lead_of(desk, lead_id)
    assert (lead.stage, lead.level, lead.visit_count) == ("visited", "H", 1)
    assert await last_entry(desk, lead_id) == ("visit", "试驾了 很满意")

    reply = await ask(app, dm(CONSULTANT_QQ, "到店 1 下次 12月1号 14:00"))  # 再次进店
    assert reply == texts().VISITED.format(lead_id=1, count=2, due="12-01 周二 14:00")


async def test_no_show_goes_back_to_following(app: App, desk: Desk) -> None:
    lead_id = await new_lead(desk)
    await desk.invite(await member_actor(desk, CONSULTANT_QQ), lead_id, at(11, 28, 15))
    reply = await ask(app, dm(CONSULTANT_QQ, "未到店 1"))
    assert reply == texts().NO_SHOW.format(lead_id=1, due="11-28 周六 09:00")
    lead = await lead_of(desk, lead_id)
    assert (lead.stage, lead.expected_visit_at, lead.next_follow_up_at) == (
        "following", None, at(11, 28, 9),
    )  # fmt: skip


async def test_order_then_deal(app: App, desk: Desk) -> None:
    lead_id = await new_lead(desk)
    await desk.record_visit(await member_actor(desk, CONSULTANT_QQ), lead_id)
    reply = await ask(app, dm(CONSULTANT_QQ, "下订 1 定金5000"))
    assert reply == texts().ORDERED.format(lead_id=1, due="12-04 周五 10:00")
    lead = await lead_of(desk, lead_id)
    assert (lead.stage, lead.level, lead.next_follow_up_at) == ("ordered", "O", at(12, 4, 10))

    assert await ask(app, dm(CONSULTANT_QQ, "成交 1")) == texts().WON.format(lead_id=1)
    lead = await lead_of(desk, lead_id)
    assert (lead.stage, lead.next_follow_up_at) == ("won", None)


async def test_a_step_the_stage_does_not_allow(app: App, desk: Desk) -> None:
    await new_lead(desk)
    before = await snapshot(desk)
    assert await ask(app, dm(CONSULTANT_QQ, "成交 1")) == "#1 当前是「新线索」，不能记为成交。"
    assert await ask(app, dm(CONSULTANT_QQ, "确认 1")) == "#1 当前是「新线索」，不能确认到店。"
    assert await snapshot(desk) == before


async def test_defeat_request(app: App, desk: Desk) -> None:
    lead_id = await new_lead(desk)
    reply = await ask(app, dm(CONSULTANT_QQ, "战败 1 竞品 买了别家"))
    assert reply == texts().DEFEAT_REQUESTED.format(lead_id=1, category="竞品")
    lead = await lead_of(desk, lead_id)
    assert (lead.stage, lead.defeat_reason, lead.next_follow_up_at) == (
        "defeat_requested", "竞品 买了别家", None,
    )  # fmt: skip


async def test_a_superusers_only_manager_hears_of_a_defeat_request(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot as started: SUPERUSERS (90001, the usual NoneBot way) and a roster
    without managers. The 战败 request still reaches a manager, by QQ DM."""
    from bot import desk_runtime

    config = tmp_path / "started"
    config.mkdir()
    (config / "roster.toml").write_text(
        f'[[member]]\nname = "王顾问"\nqq_id = "{CONSULTANT_QQ}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("DESK_CONFIG_DIR", str(config))
    monkeypatch.setenv("DESK_DATABASE_URL", database_url(config))
    monkeypatch.setattr(desk_runtime._Runtime, "settings", None)
    started = await desk_runtime.start_desk(background=False)
    try:
        lead_id = await new_lead(started)
        reply = await ask(app, dm(CONSULTANT_QQ, f"战败 {lead_id} 价格"))
        assert reply == texts().DEFEAT_REQUESTED.format(lead_id=lead_id, category="价格")
        told = [(i.kind, i.channel, i.address) for i in await started.claim_notifications()]
        assert ("defeat_review", "qq", str(MANAGER_QQ)) in told, told
    finally:
        await desk_runtime.stop_desk()


async def test_a_locked_database_gets_the_busy_reply_and_changes_nothing(
    app: App, desk: Desk
) -> None:
    """ "database is locked" after the busy timeout: the consultant is told to try
    again, nothing claims the step was recorded, and nothing was."""
    from bot.hooks import install_busy_reply
    from bot.notify_texts import BUSY

    install_busy_reply()
    lead_id = await new_lead(desk)
    before = await snapshot(desk)
    errors = handler_errors()
    async with database_locked(desk):
        reply = await ask(
            app, dm(CONSULTANT_QQ, f"跟进 {lead_id} 客户在比价 下次 明天上午10点"),
            raises=OperationalError,
        )  # fmt: skip
    assert reply == BUSY
    assert [type(e) for e in errors] == [OperationalError]
    errors.clear()  # the handler did raise: that is what this test is about
    assert await snapshot(desk) == before
    # the lock gone, the same line is recorded
    assert (await ask(app, dm(CONSULTANT_QQ, f"跟进 {lead_id} 客户在比价"))).startswith("已记录")


async def test_on_and_off_duty(app: App, desk: Desk) -> None:
    assert await ask(app, dm(OTHER_CONSULTANT_QQ, "上班")) == texts().ON_DUTY
    assert (await member(desk, OTHER_CONSULTANT_QQ)).on_duty
    assert await ask(app, dm(CONSULTANT_QQ, "下班")) == texts().OFF_DUTY
    assert not (await member(desk, CONSULTANT_QQ)).on_duty
    lead = await lead_of(desk, await new_lead(desk))  # now 李顾问 is the one on duty
    assert lead.consultant_id == (await member(desk, OTHER_CONSULTANT_QQ)).id


async def test_superuser_off_the_roster_cannot_go_on_duty(app: App) -> None:
    assert await ask(app, dm(MANAGER_QQ, "上班")) == ROLE_REFUSAL[CONSULTANT]


# --- manager commands: the happy path ------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "label"),
    [
        ("", "今日"),
        ("今日", "今日"),
        ("本周", "本周"),
        ("本月", "本月"),
        ("本季", "本季"),
        ("本年", "本年"),
    ],
)
async def test_stats(app: App, desk: Desk, arg: str, label: str) -> None:
    assert await ask(app, dm(MANAGER_QQ, f"线索统计 {arg}")) == f"【线索统计 {label}】暂无新线索"
    lead_id = await new_lead(desk)
    await new_lead(desk, qq=30002, name="李女士")
    await desk.follow_up(await member_actor(desk, CONSULTANT_QQ), lead_id, "聊过了")
    assert await ask_charted(app, dm(ROSTER_MANAGER_QQ, f"线索统计 {arg}")) == (
        f"【线索统计 {label}】\n"
        "线索 2 → 联系 1 → 邀约 0 → 到店 0 → 下订 0 → 成交 0\n"
        "邀约率 0% · 到店率 0% · 成交率 0%\n"
        "平均首次响应 0 分钟\n"
        "渠道：QQ群2\n"
        "顾问：王顾问2/成交0"
    )


async def test_stats_in_a_group(app: App, desk: Desk) -> None:
    await new_lead(desk, phone="13812345678")
    reply = await ask_charted(app, group(MANAGER_QQ, "/线索统计 本月"))
    assert reply.startswith("【线索统计 本月】\n线索 1 → 联系 0")
    assert "13812345678" not in reply


@pytest.mark.parametrize("where", WHERE)
async def test_stats_text_goes_out_when_the_chart_cannot_be_drawn(
    app: App, desk: Desk, where: Where, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(chart: object) -> bytes:
        raise RuntimeError("font unreadable, call 13812345678")

    monkeypatch.setattr("bot.charts.draw.render", broken)
    await new_lead(desk)
    with logged("WARNING") as lines:
        reply = await ask(app, where(MANAGER_QQ, "线索统计"))  # text only
    assert reply.startswith("【线索统计 今日】\n线索 1 → 联系 0")
    [line] = [line for line in lines if "not drawn" in line]
    assert "RuntimeError" in line and "13812345678" not in line, line


@pytest.mark.parametrize("manager", MANAGERS)
async def test_review_approve_with_revisit(app: App, desk: Desk, manager: int) -> None:
    lead_id = await new_lead(desk)
    await desk.request_defeat(await member_actor(desk, CONSULTANT_QQ), lead_id, "价格 太贵")
    reply = await ask(app, dm(manager, "审核 1 同意 回访 12月27号"))
    assert reply == texts().APPROVED.format(lead_id=1, due="12-27 周日 09:00")
    lead = await lead_of(desk, lead_id)
    assert (lead.stage, lead.level, lead.next_follow_up_at) == ("lost", "F", at(12, 27, 9))
    assert (await last_entry(desk, lead_id))[0] == "defeat_approved"


async def test_review_approve_default_revisit(app: App, desk: Desk) -> None:
    lead_id = await new_lead(desk)
    await desk.request_defeat(await member_actor(desk, CONSULTANT_QQ), lead_id, "暂缓购车")
    # managers may review in a group
    reply = await ask(app, group(ROSTER_MANAGER_QQ, "审核 #1 同意"))
    assert reply == texts().APPROVED.format(lead_id=1, due="12-27 周日 10:00")  # F: +30 days


async def test_review_reject(app: App, desk: Desk) -> None:
    lead_id = await new_lead(desk)
    await desk.request_defeat(await member_actor(desk, CONSULTANT_QQ), lead_id, "联系不上")
    reply = await ask(app, dm(MANAGER_QQ, "审核 1 驳回"))
    assert reply == texts().REJECTED.format(lead_id=1, due="11-28 周六 09:00")
    lead = await lead_of(desk, lead_id)
    assert (lead.stage, lead.next_follow_up_at) == ("following", at(11, 28, 9))


@pytest.mark.parametrize("target", ["李顾问", str(OTHER_CONSULTANT_QQ)])
@pytest.mark.parametrize("manager", MANAGERS)
async def test_assign(app: App, desk: Desk, manager: int, target: str) -> None:
    lead_id = await new_lead(desk)
    reply = await ask(app, dm(manager, f"分配 {lead_id} {target}"))
    assert reply == texts().ASSIGNED.format(lead_id=1, name="李顾问")
    li = await member(desk, OTHER_CONSULTANT_QQ)
    assert (await lead_of(desk, lead_id)).consultant_id == li.id


async def test_assign_to_someone_unknown(app: App, desk: Desk) -> None:
    await new_lead(desk)
    before = await snapshot(desk)
    reply = await ask(app, dm(MANAGER_QQ, "分配 1 赵顾问"))
    assert reply == texts().MEMBER_NOT_FOUND.format(name="赵顾问")
    assert await snapshot(desk) == before


@pytest.mark.parametrize("manager", MANAGERS)
async def test_add_consultant(app: App, desk: Desk, manager: int) -> None:
    reply = await ask(app, dm(manager, "添加顾问 123456789 陈顾问"))
    assert reply == texts().MEMBER_ADDED.format(name="陈顾问", qq="123456789")
    added = await member(desk, 123456789)
    assert (added.name, added.role, added.on_duty) == ("陈顾问", "consultant", True)
    # the new consultant may use the consultant commands at once
    assert await ask(app, dm(123456789, "今日")) == texts().TODAY_EMPTY
    assert await ask(app, dm(manager, "添加顾问 123456789 陈顾问")) == texts().DUPLICATE_MEMBER


async def test_member_list(app: App, desk: Desk) -> None:
    assert await ask(app, dm(MANAGER_QQ, "顾问列表")) == (
        "【顾问列表】\n· 王顾问 QQ10001 在班\n· 李顾问 QQ10002 下班\n· 周经理 QQ90002 经理"
    )
    # Staff QQ ids and WeCom accounts are not for the group: it is pointed to a DM.
    assert await ask(app, group(MANAGER_QQ, "顾问列表")) == texts().STAFF_LIST_DM_ONLY


async def test_unassigned(app: App, desk: Desk) -> None:
    assert await ask(app, dm(MANAGER_QQ, "待分配")) == texts().NO_UNASSIGNED
    await desk.set_on_duty((await member(desk, CONSULTANT_QQ)).id, False)
    await new_lead(desk, phone="13812345678")  # nobody on duty
    expected = "【待分配 1】\n· #1 张先生 QQ群 11-27 周五 10:00\n发送「分配 <号> <顾问>」指派"
    assert await ask(app, dm(MANAGER_QQ, "待分配")) == expected
    assert await ask(app, group(ROSTER_MANAGER_QQ, "待分配")) == texts().LEAD_LIST_DM_ONLY
    assert await ask(app, dm(MANAGER_QQ, "今日")) == expected  # a superuser has no own tasks


# --- command words ---------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/", "／", "/ "])
async def test_with_or_without_slash(app: App, desk: Desk, prefix: str) -> None:
    await new_lead(desk)
    assert await ask(app, dm(CONSULTANT_QQ, f"{prefix}跟进 1 聊过了")) == texts().FOLLOWED.format(
        lead_id=1, level="C", due="12-27 周日 10:00"
    )
    assert (await ask(app, dm(MANAGER_QQ, f"{prefix}顾问列表"))).startswith("【顾问列表】")


@pytest.mark.parametrize(
    "text", ["成交了没", "今日油价", "线索统计本月", "跟进一下那个客户", "上班好累"]
)
async def test_not_commands(app: App, desk: Desk, text: str) -> None:
    from bot.plugins.deskchat import desk_command

    await new_lead(desk)
    before = await snapshot(desk)
    for user in (CONSULTANT_QQ, MANAGER_QQ, OWNER_QQ):
        for event in (dm(user, text), group(user, text)):
            async with app.test_matcher() as ctx:
                bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
                ctx.receive_event(bot, event)
                ctx.should_not_pass_rule(desk_command)  # and no other plugin answers
    assert await snapshot(desk) == before


# --- who may use what ------------------------------------------------------------------------


def example(command: str) -> str:
    """A well-formed use of each command, on lead #1."""
    return {
        "线索": "线索 1", "跟进": "跟进 1 聊过了", "邀约": "邀约 1 明天下午3点", "确认": "确认 1",
        "到店": "到店 1", "未到店": "未到店 1", "下订": "下订 1", "成交": "成交 1", "战败": "战败 1 价格",
        "审核": "审核 1 同意", "分配": "分配 1 李顾问", "添加顾问": "添加顾问 12345 张三",
    }.get(command, command)  # fmt: skip


async def test_an_owners_question_starting_with_a_command_word_reaches_intent(
    app: App, desk: Desk
) -> None:
    """ "到店 …" from a customer in a DM is a question, not a staff command: no
    "staff only" line, and the intent plugin makes it a lead."""
    reply = await ask(app, dm(OWNER_QQ, "到店 周六上午可以看车吗？落地多少钱"))
    assert reply != ROLE_REFUSAL[CONSULTANT]
    lead = await desk.find_lead(qq_id=str(OWNER_QQ))
    assert lead is not None and lead.channel == "qq_dm"


@pytest.mark.parametrize("command", ALL_COMMANDS)
async def test_owner_in_dm_is_told_it_is_for_staff(app: App, desk: Desk, command: str) -> None:
    """The one refusal of the word's role (bot.texts): a manager's word is for managers."""
    await new_lead(desk)
    before = await snapshot(desk)
    role = MANAGER if command in MANAGER_COMMANDS else CONSULTANT
    assert await ask(app, dm(OWNER_QQ, example(command))) == ROLE_REFUSAL[role]
    assert await snapshot(desk) == before


@pytest.mark.parametrize("command", ALL_COMMANDS)
async def test_owner_in_group_gets_no_desk_reply(app: App, desk: Desk, command: str) -> None:
    """The desk stays silent; the words go on to the intent plugin, which may
    judge them purchase intent (下订 …) and acknowledge the owner as a prospect."""
    from bot.plugins.intent import VOCABULARY
    from features.intent.detect import detect_intent

    await new_lead(desk)
    before = await snapshot(desk)
    if detect_intent(example(command), VOCABULARY) is None:
        await no_reply(app, group(OWNER_QQ, example(command)))
        await no_reply(app, group(OWNER_QQ, "/" + example(command)))
        assert await snapshot(desk) == before
    else:
        answer = await reply_to(app, group(OWNER_QQ, example(command)))
        assert answer.extract_plain_text().strip().startswith("已")  # the intent acknowledgement
        assert await desk.find_lead(qq_id=str(OWNER_QQ)) is not None


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("command", MANAGER_COMMANDS)
async def test_consultant_cannot_use_manager_commands(
    app: App, desk: Desk, command: str, where: Where
) -> None:
    lead_id = await new_lead(desk)
    await desk.request_defeat(await member_actor(desk, CONSULTANT_QQ), lead_id, "价格")
    before = await snapshot(desk)
    assert await ask(app, where(CONSULTANT_QQ, example(command))) == ROLE_REFUSAL[MANAGER]
    assert await snapshot(desk) == before


@pytest.mark.parametrize(
    "command", ["线索", "跟进", "邀约", "确认", "到店", "未到店", "下订", "成交", "战败"]
)
async def test_consultant_cannot_touch_another_consultants_lead(
    app: App, desk: Desk, command: str
) -> None:
    lead_id = await new_lead(desk)
    li = await member(desk, OTHER_CONSULTANT_QQ)
    await desk.assign(SYSTEM, lead_id, li.id)
    await desk.invite(li.actor(), lead_id, at(11, 28, 15))  # a stage every command accepts…
    before = await snapshot(desk)
    reply = await ask(app, dm(CONSULTANT_QQ, example(command)))
    assert reply == texts().FORBIDDEN_GENERIC.format(message="只能操作自己的线索")  # …but not his
    assert await snapshot(desk) == before
    if command == "线索":  # its own consultant and the managers do see it
        assert (await ask(app, dm(OTHER_CONSULTANT_QQ, "线索 1"))).startswith("#1 张先生")
        assert (await ask(app, dm(ROSTER_MANAGER_QQ, "线索 1"))).startswith("#1 张先生")


@pytest.mark.parametrize("manager", MANAGERS)
async def test_managers_act_on_any_lead(app: App, desk: Desk, manager: int) -> None:
    lead_id = await new_lead(desk)
    assert await ask(app, dm(manager, "跟进 1 经理回访 级别 B")) == texts().FOLLOWED.format(
        lead_id=1, level="B", due="12-11 周五 10:00"
    )
    assert (await lead_of(desk, lead_id)).level == "B"


@pytest.mark.parametrize("command", CONSULTANT_COMMANDS)
async def test_consultant_commands_are_dm_only(app: App, desk: Desk, command: str) -> None:
    await new_lead(desk, phone="13812345678")
    before = await snapshot(desk)
    for user in (CONSULTANT_QQ, MANAGER_QQ, ROSTER_MANAGER_QQ):
        assert await ask(app, group(user, example(command))) == texts().DM_ONLY
    assert await snapshot(desk) == before


# --- wrong arguments and bad input -------------------------------------------------------------

BAD_INPUT = {
    "empty": "",
    "10kB": "x" * 10_240,
    "emoji": "🚗💨😀",
    "sql": "'; DROP TABLE leads;--",
    "minus-one": "-1",
    "zero": "0",
    "huge": "99999999999999999999",
}
COMMANDS_WITH_ARGS = ["线索", "跟进", "邀约", "确认", "到店", "未到店", "下订", "成交", "战败",
                      "线索统计", "审核", "分配", "添加顾问"]  # fmt: skip
# Which bad arguments are answered "not a lead number" (the rest get the usage line):
# the number is checked once the command has as many words as it needs.
_ONE_WORD = ("emoji", "minus-one", "zero", "huge")
BAD_LEAD_NO_FOR = {
    "线索": _ONE_WORD,  # takes one number: sql's three words are too many
    "跟进": ("sql",),  # <号> <结果>: one word is too few, sql's three are enough
    "邀约": ("sql",),
    "战败": ("sql",),
    **dict.fromkeys(("确认", "到店", "未到店", "下订", "成交"), (*_ONE_WORD, "sql")),
}  # 线索统计, 审核, 分配 and 添加顾问 answer every one with their usage line
BAD_CASES = [
    pytest.param(command, bad, name in BAD_LEAD_NO_FOR.get(command, ()), id=f"{command}-{name}")
    for command in COMMANDS_WITH_ARGS
    for name, bad in BAD_INPUT.items()
    if not (command == "线索统计" and not bad)  # 线索统计 alone is today's stats
]


@pytest.fixture
async def busy_desk(desk: Desk) -> Desk:
    """Lead #1 new, #2 waiting for a 战败 review, #3 invited: something for every command."""
    wang = await member_actor(desk, CONSULTANT_QQ)
    await new_lead(desk)
    await desk.request_defeat(wang, await new_lead(desk, qq=30002, name="李女士"), "价格")
    await desk.invite(wang, await new_lead(desk, qq=30003, name="赵先生"), at(11, 28, 15))
    return desk


@pytest.mark.parametrize(("command", "bad", "bad_lead_no"), BAD_CASES)
async def test_bad_arguments_get_a_chinese_line_and_change_nothing(
    app: App, busy_desk: Desk, command: str, bad: str, bad_lead_no: bool
) -> None:
    user = MANAGER_QQ if command in MANAGER_COMMANDS else CONSULTANT_QQ
    before = await snapshot(busy_desk)
    reply = await ask(app, dm(user, f"{command} {bad}"))
    if len(bad) > 2000:
        assert reply == texts().TOO_LONG
    elif bad_lead_no:
        assert reply == texts().BAD_LEAD_NO
    else:
        assert reply == usage(command)
    assert await snapshot(busy_desk) == before


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("跟进 1", Usage("跟进")),
        ("跟进 1 下次 明天", Usage("跟进")),  # options but no result
        ("跟进 1 聊过了 下次 乱七八糟", BadTime("乱七八糟")),
        ("跟进 1 聊过了 下次 🚗", BadTime("🚗")),
        ("跟进 1 聊过了 级别 Z", "级别只能是 H、A、B、C。"),
        ("跟进 1 聊过了 购车 -1", BadTime("-1")),
        ("跟进 1 聊过了 下次 2020-01-01 10:00", "输入有误：时间已经过去了"),
        ("跟进 1 " + "长" * 2001, Text("TOO_LONG")),
        ("邀约 1", Usage("邀约")),
        ("邀约 1 99999999999999999999", BadTime("99999999999999999999")),
        ("邀约 1 '; DROP TABLE leads;--", BadTime("'; DROP TABLE leads…")),
        ("邀约 1 " + "x" * 500, BadTime("" + "x" * 19 + "…")),
        ("到店 1 级别 S", "级别只能是 H、A、B、C。"),
        ("战败 1", Usage("战败")),
        ("线索 1 2", Usage("线索")),
        ("线索 1234567890", Text("BAD_LEAD_NO")),
        ("线索 ١٢", "没有找到线索 #12。"),  # other digits read as digits: still no such lead
        ("确认 42", "没有找到线索 #42。"),
    ],
)
async def test_wrong_consultant_arguments(
    app: App, busy_desk: Desk, message: str, expected: str
) -> None:
    before = await snapshot(busy_desk)
    assert await ask(app, dm(CONSULTANT_QQ, message)) == resolve(expected)
    assert await snapshot(busy_desk) == before


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("线索统计 上月", Usage("线索统计")),
        ("线索统计 本月 本年", Usage("线索统计")),
        ("审核 2", Usage("审核")),
        ("审核 2 好的", Usage("审核")),
        ("审核 2 同意 回访 🚗", BadTime("🚗")),
        ("审核 1 同意", "#1 当前是「新线索」，不能审核战败。"),
        ("审核 42 驳回", "没有找到线索 #42。"),
        ("分配 1", Usage("分配")),
        ("分配 1 '; DROP TABLE leads;--", Usage("分配")),
        ("分配 1 🚗", "没有找到顾问「🚗」，发送「顾问列表」查看。"),
        ("分配 42 李顾问", "没有找到线索 #42。"),
        ("添加顾问 张三", Usage("添加顾问")),
        ("添加顾问 张三 12345", Usage("添加顾问")),
        ("添加顾问 12345", Usage("添加顾问")),
        ("添加顾问 99999999999999999999 张三", Usage("添加顾问")),
        ("添加顾问 -1 张三", Usage("添加顾问")),
        ("添加顾问 0 张三", Usage("添加顾问")),
        ("添加顾问 ²³⁴⁵⁶ 张三", Usage("添加顾问")),  # str.isdigit() says yes; not a QQ number
        ("添加顾问 12345 " + "名" * 33, "名字太长了，最多 32 个字。"),
    ],
)
async def test_wrong_manager_arguments(
    app: App, busy_desk: Desk, message: str, expected: str
) -> None:
    before = await snapshot(busy_desk)
    assert await ask(app, dm(MANAGER_QQ, message)) == resolve(expected)
    assert await snapshot(busy_desk) == before


@pytest.mark.parametrize(
    "note", ["'; DROP TABLE leads;--", "🚗💨 客户很满意😀", "<script>alert(1)</script>"]
)
async def test_odd_notes_are_stored_verbatim(app: App, desk: Desk, note: str) -> None:
    lead_id = await new_lead(desk)
    assert (await ask(app, dm(CONSULTANT_QQ, f"跟进 1 {note}"))).startswith("已记录 #1 跟进")
    assert await last_entry(desk, lead_id) == ("follow_up", note)
    assert await desk.lead_exists(lead_id)
