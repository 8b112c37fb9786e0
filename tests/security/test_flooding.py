"""Security review "Trust" (13): flooding.

- One person's commands are limited (bot.command_limit through bot.prefilter):
  past the allowance a command gets no reply and changes nothing, the flood is
  logged once per window with no phone; plain chat is still captured; the
  allowance comes back as time passes (an injected clock, no sleeps); staff
  have a higher one; the settings are validated.
- 报名 by DM only for events the person can see: a member of the event's group
  (the QQ client says), an Official Account follower for an event published to
  the OA. Nobody else learns anything about the event, and nothing is stored.

Driven through nonebug, like tests/plugins (the fixtures of tests/support/nonebot_env.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from pathlib import Path
from types import ModuleType

import nonebot
import pytest
from nonebot.adapters.onebot.v11 import (
    Adapter,
)
from nonebug import App
from pydantic import ValidationError

from bot.adapters.wechat import Bot as WeChatBot
from bot.adapters.wechat import Message as WeChatMessage
from bot.adapters.wechat import MessageSegment as WeChatSegment
from bot.adapters.wechat import OAMessageEvent
from bot.command_limit import CommandLimitConfig
from bot.loader import describe_error
from bot.prefilter import install_command_limit
from desk import Desk
from tests.support import nonebot_env as bot_conftest
from tests.support.chat import (
    _Anything,
    ask,
    dm_after_member_check,
    handler_errors,
    logged,
    no_reply,
    reply_to,
)
from tests.support.nonebot_env import (
    CONSULTANT_QQ,
    ROSTER_MANAGER_QQ,
    adapter,
    group_event,
    private_event,
)

# tests/support/nonebot_env.py's fixtures: a fresh desk with a small roster; the send queue without waits.
desk_clock = bot_conftest.desk_clock
desk = bot_conftest.desk
unthrottled_sending = bot_conftest.unthrottled_sending

GROUP = 123456
OTHER_GROUP = 654321
OWNER = 20001
FLOODER = 13812345678  # a QQ id that reads like a mobile number: never logged whole
FOLLOWER = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
OA_SELF = "oa:wx1234567890abcdef"
_oa_ids = count(9_300_000_000)
TRIP = "发起活动 周末自驾游 周六上午10点 4S店门口 20人 截止 周五18点"
PLUGINS = (
    "bot.plugins.help", "bot.plugins.deskchat", "bot.plugins.intent", "bot.plugins.activities",
    "bot.plugins.events", "bot.plugins.referral", "bot.plugins.privacy",
)  # fmt: skip

pytestmark = pytest.mark.usefixtures("desk")


@pytest.fixture(scope="module", autouse=True)
def _bot(nonebug_init: None) -> None:
    """The bot's plugins, loaded once per session (tests/plugins may have loaded them)."""
    nonebot.get_driver().register_adapter(Adapter)  # a no-op when registered
    for module in PLUGINS:
        if nonebot.get_plugin_by_module_name(module) is None:
            assert nonebot.load_plugin(module) is not None, module


@pytest.fixture(autouse=True)
def _no_handler_crash() -> Iterator[None]:
    errors = handler_errors()
    yield
    assert not errors, f"a handler raised: {errors!r}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    clock = Clock()
    install_command_limit(CommandLimitConfig(), clock)  # the defaults: 10 per 60 s, staff 60
    yield clock
    install_command_limit(None)


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    with logged("WARNING") as lines:
        yield lines


def texts() -> ModuleType:
    from bot.plugins.events import texts

    return texts


async def create(app: App, group: int = GROUP) -> int:
    reply = await ask(app, group_event(TRIP, user_id=ROSTER_MANAGER_QQ, group_id=group))
    assert reply.startswith("已发起活动 #"), reply
    return int(reply.removeprefix("已发起活动 #").split("「")[0])


async def seats(app: App, group: int = GROUP) -> str:
    """The manager's view of the group's events."""
    return await ask(app, group_event("活动", user_id=ROSTER_MANAGER_QQ, group_id=group))


async def said(app: App, text: str, user: int) -> str:
    return (await reply_to(app, group_event(text, user_id=user))).extract_plain_text().strip()


# --- a) commands per person ----------------------------------------------------------------


async def test_the_eleventh_command_in_a_minute_is_dropped_quietly(
    app: App, desk: Desk, clock: Clock, warnings: list[str]
) -> None:
    event_id = await create(app)
    for _ in range(10):
        assert (await ask(app, group_event("活动", user_id=FLOODER))).startswith("本群活动")
    # The bucket refills evenly, one command per 6 s: 5 s on, none is back yet.
    clock.now += 5
    await no_reply(app, group_event(f"报名 {event_id}", user_id=FLOODER))
    await no_reply(app, private_event("我的报名", user_id=FLOODER))
    assert "剩余 20 位" in await seats(app)  # the manager's own allowance; nothing stored
    assert await desk.find_lead(qq_id=str(FLOODER)) is None
    flood = [line for line in warnings if "command limit" in line]
    assert len(flood) == 1, warnings
    assert str(FLOODER) not in flood[0] and "138****5678" in flood[0]
    clock.now += 55  # a minute after the burst: the allowance is back
    assert (await said(app, f"报名 {event_id}", FLOODER)).startswith(f"已报名活动 #{event_id}")
    assert "剩余 19 位" in await seats(app)


