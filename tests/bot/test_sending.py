"""The group send queue: token buckets, splitting, forward messages, retries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nonebot.adapters.onebot.v11 import (
    ActionFailed,
    ApiNotAvailable,
    Message,
    MessageSegment,
    NetworkError,
)

from bot.sending import GroupSender, SendingConfig, as_message
from bot.throttle import Bucket, Throttle, looks_like_timeout, plan_text, split_text


class Clock:
    """A fake monotonic clock; `sleep` advances it and records the waits."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class FakeBot:
    self_id = "10000"

    def __init__(self, *outcomes: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.outcomes = list(outcomes)  # exceptions to raise, in order; then success

    async def call_api(self, api: str, **data: Any) -> Any:
        self.calls.append((api, data))
        if self.outcomes:
            outcome = self.outcomes.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
        return {"message_id": len(self.calls)}


def sender(clock: Clock, **config: Any) -> GroupSender:
    return GroupSender(SendingConfig(**config), clock=clock, sleep=clock.sleep)


# --- token buckets (pure) ---------------------------------------------------------


def test_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = Bucket(rate=1, burst=3)
    times = []
    for _ in range(5):
        at = bucket.earliest(0)
        bucket.commit(at)
        times.append(at)
    assert times == [0, 0, 0, 1, 2]
    assert bucket.earliest(10) == 10  # refilled after a quiet spell
    assert not bucket.idle(2) and bucket.idle(10)


def test_throttle_per_group_and_global() -> None:
    config = SendingConfig(
        send_group_rate=1, send_group_burst=2, send_global_rate=4, send_global_burst=3
    )
    throttle = Throttle(config)
    for _ in range(2):
        assert throttle.group_earliest(1, 0) == 0
        throttle.take_group(1, throttle.take_global(0))
    assert throttle.group_earliest(1, 0) == 1  # group 1 spent its burst
    assert throttle.group_earliest(2, 0) == 0  # group 2 is not held up by group 1
    assert throttle.take_global(0) == 0  # the third of the global burst
    assert throttle.take_global(0) == 0.25  # then 4 a second over all groups
    assert throttle.take_global(0) == 0.5


# --- splitting (pure) ------------------------------------------------------------------


def test_split_keeps_lines_whole() -> None:
    text = "\n".join(f"第{i}行 内容内容" for i in range(10))  # 10 lines of 8 chars
    chunks = split_text(text, 20)
    assert all(len(c) <= 20 for c in chunks)
    assert "\n".join(chunks) == text
    assert all(not c.startswith("\n") for c in chunks)


def test_split_cuts_an_overlong_line_and_drops_blank_chunks() -> None:
    assert split_text("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]
    assert split_text("x\n\n\n\n" + "y" * 9, 10) == ["x", "y" * 9]
    assert split_text("   ", 10) == []
    assert split_text("short", 10) == ["short"]
    assert split_text("a\r\nb", 10) == ["a\nb"]
    with pytest.raises(ValueError):
        split_text("x", 0)


def test_plan_switches_to_forward_above_the_threshold() -> None:
    config = SendingConfig(send_max_length=50, send_forward_threshold=3)
    assert plan_text("\n".join(["x" * 40] * 3), config).kind == "messages"
    plan = plan_text("\n".join(["x" * 40] * 4), config)
    assert plan.kind == "forward" and len(plan.chunks) == 4


@pytest.mark.parametrize(
    ("text", "timeout"),
    [
        ("WebSocket call api send_group_msg timeout", True),
        ("Timeout: NTEvent", True),
        ("发送超时", True),
        ("bot is muted", False),
        ("", False),
    ],  # fmt: skip
)
def test_timeout_detection(text: str, timeout: bool) -> None:
    assert looks_like_timeout(text) is timeout


# --- the queue --------------------------------------------------------------------


async def test_rate_limits_one_group() -> None:
    clock, bot = Clock(), FakeBot()
    queue = sender(clock, send_group_rate=1, send_group_burst=3)
    for i in range(5):
        result = await queue.send(bot, 1, f"消息{i}")  # type: ignore[arg-type]
        assert result.ok and result.message_ids == [i + 1]
    assert clock.sleeps == [1.0, 1.0]  # three at once, then one a second
    assert [c[1]["message"] for c in bot.calls] == [as_message(f"消息{i}") for i in range(5)]


async def test_text_stays_text() -> None:
    clock, bot = Clock(), FakeBot()
    await sender(clock).send(bot, 1, "[CQ:at,qq=all] 大家好")  # type: ignore[arg-type]
    message = bot.calls[0][1]["message"]
    assert [seg.type for seg in message] == ["text"]


async def test_long_text_is_split_in_order_keeping_the_at() -> None:
    clock, bot = Clock(), FakeBot()
    text = "\n".join(["一" * 40] * 3)
    message = MessageSegment.at(20001) + MessageSegment.text(text)
    result = await sender(clock, send_max_length=50).send(bot, 7, message)  # type: ignore[arg-type]
    assert result.ok and len(bot.calls) == 3
    first = bot.calls[0][1]["message"]
    assert first[0] == MessageSegment.at(20001) and first[1].data["text"] == "一" * 40
    assert all(call[0] == "send_group_msg" and call[1]["group_id"] == 7 for call in bot.calls)


async def test_many_chunks_go_as_one_forward_message() -> None:
    clock, bot = Clock(), FakeBot()
    text = "\n".join(["二" * 40] * 5)
    result = await sender(clock, send_max_length=50, send_forward_threshold=3).send(bot, 7, text)  # type: ignore[arg-type]
    assert result.ok and [c[0] for c in bot.calls] == ["send_group_forward_msg"]
    nodes = bot.calls[0][1]["messages"]
    assert len(nodes) == 5 and all(n.type == "node" for n in nodes)
    assert nodes[0].data["user_id"] == "10000" and nodes[0].data["nickname"] == "车主群助手"


async def test_unsplittable_message_goes_as_is() -> None:
    clock, bot = Clock(), FakeBot()
    message = Message(
        [
            MessageSegment.text("a" * 80),
            MessageSegment.image("file:///x.png"),
            MessageSegment.text("b"),
        ]
    )
    assert (await sender(clock, send_max_length=50).send(bot, 7, message)).ok  # type: ignore[arg-type]
    assert len(bot.calls) == 1 and bot.calls[0][1]["message"] == message


async def test_empty_message_sends_nothing() -> None:
    clock, bot = Clock(), FakeBot()
    assert (await sender(clock).send(bot, 1, "  \n ")).ok  # type: ignore[arg-type]
    assert bot.calls == []


async def test_timeout_is_not_retried() -> None:
    clock, bot = Clock(), FakeBot(NetworkError("WebSocket call api send_group_msg timeout"))
    result = await sender(clock).send(bot, 1, "hi")  # type: ignore[arg-type]
    assert not result.ok and result.uncertain and len(bot.calls) == 1


async def test_client_reported_timeout_is_not_retried() -> None:
    failure = ActionFailed(status="failed", retcode=1200, message="Timeout: send msg")
    clock, bot = Clock(), FakeBot(failure)
    result = await sender(clock).send(bot, 1, "hi")  # type: ignore[arg-type]
    assert not result.ok and result.uncertain and len(bot.calls) == 1


async def test_a_send_surely_not_made_is_retried_once() -> None:
    clock, bot = Clock(), FakeBot(ApiNotAvailable())
    result = await sender(clock, send_retry_delay_seconds=2).send(bot, 1, "hi")  # type: ignore[arg-type]
    assert result.ok and len(bot.calls) == 2 and 2 in clock.sleeps

    failing = [ActionFailed(status="failed", retcode=1401, message="token")] * 3
    clock, bot = Clock(), FakeBot(*failing)
    result = await sender(clock).send(bot, 1, "hi")  # type: ignore[arg-type]
    assert not result.ok and not result.uncertain and len(bot.calls) == 2


async def test_a_failure_the_client_reports_as_its_own_is_not_retried() -> None:
    # go-cqhttp answers 100 also when the send itself went wrong: it may have arrived.
    clock, bot = Clock(), FakeBot(ActionFailed(status="failed", retcode=100, message="busy"))
    result = await sender(clock).send(bot, 1, "hi")  # type: ignore[arg-type]
    assert not result.ok and result.uncertain and len(bot.calls) == 1


async def test_a_request_refused_for_good_is_not_retried() -> None:
    clock, bot = Clock(), FakeBot(ActionFailed(status="failed", retcode=1404, message="no api"))
    result = await sender(clock).send(bot, 1, "hi")  # type: ignore[arg-type]
    assert not result.ok and not result.uncertain and not result.retryable
    assert len(bot.calls) == 1


async def test_a_message_cut_off_after_its_first_part_is_uncertain() -> None:
    clock, bot = Clock(), FakeBot()
    bot.outcomes = [None, ApiNotAvailable(), ApiNotAvailable()]  # part 2 never goes out
    text = "\n".join(["三" * 40] * 3)
    result = await sender(clock, send_max_length=50).send(bot, 1, text)  # type: ignore[arg-type]
    assert not result.ok and result.uncertain  # resending would repeat part 1
    assert len(bot.calls) == 3


async def test_a_failed_chunk_stops_the_rest() -> None:
    clock, bot = Clock(), FakeBot(NetworkError("timeout"))
    result = await sender(clock, send_max_length=50).send(bot, 1, "\n".join(["三" * 40] * 3))  # type: ignore[arg-type]
    assert not result.ok and len(bot.calls) == 1


async def test_a_flood_is_dropped_not_queued_forever() -> None:
    clock, bot = Clock(), FakeBot()
    queue = sender(clock, send_group_rate=0.1, send_group_burst=1, send_max_wait_seconds=5)
    assert (await queue.send(bot, 1, "x")).ok  # type: ignore[arg-type]
    result = await queue.send(bot, 1, "y")  # type: ignore[arg-type]
    assert not result.ok and result.error == "queue too long" and len(bot.calls) == 1
    assert (await queue.send(bot, 2, "z")).ok  # type: ignore[arg-type]  # other groups go on


async def test_global_rate_across_groups() -> None:
    clock, bot = Clock(), FakeBot()
    queue = sender(clock, send_global_rate=2, send_global_burst=1)
    for group_id in (1, 2, 3):
        assert (await queue.send(bot, group_id, "x")).ok  # type: ignore[arg-type]
    assert clock.sleeps == [0.5, 0.5]


async def test_concurrent_sends_to_a_group_keep_their_order() -> None:
    bot = FakeBot()
    queue = GroupSender(SendingConfig(send_group_rate=200, send_group_burst=1))
    await asyncio.gather(*(queue.send(bot, 1, f"{i}") for i in range(6)))  # type: ignore[arg-type]
    assert [c[1]["message"] for c in bot.calls] == [as_message(f"{i}") for i in range(6)]
