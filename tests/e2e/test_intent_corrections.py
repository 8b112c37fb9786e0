"""Staff correct the intent detector in the group (issue 13), end to end: `python -m bot`
with a roster and the simulated QQ client on the real OneBot v11 WebSocket. A
quote-reply carries a reply segment; the OneBot adapter asks the client for the
quoted message (get_msg) before any plugin sees it, as with a real QQ client.
"""

from __future__ import annotations

import re

from bot.sim import OneBotClient
from tests.e2e.conftest import (
    CONSULTANT_QQ,
    DESK_GROUP,
    MANAGER_QQ,
    command,
    dms_to,
    group_marker,
    message_text,
    outbox_marker,
    wait_for_dm,
)

TIMEOUT = 15.0
OWNER = 31002


async def group_reply(qq: OneBotClient, mark: int) -> tuple[int, str]:
    """(message id, text) of the bot's next post into the desk group after `mark`."""
    call = await qq.wait_for_group_reply(DESK_GROUP, TIMEOUT, after=mark)
    return int(call.response["data"]["message_id"]), message_text(call)


def group_posts(qq: OneBotClient, after: int, before: int) -> list[str]:
    return [
        message_text(c)
        for c in qq.calls[after:before]
        if c.action in ("send_group_msg", "send_msg") and c.params.get("group_id") == DESK_GROUP
    ]


async def test_quote_reply_lead_captures_once_and_owners_are_ignored(
    desk_qq: OneBotClient,
) -> None:
    qq, prospect = desk_qq, 31001
    said = await qq.send_group_message(DESK_GROUP, prospect, "明天下午我有空", nickname="小陈")

    mark = qq.mark()
    await qq.quote_reply(DESK_GROUP, OWNER, said, "线索")  # an owner: nothing happens
    end = await group_marker(qq, DESK_GROUP)
    assert group_posts(qq, mark, end) == []

    mark = qq.mark()
    await qq.quote_reply(DESK_GROUP, CONSULTANT_QQ, said, "线索")
    _, confirmed = await group_reply(qq, mark)
    found = re.fullmatch(r"已记为线索 #(\d+)，已通知顾问跟进。", confirmed)
    assert found, confirmed
    lead = int(found.group(1))
    dm = await wait_for_dm(qq, CONSULTANT_QQ, f"【新线索 #{lead}】", "原话：明天下午我有空")
    assert "小陈" in dm

    mark = qq.mark()
    await qq.quote_reply(DESK_GROUP, MANAGER_QQ, said, "线索")  # twice: one lead
    _, again = await group_reply(qq, mark)
    assert again == f"这条消息已记为线索 #{lead}。"
    end = await outbox_marker(qq)
    assert not [d for d in dms_to(qq, CONSULTANT_QQ, mark, end) if f"#{lead}" in d]


async def test_not_a_lead_on_the_ack_withdraws_and_the_review_lists_it(
    desk_qq: OneBotClient,
) -> None:
    qq, prospect = desk_qq, 31003
    mark = qq.mark()
    await qq.send_group_message(DESK_GROUP, prospect, "这车落地多少钱？", nickname="老赵")
    ack_id, ack = await group_reply(qq, mark)
    assert "顾问" in ack
    new_dm = await wait_for_dm(
        qq, CONSULTANT_QQ, "【新线索 #", "原话：这车落地多少钱？", after=mark
    )
    lead = int(re.search(r"#(\d+)", new_dm).group(1))  # type: ignore[union-attr]

    mark = qq.mark()
    await qq.quote_reply(DESK_GROUP, OWNER, ack_id, "不是线索")  # an owner: nothing
    await qq.quote_reply(DESK_GROUP, CONSULTANT_QQ, ack_id, "不是线索")
    _, withdrawn = await group_reply(qq, mark)
    assert withdrawn == f"已撤回线索 #{lead}（无效线索），已告知顾问。"
    await wait_for_dm(qq, CONSULTANT_QQ, f"【线索已撤回 #{lead}】", after=mark)

    # the person asks again: no capture, the consultant hears nothing more of it
    mark = qq.mark()
    await qq.send_group_message(DESK_GROUP, prospect, "落地价还能少吗？", nickname="老赵")
    end = await outbox_marker(qq)
    assert not [d for d in dms_to(qq, CONSULTANT_QQ, mark, end) if "落地价还能少吗" in d]

    review = await command(qq, MANAGER_QQ, "意向复盘", "【意向复盘】")
    assert "误判→不是线索 群聊 王顾问：这车落地多少钱？" in review
    assert "0\tgroup\t这车落地多少钱？" in review