async def test_plain_chat_past_the_limit_is_still_captured(
    app: App, desk: Desk, clock: Clock
) -> None:
    for _ in range(10):
        await ask(app, group_event("活动", user_id=OWNER))
    await no_reply(app, group_event("活动", user_id=OWNER))
    ack = await said(app, "这车落地多少钱？", OWNER)
    assert "顾问" in ack, ack  # the intent plugin still answers and captures
    lead = await desk.find_lead(qq_id=str(OWNER))
    assert lead is not None and lead.first_message == "这车落地多少钱？"


async def test_staff_have_a_higher_allowance(app: App, clock: Clock) -> None:
    for _ in range(11):
        assert await ask(app, private_event("今日", user_id=CONSULTANT_QQ))
    install_command_limit(CommandLimitConfig(command_limit=2, command_limit_staff=3), clock)
    for _ in range(3):
        await ask(app, private_event("今日", user_id=CONSULTANT_QQ))
    await no_reply(app, private_event("今日", user_id=CONSULTANT_QQ))


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"command_limit": 0}, "command_limit"),
        ({"command_window_seconds": 0}, "command_window_seconds"),
        ({"command_limit": "many"}, "command_limit"),
        ({"command_limit": 20, "command_limit_staff": 10}, "command_limit_staff"),
    ],
)
def test_bad_limit_settings_are_refused_naming_the_key(settings: dict, key: str) -> None:
    with pytest.raises(ValidationError) as info:
        CommandLimitConfig.model_validate(settings)
    assert key.upper() in describe_error(info.value).upper()


# --- b) sign-ups only for events the person can see ------------------------------------------


async def test_a_dm_sign_up_for_another_groups_event_is_refused(app: App, desk: Desk) -> None:
    event_id = await create(app, OTHER_GROUP)
    reply = await dm_after_member_check(
        app, private_event(f"报名 {event_id} 10人"), OTHER_GROUP, member=False
    )
    assert reply == texts().NOT_YOUR_GROUP.format(id=event_id)
    assert "自驾游" not in reply and "4S店" not in reply
    assert "剩余 20 位" in await seats(app, OTHER_GROUP)
    assert await ask(app, private_event("我的报名")) == texts().NO_SIGNUPS
    assert await desk.find_lead(qq_id=str(OWNER)) is None


async def test_a_members_dm_sign_up_for_their_groups_event_works(app: App) -> None:
    event_id = await create(app)
    reply = await dm_after_member_check(
        app, private_event(f"报名 {event_id} 2人"), GROUP, member=True
    )
    assert reply.startswith(f"已报名活动 #{event_id}「周末自驾游」，2人。")
    assert "剩余 18 位" in await seats(app)


async def test_the_event_list_by_dm_shows_no_groups_events(app: App) -> None:
    await create(app, OTHER_GROUP)
    assert await ask(app, private_event("活动")) == texts().GROUP_ONLY


def oa_event(text: str) -> OAMessageEvent:
    """An Official Account follower's text message, as the adapter builds it."""
    return OAMessageEvent(
        self_id=OA_SELF, to_user="gh_0123456789ab", from_user=FOLLOWER, create_time=1_790_000_000,
        raw={}, msg_id=next(_oa_ids), msg_type="text",
        message=WeChatMessage(WeChatSegment.text(text)),
    )  # fmt: skip


async def oa_reply(app: App, text: str) -> str:
    event = oa_event(text)
    caught = _Anything()
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=WeChatBot, adapter=adapter(), self_id=OA_SELF, platform="oa")
        ctx.receive_event(bot, event)
        ctx.should_call_send(event, caught, result=[{"errcode": 0}])  # pyright: ignore[reportArgumentType]
    assert isinstance(caught.value, str), caught.value
    return caught.value


async def test_an_oa_follower_signs_up_only_for_events_published_to_the_oa(
    app: App, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.plugins.events as events

    event_id = await create(app)
    assert await oa_reply(app, f"报名 {event_id}") == texts().NOT_ON_OA.format(id=event_id)
    assert await desk.find_lead(wechat_openid=FOLLOWER) is None
    assert "剩余 20 位" in await seats(app)
    published = events.CONFIG.model_copy(update={"oa_groups": frozenset({str(GROUP)})})
    monkeypatch.setattr(events, "CONFIG", published)
    assert (await oa_reply(app, f"报名 {event_id}")).startswith(f"已报名活动 #{event_id}")
    assert "剩余 19 位" in await seats(app)


def test_the_party_size_is_validated(tmp_path: Path) -> None:
    from desk import ConfigError
    from features.events.config import load_config

    shipped = load_config()
    assert shipped.max_party == 10
    for text in ("max_party = 0", "max_party = 1000", "max_party = 50\nmax_capacity = 20"):
        path = tmp_path / "events.toml"
        path.write_text(text + "\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="max_party"):
            load_config(path)
