"""Security review "Trust": what the bot lets out of customers' data.

3. Every message the bot sends a QQ client is text segments: a prospect's nickname
   or words carrying CQ codes reach the consultant's DM as literal text.
4. A WeChat (or QQ) message with <...> in it is handled like any other: loguru
   colour tags in NoneBot's event log line no longer take it down.
5. Phone numbers are masked in every log line, and chat is not logged at INFO;
   sign-up notes and their export carry no full phone; staff and lead lists are
   DM-only; a referral "name" that is a phone is refused.

The real bot runs as a child process (tests/e2e/conftest.py), with WeCom and
Official Account settings pointing at a local fake WeChat API; its log is read
from its log file.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import AsyncIterator, Iterator
from io import BytesIO
from typing import Any

import pytest
from nonebot.log import logger
from openpyxl import load_workbook

from bot.logs import STDLIB_LOGGERS, install_log_privacy
from bot.sim import ApiCall, OneBotClient
from bot.sim.client import is_group_send
from tests.e2e.conftest import (
    CONSULTANT_QQ,
    MANAGER_QQ,
    BotProcess,
    connected,
    message_text,
    running_bot,
    wait_for_dm,
)
from tests.security.live import WECOM_MANAGER, WECOM_SEND, wechat_bot_env
from tests.support.fake_wechat import FakeWeChat
from tests.support.wechat_callbacks import oa_post, oa_text, wecom_post, wecom_text
from tests.support.wechat_live import post, text_to, wait_for

OA_SEND = "/cgi-bin/message/custom/send"
GROUP = 777001
TIMEOUT = 15.0
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, fake: FakeWeChat) -> Iterator[BotProcess]:
    """A desk bot with QQ and WeCom staff, WeChat on (the fake API), LOG_LEVEL=DEBUG."""
    env = wechat_bot_env(tmp_path_factory, "data-safety", fake)
    with running_bot(tmp_path_factory.mktemp("data-safety-bot"), env) as process:
        yield process


@pytest.fixture(scope="module")
async def qq(bot: BotProcess) -> AsyncIterator[OneBotClient]:
    """One QQ account for the module: outbox DMs go to whichever account is connected."""
    async with connected(bot) as client:
        yield client


def full_log(bot: BotProcess) -> str:
    return bot.log_path.read_text(encoding="utf-8", errors="replace")


async def new_lead_dm(qq: OneBotClient, after: int, *needles: str) -> ApiCall:
    """The consultant's new-lead DM (an outbox send_private_msg) containing `needles`."""
    try:
        return await qq.wait_for_call(
            "send_private_msg",
            lambda c: (
                str(c.params.get("user_id")) == str(CONSULTANT_QQ)
                and all(n in message_text(c) for n in needles)
            ),
            TIMEOUT,
            after=after,
        )
    except TimeoutError:
        raise AssertionError(f"no new-lead DM with {needles}") from None


def text_segments_only(call: ApiCall) -> str:
    """The message's text; fails unless it is a list of text segments (no CQ string)."""
    message = call.params.get("message")
    assert isinstance(message, list), f"sent as a CQ-code string: {message!r}"
    assert [seg["type"] for seg in message] == ["text"] * len(message), message
    return "".join(seg["data"]["text"] for seg in message)


async def group_reply(qq: OneBotClient, user_id: int, text: str, *, nickname: str = "车友") -> str:
    mark = qq.mark()
    await qq.send_group_message(GROUP, user_id, text, nickname=nickname)
    return message_text(await qq.wait_for_group_reply(GROUP, TIMEOUT, after=mark))


# -- 3. CQ codes in a prospect's nickname and words ----------------------------------------


