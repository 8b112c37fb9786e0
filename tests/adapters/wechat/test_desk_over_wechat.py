"""End to end: the desk in chat (线索台) and purchase intent over WeChat.

The real bot (`python -m bot`, every plugin of bot/plugins) runs with WeCom and
Official Account settings pointing WECHAT_API_BASE at the fake WeChat server
and a roster with WeCom staff; encrypted callbacks are POSTed to its HTTP
port, and what it says is read from the fake's `message/send` (WeCom app
messages to staff) and `message/custom/send` (customer-service messages to
OA followers).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from desk import SYSTEM, Desk, UnitOfWork
from desk.models import OutboxMessage
from tests.e2e.conftest import (
    BotProcess,
    connected,
    desk_settings,
    is_dm_to,
    message_text,
    running_bot,
    start_desk_bot,
    wait_for_dm,
)
from tests.support import wechat_live as live
from tests.support.fake_wechat import Call, FakeWeChat
from tests.support.wechat_callbacks import (
    next_msg_id,
    oa_post,
    oa_text,
    wecom_post,
    wecom_text,
)
from tests.support.wechat_live import (
    calls_to,
    content,
    outbox_marker,
    post,
    text_to,
    wechat_desk_env,
)

CONSULTANT = "wangwu"  # 王五, on duty, DMs over WeCom: every new lead is his
QQ_CONSULTANT = "lisi"  # 李四, also on WeCom, but his DMs go to QQ 10003
MANAGER = "zhaoliu"  # 赵六
QQ_SUPERUSER = "90001"  # a manager by SUPERUSERS: a QQ id
ROSTER = f"""\
[[member]]
name = "王五"
role = "consultant"
wecom_userid = "{CONSULTANT}"
dm_channel = "wecom"
on_duty = true

[[member]]
name = "李四"
role = "consultant"
qq_id = "10003"
wecom_userid = "{QQ_CONSULTANT}"
dm_channel = "qq"
on_duty = false

[[member]]
name = "赵六"
role = "manager"
wecom_userid = "{MANAGER}"
dm_channel = "wecom"
"""
WECOM_SEND = "/cgi-bin/message/send"
OA_SEND = "/cgi-bin/message/custom/send"
NOT_STAFF = "这个命令仅限本店顾问使用，如需帮助请联系销售经理。"
NOT_MANAGER = "这个命令仅限销售经理使用。"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, fake_server: FakeWeChat) -> dict[str, str]:
    env = wechat_desk_env(tmp_path_factory, fake_server, ROSTER)
    return env | {"SUPERUSERS": f'["{QQ_SUPERUSER}"]'}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("desk-wechat-bot")


@pytest.fixture(scope="module")
def bot(workdir: Path, env: dict[str, str]) -> Iterator[BotProcess]:
    """The real bot (all plugins), for the whole module."""
    with running_bot(workdir, env) as process:
        yield process


@pytest.fixture
async def desk(bot: BotProcess, env: dict[str, str]) -> AsyncIterator[Desk]:
    """The bot's desk opened from the test, as another front (a web desk) would."""
    opened = await Desk.open(desk_settings(bot.workdir, env))
    try:
        yield opened
    finally:
        await opened.close()


# -- talking to the bot -------------------------------------------------------------


async def accepted(bot: BotProcess, path: str, request: tuple[dict[str, str], bytes]) -> None:
    response = await post(bot, path, request)
    assert response.status_code == 200, (response.status_code, response.text, bot.log())


async def wecom_says(bot: BotProcess, user: str, text: str) -> None:
    await accepted(bot, "/wechat/wecom", wecom_post(wecom_text(user, text)))


async def oa_says(bot: BotProcess, openid: str, text: str, msg_id: int | None = None) -> None:
    await accepted(bot, "/wechat/oa", oa_post(oa_text(openid, text, msg_id=msg_id)))


