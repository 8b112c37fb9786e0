"""The fuzz of test_fuzz.py through the real thing, for fewer examples: the bot as a
child process (every plugin), fuzzed command texts posted as signed, encrypted WeChat
callbacks (Official Account and WeCom app), answers read from the fake WeChat API.

Each input is followed by 帮助 from the same sender; once its answer (the command
list) arrives, the fuzzed input's answers have arrived too, or arrive with the next
round's (the checks cover every answer either way). Per answer: Chinese text that
encoded to JSON as UTF-8; per callback: never a server error; at the end, no
traceback in the bot's log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.command_limit import LIMIT_OFF_ENV
from tests.e2e.conftest import BotProcess, running_bot
from tests.security.live import (
    WECOM_MANAGER,
    WECOM_MANAGER_ROSTER,
    WECOM_SEND,
    wechat_bot_env,
)
from tests.security.test_fuzz import CJK, ENGLISH, arguments, command_usages, fuzz_settings
from tests.support.fake_wechat import FakeWeChat
from tests.support.wechat_callbacks import oa_post, oa_text, wecom_post, wecom_text
from tests.support.wechat_live import content, post, text_to, wait_for

FOLLOWER = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
SENDERS = {  # who: (callback path, send API path, user)
    "oa-follower": ("/wechat/oa", "/cgi-bin/message/custom/send", FOLLOWER),
    "wecom-manager": ("/wechat/wecom", WECOM_SEND, WECOM_MANAGER),
}
HELP_HEADER = "帮助"  # a word of the command list's header, checked below


@pytest.fixture(scope="module")
def bot(
    tmp_path_factory: pytest.TempPathFactory,
    fake: FakeWeChat,
) -> Iterator[BotProcess]:
    # The per-person limit off: two senders send 80 commands, and a 帮助 it dropped
    # would look like a lost answer.
    env = wechat_bot_env(tmp_path_factory, "fuzz-wechat", fake, WECOM_MANAGER_ROSTER)
    env |= LIMIT_OFF_ENV
    workdir: Path = tmp_path_factory.mktemp("fuzz-wechat-bot")
    with running_bot(workdir, env) as process:
        yield process


def callback(who: str, text: str) -> tuple[dict[str, str], bytes]:
    _, _, user = SENDERS[who]
    if who == "oa-follower":
        return oa_post(oa_text(user, text), openid=user)
    return wecom_post(wecom_text(user, text))


def sendable(text: str) -> str:
    """What WeChat can carry in a callback: UTF-8, and no end of the CDATA it sits in."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("]]>", "]] >")


@fuzz_settings(40)
@given(data=st.data(), who=st.sampled_from(sorted(SENDERS)), argument=arguments)
async def test_fuzzed_callbacks_never_crash_the_bot(
    bot: BotProcess,
    fake: FakeWeChat,
    data: st.DataObject,
    who: str,
    argument: str,
) -> None:
    word = data.draw(st.sampled_from(list(command_usages())), label="word")
    typed = sendable(f"{word} {argument}")[:2000]
    path, send_path, user = SENDERS[who]
    mark = fake.mark()
    response = await post(bot, path, callback(who, typed))
    assert response.status_code < 500, (response.status_code, typed, bot.log())
    await post(bot, path, callback(who, "帮助"))
    await wait_for(fake, send_path, text_to(user, HELP_HEADER), mark, bot)
    for call in fake.requests_to(send_path, mark):
        said = content(call)
        if text_to(user)(call) and said:
            assert CJK.search(said), (typed, said)
            assert not [e for e in ENGLISH.findall(said) if e not in typed], (typed, said)
    assert "Traceback" not in bot.log(5000), bot.log(5000)
