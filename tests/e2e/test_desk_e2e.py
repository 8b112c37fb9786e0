"""The lead desk through QQ end to end: `python -m bot` with a roster, a simulated
QQ client on the real OneBot v11 WebSocket (spec §3.4, §3.5, §5).

What a user notices is what is asserted: the group replies, the consultant's
and the manager's DMs, the answers to their commands. The module shares one
bot (`desk_bot`) and one QQ account; each test uses its own prospect QQ ids
and its own lead. The crash test runs its own bot, since it kills it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import create_async_engine

from bot.sim import OneBotClient, is_group_send
from desk import Desk
from tests.e2e.conftest import (
    CONSULTANT_QQ,
    DESK_GROUP,
    MANAGER_QQ,
    BotProcess,
    ask_in_group,
    command,
    database_url,
    desk_env,
    desk_settings,
    dms_to,
    group_marker,
    lead_no,
    message_text,
    midday_timezone,
    outbox_marker,
    shut_down,
    start_desk_bot,
    wait_for_dm,
    write_desk_config,
)

TIMEOUT = 15.0  # for anything the bot should do within a second or two
GROUP = DESK_GROUP
PHONE = "13812345678"


def group_texts(
    qq: OneBotClient, group: int | None = None, after: int = 0, before: int | None = None
) -> list[str]:
    return [message_text(c) for c in qq.calls[after:before] if is_group_send(c, group)]


def assert_no_phone_in_groups(qq: OneBotClient, phone: str = PHONE) -> None:
    for text in group_texts(qq):
        assert phone not in re.sub(r"\D", "", text), text


# -- 1. intent in a group -----------------------------------------------------------


async def test_intent_in_a_group_reaches_the_consultant(desk_qq: OneBotClient) -> None:
    qq = desk_qq
    mark = qq.mark()
    text = f"这车落地多少钱？我电话{PHONE}"
    lead, dm = await ask_in_group(qq, 30001, text, nickname="小王")

    # The consultant is told at once: the lead, where it came from, the words, the phone.
    assert f"来自 QQ群 {GROUP}" in dm and "小王" in dm and PHONE in dm, dm
    # The asker gets one short group reply, @-ing them, the phone masked.
    reply = await qq.wait_for_group_reply(GROUP, TIMEOUT, after=mark)
    segments = reply.params["message"]
    assert {"type": "at", "data": {"qq": "30001"}} in segments, segments
    assert "138****5678" in message_text(reply)

    # The same person asks again the same day: no second group reply; the consultant
    # hears of the returning lead (撞单) with the new words.
    again = qq.mark()
    await qq.send_group_message(GROUP, 30001, "周末能试驾吗？", nickname="小王")
    returned = await wait_for_dm(qq, CONSULTANT_QQ, f"#{lead}", "原话：周末能试驾吗？", after=again)
    assert "【撞单】" in returned, returned
    group_end, dms_end = await group_marker(qq, GROUP), await outbox_marker(qq)
    replies = group_texts(qq, GROUP, after=mark, before=group_end)
    assert len(replies) == 1, replies
    assert not [t for t in dms_to(qq, CONSULTANT_QQ, again, dms_end) if "【新线索" in t]
    assert_no_phone_in_groups(qq)


# -- 2. the consultant's day ------------------------------------------------------------


async def test_today_lists_a_new_lead_as_a_first_contact(desk_qq: OneBotClient) -> None:
    lead, _ = await ask_in_group(desk_qq, 30002, "现在买有什么优惠吗？", nickname="老李")
    reply = await command(desk_qq, CONSULTANT_QQ, "今日", "【今日任务", "】共 ")
    lines = reply.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("⚠ 首次联系"))
    section = []
    for line in lines[start + 1 :]:
        if not line.startswith("·"):
            break
        section.append(line)
    assert any(line.startswith(f"· #{lead} 老李 N级") for line in section), reply


# -- 3. follow-up, defeat, review ---------------------------------------------------------


async def test_defeat_is_reviewed_by_the_manager(desk_qq: OneBotClient) -> None:
    qq = desk_qq
    lead, _ = await ask_in_group(qq, 30003, "落地价还能再优惠吗", nickname="小周")

    reply = await command(qq, CONSULTANT_QQ, f"跟进 {lead} 在比价 级别 A", f"已记录 #{lead} 跟进")
    assert "级别 A" in reply, reply

    mark = qq.mark()
    await qq.send_private_message(CONSULTANT_QQ, f"战败 {lead} 竞品 买了别家")
    reply = await wait_for_dm(qq, CONSULTANT_QQ, f"#{lead}", "战败申请", after=mark)
    assert "等待经理审核" in reply, reply
    review = await wait_for_dm(qq, MANAGER_QQ, f"【战败审核 #{lead}】", after=mark)
    assert "王顾问" in review and "原因：竞品 买了别家" in review, review

    mark = qq.mark()
    await qq.send_private_message(MANAGER_QQ, f"审核 {lead} 同意")
    approved = await wait_for_dm(qq, MANAGER_QQ, f"已批准 #{lead} 战败", after=mark)
    told = await wait_for_dm(qq, CONSULTANT_QQ, f"【战败已批准 #{lead}】", after=mark)
    assert "回访" in approved and "回访" in told

    detail = await command(qq, MANAGER_QQ, f"线索 {lead}", f"#{lead}", "—— 记录 ——")
    assert detail.splitlines()[1].startswith("战败 · F级"), detail
    assert "申请战败 竞品 买了别家" in detail and "战败批准" in detail, detail


# -- 4. the same event twice ------------------------------------------------------------------


async def test_the_same_message_twice_makes_one_lead_and_one_dm(desk_qq: OneBotClient) -> None:
    qq = desk_qq
    mark = qq.mark()
    text = "想问下这款车首付多少？"
    message_id = qq.next_message_id()
    for _ in range(2):
        await qq.send_group_message(GROUP, 30004, text, nickname="阿强", message_id=message_id)
    dm = await wait_for_dm(qq, CONSULTANT_QQ, "【新线索 #", f"原话：{text}", after=mark)
    lead = lead_no(dm)
    await qq.wait_for_group_reply(GROUP, TIMEOUT, after=mark)
    group_end, dms_end = await group_marker(qq, GROUP), await outbox_marker(qq)

    dms = dms_to(qq, CONSULTANT_QQ, mark, dms_end)
    about_it = [t for t in dms if f"#{lead}" in t or text in t]
    assert about_it == [dm], about_it  # no second new lead, no 撞单
    assert len(group_texts(qq, GROUP, after=mark, before=group_end)) == 1
    detail = await command(qq, CONSULTANT_QQ, f"线索 {lead}", f"#{lead}", "—— 记录 ——")
    timeline = detail.split("—— 记录 ——")[1]
    assert timeline.count("新建") == 1 and "撞单" not in timeline, detail


# -- 5. crash safety ------------------------------------------------------------------------------


async def outbox_row(workdir: Path, key: str) -> tuple[str, int]:
    """(status, attempts) of an outbox row in the database of the bot in `workdir`."""
    engine = create_async_engine(database_url(workdir))
    try:
        async with engine.connect() as conn:
            query = sql("SELECT status, attempts FROM outbox WHERE key = :key")
            row = (await conn.execute(query, {"key": key})).first()
    finally:
        await engine.dispose()
    assert row is not None, f"no outbox row {key}"
    return row[0], row[1]


async def settled(
    check: Callable[[], Awaitable[bool]],
    timeout: float = 5.0,  # noqa: ASYNC109
) -> None:
    """Poll `check` (e.g. a database row another process updates) until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "not settled in time"
        await asyncio.sleep(0.1)