def texts_to(
    fake: FakeWeChat, path: str, user: str, since: int, before: int | None = None
) -> list[str]:
    calls = fake.requests_to(path, since) if before is None else calls_to(fake, path, since, before)
    return [content(c) for c in calls if text_to(user)(c)]


async def wait_for(
    fake: FakeWeChat, path: str, match: Callable[[Call], bool], since: int, bot: BotProcess,
    timeout: float = 15.0,  # noqa: ASYNC109
) -> str:  # fmt: skip
    """The text of the first call to `path` since `since` that `match`es."""
    return content(await live.wait_for(fake, path, match, since, bot, timeout))


async def ask(fake: FakeWeChat, bot: BotProcess, user: str, text: str) -> str:
    """What the bot answers a WeCom user's `text` (the first app message to them)."""
    mark = fake.mark()
    await wecom_says(bot, user, text)
    return await wait_for(fake, WECOM_SEND, text_to(user), mark, bot)


async def oa_ask(fake: FakeWeChat, bot: BotProcess, openid: str, text: str) -> str:
    """What the bot answers an Official Account follower's `text`."""
    mark = fake.mark()
    await oa_says(bot, openid, text)
    return await wait_for(fake, OA_SEND, text_to(openid), mark, bot)


async def new_lead(
    desk: Desk, fake: FakeWeChat, bot: BotProcess, openid: str, name: str, message: str
) -> int:
    """A lead taken by another front; the on-duty consultant (王五) gets it. Returns
    once he was told, so that DM is not taken for the answer to his next command."""
    mark = fake.mark()
    captured = await desk.capture(
        channel="wechat_oa", wechat_openid=openid, name=name, message=message
    )
    assert captured.created
    lead = captured.lead.id
    await wait_for(fake, WECOM_SEND, text_to(CONSULTANT, f"【新线索 #{lead}】"), mark, bot)
    return lead


def assert_clean_log(bot: BotProcess) -> None:
    log = bot.log(5000)
    assert "Traceback" not in log, log


# -- 1. a consultant's commands over the WeCom app ----------------------------------


async def test_consultant_today_over_wecom(
    bot: BotProcess, fake_server: FakeWeChat, desk: Desk
) -> None:
    lead = await new_lead(desk, fake_server, bot, "o_today_1", "小周", "周末想看看途观L")
    answer = await ask(fake_server, bot, CONSULTANT, "今日")
    assert answer.startswith("【今日任务"), answer
    assert "⚠ 首次联系" in answer and f"#{lead} 小周 N级" in answer, answer
    # with a "/" too
    assert (await ask(fake_server, bot, CONSULTANT, "/今日")).startswith("【今日任务")


async def test_help_over_wecom_lists_the_staff_commands(
    bot: BotProcess, fake_server: FakeWeChat
) -> None:
    consultant = await ask(fake_server, bot, CONSULTANT, "帮助")
    assert consultant.startswith("你可以使用的命令"), consultant
    for line in ("今日 —— 查看今天的任务", "跟进 <号> <结果>", "上班 —— 开始接新线索"):
        assert line in consultant, consultant
    assert "线索统计" not in consultant and "审核" not in consultant  # manager only
    manager = await ask(fake_server, bot, MANAGER, "帮助")
    assert "线索统计 [今日|本周|本月|本季|本年]" in manager and "今日 —— " in manager, manager
    detail = await ask(fake_server, bot, CONSULTANT, "帮助 跟进")
    assert detail.startswith("跟进 <号> <结果>"), detail


async def test_a_wecom_user_off_the_roster_is_refused(
    bot: BotProcess, fake_server: FakeWeChat
) -> None:
    assert await ask(fake_server, bot, "stranger01", "今日") == NOT_STAFF
    assert await ask(fake_server, bot, "stranger01", "线索统计 今日") == NOT_MANAGER
    assert await ask(fake_server, bot, CONSULTANT, "线索统计 今日") == NOT_MANAGER
    help_text = await ask(fake_server, bot, "stranger01", "帮助")
    assert "今日" not in help_text and "跟进" not in help_text, help_text
    assert_clean_log(bot)


