"""帮助 through nonebug: what each role sees, in groups (via the send queue) and DMs."""

from __future__ import annotations

import pytest
from nonebot.adapters.onebot.v11 import Bot, Message, MessageSegment
from nonebug import App

from tests.support.chat import not_matched
from tests.support.nonebot_env import MANAGER_QQ, SELF_ID, adapter, group_event, private_event

# 帮助 looks the asker up in the desk's roster.
pytestmark = pytest.mark.usefixtures("desk")


def text(value: str) -> Message:
    return Message(MessageSegment.text(value))


@pytest.fixture
def two_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """帮助 over the help plugin and the fixture plugin only, so the whole reply is
    known here (the real plugins' commands change with them)."""
    import nonebot

    import bot.plugins.help as help_plugin

    keep = {"help", "sample_commands"}
    plugins = {p for p in nonebot.get_loaded_plugins() if p.id_ in keep}
    assert {p.id_ for p in plugins} == keep
    monkeypatch.setattr(help_plugin, "get_loaded_plugins", lambda: plugins)


HEAD = "你可以使用的命令（前面加不加 / 都可以）：\n【帮助】\n· 帮助 [命令] —— 列出你可以使用的命令，或查看某个命令的用法\n"
TAIL = "发送「帮助 <命令>」查看某个命令的用法。"
MEMBER_HELP = HEAD + "【测试插件】\n· 签到 —— 每天签到（群内）\n" + TAIL
MANAGER_HELP = (
    HEAD + "【测试插件】\n· 签到 —— 每天签到（群内）\n· 今日任务 —— 查看今天的任务（私聊）\n"
    "· 线索统计 [本月]\n" + TAIL
)


def test_lists_by_role() -> None:
    from bot.plugins.help import help_text

    member = help_text({"member"})
    assert "· 帮助 [命令]" in member
    assert "· 签到 —— 每天签到（群内）" in member
    assert "今日任务" not in member and "线索统计" not in member
    assert "秘密" not in member and "坏角色" not in member  # hidden / malformed

    manager = help_text({"member", "consultant", "manager"})
    assert "· 今日任务 —— 查看今天的任务（私聊）" in manager  # the leading "/" is dropped
    assert "· 线索统计 [本月]" in manager
    assert "【测试插件】" in manager


def test_one_command() -> None:
    from bot.plugins.help import help_text

    assert help_text({"member"}, "签到").startswith("签到 —— 每天签到（群内）")
    assert help_text({"member"}, "/签到 什么意思").startswith("签到 —— 每天签到")
    assert "没有找到命令「线索统计」" in help_text({"member"}, "线索统计")  # not the asker's
    assert "没有找到" in help_text({"member"}, "x" * 500)


@pytest.mark.usefixtures("two_plugins")
async def test_member_in_group_gets_member_commands(app: App) -> None:
    from bot.plugins.help import help_command

    event = group_event("帮助", user_id=20001, group_id=123456)
    async with app.test_matcher(help_command) as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_pass_rule()
        ctx.should_call_api(
            "send_group_msg",
            {"group_id": 123456, "message": text(MEMBER_HELP)},
            result={"message_id": 1},
        )


@pytest.mark.usefixtures("two_plugins")
async def test_manager_in_private_with_slash(app: App) -> None:
    from bot.plugins.help import help_command

    event = private_event("/帮助", user_id=MANAGER_QQ)
    async with app.test_matcher(help_command) as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, text(MANAGER_HELP), result={"message_id": 2})


async def test_help_for_one_command(app: App) -> None:
    from bot.plugins.help import help_command

    event = private_event("帮助 签到")
    async with app.test_matcher(help_command) as ctx:
        bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
        ctx.receive_event(bot, event)
        ctx.should_call_send(
            event, text("签到 —— 每天签到（群内）\n—— 来自「测试插件」"), result={}
        )


async def test_not_a_whole_word(app: App) -> None:
    from bot.plugins.help import help_command

    await not_matched(app, help_command, group_event("帮助我看看这个车"), group_event("谁能帮助我"))
