"""Security review "Trust": what reaches the bot through its port.

- QQ events come only over the reverse WebSocket with ONEBOT_ACCESS_TOKEN: a
  forged event POSTed to the stock adapter's HTTP routes is refused, changes
  nothing and does not keep the real client (same X-Self-ID) out.
- Request bodies over the limit get 413 before they are read.
- A WeChat callback replayed after a restart has no second effect; the desk's
  processed keys are purged by its schedule after their retention.
- The placeholder token, and an empty one where others reach the port, stop the start.

The real bot runs as a child process (tests/e2e/conftest.py) with WeCom and
Official Account settings pointing at a local fake WeChat API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from async_asgi_testclient import TestClient
from nonebot.config import Config, Env
from nonebot.drivers.fastapi import Driver as FastAPIDriver

from bot.adapters.wechat import Adapter, Bot, Event
from bot.adapters.wechat import adapter as adapter_module
from bot.adapters.wechat.config import WeChatSettings
from bot.settings import wechat_settings as read_wechat_settings
from bot.sim import OneBotClient
from bot.transport import PLACEHOLDER_TOKEN, BodyLimit, HttpConfig
from desk import ConfigError, Desk, FrozenClock
from desk.settings import build_settings
from tests.desk.conftest import database_url
from tests.e2e.conftest import (
    MANAGER_QQ,
    TOKEN,
    BotProcess,
    run_bot_until_exit,
    running_bot,
    start_bot,
    status_for_claimed_length,
    wait_for_dm,
)
from tests.security.live import WECOM_MANAGER, WECOM_SEND, wechat_bot_env
from tests.support.fake_wechat import FakeWeChat
from tests.support.wechat_callbacks import settings_env, wecom_post, wecom_text
from tests.support.wechat_live import content, post, text_to, wait_for

KIB = 1024


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, fake: FakeWeChat) -> dict[str, str]:
    """A desk bot with QQ and WeCom staff, WeChat on (pointed at the fake API)."""
    return wechat_bot_env(tmp_path_factory, "security", fake)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Iterator[BotProcess]:
    with running_bot(tmp_path_factory.mktemp("security-bot"), env) as process:
        yield process


def base(bot: BotProcess) -> str:
    return f"http://127.0.0.1:{bot.port}"


# -- 1. QQ events only over the WebSocket, with the token ----------------------------


def forged_private_message(self_id: int, user_id: int, text: str) -> dict[str, Any]:
    return {
        "time": int(time.time()), "self_id": self_id, "post_type": "message",
        "message_type": "private", "sub_type": "friend", "message_id": 4242,
        "user_id": user_id, "message": [{"type": "text", "data": {"text": text}}],
        "raw_message": text, "font": 0, "sender": {"user_id": user_id, "nickname": "经理"},
    }  # fmt: skip


async def test_a_forged_qq_event_over_http_is_refused_and_the_client_still_connects(
    bot: BotProcess,
) -> None:
    self_id = 880_901
    forged = forged_private_message(self_id, MANAGER_QQ, "添加顾问 55555 攻击者")
    for path in ("/onebot/v11/", "/onebot/v11/http", "/onebot/v11/http/"):
        response = await asyncio.to_thread(
            requests.post, base(bot) + path, json=forged,
            headers={"X-Self-ID": str(self_id)}, timeout=10,
        )  # fmt: skip
        assert response.status_code in (404, 405), (path, response.status_code, bot.log())
    # The real QQ client with the same account id and the token gets in ...
    async with OneBotClient(bot.ws_url, self_id=self_id, token=TOKEN) as qq:
        mark = qq.mark()
        await qq.send_private_message(MANAGER_QQ, "顾问列表")
        staff = await wait_for_dm(qq, MANAGER_QQ, "王顾问", after=mark)
    # ... and the forged command added nobody.
    assert "攻击者" not in staff and "55555" not in staff


# -- 2. request bodies are limited before they are read ------------------------------


@pytest.mark.parametrize(
    ("path", "length"),
    [("/wechat/wecom", 150 * KIB * KIB), ("/wechat/oa", 64 * KIB + 1), ("/other", KIB * KIB + 1)],
)
async def test_a_body_over_the_limit_is_refused_before_it_is_sent(
    bot: BotProcess, path: str, length: int
) -> None:
    status = await status_for_claimed_length(bot, path, length)
    assert status.startswith(b"HTTP/1.1 413"), status


async def test_a_normal_callback_still_works_over_http(bot: BotProcess, fake: FakeWeChat) -> None:
    mark = fake.mark()
    response = await post(bot, "/wechat/wecom", wecom_post(wecom_text(WECOM_MANAGER, "顾问列表")))
    assert response.status_code == 200, (response.status_code, bot.log())
    await wait_for(fake, WECOM_SEND, text_to(WECOM_MANAGER, "王顾问"), mark, bot)


def test_the_body_limit_is_a_validated_setting(tmp_path: Path) -> None:
    result = run_bot_until_exit(tmp_path, {"HTTP_MAX_BODY_BYTES": "10"}, timeout=30)
    assert result.returncode == 1, result.stderr
    assert "HTTP_MAX_BODY_BYTES" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def wechat_settings(fake: FakeWeChat) -> WeChatSettings:
    return read_wechat_settings({}, settings_env(fake.base_url) | {"WECHAT_TIMEOUT": "1"})


class Recorded:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[Bot, Event]] = []
        monkeypatch.setattr(adapter_module, "handle_event", self.record)

    async def record(self, bot: Bot, event: Event) -> None:
        self.events.append((bot, event))


def wechat_app(settings: WeChatSettings) -> tuple[FastAPIDriver, Adapter]:
    """The WeChat adapter on a FastAPI driver of its own, behind the body limit."""
    driver = FastAPIDriver(Env(environment="test"), Config(_env_file=None))  # pyright: ignore[reportCallIssue]
    adapter = Adapter(driver, settings=settings)
    driver.server_app.add_middleware(BodyLimit, limit_for=HttpConfig().limit_for)  # pyright: ignore[reportArgumentType]
    return driver, adapter


async def post_chunked(
    app: Any, path: str, query: dict[str, str], chunks: Iterator[bytes]
) -> tuple[int, int]:
    """POST a chunked body (no Content-Length) straight into the ASGI app, pulling
    chunks only when the app asks; returns (status, chunks pulled)."""
    pulled = 0
    pending = next(chunks, None)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled, pending
        if pending is None:
            await asyncio.Event().wait()  # a client that stays: no disconnect
        chunk, pending = pending, next(chunks, None)
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pending is not None}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": urlencode(query).encode(), "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1"), (b"transfer-encoding", b"chunked")],
    }  # fmt: skip
    await app(scope, receive, send)
    return sent[0]["status"], pulled


async def test_a_chunked_body_over_the_limit_is_cut_off_unread(
    wechat_settings: WeChatSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = Recorded(monkeypatch)
    driver, adapter = wechat_app(wechat_settings)
    async with TestClient(driver.asgi):
        total = 4096  # 256 MiB in 64 KiB chunks, if anyone read them all
        huge = (b"x" * 64 * KIB for _ in range(total))
        status, pulled = await post_chunked(driver.asgi, "/wechat/wecom", {}, huge)
        assert (status, pulled) == (413, 2)  # refused at the chunk past 64 KiB
        # A genuine callback sent in chunks still goes through whole.
        query, body = wecom_post(wecom_text("zhangsan", "你好"))
        pieces = (body[i : i + 100] for i in range(0, len(body), 100))
        status, _ = await post_chunked(driver.asgi, "/wechat/wecom", query, pieces)
        assert status == 200
        await asyncio.gather(*adapter._tasks)  # pyright: ignore[reportPrivateUsage]
    assert [event.get_plaintext() for _, event in recorded.events] == ["你好"]


# -- 11. replays after a restart; processed keys purged --------------------------------


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    clock = FrozenClock(datetime(2026, 12, 1, 4, 0, tzinfo=UTC))
    # SQLite, or PostgreSQL when DESK_TEST_POSTGRES_URL is set (as tests/desk).
    opened = await Desk.open(build_settings({"database_url": database_url(tmp_path)}), clock)
    try:
        yield opened
    finally:
        await opened.close()


async def test_a_callback_replayed_to_a_fresh_adapter_on_the_same_desk_has_no_effect(
    wechat_settings: WeChatSettings, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = Recorded(monkeypatch)
    captured = wecom_post(wecom_text("zhangsan", "审核"))
    for _ in range(2):  # the bot before and after a restart: no memory, the same desk
        driver, adapter = wechat_app(wechat_settings)
        adapter.use_claim(desk.once)
        async with TestClient(driver.asgi) as client:
            query, body = captured
            response = await client.post("/wechat/wecom", query_string=query, data=body)
            assert response.status_code == 200
            await asyncio.gather(*adapter._tasks)  # pyright: ignore[reportPrivateUsage]
    assert len(recorded.events) == 1


async def test_processed_keys_are_purged_after_their_retention(desk: Desk) -> None:
    clock = desk.clock
    assert isinstance(clock, FrozenClock)
    assert await desk.once("wechat:wecom:old")
    clock.advance(days=desk.settings.processed_events.retention_days - 1)
    assert await desk.once("wechat:wecom:recent")
    clock.advance(days=2)  # "old" is past the retention now, "recent" is not
    await desk.run_schedules()
    assert not await desk.once("wechat:wecom:recent")
    assert await desk.once("wechat:wecom:old")  # forgotten: new again


def test_the_retention_is_validated() -> None:
    assert build_settings({}).processed_events.retention_days == 30
    with pytest.raises(ConfigError, match=r"processed_events\.retention_days"):
        build_settings({"processed_events": {"retention_days": 1}})


async def test_a_wecom_command_replayed_after_a_restart_has_one_effect(
    tmp_path: Path, env: dict[str, str], fake: FakeWeChat
) -> None:
    captured = wecom_post(wecom_text(WECOM_MANAGER, "添加顾问 10077 钱七"))
    mark = fake.mark()
    with running_bot(tmp_path, env) as first:
        assert (await post(first, "/wechat/wecom", captured)).status_code == 200
        await wait_for(fake, WECOM_SEND, text_to(WECOM_MANAGER, "已添加顾问 钱七"), mark, first)
    with running_bot(tmp_path, env) as second:  # same database, nothing in memory
        replayed = fake.mark()
        assert (await post(second, "/wechat/wecom", captured)).status_code == 200
        deadline = time.monotonic() + 15
        while "processed before a restart" not in second.log(400):
            assert time.monotonic() < deadline, f"the replay was not recognised:\n{second.log()}"
            await asyncio.sleep(0.05)
        # Sent after the replay was dropped: the only answer since the replay.
        await post(second, "/wechat/wecom", wecom_post(wecom_text(WECOM_MANAGER, "顾问列表")))
        await wait_for(fake, WECOM_SEND, text_to(WECOM_MANAGER, "钱七"), replayed, second)
    to_manager = text_to(WECOM_MANAGER)
    answers = [content(c) for c in fake.requests_to(WECOM_SEND, mark) if to_manager(c)]
    assert len(answers) == 2 and "已经" not in answers[1], answers


# -- 12. unsafe tokens stop the start ---------------------------------------------------


@pytest.mark.parametrize(
    ("case", "extra"),
    [
        ("placeholder", {"ONEBOT_ACCESS_TOKEN": PLACEHOLDER_TOKEN}),
        ("empty, public HOST", {"ONEBOT_ACCESS_TOKEN": "", "HOST": "0.0.0.0"}),
        ("empty, WeChat on", {"ONEBOT_ACCESS_TOKEN": ""}),
    ],
)
def test_an_unsafe_token_stops_the_start(
    tmp_path: Path, fake: FakeWeChat, case: str, extra: dict[str, str]
) -> None:
    env = dict(extra)
    if case == "empty, WeChat on":
        env |= settings_env(fake.base_url)
    result = run_bot_until_exit(tmp_path, env, timeout=30)
    assert result.returncode == 1, result.stderr
    assert "bot not started" in result.stderr and "ONEBOT_ACCESS_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_loopback_without_a_token_and_without_wechat_starts_with_a_warning(
    tmp_path: Path,
) -> None:
    process = start_bot(tmp_path, token=None)
    try:
        process.wait_listening()
        assert "ONEBOT_ACCESS_TOKEN is not set" in process.log(400)
    finally:
        process.stop()
