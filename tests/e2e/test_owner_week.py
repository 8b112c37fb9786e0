"""An owner group's week, Monday to Sunday, end to end: `python -m bot` with a
roster, one simulated QQ client (as NapCat would connect) on the real OneBot v11
WebSocket, the desk's clock moved a day at a time (spec §3.1-§3.3, §5).

The issue's words: "topics, check-ins, an event with waitlist and attendance, a
referral that visits and wins, and the manager's stats". What is asserted is
what the people in the group notice: the replies, the bot's posts into the
group, the DMs to the owners, the consultant and the manager.

Time: the bot runs with DESK_CLOCK_SHIFT_FILE; each day the bot is stopped, the
file moved to that day's hour and the bot started again on the same database
(a nightly restart): the restart must lose nothing, and the desk's schedule
loop (every minute) runs its jobs at once when it starts, which is how the
scheduled topic, the day-before reminder and the no-shows happen here without
waiting a minute. Monday is the first Monday after today in the desk's zone,
so every "now" is ahead of the real clock and the week is one calendar week
(群统计 本周).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.sim import ApiCall, OneBotClient, is_group_send
from tests.e2e.conftest import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    TOKEN,
    BotProcess,
    desk_env,
    message_text,
    midday_timezone,
    start_desk_bot,
    wait_for_dm,
    write_desk_config,
)

TIMEOUT = 15.0  # anything the bot does within a second or two (group posts are paced)
GROUP = 556001
SELF_ID = 889101
PHONE = "13812345678"
MASKED = "138****5678"
FRIEND = 30901  # invited into the group on Tuesday
OWNERS = {20001: "老张", 20002: "小李", 20003: "阿强", 20004: "王姐", 20005: "小周", 20006: "小赵"}
DEAL_REWARD = "保养套餐一次（价值1000元）"
WEEKDAYS = "一二三四五六日"
_NEW_LEAD = re.compile(r"【新线索 #(\d+)】")


@dataclass
class Week:
    """The group's week: the bot (restarted each day), the one QQ client, the clock."""

    workdir: Path
    env: dict[str, str]
    shift_file: Path
    tz: ZoneInfo
    monday: date
    qq: OneBotClient
    bot: BotProcess | None = None
    said: int = 0  # group messages people sent into GROUP (the bot counts them)
    speakers: set[int] = field(default_factory=set)
    checkins: int = 0
    event_no: int = 0
    lead_no: int = 0  # the friend 老张 referred by phone

    def day(self, n: int) -> date:
        """Day n of the week: 1 = Monday … 7 = Sunday."""
        return self.monday + timedelta(days=n - 1)

    def set_clock(self, n: int, hour: int) -> None:
        """The desk's now := day n at hour:00 local (plus the seconds the test runs)."""
        target = datetime.combine(self.day(n), time(hour), tzinfo=self.tz)
        shift = (target - datetime.now(UTC)).total_seconds()
        assert shift > 0, "the week is ahead of the real clock"
        tmp = self.shift_file.with_suffix(".tmp")
        tmp.write_text(f"{shift:.3f}", encoding="utf-8")
        tmp.replace(self.shift_file)

    async def start(self, n: int, hour: int = 10) -> None:
        """The bot (re)started on day n at hour:00; the QQ client connected again."""
        await self.stop()
        self.set_clock(n, hour)
        self.bot = start_desk_bot(self.workdir, self.env)
        self.qq.url = self.bot.ws_url
        await self.qq.connect()

    async def stop(self) -> None:
        await self.qq.close()
        if self.bot is not None:
            assert self.bot.stop() in (0, -15), self.bot.log()  # a clean SIGTERM shutdown
            self.bot = None


