"""The bot runtime end to end: `python -m bot` on a real port, a simulated QQ
client on the reverse WebSocket (spec §4, §5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from bot.sim import OneBotClient, is_group_send
from bot.sim.transcript import render_message
from tests.e2e.conftest import BotProcess, group_marker, run_bot_until_exit, write_desk_config

REPLY_TIMEOUT = 15.0


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_a_client_without_the_token_is_refused(
    bot_server: BotProcess, token: str | None
) -> None:
    client = OneBotClient(bot_server.ws_url, self_id=870001, token=token)
    with pytest.raises(InvalidStatus) as info:
        await client.connect()
    assert info.value.response.status_code == 403
    await client.close()


async def test_help_in_a_group_is_answered(qq: OneBotClient) -> None:
    mark = qq.mark()
    await qq.send_group_message(123456, 20001, "帮助", nickname="张三")
    call = await qq.wait_for_group_reply(123456, REPLY_TIMEOUT, after=mark)
    assert call.action in ("send_group_msg", "send_msg")
    text = render_message(call.params["message"])
    assert "帮助" in text and "你可以使用的命令" in text
    assert "线索统计" not in text  # a member sees no manager commands


async def test_the_same_message_delivered_twice_is_answered_once(qq: OneBotClient) -> None:
    mark = qq.mark()
    message_id = qq.next_message_id()
    for _ in range(2):
        await qq.send_group_message(223344, 20002, "/帮助", nickname="李四", message_id=message_id)
    await qq.send_group_message(223344, 20003, "帮助我看看这台车", nickname="王五")  # chat
    await qq.wait_for_group_reply(223344, REPLY_TIMEOUT, after=mark)
    end = await group_marker(qq, 223344)
    replies = [c for c in qq.calls[mark:end] if is_group_send(c, 223344)]
    assert len(replies) == 1, [render_message(c.params.get("message")) for c in replies]


def test_a_bad_setting_stops_the_start(tmp_path: Path) -> None:
    result = run_bot_until_exit(tmp_path, {"SEND_GROUP_RATE": "0"})
    assert result.returncode == 1
    assert "bot not started" in result.stderr
    assert "SEND_GROUP_RATE: Input should be greater than 0" in result.stderr


@pytest.mark.parametrize(
    ("file", "content", "named"),
    [
        ("roster.toml", '[[member]]\nname = "王"\nqq_id = "abc"\n', "member[0].qq_id"),
        (
            "desk.toml",
            "[levels]\nH = { interval_days = 0, purchase_within_days = 7 }\n",
            "levels.H.interval_days",
        ),
    ],
)
def test_a_bad_desk_config_stops_the_start_naming_the_key(
    tmp_path: Path, file: str, content: str, named: str
) -> None:
    config = write_desk_config(tmp_path / "config")
    (config / file).write_text(content, encoding="utf-8")
    result = run_bot_until_exit(tmp_path, {"DESK_CONFIG_DIR": str(config)})
    assert result.returncode == 1
    assert "bot not started" in result.stderr and named in result.stderr
    assert "Traceback" not in result.stderr
