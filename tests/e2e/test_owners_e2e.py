"""Owners end to end: `python -m bot` with a roster, one simulated QQ client on the
real OneBot v11 WebSocket. The dealer's owners list is imported into the bot's
database before it starts (Desk.import_owners, as `python -m desk import owners`
does); a manager marks one more group member with 设为车主 @某人. Then owners and a
newcomer sign up for an event in the group: every sign-up is confirmed, only the
newcomer becomes a lead (one 新线索 DM to the consultant), and 活动统计 and 群统计
tell owners from prospects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.roles import MANAGER
from bot.sim import OneBotClient, is_group_send
from bot.texts import ROLE_REFUSAL
from desk import Desk
from desk.imports.rows import OwnerRow
from tests.e2e.conftest import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    TOKEN,
    BotProcess,
    desk_env,
    desk_settings,
    dms_to,
    message_text,
    midday_timezone,
    outbox_marker,
    shut_down,
    start_desk_bot,
    wait_for_dm,
    write_desk_config,
)

GROUP = 557001
SELF_ID = 889301
IMPORTED = 20101  # on the dealer's owners list
MARKED = 20102  # marked in the group by the manager
NEWCOMER = 20103
TIMEOUT = 15.0


async def posted(qq: OneBotClient, *needles: str, after: int) -> str:
    try:
        call = await qq.wait_for_call(
            None,
            lambda c: is_group_send(c, GROUP) and all(n in message_text(c) for n in needles),
            TIMEOUT,
            after=after,
        )
    except TimeoutError:
        seen = "\n---\n".join(message_text(c) for c in qq.calls[after:] if is_group_send(c))
        raise AssertionError(f"no group post with {needles}; posted since:\n{seen}") from None
    return message_text(call)


async def say(qq: OneBotClient, user: int, message: str | list, *expect: str) -> str:
    mark = qq.mark()
    await qq.send_group_message(GROUP, user, message)
    return await posted(qq, *expect, after=mark)


async def import_owners(workdir: Path, env: dict[str, str]) -> None:
    """The owners list, written into the database the bot will open."""
    desk = await Desk.open(desk_settings(workdir, env))
    try:
        rows = [
            OwnerRow(line=2, name="老车主", qq_id=str(IMPORTED), phone="13800001111", car_model="汉EV"),
            OwnerRow(line=3, name="另一位车主", phone="13800002222"),
        ]  # fmt: skip
        report = await desk.import_owners(rows)
        assert report.counts["created"] == 2, report.counts
    finally:
        await desk.close()


async def test_owners_sign_ups_are_kept_and_make_no_lead(tmp_path: Path) -> None:
    zone = midday_timezone()
    env = desk_env(write_desk_config(tmp_path / "config"), zone)
    workdir = tmp_path / "bot"
    workdir.mkdir()
    await import_owners(workdir, env)
    bot: BotProcess | None = None
    qq: OneBotClient | None = None
    try:
        bot = start_desk_bot(workdir, env)
        qq = OneBotClient(bot.ws_url, self_id=SELF_ID, token=TOKEN)
        await qq.connect()
        for user, name in ((IMPORTED, "老车主"), (MARKED, "阿强"), (NEWCOMER, "新朋友")):
            qq.add_member(GROUP, user, name)
        qq.add_member(GROUP, MANAGER_QQ, "张经理", role="admin")
        start = qq.mark()

        # The manager marks a group member: 设为车主 @阿强 海豹.
        marking = [
            {"type": "text", "data": {"text": "设为车主 "}},
            {"type": "at", "data": {"qq": str(MARKED)}},
            {"type": "text", "data": {"text": " 海豹"}},
        ]
        await say(qq, MANAGER_QQ, marking, f"已把 阿强（QQ {MARKED}） 设为车主（车型：海豹）")
        await say(qq, CONSULTANT_QQ, f"设为车主 {NEWCOMER}", ROLE_REFUSAL[MANAGER])

        tomorrow = datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
        created = await say(
            qq, MANAGER_QQ, f"发起活动 试驾会 {tomorrow.month}月{tomorrow.day}日下午2点 店里 10人",
            "已发起活动 #",
        )  # fmt: skip
        n = int(created.split("已发起活动 #")[1].split("「")[0])
        for user in (IMPORTED, MARKED, NEWCOMER):
            await say(qq, user, f"报名 {n}", f"已报名活动 #{n}「试驾会」，1人")

        # Only the newcomer is a new lead for the consultant.
        dm = await wait_for_dm(qq, CONSULTANT_QQ, "【新线索 #", "新朋友", after=start)
        assert "活动报名" in dm, dm
        end = await outbox_marker(qq)  # every DM queued before it has been sent
        new_leads = [d for d in dms_to(qq, CONSULTANT_QQ, start, end) if "【新线索 #" in d]
        assert len(new_leads) == 1, new_leads
        assert "老车主" not in new_leads[0] and "阿强" not in new_leads[0]

        stats = await say(qq, MANAGER_QQ, f"活动统计 {n}", f"活动 #{n}「试驾会」统计")
        assert "报名：3人（3组）" in stats and "其中：车主 2 组 · 新客户 1 组" in stats, stats
        assert "新线索：1" in stats, stats
        group = await say(qq, MANAGER_QQ, "群统计", "📊 群统计")
        # the consultant spoke in the group too: staff, like the manager
        assert "群成员：5（车主 2 · 意向客户 1 · 员工 2）" in group, group
        for call in qq.calls:  # no group message showed an owner's phone
            if is_group_send(call):
                assert "13800001111" not in message_text(call)
    except BaseException:
        if bot is not None:
            print(bot.log(200))
        raise
    finally:
        await shut_down(bot, qq)