def first_monday_after(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def md(day: date) -> str:
    return f"{day.month}月{day.day}日"


# -- talking to the bot -------------------------------------------------------------------


def ats(call: ApiCall) -> list[str]:
    """The QQ ids a group message @-s, in order."""
    segments = call.params.get("message")
    if not isinstance(segments, list):
        return []
    return [str(s["data"]["qq"]) for s in segments if s.get("type") == "at"]


def group_calls(qq: OneBotClient, after: int = 0) -> list[ApiCall]:
    return [c for c in qq.calls[after:] if is_group_send(c, GROUP)]


async def say(week: Week, user: int, message: str | list[dict[str, Any]]) -> int:
    """`user` says something in the group; returns the mark to look for answers after."""
    mark = week.qq.mark()
    await week.qq.send_group_message(GROUP, user, message)
    week.said += 1
    week.speakers.add(user)
    return mark


async def posted(week: Week, *needles: str, after: int, at: int | None = None) -> ApiCall:
    """The next message the bot posts into the group containing every needle (and
    @-ing `at`, when given)."""

    def wanted(call: ApiCall) -> bool:
        text = message_text(call)
        return (
            is_group_send(call, GROUP)
            and all(n in text for n in needles)
            and (at is None or str(at) in ats(call))
        )

    try:
        return await week.qq.wait_for_call(None, wanted, TIMEOUT, after=after)
    except TimeoutError:
        seen = "\n---\n".join(message_text(c) for c in group_calls(week.qq, after)) or "(none)"
        log = week.bot.log() if week.bot else "(no bot)"
        raise AssertionError(
            f"no group post with {needles} within {TIMEOUT}s; posted since:\n{seen}\n\nbot log:\n{log}"
        ) from None


async def ask(week: Week, user: int, message: str | list[dict[str, Any]], *expect: str) -> str:
    """`user` sends a command in the group; the bot's answer @-ing them, containing `expect`."""
    mark = await say(week, user, message)
    return message_text(await posted(week, *expect, after=mark, at=user))


async def announce(week: Week, user: int, message: str | list[dict[str, Any]], *expect: str) -> str:
    """Like `ask`, for answers that @ nobody (lists, statistics, posts)."""
    mark = await say(week, user, message)
    return message_text(await posted(week, *expect, after=mark))


async def dm(week: Week, user: int, text: str, *expect: str) -> str:
    """`user` DMs the bot a command; the reply containing `expect`."""
    mark = week.qq.mark()
    await week.qq.send_private_message(user, text)
    return await wait_for_dm(week.qq, user, *expect, after=mark, timeout=TIMEOUT)


async def check_in(week: Week, user: int, *expect: str) -> str:
    reply = await ask(week, user, "签到", "签到成功", *expect)
    week.checkins += 1
    return reply


def checkin_points(streak: int) -> int:
    """config/activities.toml: 5, +1 a day of streak up to +5, +10 on every 7th day."""
    return 5 + min(streak - 1, 5) + (10 if streak % 7 == 0 else 0)


# -- the days -------------------------------------------------------------------------------


async def monday(week: Week) -> None:
    await week.start(1)
    qq = week.qq
    for user, name in OWNERS.items():
        qq.add_member(GROUP, user, name)
    qq.add_member(GROUP, MANAGER_QQ, "张经理", role="admin")

    # Topics: one now, one for tomorrow morning.
    mark = await say(week, MANAGER_QQ, "设置话题 冬季用车心得")
    await posted(week, "已设为今日话题", "冬季用车心得", after=mark)
    await posted(week, "【今日话题】冬季用车心得", after=mark)
    tuesday = week.day(2)
    await announce(
        week, MANAGER_QQ, "设置话题 周末自驾路线推荐 明天上午9点",
        f"{tuesday:%m-%d} 周二 09:00 发布话题「周末自驾路线推荐」",  # bot.formatting.when
    )  # fmt: skip

    # Check-ins, points, the board.
    reply = await check_in(week, 20001, "今日第1名", "获得 5 积分", "连续签到 1 天，累计 5 积分")
    assert "连签奖励" not in reply, reply
    await check_in(week, 20002, "今日第2名", "累计 5 积分")
    await check_in(week, 20003, "今日第3名")
    again = await ask(week, 20001, "签到", "今天已经签到过了")
    assert "累计 5 积分" in again, again
    await ask(week, 20002, "积分", "累计 5 积分｜连续签到 1 天｜本群排名：第2名")
    board = await announce(week, 20005, "积分榜", "🏆 本群积分榜")
    assert board.splitlines()[1:] == ["1. 老张  5分", "2. 小李  5分", "3. 阿强  5分"], board

    # Thursday's test drive: two seats; the third owner waits.
    thursday = week.day(4)
    created = await announce(
        week, MANAGER_QQ, f"发起活动 试驾会 {md(thursday)}下午2点 店里 2人", "已发起活动 #"
    )
    found = re.search(r"已发起活动 #(\d+)「试驾会」", created)
    assert found, created
    week.event_no = n = int(found.group(1))
    assert f"时间：{thursday:%m-%d} 周四 14:00" in created and "名额：2" in created, created
    await ask(week, 20002, f"报名 {n}", f"已报名活动 #{n}「试驾会」，1人")
    await ask(week, 20003, f"报名 {n}", f"已报名活动 #{n}「试驾会」，1人")
    await ask(week, 20004, f"报名 {n}", "名额已满", "候补第 1 位")
    listing = await announce(week, 20005, "活动", "本群活动")
    assert f"#{n} 试驾会" in listing and "已满" in listing and "候补 1 组" in listing, listing

    # Referrals: a personal code; a friend referred by phone, in the group.
    code = await ask(week, 20006, "推荐码", "您的专属推荐码：TJ")
    assert "200 积分" in code and DEAL_REWARD in code, code
    mark = qq.mark()
    thanks = await ask(week, 20001, f"推荐 张三 {PHONE} 途观L", "感谢推荐！已登记：张三")
    assert MASKED in thanks and "私聊" in thanks, thanks
    new_lead = await wait_for_dm(qq, CONSULTANT_QQ, "【新线索 #", PHONE, after=mark)
    assert "来自 老客推荐" in new_lead and "意向 途观L" in new_lead, new_lead
    assert "老张" in new_lead and "推荐人：QQ 20001" in new_lead, new_lead  # who referred them
    lead = _NEW_LEAD.search(new_lead)
    assert lead, new_lead
    week.lead_no = lead_id = int(lead.group(1))

    # The consultant calls the friend the same day.
    await dm(
        week, CONSULTANT_QQ, f"跟进 {lead_id} 已电话联系，周四来看途观L", f"已记录 #{lead_id} 跟进"
    )


async def tuesday(week: Week) -> None:
    qq = week.qq
    mark = qq.mark()
    await week.start(2)
    # The topic scheduled yesterday for 09:00 is posted (the schedule ran at start).
    await posted(week, "【今日话题】周末自驾路线推荐", after=mark)
    await announce(week, 20005, "话题", "今日话题：周末自驾路线推荐")

    reply = await check_in(week, 20001, "今日第1名", "连续签到 2 天")
    assert f"获得 {checkin_points(2)} 积分（含连签奖励 1）" in reply, reply
    assert f"累计 {checkin_points(1) + checkin_points(2)} 积分" in reply, reply
    await check_in(week, 20002, "连续签到 2 天")
    await check_in(week, 20005, "连续签到 1 天")

    # Chat: counted, not answered.
    mark = qq.mark()
    for user, text in [
        (20003, "今天降温了，大家出门注意保暖"),
        (20004, "昨天跑了趟高速，油耗6个多"),
        (20002, "周末有人一起去洗车吗"),
        (20003, "哈哈哈"),
    ]:
        await say(week, user, text)

    # 小赵 invites a friend into the group: the friend is 小赵's referral, a lead.
    await qq.member_joins(GROUP, FRIEND, "小刘", invited_by=20006)
    invited = await wait_for_dm(qq, CONSULTANT_QQ, "【新线索 #", "QQ 20006", after=mark)
    assert "邀请进群的好友" in invited, invited
    assert group_calls(qq, mark) == [], [message_text(c) for c in group_calls(qq, mark)]


async def wednesday(week: Week) -> None:
    await week.start(3)
    n, lead_id = week.event_no, week.lead_no
    await check_in(week, 20001, "连续签到 3 天")
    await check_in(week, 20004, "连续签到 1 天")

    # 阿强 cannot come: 王姐 moves up from the waitlist and is told in the group.
    mark = await say(week, 20003, f"取消报名 {n}")
    cancelled = message_text(await posted(week, f"已取消活动 #{n}「试驾会」的报名", after=mark))
    assert "候补的 王姐 已转为报名成功" in cancelled, cancelled
    promoted = await posted(week, f"活动 #{n}「试驾会」有空位了", after=mark, at=20004)
    assert ats(promoted) == ["20004"], message_text(promoted)
    mine = await ask(week, 20004, "我的报名", f"#{n} 试驾会")
    assert "已报名" in mine and "候补" not in mine, mine

    # The consultant books the referred friend's visit for tomorrow afternoon.
    invited = await dm(week, CONSULTANT_QQ, f"邀约 {lead_id} 明天下午3点", f"已邀约 #{lead_id}")
    assert f"{week.day(4):%m-%d} 周四 15:00" in invited, invited

    # In the evening, the day-before reminder @-s everyone still signed up.
    mark = week.qq.mark()
    await week.start(3, hour=19)
    reminder = await posted(week, f"明天的活动提醒：#{n}「试驾会」", after=mark)
    assert sorted(ats(reminder)) == ["20002", "20004"], message_text(reminder)
    assert "地点：店里" in message_text(reminder), message_text(reminder)


async def thursday(week: Week) -> None:
    await week.start(4, hour=15)  # the test drive started at 14:00
    qq = week.qq
    n, lead_id = week.event_no, week.lead_no
    await check_in(week, 20001, "连续签到 4 天")
    await check_in(week, 20002, "连续签到 1 天")  # missed Wednesday: a new streak

    # The manager marks who came, by @-ing them; 王姐 did not come.
    attendance = [
        {"type": "text", "data": {"text": f"到场 {n} "}},
        {"type": "at", "data": {"qq": "20002"}},
    ]
    reply = await announce(week, MANAGER_QQ, attendance, f"活动 #{n} 已登记到场 1 人：小李")
    assert "王姐" not in reply, reply

    # The referred friend comes to the showroom: the referrer hears of it, with points.
    mark = qq.mark()
    await dm(
        week,
        CONSULTANT_QQ,
        f"到店 {lead_id} 试驾了途观L 很满意 级别 H",
        f"已记录 #{lead_id} 第 1 次到店",
    )
    visited = await wait_for_dm(qq, 20001, "好消息！您推荐的好友 张三", after=mark)
    assert MASKED in visited and "200 积分已到账" in visited and PHONE not in visited, visited


async def friday(week: Week) -> None:
    await week.start(5)  # the schedule ran: Thursday's no-shows are marked
    qq = week.qq
    lead_id = week.lead_no
    await check_in(week, 20001, "连续签到 5 天")

    await dm(week, CONSULTANT_QQ, f"下订 {lead_id} 定金5000", f"已记录 #{lead_id} 下订")
    mark = qq.mark()
    await dm(week, CONSULTANT_QQ, f"成交 {lead_id}", f"已记录 #{lead_id} 成交")
    won = await wait_for_dm(qq, 20001, "恭喜！您推荐的好友 张三", "已成交", after=mark)
    assert DEAL_REWARD in won and PHONE not in won, won

    ledger = await dm(week, MANAGER_QQ, "奖励台账", "待发放的推荐奖励（1 条）")
    row = re.search(rf"#(\d+) 待发放 · 推荐人 老张（QQ 20001） · 好友 张三 {re.escape(MASKED)} · {re.escape(DEAL_REWARD)}", ledger)  # fmt: skip
    assert row, ledger
    reward = int(row.group(1))
    mark = qq.mark()
    done = await dm(week, MANAGER_QQ, f"奖励台账 发放 {reward}", f"已登记发放：#{reward}")
    assert "已私信通知推荐人" in done, done
    told = await wait_for_dm(qq, 20001, "的奖励「", "已发放", after=mark)
    assert DEAL_REWARD in told, told
    again = await dm(week, MANAGER_QQ, "奖励台账", "没有待发放的推荐奖励")
    assert f"#{reward}" not in again, again


async def saturday(week: Week) -> None:
    await week.start(6)
    n = week.event_no
    await check_in(week, 20001, "连续签到 6 天")
    await check_in(week, 20003, "连续签到 1 天")

    stats = await announce(week, MANAGER_QQ, f"活动统计 {n}", f"活动 #{n}「试驾会」统计")
    assert stats.endswith("[image]"), stats  # the text, then its chart
    for line in (
        "报名：2人（2组）/ 名额 2",
        "候补：0人（0组）",
        "取消：1组",
        "到场：1人（1组）",
        "未到场：1人（1组）",
    ):
        assert line in stats.splitlines(), stats

    mark = await say(week, MANAGER_QQ, f"导出报名 {n}")
    upload = await week.qq.wait_for_call("upload_group_file", None, TIMEOUT, after=mark)
    assert int(upload.params["group_id"]) == GROUP
    assert upload.params["name"] == f"活动{n}报名名单.xlsx", upload.params
    file = str(upload.params["file"])
    assert file.startswith("base64://"), file[:40]
    book = load_workbook(BytesIO(base64.b64decode(file.removeprefix("base64://"))))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert str(rows[0][0]).startswith(f"#{n} 试驾会 {week.day(4):%m-%d} 周四 14:00 店里"), rows[0]
    assert rows[1][:6] == ("序号", "昵称", "QQ", "人数", "车辆", "状态"), rows[1]
    people = [(r[1], str(r[2]), r[5]) for r in rows[2:]]
    assert people == [
        ("小李", "20002", "已到场"),
        ("阿强", "20003", "已取消"),
        ("王姐", "20004", "未到场"),
    ], rows


async def sunday(week: Week) -> None:
    await week.start(7)
    streak_total = sum(checkin_points(d) for d in range(1, 8))
    reply = await check_in(week, 20001, "连续签到 7 天")
    assert f"获得 {checkin_points(7)} 积分（含连签奖励 15）" in reply, reply
    await ask(
        week, 20001, "积分", f"累计 {streak_total + 200} 积分｜连续签到 7 天｜本群排名：第1名"
    )

    board = await announce(week, 20002, "推荐榜", "【累计推荐榜】")
    ever = board.split("【累计推荐榜】")[1].splitlines()
    assert ever[1:3] == ["1. 老张 —— 推荐 1 位，成交 1 位", "2. 小赵 —— 推荐 1 位"], board
    mine = await ask(week, 20001, "我的推荐", "您的推荐（共 1 位有效，推荐积分 200）")
    assert f"1. 张三 {MASKED} · 已成交 · +200积分 · 奖励：{DEAL_REWARD}（已发放）" in mine, mine

    # The manager's week: one join, every check-in, every message (commands too).
    stats = await announce(week, MANAGER_QQ, "群统计 本周", "📊 群统计（本周）")
    assert stats.endswith("[image]"), stats  # the text, then its chart
    lines = stats.removesuffix("[image]").splitlines()
    assert "新进群：1 人｜退群：0 人" in lines, stats
    assert f"签到：{week.checkins} 人次" in lines, stats
    # Counted although the bot was restarted every day (this 群统计 is counted too).
    assert f"发言人数：{len(week.speakers)} 人｜消息：{week.said} 条" in lines, stats


# -- the test -----------------------------------------------------------------------------------


async def test_an_owner_group_week(tmp_path: Path) -> None:
    zone = midday_timezone()
    shift_file = tmp_path / "clock-shift"
    env = {
        **desk_env(write_desk_config(tmp_path / "config"), zone),
        "DESK_CLOCK_SHIFT_FILE": str(shift_file),
    }
    tz = ZoneInfo(zone)
    qq = OneBotClient("ws://unused", self_id=SELF_ID, token=TOKEN)
    week = Week(
        tmp_path / "bot", env, shift_file, tz,
        first_monday_after(datetime.now(tz).date()), qq,
    )  # fmt: skip
    try:
        for play in (monday, tuesday, wednesday, thursday, friday, saturday, sunday):
            await play(week)
        # All week long, not one group message carried the referred friend's phone.
        for call in group_calls(qq):
            assert PHONE not in re.sub(r"\D", "", message_text(call)), message_text(call)
    except BaseException:
        if week.bot is not None:
            print(week.bot.log(200))
        raise
    finally:
        await week.stop()