# -- 2. an Official Account prospect becomes a lead ------------------------------------


async def test_an_oa_prospect_becomes_a_lead_for_the_wecom_consultant(
    bot: BotProcess, fake_server: FakeWeChat, desk: Desk
) -> None:
    mark = fake_server.mark()
    openid = "o_prospect_0001"
    await oa_says(bot, openid, "途观L落地多少钱？我电话13812345678")
    told = await wait_for(
        fake_server, WECOM_SEND, text_to(CONSULTANT, "【新线索", "13812345678"), mark, bot
    )
    assert "来自 公众号" in told, told
    assert "原话：途观L落地多少钱？我电话13812345678" in told, told
    ack = await wait_for(fake_server, OA_SEND, text_to(openid), mark, bot)
    assert ack == "收到！已记下您的号码 138****5678，顾问会尽快联系您。"
    lead = await desk.find_lead(wechat_openid=openid)
    assert lead is not None and f"#{lead.id}" in told
    assert (lead.channel, lead.phone) == ("wechat_oa", "13812345678")
    consultant = await desk.member_by(wecom_userid=CONSULTANT)
    assert consultant is not None and lead.consultant_id == consultant.id
    assert await desk.find_lead(phone="13812345678") == lead
    # nobody but the consultant and the prospect heard of it; the OA got the masked number only
    others = [c for c in fake_server.requests_to(WECOM_SEND, mark) if "13812345678" in content(c)]
    assert [c.body and c.body["touser"] for c in others] == [CONSULTANT]
    assert all("13812345678" not in content(c) for c in fake_server.requests_to(OA_SEND, mark))


async def test_oa_followers_are_customers_never_staff(
    bot: BotProcess, fake_server: FakeWeChat, desk: Desk
) -> None:
    mark = fake_server.mark()
    chatter, visitor = "o_chatter_0001", "o_visitor_0001"
    for text in ("今天天气不错", "今日", "线索统计 今日", "成交 1"):
        await oa_says(bot, chatter, text)
    # a desk command word in front of a question is still the customer's question
    await oa_says(bot, visitor, "到店 周六上午可以看车吗？13700001111")
    ack = await wait_for(fake_server, OA_SEND, text_to(visitor), mark, bot)
    assert ack == "收到！已记下您的号码 137****1111，顾问会尽快联系您。"
    await wait_for(
        fake_server, WECOM_SEND, text_to(CONSULTANT, "【新线索", "13700001111"), mark, bot
    )
    lead = await desk.find_lead(wechat_openid=visitor)
    assert lead is not None and lead.first_message == "到店 周六上午可以看车吗？13700001111"
    assert texts_to(fake_server, OA_SEND, chatter, mark) == []  # silence, no staff talk
    assert await desk.find_lead(wechat_openid=chatter) is None
    help_text = await oa_ask(fake_server, bot, chatter, "帮助")
    assert help_text.startswith("你可以使用的命令"), help_text
    for word in ("今日", "跟进", "线索统计", "（群内）"):  # no staff commands, no groups here
        assert word not in help_text, help_text


async def test_a_wecom_user_named_like_a_qq_superuser_is_no_manager(
    bot: BotProcess, fake_server: FakeWeChat
) -> None:
    # SUPERUSERS lists QQ ids: a WeCom account whose userid happens to be the same
    # digits (an employee number) is someone else.
    assert await ask(fake_server, bot, QQ_SUPERUSER, "线索统计 今日") == NOT_MANAGER
    help_text = await ask(fake_server, bot, QQ_SUPERUSER, "帮助")
    assert "线索统计" not in help_text, help_text


