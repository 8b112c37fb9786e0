"""bot.front's per-event memo: the parse and the asker's roles are worked out once
per event object, and never handed to another event."""

from __future__ import annotations

import gc

import pytest
from nonebot.adapters import Bot

from bot import front
from tests.support.nonebot_env import group_event


async def test_roles_are_looked_up_once_per_event_and_never_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looked_up: list[str] = []

    async def asker_roles(bot: Bot, event) -> set[str]:  # noqa: ANN001 - any event
        looked_up.append(event.get_user_id())
        return {"member", "consultant", "manager"} if event.get_user_id() == "90001" else {"member"}

    monkeypatch.setattr(front, "asker_roles", asker_roles)
    bot = object()
    for _ in range(50):  # freed events' ids come back; their roles must not
        manager = group_event("分配 1 李顾问", user_id=90001)
        assert "manager" in await front.roles_of(bot, manager)  # type: ignore[arg-type]
        assert "manager" in await front.roles_of(bot, manager)  # type: ignore[arg-type]
        del manager
        gc.collect()
        owner = group_event("分配 1 李顾问", user_id=20001)
        assert await front.roles_of(bot, owner) == {"member"}  # type: ignore[arg-type]
        del owner
        gc.collect()
    assert looked_up == ["90001", "20001"] * 50  # once per event


def test_the_parse_is_kept_with_its_event() -> None:
    first = group_event("帮助 签到")
    assert front.parse(first) == ("帮助", "签到", False)
    assert front.parse(first, "other text") == ("帮助", "签到", False)  # made once
    assert front.parse(group_event("今天天气不错")) is None