async def test_cq_codes_of_a_prospect_reach_the_consultant_as_literal_text(
    qq: OneBotClient,
) -> None:
    image = "[CQ:image,file=http://evil.example/x.png]"
    mark = qq.mark()
    await qq.send_group_message(GROUP, 30301, f"{image}这车落地多少钱？", nickname="[CQ:at,qq=all]")
    dm = text_segments_only(await new_lead_dm(qq, mark, "【新线索", "evil.example"))
    assert image in dm and "[CQ:at,qq=all]" in dm, dm
    # The asker's group reply too: an @ the bot built, then text.
    reply = await qq.wait_for_group_reply(GROUP, TIMEOUT, after=mark)
    assert [seg["type"] for seg in reply.params["message"]] == ["at", "text"]


# -- 4. <...> in a message, on every platform ----------------------------------------------


async def test_tags_in_a_qq_group_message_are_handled(qq: OneBotClient) -> None:
    mark = qq.mark()
    await qq.send_group_message(GROUP, 30401, "<想买车>多少钱", nickname="小林")
    dm = text_segments_only(await new_lead_dm(qq, mark, "【新线索", "<想买车>多少钱"))
    assert "小林" in dm


async def test_tags_in_a_qq_dm_are_handled(qq: OneBotClient) -> None:
    mark = qq.mark()
    await qq.send_private_message(30402, "<script>轩逸多少钱", nickname="小周")
    await wait_for_dm(qq, 30402, "收到", after=mark, timeout=TIMEOUT)
    await new_lead_dm(qq, mark, "【新线索", "<script>轩逸多少钱")


async def test_tags_in_a_wecom_message_are_handled(bot: BotProcess, fake: FakeWeChat) -> None:
    mark = fake.mark()
    response = await post(
        bot, "/wechat/wecom", wecom_post(wecom_text(WECOM_MANAGER, "线索 <script>"))
    )
    assert response.status_code == 200
    await wait_for(fake, WECOM_SEND, text_to(WECOM_MANAGER, "线索号不对"), mark, bot)
    assert "Traceback" not in full_log(bot)


async def test_tags_in_an_official_account_message_make_a_lead(
    bot: BotProcess, fake: FakeWeChat, qq: OneBotClient
) -> None:
    mark, qq_mark = fake.mark(), qq.mark()
    text = "<想买车>多少钱"
    response = await post(bot, "/wechat/oa", oa_post(oa_text("o_tag_follower", text)))
    assert response.status_code == 200
    await wait_for(fake, OA_SEND, text_to("o_tag_follower", "收到"), mark, bot)
    dm = text_segments_only(await new_lead_dm(qq, qq_mark, "【新线索", "公众号", text))
    assert text in dm
    assert "Traceback" not in full_log(bot)


# -- 5. phone numbers: logs, notes, lists, referrals ---------------------------------------


async def test_a_phone_in_a_message_is_masked_in_the_log_and_chat_is_not_at_info(
    bot: BotProcess, qq: OneBotClient
) -> None:
    phone = "13812340501"
    mark = qq.mark()
    message_id = await qq.send_group_message(
        GROUP, 30501, f"想买车，落地多少钱？我电话{phone}", nickname="小吴"
    )
    dm = await new_lead_dm(qq, mark, "【新线索", "小吴")
    assert phone in message_text(dm)  # the consultant needs it to call
    log = full_log(bot)
    received = [line for line in log.splitlines() if f"Message {message_id} from 30501" in line]
    assert received, log[-3000:]
    # NoneBot's per-event line: at DEBUG, not SUCCESS, and the phone masked.
    assert all("[DEBUG]" in line for line in received), received
    assert "138****0501" in received[0]
    assert phone not in log


@pytest.fixture
def log_privacy() -> Iterator[None]:
    """bot.logs installed in this process, undone afterwards (other tests' logging)."""
    saved = {
        name: (std.handlers[:], std.level, std.propagate)
        for name in STDLIB_LOGGERS
        for std in [logging.getLogger(name)]
    }
    patcher = getattr(getattr(logger, "_core", None), "patcher", None)
    install_log_privacy()
    try:
        yield
    finally:
        logger.configure(patcher=patcher or (lambda _: None))
        for name, (handlers, level, propagate) in saved.items():
            std = logging.getLogger(name)
            std.handlers[:], std.level, std.propagate = handlers, level, propagate