async def test_wecom_staff_by_their_wecom_ids(bot: BotProcess, fake_server: FakeWeChat) -> None:
    members = await ask(fake_server, bot, MANAGER, "顾问列表")
    assert "· 王五 企微wangwu 在班" in members, members
    assert "· 李四 QQ10003 企微lisi 下班" in members, members
    assert "· 赵六 企微zhaoliu 经理" in members, members


# -- 3. recording a step, the manager's statistics ---------------------------------------


async def test_consultant_records_a_step_and_manager_sees_statistics(
    bot: BotProcess, fake_server: FakeWeChat, desk: Desk
) -> None:
    lead = await new_lead(desk, fake_server, bot, "o_step_1", "小吴", "想了解分期")
    answer = await ask(fake_server, bot, CONSULTANT, f"跟进 {lead} 客户在比价 级别 H")
    assert answer.startswith(f"已记录 #{lead} 跟进。级别 H，下次 "), answer
    detail = await desk.lead(SYSTEM, lead)
    assert (detail.lead.stage, detail.lead.level) == ("following", "H")
    assert detail.timeline[-1].note == "客户在比价"
    answer = await ask(fake_server, bot, CONSULTANT, f"跟进 {lead} 客户在比价 H")
    assert answer.startswith(f"已记录 #{lead} 跟进。"), answer
    # a lead that does not exist, no arguments
    assert await ask(fake_server, bot, CONSULTANT, "跟进 99999 打过电话") == "没有找到线索 #99999。"
    usage = await ask(fake_server, bot, CONSULTANT, "跟进")
    assert usage.startswith("用法：跟进 <号> <结果>"), usage

    stats = await ask(fake_server, bot, MANAGER, "线索统计 今日")
    assert stats.startswith("【线索统计 "), stats
    assert "公众号" in stats and "王五" in stats, stats
    bad = await ask(fake_server, bot, MANAGER, "线索统计 明年")
    assert bad == "用法：线索统计 [今日|本周|本月|本季|本年]"
    assert_clean_log(bot)


# -- 4. WeChat's retries -----------------------------------------------------------------


async def test_an_oa_message_delivered_twice_is_one_lead_and_one_ack(
    bot: BotProcess, fake_server: FakeWeChat, desk: Desk
) -> None:
    mark = fake_server.mark()
    openid, msg_id = "o_retry_0001", next_msg_id()
    text = "能试驾吗？电话13912345678"
    for _ in range(2):  # the same MsgId: WeChat retrying a callback
        await oa_says(bot, openid, text, msg_id)
    await wait_for(
        fake_server, WECOM_SEND, text_to(CONSULTANT, "【新线索", "13912345678"), mark, bot
    )
    await wait_for(fake_server, OA_SEND, text_to(openid), mark, bot)
    # markers: an answer to a later message, then a later DM through the outbox
    await ask(fake_server, bot, MANAGER, "顾问列表")
    end = await outbox_marker(fake_server, bot, desk, "wecom", MANAGER)
    lead = await desk.find_lead(wechat_openid=openid)
    assert lead is not None
    assert len(texts_to(fake_server, OA_SEND, openid, mark, end)) == 1
    told = [
        t for t in texts_to(fake_server, WECOM_SEND, CONSULTANT, mark, end) if f"#{lead.id}" in t
    ]
    assert len(told) == 1, told  # no 【撞单】 either
    assert [e.action for e in (await desk.lead(SYSTEM, lead.id)).timeline] == ["created"]


# -- 5. channels stay separate ---------------------------------------------------------------