async def test_a_crash_loses_no_lead_and_sends_nothing_twice(tmp_path: Path) -> None:
    env = desk_env(write_desk_config(tmp_path / "config"), midday_timezone())
    workdir = tmp_path / "bot"
    self_id = 889001
    bot: BotProcess | None = None
    qq: OneBotClient | None = None
    try:
        bot = start_desk_bot(workdir, env)
        qq = OneBotClient(bot.ws_url, self_id=self_id, token=bot.token)
        await qq.connect()
        mark = qq.mark()
        text = "这车落地多少钱？"
        first = await qq.send_group_message(GROUP, 30005, text, nickname="小陈")
        original = qq.sent_events[-1]
        dm = await wait_for_dm(qq, CONSULTANT_QQ, "【新线索 #", f"原话：{text}", after=mark)
        lead = lead_no(dm)
        await qq.wait_for_group_reply(GROUP, TIMEOUT, after=mark)

        # The acknowledged lead is committed: kill -9, no shutdown hooks.
        assert bot.kill() == -9
        await qq.close()

        # While the bot is down another front (a web desk, a CLI) takes a lead on the
        # same desk: its new-lead DM waits in the outbox for a QQ client.
        desk = await Desk.open(desk_settings(workdir, env))
        try:
            queued = await desk.capture(
                channel=f"qq_group:{GROUP}", qq_id="30006", name="小赵",
                message="下周想到店看车", group_id=str(GROUP),
            )  # fmt: skip
        finally:
            await desk.close()
        waiting = queued.lead.id

        bot = start_desk_bot(workdir, env)
        # No QQ client yet: the delivery loop (started before the bot listens) runs
        # but waits; it burns no attempt: the one that goes out later is the first.
        assert await outbox_row(workdir, f"lead:{waiting}:new") == ("pending", 0), bot.log()

        qq = OneBotClient(bot.ws_url, self_id=self_id, token=bot.token)
        await qq.connect()
        await wait_for_dm(qq, CONSULTANT_QQ, f"【新线索 #{waiting}】", "原话：下周想到店看车")

        async def sent() -> bool:
            return (await outbox_row(workdir, f"lead:{waiting}:new"))[0] == "sent"

        await settled(sent)
        assert await outbox_row(workdir, f"lead:{waiting}:new") == ("sent", 1), bot.log()

        # The lead survived; the QQ client redelivers the old message after the
        # reconnect (the bot's in-memory duplicate filter is gone): still one effect.
        detail = await command(qq, CONSULTANT_QQ, f"线索 {lead}", f"#{lead}", "—— 记录 ——")
        assert "新建 这车落地多少钱？" in detail, detail
        replay = qq.mark()
        await qq.send_event(original)
        assert original["message_id"] == first
        group_end, dms_end = await group_marker(qq, GROUP), await outbox_marker(qq)

        # Nothing was sent twice: not the old DM, no 撞单, no second group reply.
        again = [
            t
            for t in dms_to(qq, CONSULTANT_QQ, before=dms_end)
            if f"【新线索 #{lead}】" in t or "【撞单】" in t
        ]
        assert again == [], again
        assert group_texts(qq, GROUP, after=replay, before=group_end) == []
        detail = await command(qq, CONSULTANT_QQ, f"线索 {lead}", f"#{lead}", "—— 记录 ——")
        assert "撞单" not in detail, detail
    except BaseException:
        if bot is not None:
            print(bot.log(200))
        raise
    finally:
        await shut_down(bot, qq)
