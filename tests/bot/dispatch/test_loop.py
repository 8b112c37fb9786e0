"""The loop and the one failure classifier: every transport's outcome lands in the
same three places (sent / failed and retried / uncertain, never resent)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.adapters.wechat.client import ApiError, NetworkError, WeChatError
from bot.dispatch import deliver_round
from bot.sending import SendFailure, classify_failure
from desk import Desk, FrozenClock, OutboxItem
from desk.models import OutboxMessage


async def status_of(desk: Desk, key: str) -> tuple[str, int]:
    async with desk.db.reader() as session:
        row = (await session.scalars(select(OutboxMessage).where(OutboxMessage.key == key))).one()
        return row.status, row.attempts


async def queue(desk: Desk, key: str, channel: str = "qq") -> None:
    await desk.notify(key=key, kind="owner_dm", channel=channel, address="30001",
                      payload={"text": "积分到账"}, any_hour=True)  # fmt: skip


@pytest.mark.parametrize(
    ("exc", "uncertain", "retryable"),
    [
        (ApiError("message/send", 45009, "busy"), False, True),  # answered: nothing happened
        (ApiError("message/send", 81013, "not visible"), False, False),  # will not change
        (NetworkError("message/send", "ReadTimeout", uncertain=True), True, True),
        (NetworkError("message/send", "ConnectError", uncertain=False), False, True),
        (WeChatError("no customer-contact secret"), False, False),
    ],
)
def test_wechat_failures_are_classified_like_qq_ones(
    exc: Exception, uncertain: bool, retryable: bool
) -> None:
    failure = classify_failure(exc)
    assert (failure.uncertain, failure.retryable) == (uncertain, retryable)


def test_an_unknown_exception_is_read_as_its_transport_says() -> None:
    assert not classify_failure(RuntimeError("closed")).uncertain  # OneBot: before the wire
    assert classify_failure(RuntimeError("?"), unknown_may_have_arrived=True).uncertain


async def test_each_outcome_reaches_the_desk(desk: Desk, desk_clock: FrozenClock) -> None:
    outcomes = {
        "sent": None,
        "busy": SendFailure("busy", uncertain=False),
        "gone": SendFailure("no such user", uncertain=False, retryable=False),
        "maybe": SendFailure("timeout", uncertain=True),
    }

    async def send(item: OutboxItem) -> SendFailure | None:
        return outcomes[item.key]

    for key in outcomes:
        await queue(desk, key)
    while await deliver_round(desk, {"qq": send}):
        pass
    assert [await status_of(desk, k) for k in outcomes] == [
        ("sent", 1), ("pending", 1), ("dead", 1), ("uncertain", 1),
    ]  # fmt: skip


async def test_a_transport_that_raises_leaves_the_message_uncertain(desk: Desk) -> None:
    async def broken(item: OutboxItem) -> SendFailure | None:
        raise RuntimeError("bug after the request left")

    await queue(desk, "k")
    assert await deliver_round(desk, {"qq": broken}) == 1
    assert (await status_of(desk, "k"))[0] == "uncertain"


async def test_a_round_claims_only_its_own_channels(desk: Desk) -> None:
    await queue(desk, "on-qq")
    await queue(desk, "on-wecom", channel="wecom")

    async def sent(item: OutboxItem) -> SendFailure | None:
        return None

    assert await deliver_round(desk, {"wecom": sent}) == 1
    assert await deliver_round(desk, {"wecom": sent}) == 0
    assert (await status_of(desk, "on-qq"))[0] == "pending"
    assert await deliver_round(desk, {}) == 0  # nothing connected: nothing claimed