async def test_a_qq_channel_consultants_notifications_stay_off_wecom(
    bot: BotProcess, fake_server: FakeWeChat, desk: Desk
) -> None:
    lead = await new_lead(desk, fake_server, bot, "o_assign_1", "小郑", "置换怎么算")
    mark = fake_server.mark()
    answer = await ask(fake_server, bot, MANAGER, f"分配 {lead} lisi")  # by his WeCom id
    assert answer == f"已把 #{lead} 分配给 李四。"
    end = await outbox_marker(fake_server, bot, desk, "wecom", MANAGER)  # queued after it
    assert texts_to(fake_server, WECOM_SEND, QQ_CONSULTANT, mark, end) == []
    assert not any("【分配线索" in content(c) for c in calls_to(fake_server, WECOM_SEND, mark, end))

    async def assignment_dm(uow: UnitOfWork) -> tuple[str, str | None, str]:
        [row] = await uow.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.lead_id == lead, OutboxMessage.kind == "lead_assigned"
            )
        )
        return row.channel, row.address, row.status

    # waiting for a QQ account, neither sent nor failed over WeChat
    assert await desk.read(assignment_dm) == ("qq", "10003", "pending")
    async with connected(bot) as qq:  # a QQ account connects: it goes out there
        dm = await wait_for_dm(qq, 10003, f"【分配线索 #{lead}】")
        assert "小郑" in dm
        since = qq.mark()
        other = await new_lead(desk, fake_server, bot, "o_assign_2", "小钱", "有现车吗")  # WeCom
        # a later DM for QQ through the outbox: nothing about `other` came before it
        marker = "【测试标记 QQ】"
        await desk.notify(key="test-marker:qq", kind="test_marker", channel="qq",
                          address="10003", payload={"text": marker}, any_hour=True)  # fmt: skip
        sent = await qq.wait_for_call(
            ("send_private_msg", "send_msg"),
            lambda c: is_dm_to(c, 10003) and marker in message_text(c),
            15,
            after=since,
        )
        end = qq.calls.index(sent)
        assert not any(f"#{other}" in message_text(c) for c in qq.calls[since:end]), qq.calls
    assert await desk.read(assignment_dm) == ("qq", "10003", "sent")
    # 李四 writes to the WeCom app himself: the answer goes back there
    today = await ask(fake_server, bot, QQ_CONSULTANT, "今日")
    assert f"#{lead} 小郑" in today, today
    assert_clean_log(bot)


# -- last: restarts the module's bot ---------------------------------------------------------


async def test_a_retry_after_a_restart_has_no_second_effect(
    bot: BotProcess, workdir: Path, env: dict[str, str], fake_server: FakeWeChat, desk: Desk
) -> None:
    """The adapter's replay guard lives in memory: after a restart the desk's event
    key is what keeps WeChat's retry from counting twice."""
    openid, msg_id, text = "o_restart_0001", next_msg_id(), "途岳有现车吗？想订车"
    mark = fake_server.mark()
    await oa_says(bot, openid, text, msg_id)
    await wait_for(fake_server, OA_SEND, text_to(openid), mark, bot)
    lead = await desk.find_lead(wechat_openid=openid)
    assert lead is not None
    await wait_for(
        fake_server, WECOM_SEND, text_to(CONSULTANT, f"【新线索 #{lead.id}】"), mark, bot
    )
    bot.stop()
    restarted = start_desk_bot(workdir, env)
    try:
        ignored = restarted.log(100_000).count("repeated callback ignored")
        mark = fake_server.mark()
        await oa_says(restarted, openid, text, msg_id)
        await ask(fake_server, restarted, CONSULTANT, "今日")  # the bot is up and answering
        end = await outbox_marker(fake_server, restarted, desk, "wecom", MANAGER)
        assert restarted.log(100_000).count("repeated callback ignored") == ignored
        assert texts_to(fake_server, OA_SEND, openid, mark, end) == []
        sent = [content(c) for c in calls_to(fake_server, WECOM_SEND, mark, end)]
        assert not any(f"#{lead.id}" in t and "今日任务" not in t for t in sent), sent
        assert [e.action for e in (await desk.lead(SYSTEM, lead.id)).timeline] == ["created"]
        assert_clean_log(restarted)
    finally:
        restarted.stop()
