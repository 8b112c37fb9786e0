"""Duplicate events: the pure TTL set and event keys, then the NoneBot preprocessor."""

from __future__ import annotations

import pytest
from nonebot.adapters.onebot.v11 import Bot, Message, MessageSegment
from nonebug import App

from bot.dedupe import DedupeConfig, Deduplicator, TTLSet, event_key
from tests.support.nonebot_env import SELF_ID, adapter, group_event


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ttl_set_remembers_then_forgets() -> None:
    clock = Clock()
    seen = TTLSet(ttl=10, max_size=100, clock=clock)
    assert seen.add("a") is True
    assert seen.add("a") is False
    clock.now += 9.9
    assert seen.add("a") is False and "a" in seen
    clock.now += 0.2
    assert "a" not in seen
    assert seen.add("a") is True


def test_ttl_set_is_bounded_oldest_first() -> None:
    seen = TTLSet(ttl=1000, max_size=3, clock=Clock())
    for key in "abcd":
        assert seen.add(key)
    assert len(seen) == 3 and "a" not in seen and "d" in seen


def message(**fields: object) -> dict[str, object]:
    return {
        "post_type": "message",
        "self_id": 1,
        "message_type": "group",
        "message_id": 7,
        **fields,
    }


def test_message_key_is_self_id_and_message_id() -> None:
    assert event_key(message()) == event_key(message(time=2, raw_message="changed"))
    assert event_key(message()) != event_key(message(message_id=8))
    assert event_key(message()) != event_key(message(self_id=2))
    assert event_key(message(message_id=None)) is None


def test_notice_key_uses_every_field_and_time() -> None:
    notice = {"post_type": "notice", "self_id": 1, "notice_type": "group_increase",
              "group_id": 5, "user_id": 6, "time": 100}  # fmt: skip
    assert event_key(notice) == event_key(dict(reversed(list(notice.items()))))
    assert event_key(notice) != event_key({**notice, "time": 101})
    assert event_key(notice) != event_key({**notice, "user_id": 9})


def test_the_preprocessor_keys_an_event_as_its_whole_dump_would() -> None:
    from nonebot.adapters.onebot.v11.event import GroupIncreaseNoticeEvent

    from bot.hooks import _identity  # pyright: ignore[reportPrivateUsage]

    notice = GroupIncreaseNoticeEvent.model_validate(
        {"time": 1, "self_id": SELF_ID, "post_type": "notice", "notice_type": "group_increase",
         "sub_type": "approve", "group_id": 5, "operator_id": 6, "user_id": 7}
    )  # fmt: skip
    for event in (group_event("你好", message_id=42), notice):
        assert event_key(_identity(event)) == event_key(event.model_dump()) is not None


def test_requests_and_meta_events() -> None:
    request = {
        "post_type": "request",
        "self_id": 1,
        "request_type": "group",
        "flag": "f1",
        "time": 1,
    }
    assert event_key(request) == event_key({**request, "time": 2})
    assert event_key({"post_type": "meta_event", "meta_event_type": "heartbeat"}) is None


def test_deduplicator_lets_unkeyed_events_through() -> None:
    dedupe = Deduplicator(DedupeConfig(dedupe_ttl_seconds=60, dedupe_max_events=100))
    heartbeat = {"post_type": "meta_event", "meta_event_type": "heartbeat", "self_id": 1}
    assert dedupe.first(heartbeat) and dedupe.first(heartbeat)
    assert dedupe.first(message()) and not dedupe.first(message())


@pytest.mark.usefixtures("desk")  # 帮助 reads the roster
async def test_preprocessor_drops_the_second_copy(app: App) -> None:
    from bot.hooks import install_dedupe, uninstall_dedupe
    from bot.plugins.help import help_command

    install_dedupe()
    try:
        event = group_event("帮助 签到", message_id=424242)
        async with app.test_matcher(help_command) as ctx:
            bot = ctx.create_bot(base=Bot, adapter=adapter(), self_id=str(SELF_ID))
            ctx.receive_event(bot, event)
            ctx.should_call_api(
                "send_group_msg",
                {
                    "group_id": event.group_id,
                    "message": Message(
                        MessageSegment.text("签到 —— 每天签到（群内）\n—— 来自「测试插件」")
                    ),
                },
                result={"message_id": 1},
            )
            ctx.receive_event(bot, event.model_copy())  # the same delivery again: no reply
    finally:
        uninstall_dedupe()
