"""End-to-end helpers: run `python -m bot` as a subprocess on a free port, wait
until it listens, talk to it with the OneBot simulator, always kill it.

    def test_x(bot_server: BotProcess): ...         # one bot per test module
    async def test_y(qq: OneBotClient): ...         # a connected fake QQ client

Each bot runs in its own temporary working directory (no developer .env is
read) with its own data location (DESK_DATABASE_URL). On failure, the bot's
log is in the assertion message or at `bot_server.log_path`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.sim import OneBotClient

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-secret-token"
START_TIMEOUT = 60.0  # seconds: the first start imports jionlp and friends
_self_ids = itertools.count(880001)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_env(
    workdir: Path, port: int, token: str | None, extra: dict[str, str] | None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEND_", "DEDUPE_", "ONEBOT_"))}
    env.update(
        HOST="127.0.0.1",
        PORT=str(port),
        ENVIRONMENT="e2e",
        LOG_LEVEL="DEBUG",
        PYTHONUNBUFFERED="1",
        DESK_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'desk.db'}",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    if token:
        env["ONEBOT_ACCESS_TOKEN"] = token
    env.update(extra or {})
    return env


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the bot gets SIGTERM if pytest itself is killed."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


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
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-tail:])

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

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL; the whole process group. Safe to call twice."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        return self.proc.returncode


def start_bot(
    workdir: Path, *, token: str | None = TOKEN, env: dict[str, str] | None = None
) -> BotProcess:
    """Start `python -m bot` in `workdir` (not yet listening: call wait_listening)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / "bot.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=workdir,
            env=bot_env(workdir, port, token, env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group we can kill as a whole
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
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


@pytest.fixture
async def qq(bot_server: BotProcess) -> AsyncIterator[OneBotClient]:
    """A fake QQ account connected to `bot_server` (a fresh self_id per test)."""
    client = OneBotClient(bot_server.ws_url, self_id=next(_self_ids), token=bot_server.token)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()