@pytest.mark.usefixtures("log_privacy")
def test_every_log_line_masks_phones_loguru_and_stdlib() -> None:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), format="{message}", level=0)
    try:
        logger.opt(colors=True).info("<y>OneBot</y> | 我电话13812345678，明天看车")
        logger.warning("spaced 139 1234 5678 and +86 137-1234-5678")
        logging.getLogger("bot.dispatch.loop").warning("DM to %s failed", "13612345678")
        logging.getLogger("desk.service").warning("lead %s", "15012345678")
    finally:
        logger.remove(sink)
    text = "".join(lines)
    assert "138****5678" in text and "136****5678" in text and "150****5678" in text, lines
    assert not FULL_PHONE.search(re.sub(r"[ \-]", "", text)), lines
    assert len(lines) == 4


async def test_a_sign_up_note_keeps_no_full_phone_nor_does_its_export(
    qq: OneBotClient,
) -> None:
    created = await group_reply(qq, MANAGER_QQ, "发起活动 试驾会 明天上午10点 展厅 20人")
    event_no = re.search(r"#(\d+)", created)
    assert event_no, created
    await group_reply(qq, 30502, f"报名 {event_no[1]} 2人 老婆电话13812345678", nickname="小郑")
    uploads: list[dict[str, Any]] = []
    qq.responders["upload_group_file"] = lambda params: uploads.append(params) or {}
    try:
        mark = qq.mark()
        await qq.send_group_message(GROUP, MANAGER_QQ, f"导出报名 {event_no[1]}")
        await qq.wait_for_call("upload_group_file", timeout=TIMEOUT, after=mark)
    finally:
        del qq.responders["upload_group_file"]
    data = base64.b64decode(str(uploads[0]["file"]).removeprefix("base64://"))
    sheet = load_workbook(BytesIO(data)).active
    assert sheet is not None
    cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    assert "老婆电话138****5678" in cells, cells
    assert not [c for c in cells if FULL_PHONE.search(c)], cells


async def test_staff_and_lead_lists_are_not_shown_in_a_group(qq: OneBotClient) -> None:
    staff = await group_reply(qq, MANAGER_QQ, "顾问列表")
    assert "私聊" in staff and str(CONSULTANT_QQ) not in staff and "王顾问" not in staff
    leads = await group_reply(qq, MANAGER_QQ, "待分配")
    assert "私聊" in leads and "【待分配" not in leads
    # In a DM the manager still gets the list.
    mark = qq.mark()
    await qq.send_private_message(MANAGER_QQ, "顾问列表")
    assert f"QQ{CONSULTANT_QQ}" in await wait_for_dm(qq, MANAGER_QQ, "王顾问", after=mark)


async def test_a_referral_name_that_is_a_phone_is_refused_and_nothing_is_stored(
    qq: OneBotClient,
) -> None:
    refused = await group_reply(qq, 30503, "推荐 13912340503 13812340503 轩逸", nickname="老孙")
    assert "手机号" in refused and not FULL_PHONE.search(refused), refused
    # Nothing was stored: the friend can still be referred, under a real name.
    mark = qq.mark()
    done = await group_reply(qq, 30503, "推荐 张先生 13812340503 轩逸", nickname="老孙")
    assert "已登记：张先生 138****0503" in done, done
    await new_lead_dm(qq, mark, "【新线索", "张先生")


async def test_a_phone_echoed_in_a_group_reply_is_masked(qq: OneBotClient) -> None:
    mark = qq.mark()
    created = await group_reply(qq, MANAGER_QQ, "发起活动 试驾13912340504 明天下午3点 展厅 20人")
    assert "139****0504" in created and "13912340504" not in created, created
    groups = [message_text(c) for c in qq.calls[mark:] if is_group_send(c, GROUP)]
    assert not [t for t in groups if FULL_PHONE.search(t)], groups
