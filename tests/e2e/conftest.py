"""End-to-end helpers: run `python -m bot` as a subprocess on a free port, wait
until it listens, talk to it with the OneBot simulator, always kill it.

    def test_x(bot_server: BotProcess): ...         # one bot per test module
    async def test_y(qq: OneBotClient): ...         # a connected fake QQ client
    async def test_z(desk_qq: OneBotClient): ...    # a bot with a roster (desk_bot), one
                                                    # client for the whole module

Each bot runs in its own temporary working directory (no developer .env is
read) with its own data location (DESK_DATABASE_URL): a SQLite file there, or
its own PostgreSQL database when DESK_TEST_POSTGRES_URL is set. On failure, the bot's
log is in the assertion message or at `bot_server.log_path`.

A desk bot (`write_desk_config` + `desk_env`) reads its config from a temporary
DESK_CONFIG_DIR: the repository's desk.toml with working hours covering the
whole day (so the outbox never holds a DM), and a roster.toml with one
consultant on duty (CONSULTANT_QQ) and one manager (MANAGER_QQ). Its timezone
is pinned to one where it is about noon when the bot starts, so no date
boundary (today's tasks, one group reply a day) falls inside a test run,
whatever the time of day.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.sim import ApiCall, OneBotClient, is_group_send, launcher
from bot.sim.client import GROUP_SEND_ACTIONS
from bot.sim.launcher import free_port
from bot.sim.transcript import render_message
from desk import DeskSettings, load_settings
from tests.desk.conftest import database_url as desk_database_url

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-secret-token"
START_TIMEOUT = 60.0  # seconds: the first start imports jionlp and friends
CONSULTANT_QQ = 10001
MANAGER_QQ = 90002
_self_ids = itertools.count(880001)


def database_url(workdir: Path) -> str:
    """Where a bot started in `workdir` keeps its desk (a restart reuses it):
    `workdir/desk.db`, or with DESK_TEST_POSTGRES_URL set a PostgreSQL database of
    its own (a copy of a migrated template, as for tests/desk)."""
    return desk_database_url(workdir)


def bot_env(
    workdir: Path, port: int, token: str | None, extra: dict[str, str] | None
) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SEND_", "DEDUPE_", "ONEBOT_", "WECOM_", "WECHAT_"))
    }
    env.update(
        HOST="127.0.0.1",
        PORT=str(port),
        ENVIRONMENT="e2e",
        LOG_LEVEL="DEBUG",
        PYTHONUNBUFFERED="1",
        DESK_DATABASE_URL=database_url(workdir),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    if token:
        env["ONEBOT_ACCESS_TOKEN"] = token
    env.update(extra or {})
    return env


@dataclass
class BotProcess:
    proc: subprocess.Popen[bytes]
    port: int
    token: str | None
    workdir: Path
    log_path: Path

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/onebot/v11/ws"

    def log(self, tail: int = 60) -> str:
        return launcher.log_tail(self.log_path, tail)

    def wait_listening(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.5),
            ):
                return
            time.sleep(0.2)
        raise TimeoutError(f"bot not listening on {self.port} after {timeout}s:\n{self.log()}")

    def kill(self, timeout: float = 10.0) -> int:
        """SIGKILL the whole process group at once: a crash, no shutdown hooks run."""
        return launcher.kill(self.proc, timeout)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL; the whole process group. Safe to call twice."""
        return launcher.stop(self.proc, timeout)


