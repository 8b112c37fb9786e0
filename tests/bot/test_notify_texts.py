"""The staff DMs as the desk produces them: each kind from a real desk flow,
rendered, with the lead's actual number, name, phone, consultant, counts and
times in the text (a renamed payload key fails here, see tests/conftest.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from desk import Desk, FrozenClock, MemberView
from desk.imports.rows import LeadRow
from desk.views import OutboxItem
from tests.support.nonebot_env import CONSULTANT_QQ, ROSTER_MANAGER_QQ

TZ = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


async def member(desk: Desk, qq: int) -> MemberView:
    found = await desk.member_by(qq_id=str(qq))
    assert found is not None
    return found


async def dms(desk: Desk, kind: str) -> list[tuple[str | None, str]]:
    """(address, rendered text) of each queued notification of `kind`."""
    from bot.notify_texts import render

    items: list[OutboxItem] = await desk.claim_notifications(limit=500)
    return [
        (i.address, render(i.kind, i.payload, desk.settings.tz)) for i in items if i.kind == kind
    ]


async def capture_zhang(desk: Desk, **fields: Any) -> int:
    defaults: dict[str, Any] = {"channel": "autohome", "phone": "13812345678", "name": "张先生",
                                "car_model": "汉EV", "message": "想看看  汉EV 的价格"}  # fmt: skip
    return (await desk.capture(**(defaults | fields))).lead.id


async def test_unassigned_lead_goes_to_the_managers(desk: Desk) -> None:
    await desk.set_on_duty((await member(desk, CONSULTANT_QQ)).id, False)
    lead = await capture_zhang(desk)
    assert await dms(desk, "unassigned_lead") == [(
        str(ROSTER_MANAGER_QQ),
        f"【待分配 #{lead}】没有在班顾问可接，来自 汽车之家\n"
        "张先生 13812345678 意向 汉EV\n"
        f"发送「分配 {lead} 顾问名」指派",
    )]  # fmt: skip


async def test_rejected_defeat_tells_the_consultant_when_to_call_next(desk: Desk) -> None:
    wang, manager = await member(desk, CONSULTANT_QQ), await member(desk, ROSTER_MANAGER_QQ)
    lead = await capture_zhang(desk)
    await desk.request_defeat(wang.actor(), lead, "价格太高")
    await desk.review_defeat(manager.actor(), lead, False)
    assert await dms(desk, "defeat_result") == [(
        str(CONSULTANT_QQ),
        f"【战败被驳回 #{lead}】张先生 13812345678 意向 汉EV\n请继续跟进，下次 11-28 周六 09:00",
    )]  # fmt: skip


async def test_lost_customer_coming_back_tells_the_consultant(
    desk: Desk, desk_clock: FrozenClock
) -> None:
    wang, manager = await member(desk, CONSULTANT_QQ), await member(desk, ROSTER_MANAGER_QQ)
    lead = await capture_zhang(desk)
    await desk.request_defeat(wang.actor(), lead, "价格太高")
    await desk.review_defeat(manager.actor(), lead, True)
    desk_clock.set(local(2026, 12, 3, 15, 0))
    await desk.capture(channel="qq_group:123456", group_id="123456", phone="13812345678",
                       message="又想看看了")  # fmt: skip
    assert await dms(desk, "lead_returned") == [(
        str(CONSULTANT_QQ),
        f"【战败客户回流】#{lead} 张先生 13812345678 意向 汉EV\n又从 QQ群 联系我们\n"
        "原话：又想看看了\n当前：新线索，下次跟进 12-03 周四 17:00",
    )]  # fmt: skip


async def test_overdue_first_contact_names_the_consultant(
    desk: Desk, desk_clock: FrozenClock
) -> None:
    first = await capture_zhang(desk)
    second = await capture_zhang(desk, phone="13900001111", name="李女士", car_model=None,
                                 channel="qq_group:123456", group_id="123456")  # fmt: skip
    desk_clock.set(local(2026, 11, 27, 12, 1))  # two hours to call them
    await desk.run_schedules()
    assert await dms(desk, "first_contact_overdue") == [
        (str(ROSTER_MANAGER_QQ),
         f"【首次联系超时 #{first}】王顾问 未在时限内联系\n客户：张先生 13812345678 意向 汉EV（汽车之家）"),
        (str(ROSTER_MANAGER_QQ),
         f"【首次联系超时 #{second}】王顾问 未在时限内联系\n客户：李女士 13900001111（QQ群 123456）"),
    ]  # fmt: skip


async def test_morning_task_list_lists_each_kind_of_task(
    desk: Desk, desk_clock: FrozenClock
) -> None:
    wang, manager = await member(desk, CONSULTANT_QQ), await member(desk, ROSTER_MANAGER_QQ)
    actor = wang.actor()
    desk_clock.set(local(2026, 10, 28, 10, 0))
    lost = await capture_zhang(desk, name="钱先生", phone="13700000001")
    await desk.request_defeat(actor, lost, "预算不够")
    await desk.review_defeat(manager.actor(), lost, True)  # revisit in 30 days: 11-27
    desk_clock.set(local(2026, 11, 20, 10, 0))
    overdue = await capture_zhang(desk, name="老赵", phone="13700000002")
    await desk.follow_up(actor, overdue, "考虑中", level="H")  # due 11-22, never done
    desk_clock.set(local(2026, 11, 25, 10, 0))
    due_today = await capture_zhang(desk, name="孙女士", phone="13700000003")
    await desk.follow_up(actor, due_today, "下周回访", level="H")
    to_confirm = await capture_zhang(desk, name="周先生", phone="13700000004")
    await desk.invite(actor, to_confirm, local(2026, 11, 28, 14, 0))
    visiting = await capture_zhang(desk, name="吴女士", phone="13700000005")
    await desk.invite(actor, visiting, local(2026, 11, 27, 15, 0))
    desk_clock.set(local(2026, 11, 27, 8, 0))
    fresh = await capture_zhang(desk, name="郑先生", phone="13700000006")
    desk_clock.set(local(2026, 11, 27, 8, 30))
    await desk.run_schedules()
    got = dict(await dms(desk, "daily_digest"))[str(CONSULTANT_QQ)]
    assert got == "\n".join([
        "【今日任务 2026-11-27】",
        "⚠ 首次联系（1）", f"· #{fresh} 郑先生 N级 11-27 周五 11:00",
        "⚠ 逾期回访（1）", f"· #{overdue} 老赵 H级 11-22 周日 10:00",
        "今日到店（1）", f"· #{visiting} 吴女士 C级 11-27 周五 15:00",
        "明日到店待确认（1）", f"· #{to_confirm} 周先生 C级 11-28 周六 14:00",
        "今日回访（1）", f"· #{due_today} 孙女士 H级 11-27 周五 10:00",
        "战败回访（1）", f"· #{lost} 钱先生 F级 11-27 周五 10:00",
    ])  # fmt: skip


async def test_evening_report_counts_the_day(desk: Desk, desk_clock: FrozenClock) -> None:
    wang = await member(desk, CONSULTANT_QQ)
    actor = wang.actor()
    a = await capture_zhang(desk)
    await desk.follow_up(actor, a, "意向强", level="H")
    b = await capture_zhang(desk, name="李女士", phone="13900001111",
                            channel="qq_group:123456", group_id="123456")  # fmt: skip
    await desk.invite(actor, b, local(2026, 11, 27, 16, 0))
    await desk.record_visit(actor, b, "到店看车")
    await desk.record_order(actor, b, "下订")
    await desk.record_deal(actor, b, "提车")
    c = await capture_zhang(desk, name="赵先生", phone="13700002222", channel="baidu")
    await desk.invite(actor, c, local(2026, 11, 27, 11, 0))
    desk_clock.set(local(2026, 11, 27, 12, 0))
    await desk.record_no_show(actor, c)
    await desk.request_defeat(actor, c, "预算不够")
    await desk.set_on_duty(wang.id, False)
    await capture_zhang(desk, name="钱女士", phone="13600003333", channel="autohome")
    desk_clock.set(local(2026, 11, 27, 19, 0))
    await desk.run_schedules()
    assert await dms(desk, "daily_report") == [(
        str(ROSTER_MANAGER_QQ),
        "\n".join([
            "【日报 2026-11-27】",
            "回访 1/2",
            "新线索 4：汽车之家2、百度1、QQ群1",
            "邀约 2 · 到店 1 · 未到店 1",
            "下订 1 · 成交 1",
            "待审战败 1 · 待分配 1",
        ]),
    )]  # fmt: skip


async def test_an_import_sends_one_summary_per_consultant(desk: Desk) -> None:
    manager = await member(desk, ROSTER_MANAGER_QQ)
    await capture_zhang(desk)  # known: the import's row of this phone is a 撞单
    rows = [LeadRow(line=2, phone="13812345678", name="张先生")]
    rows += [LeadRow(line=3 + i, phone=f"1390000000{i}") for i in range(3)]
    await desk.import_leads(rows, source="dongchedi", actor=manager.actor())
    assert await dms(desk, "leads_imported") == [(
        str(CONSULTANT_QQ),
        "【导入线索】懂车帝\n分给您的新线索 3 条，请在工作时间内首次联系（发「今日」查看）\n"
        "撞单 1 条：您跟进的客户又在该平台留资，已记入线索时间线",
    )]  # fmt: skip


async def test_an_imports_unassigned_leads_go_to_the_managers_once(desk: Desk) -> None:
    manager = await member(desk, ROSTER_MANAGER_QQ)
    await desk.set_on_duty((await member(desk, CONSULTANT_QQ)).id, False)
    rows = [LeadRow(line=2 + i, phone=f"1390000000{i}") for i in range(4)]
    await desk.import_leads(rows, source="oem", actor=manager.actor())
    assert await dms(desk, "import_unassigned") == [(
        str(ROSTER_MANAGER_QQ),
        "【导入待分配】厂家线索 导入的新线索有 4 条没有顾问可接（无人在班或已达上限）\n请在待分配线索中指派",
    )]  # fmt: skip