def start_bot(
    workdir: Path, *, token: str | None = TOKEN, env: dict[str, str] | None = None,
    module: str = "bot",
) -> BotProcess:  # fmt: skip
    """Start `python -m <module>` (the bot, or a test launcher around it) in `workdir`
    (not yet listening: call wait_listening)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / "bot.log"  # a restart on the same workdir appends
    proc = launcher.spawn(
        ["-m", module], workdir=workdir, env=bot_env(workdir, port, token, env), log_path=log_path
    )
    return BotProcess(proc, port, token, workdir, log_path)


def run_bot_until_exit(
    workdir: Path, env: dict[str, str], timeout: float = START_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run a bot expected to refuse to start; kills it if it starts after all."""
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot"],
            cwd=workdir,
            env=bot_env(workdir, free_port(), TOKEN, env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:  # subprocess.run kills the child
        raise AssertionError(f"the bot started although it should not have:\n{exc.stdout}") from exc


@pytest.fixture(scope="module")
def bot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """One running bot for the test module, killed afterwards whatever happens."""
    bot = start_bot(tmp_path_factory.mktemp("bot"))
    try:
        bot.wait_listening()
        yield bot
    finally:
        bot.stop()


@asynccontextmanager
async def connected(bot: BotProcess) -> AsyncIterator[OneBotClient]:
    """A fake QQ account (a fresh self_id) connected to `bot` until the block ends."""
    client = OneBotClient(bot.ws_url, self_id=next(_self_ids), token=bot.token)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def qq(bot_server: BotProcess) -> AsyncIterator[OneBotClient]:
    """A fake QQ account connected to `bot_server` (a fresh self_id per test)."""
    async with connected(bot_server) as client:
        yield client


# -- a bot with a desk roster ---------------------------------------------------

ROSTER_TOML = f"""\
[[member]]
name = "王顾问"
role = "consultant"
qq_id = "{CONSULTANT_QQ}"
on_duty = true

[[member]]
name = "张经理"
role = "manager"
qq_id = "{MANAGER_QQ}"
"""


def midday_timezone(now: datetime | None = None) -> str:
    """An IANA zone (Etc/GMT±N) where the local time is between 12:00 and 13:00 now."""
    hour = (now or datetime.now(UTC)).astimezone(UTC).hour
    offset = (12 - hour) % 24  # hours east of UTC
    if offset > 14:  # Etc zones run from UTC-12 to UTC+14
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX signs are inverted


def write_desk_config(config_dir: Path, roster: str = ROSTER_TOML) -> Path:
    """desk.toml (the repository's, working hours all day, every day) and roster.toml."""
    config_dir.mkdir(parents=True, exist_ok=True)
    desk_toml = (REPO_ROOT / "config" / "desk.toml").read_text(encoding="utf-8")
    whole_day = re.sub(
        r"(?m)^start = .*\n^end = .*$", 'start = "00:00"\nend = "23:59:59"', desk_toml, count=1
    )
    assert whole_day != desk_toml, "config/desk.toml: [working_hours] start/end not found"
    (config_dir / "desk.toml").write_text(whole_day, encoding="utf-8")
    (config_dir / "roster.toml").write_text(roster, encoding="utf-8")
    return config_dir


def desk_env(config_dir: Path, timezone: str) -> dict[str, str]:
    return {"DESK_CONFIG_DIR": str(config_dir), "DESK_TIMEZONE": timezone}


def desk_settings(workdir: Path, env: dict[str, str]) -> DeskSettings:
    """The settings a desk bot in `workdir` runs on (same database, config, timezone),
    for a test that opens the desk itself, e.g. as another front would."""
    return load_settings(env={**env, "DESK_DATABASE_URL": database_url(workdir)})


def start_desk_bot(workdir: Path, env: dict[str, str], module: str = "bot") -> BotProcess:
    """A listening bot on `workdir` (its database) with a desk config; killed on failure."""
    bot = start_bot(workdir, env=env, module=module)
    try:
        bot.wait_listening()
    except BaseException:
        bot.stop()
        raise
    return bot


@contextmanager
def running_bot(workdir: Path, env: dict[str, str], module: str = "bot") -> Iterator[BotProcess]:
    """start_desk_bot for a `with` block (a module fixture's life): stopped at the end."""
    bot = start_desk_bot(workdir, env, module)
    try:
        yield bot
    finally:
        bot.stop()


@pytest.fixture(scope="module")
def desk_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """DESK_* environment of a desk bot: a temp config dir, a midday timezone."""
    config_dir = write_desk_config(tmp_path_factory.mktemp("desk-config"))
    env = desk_env(config_dir, midday_timezone())
    load_settings(env=env)  # a bad temp config fails here, not as a silent bot exit
    return env


@pytest.fixture(scope="module")
def desk_bot(
    tmp_path_factory: pytest.TempPathFactory, desk_config: dict[str, str]
) -> Iterator[BotProcess]:
    """One bot with the roster for the test module, killed afterwards whatever happens."""
    with running_bot(tmp_path_factory.mktemp("desk-bot"), desk_config) as bot:
        yield bot


@pytest.fixture(scope="module")
async def desk_qq(desk_bot: BotProcess) -> AsyncIterator[OneBotClient]:
    """The one QQ account connected to `desk_bot` for the whole module (the outbox
    delivers DMs through whichever account is connected: one at a time)."""
    async with connected(desk_bot) as client:
        yield client


# -- reading what the bot sent ----------------------------------------------------


def message_text(call: ApiCall) -> str:
    return render_message(call.params.get("message", call.params.get("messages")))


def is_dm_to(call: ApiCall, user_id: int) -> bool:
    """A private message to `user_id`: an outbox DM (send_private_msg) or a reply (send_msg)."""
    if call.action == "send_msg" and (
        call.params.get("message_type") != "private" or "group_id" in call.params
    ):
        return False
    if call.action not in ("send_private_msg", "send_msg"):
        return False
    return str(call.params.get("user_id")) == str(user_id)


async def shut_down(bot: BotProcess | None, qq: OneBotClient | None) -> None:
    """The end of a test that starts and kills bots itself: close the client, stop the bot
    (whichever it got to start)."""
    if qq is not None:
        await qq.close()
    if bot is not None:
        bot.stop()


async def wait_for_dm(
    qq: OneBotClient,
    user_id: int,
    *needles: str,
    after: int = 0,
    timeout: float = 15.0,  # noqa: ASYNC109 - as OneBotClient.wait_for_call
) -> str:
    """The text of the next DM to `user_id` containing every needle."""
    try:
        call = await qq.wait_for_call(
            ("send_private_msg", "send_msg"),
            lambda c: is_dm_to(c, user_id) and all(n in message_text(c) for n in needles),
            timeout,
            after=after,
        )
    except TimeoutError:
        seen = "\n---\n".join(dms_to(qq, user_id, after)) or "(none)"
        raise AssertionError(
            f"no DM to {user_id} with {needles} within {timeout}s; DMs to {user_id}:\n{seen}"
        ) from None
    return message_text(call)


DESK_GROUP = 555001  # where the desk tests' prospects ask
_NEW_LEAD = re.compile(r"【新线索 #(\d+)】")


async def ask_in_group(
    qq: OneBotClient, user_id: int, text: str, *, group: int = DESK_GROUP, nickname: str = "车友"
) -> tuple[int, str]:
    """A prospect asks in a group; returns (lead number, the consultant's new-lead DM)."""
    mark = qq.mark()
    await qq.send_group_message(group, user_id, text, nickname=nickname)
    dm = await wait_for_dm(qq, CONSULTANT_QQ, "【新线索 #", f"原话：{text}", after=mark)
    return lead_no(dm), dm


def lead_no(new_lead_dm: str) -> int:
    match = _NEW_LEAD.search(new_lead_dm)
    assert match, new_lead_dm
    return int(match.group(1))


async def command(qq: OneBotClient, user_id: int, text: str, *expect: str) -> str:
    """Someone DMs the bot a command; returns the reply containing `expect`."""
    mark = qq.mark()
    await qq.send_private_message(user_id, text)
    return await wait_for_dm(qq, user_id, *expect, after=mark)


def dms_to(qq: OneBotClient, user_id: int, after: int = 0, before: int | None = None) -> list[str]:
    return [message_text(c) for c in qq.calls[after:before] if is_dm_to(c, user_id)]


# -- markers: "nothing more was sent" without a fixed wait ------------------------------

MARKER_QUESTION = "帮助 签到"
MARKER_GROUP = 555999  # where the outbox marker's prospects ask
_marker_users = itertools.count(39001)


def is_marker_reply(text: str) -> bool:
    """The answer to MARKER_QUESTION (帮助 for one command names its plugin)."""
    return text.startswith("签到 ——") and "—— 来自「" in text


async def group_marker(qq: OneBotClient, group_id: int, timeout: float = 15.0) -> int:  # noqa: ASYNC109
    """Ask 帮助 签到 in `group_id` and wait for the answer; returns its index in
    `qq.calls`. Messages are handled in the order they arrive and a group's
    posts leave its send queue in order, so any post caused by a message sent
    before the marker comes before this answer."""
    mark = qq.mark()
    await qq.send_group_message(group_id, next(_marker_users), MARKER_QUESTION, nickname="标记")
    call = await qq.wait_for_call(
        GROUP_SEND_ACTIONS,
        lambda c: is_group_send(c, group_id) and is_marker_reply(message_text(c)),
        timeout,
        after=mark,
    )
    return qq.calls.index(call)


async def outbox_marker(qq: OneBotClient, timeout: float = 15.0) -> int:  # noqa: ASYNC109
    """A new prospect asks in MARKER_GROUP; waits for the consultant's new-lead DM
    about it and returns its index in `qq.calls`. The outbox sends in the order
    things were queued, so any DM queued before the marker came before it."""
    user = next(_marker_users)
    text = f"标记{user}：这车多少钱？"
    mark = qq.mark()
    await qq.send_group_message(MARKER_GROUP, user, text, nickname="标记")
    call = await qq.wait_for_call(
        ("send_private_msg", "send_msg"),
        lambda c: is_dm_to(c, CONSULTANT_QQ) and f"原话：{text}" in message_text(c),
        timeout,
        after=mark,
    )
    return qq.calls.index(call)


async def status_for_claimed_length(bot: BotProcess, path: str, length: int) -> bytes:
    """The status line the bot answers a POST announcing `length` bytes with, before
    any of them is sent (a server that reads the body first never answers)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
    try:
        writer.write(
            f"POST {path}?timestamp=1&nonce=n&msg_signature=x HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: {length}\r\n\r\n"
            .encode()
        )  # fmt: skip
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.readline(), 10)
        except TimeoutError:
            raise AssertionError(f"no answer to a POST of {length} bytes on {path}") from None
    finally:
        writer.close()
