"""Bot benchmark: the whole bot over its real OneBot v11 WebSocket, beside a bare
NoneBot2 bot (bench/bare_bot.py) on the same load. Prints figures, asserts nothing.

    .venv/bin/python bench/bot_bench.py [--events 3000] [--rate 100] [--quick]
                                        [--repeat 2] [--log-level INFO] [--keep]

Both bots run as subprocesses on free loopback ports, each in its own temp
directory (no developer .env is read); the full bot gets a temp SQLite database
(DESK_DATABASE_URL) and a temp DESK_CONFIG_DIR holding config/desk.toml and a
roster.toml with 5 consultants and a manager. The group send queue is opened
wide for BOTH bots (SEND_GLOBAL_RATE/BURST, SEND_GROUP_RATE/BURST = 1e6), so
the figures measure processing, not the rate limiter (the bare bot has no send
queue at all; the variables are set for it anyway). LOG_LEVEL is the same for
both (INFO, as in .env.example; logs go to a file).

The load (one seeded plan, sent identically to both bots): 40 owner groups of
60 owners; ~85% owners' chat (text, some with an image, a face or a quoted
reply, which costs the adapter a get_msg call), ~8% purchase-intent lines from
random owners (new leads, and leads seen again), ~5% commands in groups
(帮助, /帮助, @bot 帮助, 帮助 今日, and 线索统计 from the manager), ~2%
consultants' DMs (今日). Every line's class is checked against the intent
vocabulary before sending, so the bench knows which events get a reply:
  full bot: 帮助*, 线索统计, 今日, and the first intent line of each owner in a
            group (one acknowledgement a day); a repeated intent line refreshes
            the lead silently.
  bare bot: 帮助* only.

Each bot: connect, probe, warm-up (not reported), then
(a) throughput: the N events are written back-to-back to the WebSocket, then a
    sentinel 帮助 in a group of its own. Done when (1) every expected reply has
    arrived, (2) the sentinel's reply has arrived, and (3) for the full bot,
    the database holds the processed-event key of every intent line sent (the
    silent lead refreshes leave no other trace). NoneBot handles the events of
    one connection concurrently (a task each), so (2) only approximates "the
    plain chat lines are done": their handling is pure CPU on the same loop,
    started before the sentinel's. events/s = N / (done - first send). The
    bot's own CPU time (/proc) per event is printed as a cross-check that does
    not depend on detecting completion.
(b) latency: N events at a steady --rate (open loop: event i goes out at
    t0 + i/rate whatever the replies do); for each event with an expected
    reply, the time from writing the event to reading the bot's send call
    (send_group_msg / send_msg) on the client. Replies are matched to events by
    (group, @user) for intent acknowledgements, (group) for group commands and
    (user) for DMs, first in first out.

Both bots are up at once and the rounds alternate between them (throughput
rounds: full, bare, bare, full, ...), so a change in the machine's other load
hits both alike; the best throughput round of each bot is compared. The CPU
used by other processes meanwhile is printed: on a shared machine it matters.
Where the time goes, per kind of event: bench/bot_breakdown.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.command_limit import LIMIT_OFF_ENV  # noqa: E402
from bot.commands import split_command  # noqa: E402
from bot.plugins.deskchat import commands as desk_commands  # noqa: E402
from bot.sim import launcher  # noqa: E402
from bot.sim.client import ApiError, OneBotClient  # noqa: E402
from bot.sim.launcher import free_port  # noqa: E402
from bot.texts import ROLE_REFUSAL  # noqa: E402
from features.intent.detect import detect_intent, load_vocabulary  # noqa: E402

DESK_COMMANDS = frozenset(desk_commands.words())
NOT_STAFF = ROLE_REFUSAL["consultant"]

TARGET_RATIO = 1.0  # issue #10: at or above a bare NoneBot bot in the same run
TARGET_P99_MS = 50.0
TOKEN = "bench-token"
SELF_ID = 3_456_789_012
START_TIMEOUT = 90.0
OPEN_SEND_QUEUE = {
    "SEND_GLOBAL_RATE": "1000000",
    "SEND_GLOBAL_BURST": "1000000",
    "SEND_GROUP_RATE": "1000000",
    "SEND_GROUP_BURST": "1000000",
    # The load's manager and consultants send hundreds of commands a minute: the
    # per-person command limit (bot.command_limit) would drop them.
    **LIMIT_OFF_ENV,
}

# --- the load -------------------------------------------------------------------

CHAT = [
    "早上好各位车友", "今天高速上好堵啊", "周末有人一起去自驾吗", "这车机又卡了一下", "车机升级了没",
    "刚跑完一趟长途，油耗还行", "下雨天记得开雾灯", "有人去过川西吗", "哈哈哈哈", "收到",
    "今天洗车了，明天就下雨", "地库太窄了倒车好难", "后排空间确实大", "我这台快一万公里了",
    "空调滤芯多久换一次", "胎压报警了怎么回事", "+1", "同意楼上", "晚上好", "谢谢群主",
    "这个天气开窗还挺舒服", "蓝牙老是连不上", "导航又把我带到小路上了", "冬天续航掉得厉害",
    "座椅通风真香", "有人装了行车记录仪吗", "明天车友会活动几点集合", "刚下班，堵死了",
    "老婆说这车开着比之前那台稳", "周六带娃去郊外转转", "油耗7个多，还可以", "小区充电桩排队",
    "好久没跑高速了", "大家早点休息", "这颜色太好看了", "隔音还可以，就是胎噪有点大",
    "自动泊车挺好用的", "后视镜折叠有异响", "我也遇到过这个问题", "重启一下车机就好了",
    "今天限号吗", "明天降温了，注意防冻", "谁知道附近哪里有自助洗车", "群里好热闹",
    "早", "发个红包吧群主", "晚安", "刚刚看到一台同款，白色的", "雨刮器有点响",
    "哈哈，你这车贴的膜挺好看", "外面太热了，车里五十度", "开了一年了，没什么毛病",
    "谁有车友会的合影", "我在服务区，人好多", "这周末去钓鱼", "中控屏幕反光严重",
    "方向盘加热打开了吗", "今天跑了三百公里", "前面有测速，慢点", "大家国庆去哪玩",
    "到店 看了一眼新款，内饰还行",  # starts with a desk command word: the desk front stays quiet
    "成交 恭喜恭喜",
]  # fmt: skip
INTENT = [
    "这车落地多少钱？", "有现车吗", "周末能试驾吗", "想换车，置换能抵多少", "首付多少月供多少",
    "帮朋友问一下，裸车价多少", "准备买一台给老婆开，有什么优惠吗", "想了解一下分期政策",
    "店里地址在哪，想去看看车", "现在下订多久能提车", "有没有销售微信，推荐个顾问",
    "旧车想置换，评估怎么弄", "团购还有吗", "考虑买个顶配，最低价多少", "想预约保养，周六可以吗",
]  # fmt: skip
PHONE_PREFIXES = ["138", "139", "150", "151", "158", "186", "187", "188", "135", "177"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
NICK_WORDS = ["老", "小", "大"]
N_GROUPS, OWNERS_PER_GROUP = 40, 60
SENTINEL_GROUP = 999_000_001
SENTINEL_USER = 999_000_002
MANAGER_QQ = 20_000
CONSULTANTS = [(20_001 + i, f"{s}顾问") for i, s in enumerate("王李张刘陈")]


@dataclass
class Planned:
    kind: str  # chat | intent | command | stats | dm
    group_id: int | None  # None: a DM
    user_id: int
    nickname: str
    role: str
    segments: list[dict[str, Any]]
    reply_to: int | None = None  # message_id index of a quoted earlier message (chat)
    expect_full: tuple | None = None
    expect_bare: tuple | None = None


@dataclass
class World:
    groups: list[int]
    owners: dict[int, list[tuple[int, str]]]  # group -> [(user_id, nickname)]


def make_world(rng: random.Random) -> World:
    groups = [700_000_001 + i * 37 for i in range(N_GROUPS)]
    ids = rng.sample(range(100_000_000, 3_999_999_999), N_GROUPS * OWNERS_PER_GROUP)
    owners: dict[int, list[tuple[int, str]]] = {}
    for gi, group in enumerate(groups):
        chunk = ids[gi * OWNERS_PER_GROUP : (gi + 1) * OWNERS_PER_GROUP]
        owners[group] = [
            (uid, rng.choice(NICK_WORDS) + rng.choice(SURNAMES) if rng.random() < 0.5
             else f"{rng.choice(SURNAMES)}{rng.choice('明华强伟芳丽军杰涛')}")
            for uid in chunk
        ]  # fmt: skip
    return World(groups, owners)


def text(s: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": s}}


class Planner:
    """One seeded stream of events; knows which ones each bot answers."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.world = make_world(self.rng)
        self.vocab = load_vocabulary()
        self.acked: set[tuple[int, int]] = set()  # (group, user) acknowledged today (full bot)
        self._check_lines()

    def _check_lines(self) -> None:
        for line in CHAT:
            if split_command(line, DESK_COMMANDS) is None and detect_intent(line, self.vocab):
                raise SystemExit(f"bench bug: chat line reads as intent: {line!r}")
        for line in INTENT:
            if detect_intent(line, self.vocab) is None or split_command(line, DESK_COMMANDS):
                raise SystemExit(f"bench bug: intent line not detected: {line!r}")

    def _owner(self) -> tuple[int, int, str]:
        group = self.rng.choice(self.world.groups)
        uid, nick = self.rng.choice(self.world.owners[group])
        return group, uid, nick

    def _phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + "".join(self.rng.choices("0123456789", k=8))

    def plan(self, n: int) -> list[Planned]:
        out = [self._one() for _ in range(n)]
        return out

    def _one(self) -> Planned:
        r = self.rng.random()
        if r < 0.85:
            return self._chat()
        if r < 0.93:
            return self._intent()
        if r < 0.98:
            return self._command()
        return self._dm()

    def _chat(self) -> Planned:
        group, uid, nick = self._owner()
        line = self.rng.choice(CHAT)
        r = self.rng.random()
        reply_to = None
        if r < 0.07:
            segs = [{"type": "image", "data": {"file": f"{self.rng.getrandbits(64):016x}.jpg",
                                               "url": "https://gchat.qpic.cn/x/0", "subType": 0}}]  # fmt: skip
        elif r < 0.11:
            segs = [{"type": "face", "data": {"id": str(self.rng.randint(1, 300))}}, text(line)]
        elif r < 0.15:
            segs = [{"type": "reply", "data": {"id": "?"}}, text(line)]
            reply_to = 1  # filled in when the frames are built: some earlier message
        else:
            segs = [text(line)]
        role = "admin" if self.rng.random() < 0.03 else "member"
        return Planned("chat", group, uid, nick, role, segs, reply_to)

    def _intent(self) -> Planned:
        group, uid, nick = self._owner()
        line = self.rng.choice(INTENT)
        if self.rng.random() < 0.2:
            line = f"{line} 我电话{self._phone()}"
        assert detect_intent(line, self.vocab) is not None
        first = (group, uid) not in self.acked
        self.acked.add((group, uid))
        return Planned(
            "intent", group, uid, nick, "member", [text(line)],
            expect_full=("at", group, uid) if first else None,
        )  # fmt: skip

    def _command(self) -> Planned:
        r = self.rng.random()
        if r < 0.15:  # the manager asks for the numbers in a group
            group = self.rng.choice(self.world.groups)
            line = self.rng.choice(["线索统计", "线索统计 本月", "线索统计 本周"])
            return Planned("stats", group, MANAGER_QQ, "赵经理", "admin", [text(line)],
                           expect_full=("g", group))  # fmt: skip
        group, uid, nick = self._owner()
        if r < 0.60:
            segs = [text("帮助")]
        elif r < 0.72:
            segs = [text("/帮助")]
        elif r < 0.88:
            segs = [{"type": "at", "data": {"qq": str(SELF_ID)}}, text(" 帮助")]
        else:
            segs = [text("帮助 今日")]
        return Planned("command", group, uid, nick, "member", segs,
                       expect_full=("g", group), expect_bare=("g", group))  # fmt: skip

    def _dm(self) -> Planned:
        uid, name = self.rng.choice(CONSULTANTS)
        return Planned("dm", None, uid, name, "member", [text("今日")], expect_full=("dm", uid))


def raw_message(segments: list[dict[str, Any]]) -> str:
    parts = []
    for seg in segments:
        if seg["type"] == "text":
            parts.append(seg["data"]["text"])
        else:
            data = ",".join(f"{k}={v}" for k, v in seg["data"].items())
            parts.append(f"[CQ:{seg['type']},{data}]")
    return "".join(parts)


@dataclass
class Frame:
    kind: str
    data: str  # the JSON text sent over the WebSocket
    expect: tuple | None
    message_id: int


class FrameBuilder:
    """Planned events -> OneBot v11 JSON frames with fresh message ids."""

    def __init__(self, client: BenchClient) -> None:
        self.client = client
        self.recent: dict[int, deque[int]] = defaultdict(lambda: deque(maxlen=20))

    def build(self, plan: list[Planned], bare: bool) -> list[Frame]:
        return [self.one(p, bare) for p in plan]

    def one(self, p: Planned, bare: bool) -> Frame:
        mid = self.client.next_message_id()
        segs = p.segments
        if p.reply_to is not None:
            earlier = self.recent[p.group_id or 0]
            quoted = earlier[-1 - (mid % len(earlier))] if earlier else mid - 1
            segs = [{"type": "reply", "data": {"id": str(quoted)}}, *segs[1:]]
        if p.group_id is not None:
            sender = {"user_id": p.user_id, "nickname": p.nickname, "card": "", "role": p.role}
            event = {
                "time": int(time.time()), "self_id": SELF_ID, "post_type": "message",
                "message_type": "group", "sub_type": "normal", "message_id": mid,
                "group_id": p.group_id, "user_id": p.user_id, "anonymous": None,
                "message": segs, "raw_message": raw_message(segs), "font": 0, "sender": sender,
            }  # fmt: skip
            self.recent[p.group_id].append(mid)
        else:
            sender = {"user_id": p.user_id, "nickname": p.nickname}
            event = {
                "time": int(time.time()), "self_id": SELF_ID, "post_type": "message",
                "message_type": "private", "sub_type": "friend", "message_id": mid,
                "user_id": p.user_id, "message": segs, "raw_message": raw_message(segs),
                "font": 0, "sender": sender,
            }  # fmt: skip
        self.client.by_id[mid] = event
        expect = p.expect_bare if bare else p.expect_full
        return Frame(p.kind, json.dumps(event, ensure_ascii=False), expect, mid)


# --- the QQ side ----------------------------------------------------------------


def message_text(message: Any) -> str:
    if isinstance(message, str):
        return message
    if isinstance(message, list):
        return "".join(
            str(s.get("data", {}).get("text", "")) for s in message if s.get("type") == "text"
        )
    return str(message)


def reply_key(action: str, params: dict[str, Any]) -> tuple | None:
    """Which expected reply a send call is: ("at", g, u) / ("g", g) / ("dm", u) /
    ("outbox", u) for the desk's notifications; None for other calls."""
    if action == "send_private_msg":
        return ("outbox", int(params.get("user_id", 0)))
    if action not in ("send_group_msg", "send_msg"):
        return None
    group = params.get("group_id")
    if action == "send_msg" and params.get("message_type") == "private" or group is None:
        return ("dm", int(params.get("user_id", 0)))
    message = params.get("message")
    if isinstance(message, list):
        for seg in message:
            if seg.get("type") == "at":
                return ("at", int(group), int(seg["data"]["qq"]))
    elif isinstance(message, str) and "[CQ:at,qq=" in message:
        qq = message.split("[CQ:at,qq=", 1)[1].split("]", 1)[0].split(",", 1)[0]
        return ("at", int(group), int(qq))
    return ("g", int(group))


@dataclass
class Phase:
    """Expected replies of one round, matched first in first out per key."""

    pending: dict[tuple, deque[tuple[float, str]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    outstanding: int = 0
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    last_reply: float = 0.0
    unexpected: Counter = field(default_factory=Counter)
    outbox_dms: int = 0
    other_calls: Counter = field(default_factory=Counter)
    sending_done: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def expect(self, key: tuple, sent_at: float, kind: str) -> None:
        self.pending[key].append((sent_at, kind))
        self.outstanding += 1

    def finish_sending(self) -> None:
        self.sending_done = True
        if self.outstanding == 0:
            self.done.set()

    def on_call(self, now: float, action: str, params: dict[str, Any]) -> None:
        key = reply_key(action, params)
        if key is None:
            self.other_calls[action] += 1
            return
        if key[0] == "outbox":
            self.outbox_dms += 1
            return
        queue = self.pending.get(key)
        if not queue:
            self.unexpected[key[0]] += 1
            return
        sent_at, kind = queue.popleft()
        self.samples[kind].append(now - sent_at)
        self.last_reply = now
        self.outstanding -= 1
        if self.outstanding == 0 and self.sending_done:
            self.done.set()

    def missing(self) -> Counter:
        return Counter(kind for q in self.pending.values() for _, kind in q)


class BenchClient(OneBotClient):
    """The simulator, reading the bot's calls with a timestamp taken on receipt."""

    def __init__(self, url: str) -> None:
        super().__init__(url, self_id=SELF_ID, token=TOKEN, nickname="车主群助手")
        self.phase: Phase | None = None
        self.by_id: dict[int, dict[str, Any]] = {}

    async def _read(self, ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                now = time.perf_counter()
                data = json.loads(raw)
                if isinstance(data, dict) and "action" in data:
                    if self.phase is not None:
                        self.phase.on_call(now, data["action"], data.get("params") or {})
                    task = asyncio.create_task(self._answer(ws, data))
                    self._answering.add(task)
                    task.add_done_callback(self._answering.discard)

    def _api_get_msg(self, params: dict[str, Any]) -> dict[str, Any]:
        event = self.by_id.get(params.get("message_id"))  # type: ignore[arg-type]
        if event is None:
            raise ApiError(100, "message not found")
        return {
            "time": event["time"], "message_type": event["message_type"],
            "message_id": event["message_id"], "real_id": event["message_id"],
            "sender": event["sender"], "message": event["message"],
        }  # fmt: skip

    async def send_raw(self, data: str) -> None:
        assert self._ws is not None
        await self._ws.send(data)

    def clear(self) -> None:
        self.calls.clear()
        self._consumed.clear()


# --- the bot processes ------------------------------------------------------------


@dataclass
class BotProc:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    workdir: Path
    log_path: Path
    db_path: Path | None
    started_at: float
    ready_after: float = 0.0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/onebot/v11/ws"

    def log_tail(self, n: int = 40) -> str:
        return launcher.log_tail(self.log_path, n)

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 15.0) -> None:
        launcher.stop(self.proc, timeout)


def start_bot(name: str, root: Path, log_level: str) -> BotProc:
    workdir = root / name
    workdir.mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEND_", "DEDUPE_", "ONEBOT_", "DESK_"))}  # fmt: skip
    env.update(
        HOST="127.0.0.1", PORT=str(port), ENVIRONMENT="bench", LOG_LEVEL=log_level,
        ONEBOT_ACCESS_TOKEN=TOKEN, PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        **OPEN_SEND_QUEUE,
    )  # fmt: skip
    db_path = None
    if name == "full":
        config_dir = workdir / "config"
        config_dir.mkdir()
        shutil.copy(REPO / "config" / "desk.toml", config_dir / "desk.toml")
        roster = [
            f'[[member]]\nname = "赵经理"\nrole = "manager"\nqq_id = "{MANAGER_QQ}"\n',
            *(
                f'[[member]]\nname = "{n}"\nrole = "consultant"\nqq_id = "{q}"\non_duty = true\n'
                for q, n in CONSULTANTS
            ),
        ]
        (config_dir / "roster.toml").write_text("\n".join(roster), encoding="utf-8")
        db_path = workdir / "desk.db"
        env.update(
            DESK_CONFIG_DIR=str(config_dir),
            DESK_DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
            SUPERUSERS=json.dumps([str(MANAGER_QQ)]),
        )
        target = ["-m", "bot"]
    else:
        target = [str(REPO / "bench" / "bare_bot.py")]
    log_path = workdir / "bot.log"
    proc = launcher.spawn(target, workdir=workdir, env=env, log_path=log_path, append=False)
    return BotProc(name, proc, port, workdir, log_path, db_path, time.monotonic())


async def wait_listening(bot: BotProc, limit: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if bot.proc.poll() is not None:
            raise RuntimeError(
                f"{bot.name} bot exited with {bot.proc.returncode}:\n{bot.log_tail()}"
            )
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", bot.port), 0.5)
        except (OSError, TimeoutError):
            await asyncio.sleep(0.1)
            continue
        writer.close()
        bot.ready_after = time.monotonic() - bot.started_at
        return
    raise TimeoutError(f"{bot.name} bot not listening after {limit}s:\n{bot.log_tail()}")


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent busy since boot (/proc/stat), for "other load"."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def processed_intents(db_path: Path) -> int:
    conn = sqlite3.connect(db_path, timeout=5)
    try:
        key = f"qq:{SELF_ID}:msg:%"
        return conn.execute("SELECT count(*) FROM processed_events WHERE key LIKE ?", (key,)).fetchone()[0]  # fmt: skip
    finally:
        conn.close()


# --- rounds ---------------------------------------------------------------------------


@dataclass
class RoundResult:
    events: int
    wall: float = 0.0
    send_time: float = 0.0
    bot_cpu: float = 0.0
    client_cpu: float = 0.0
    phase: Phase = field(default_factory=Phase)
    db_wait: float | None = None  # extra seconds the desk needed after the last reply
    lag_max: float = 0.0
    lag_p99: float = 0.0
    other_cpu: float = 0.0  # CPU seconds used by other processes on the machine meanwhile
    timed_out: bool = False


async def _await_replies(phase: Phase, limit: float) -> bool:
    try:
        await asyncio.wait_for(phase.done.wait(), limit)
        return True
    except TimeoutError:
        return False


async def _await_desk(bot: BotProc, want: int, limit: float) -> tuple[float | None, bool]:
    """When the desk had processed `want` intent lines: (perf_counter or None if it
    already had at the first look, ok)."""
    if bot.db_path is None:
        return None, True
    if await asyncio.to_thread(processed_intents, bot.db_path) >= want:
        return None, True
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
        if await asyncio.to_thread(processed_intents, bot.db_path) >= want:
            return time.perf_counter(), True
    return None, False


async def throughput_round(
    client: BenchClient, bot: BotProc, frames: list[Frame], sentinel: Frame, intents_before: int
) -> RoundResult:
    phase = Phase()
    client.phase = phase
    result = RoundResult(len(frames), phase=phase)
    cpu0, ccpu0, mcpu0 = bot.cpu_seconds(), time.process_time(), machine_busy_seconds()
    t0 = time.perf_counter()
    for i, frame in enumerate(frames):
        if frame.expect is not None:
            phase.expect(frame.expect, time.perf_counter(), frame.kind)
        await client.send_raw(frame.data)
        if i % 64 == 63:
            await asyncio.sleep(0)  # let the reader answer the bot's calls
    result.send_time = time.perf_counter() - t0
    phase.expect(sentinel.expect, time.perf_counter(), "sentinel")  # type: ignore[arg-type]
    await client.send_raw(sentinel.data)
    phase.finish_sending()
    ok = await _await_replies(phase, limit=max(60.0, len(frames) / 20))
    want = intents_before + sum(f.kind == "intent" for f in frames)
    desk_done, desk_ok = await _await_desk(bot, want, limit=30.0)
    end = max(phase.last_reply, desk_done or 0.0)
    result.bot_cpu = bot.cpu_seconds() - cpu0
    result.client_cpu = time.process_time() - ccpu0
    result.other_cpu = machine_busy_seconds() - mcpu0 - result.bot_cpu - result.client_cpu
    result.wall = end - t0
    result.db_wait = None if desk_done is None else desk_done - phase.last_reply
    result.timed_out = not (ok and desk_ok)
    client.phase = None
    return result


async def latency_round(
    client: BenchClient, bot: BotProc, frames: list[Frame], rate: float
) -> RoundResult:
    phase = Phase()
    client.phase = phase
    result = RoundResult(len(frames), phase=phase)
    interval = 1.0 / rate
    cpu0, ccpu0, mcpu0 = bot.cpu_seconds(), time.process_time(), machine_busy_seconds()
    lags = []
    t0 = time.perf_counter() + 0.05
    for i, frame in enumerate(frames):
        target = t0 + i * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.perf_counter()
        lags.append(now - target)
        if frame.expect is not None:
            phase.expect(frame.expect, now, frame.kind)
        await client.send_raw(frame.data)
    result.send_time = time.perf_counter() - t0
    phase.finish_sending()
    result.timed_out = not await _await_replies(phase, limit=30.0)
    result.wall = time.perf_counter() - t0
    result.bot_cpu = bot.cpu_seconds() - cpu0
    result.client_cpu = time.process_time() - ccpu0
    result.other_cpu = machine_busy_seconds() - mcpu0 - result.bot_cpu - result.client_cpu
    result.lag_max, result.lag_p99 = max(lags, default=0.0), pct(lags, 99)
    client.phase = None
    return result


async def probe(client: BenchClient, group: int, limit: float = 30.0) -> float:
    """帮助 in a group and its reply: the bot is up and the connection works."""
    mark = client.mark()
    t = time.perf_counter()
    await client.send_group_message(group, SENTINEL_USER, "帮助", nickname="哨兵")
    await client.wait_for_group_reply(group, limit, after=mark)
    return time.perf_counter() - t


async def dm_reply(client: BenchClient, user: int, line: str, limit: float = 30.0) -> str:
    mark = client.mark()
    await client.send_private_message(user, line)
    call = await client.wait_for_call(
        "send_msg", lambda c: int(c.params.get("user_id", 0)) == user, limit, after=mark
    )
    return message_text(call.params.get("message"))


async def ensure_roster(client: BenchClient) -> str:
    """The consultants must be on the desk for 今日 to mean anything."""
    first = await dm_reply(client, CONSULTANTS[0][0], "今日")
    if first != NOT_STAFF:
        return "roster.toml in DESK_CONFIG_DIR loaded (consultants known at start)"
    for qq, name in CONSULTANTS:
        await dm_reply(client, MANAGER_QQ, f"添加顾问 {qq} {name}")
    again = await dm_reply(client, CONSULTANTS[0][0], "今日")
    if again == NOT_STAFF:
        raise RuntimeError("consultants unknown even after 添加顾问")
    return (
        "roster.toml in DESK_CONFIG_DIR NOT loaded (bot.settings BotSettings.roster_file reads "
        "config/roster.toml of the repo); consultants added by the manager's 添加顾问 instead"
    )


@dataclass
class BotRun:
    name: str
    ready_after: float = 0.0
    roster_note: str = ""
    tput: list[RoundResult] = field(default_factory=list)
    lat: RoundResult | None = None
    log_errors: int = 0
    log_warnings: int = 0

    def best_tput(self) -> RoundResult:
        return min(self.tput, key=lambda r: r.wall / r.events)


class Side:
    """One bot, its fake QQ client and what it has been sent so far."""

    def __init__(self, bot: BotProc) -> None:
        self.bot = bot
        self.bare = bot.name == "bare"
        self.run = BotRun(bot.name, ready_after=bot.ready_after)
        self.client = BenchClient(bot.url)
        self.builder = FrameBuilder(self.client)
        self.intents = 0  # intent lines sent so far (each leaves a key in the desk)

    async def open(self) -> None:
        await self.client.connect()
        await probe(self.client, SENTINEL_GROUP)
        if not self.bare:
            self.run.roster_note = await ensure_roster(self.client)

    def sentinel(self) -> Frame:
        p = Planned("command", SENTINEL_GROUP, SENTINEL_USER, "哨兵", "member", [text("帮助")],
                    expect_full=("g", SENTINEL_GROUP), expect_bare=("g", SENTINEL_GROUP))  # fmt: skip
        return self.builder.one(p, self.bare)

    def _count(self, plan: list[Planned]) -> None:
        if not self.bare:
            self.intents += sum(p.kind == "intent" for p in plan)

    async def throughput(self, plan: list[Planned]) -> RoundResult:
        frames = self.builder.build(plan, self.bare)
        result = await throughput_round(
            self.client, self.bot, frames, self.sentinel(), self.intents
        )
        self._count(plan)
        self.client.clear()
        return result

    async def latency(self, plan: list[Planned], rate: float) -> RoundResult:
        result = await latency_round(
            self.client, self.bot, self.builder.build(plan, self.bare), rate
        )
        self._count(plan)
        self.client.clear()
        return result

    async def close(self) -> None:
        await self.client.close()
        text_log = self.bot.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        self.run.log_errors = sum(" ERROR " in ln or "Traceback" in ln for ln in text_log)
        self.run.log_warnings = sum(" WARNING " in ln for ln in text_log)


# --- report ------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(x: float) -> str:
    return "—" if x != x else f"{x * 1000:.1f}"  # noqa: PLR0124 - NaN check


def mix_line(plan: list[Planned]) -> str:
    c = Counter(p.kind for p in plan)
    n = len(plan)
    parts = [f"{k} {c[k] / n:.1%}" for k in ("chat", "intent", "command", "stats", "dm")]
    return ", ".join(parts)


def report(args: argparse.Namespace, plans: dict[str, Any], runs: dict[str, BotRun],
           elapsed: float) -> None:  # fmt: skip
    n = args.events
    print()
    print(f"bot_bench: {n} events per round, {args.repeat} throughput round(s) per bot, "
          f"{args.rate:g} events/s for latency; LOG_LEVEL={args.log_level}; "
          f"{os.cpu_count()} CPUs, load average at start {args.loadavg}")  # fmt: skip
    tput_plan = plans["tput"][0]
    print(f"  load: {N_GROUPS} groups x {OWNERS_PER_GROUP} owners, {len(CONSULTANTS)} consultants, "
          f"1 manager; mix: {mix_line(tput_plan)}")  # fmt: skip
    print(f"  replies expected in throughput round 1: full bot "
          f"{sum(p.expect_full is not None for p in tput_plan)}, bare bot "
          f"{sum(p.expect_bare is not None for p in tput_plan)} (+1 sentinel each)")  # fmt: skip
    print("  send queue opened wide for both bots: " + ", ".join(f"{k}={v}" for k, v in OPEN_SEND_QUEUE.items()))  # fmt: skip
    full, bare = runs["full"], runs["bare"]
    print(f"  full bot: {full.roster_note}")
    print(f"  ready after: full {full.ready_after:.1f}s, bare {bare.ready_after:.1f}s (process start to listening)")  # fmt: skip

    def row(label: str, f: str, b: str) -> None:
        print(f"  {label:<46}{f:>14}{b:>14}")

    def both(fmt: Any) -> tuple[str, str]:
        return fmt(full), fmt(bare)

    print()
    print("(a) throughput: N events written back-to-back, then a sentinel 帮助; done = every")
    print("    expected reply + the sentinel's reply + (full bot) every intent line's key in")
    print("    the desk. events/s = N / (first write -> done). Best round of each bot:")
    row("", "full bot", "bare bot")
    for r in range(args.repeat):
        row(f"events/s, round {r + 1}", *both(lambda b: f"{b.tput[r].events / b.tput[r].wall:.0f}"))  # noqa: B023
    bf, bb = full.best_tput(), bare.best_tput()
    eps_f, eps_b = bf.events / bf.wall, bb.events / bb.wall
    row("events/s, best", f"{eps_f:.0f}", f"{eps_b:.0f}")
    row("  wall s (first write -> done)", f"{bf.wall:.2f}", f"{bb.wall:.2f}")
    row("  client: s to write all events", f"{bf.send_time:.2f}", f"{bb.send_time:.2f}")
    row("  bot CPU ms per event (/proc, whole process)", f"{bf.bot_cpu / n * 1000:.2f}", f"{bb.bot_cpu / n * 1000:.2f}")  # fmt: skip
    row("  bench client CPU s", f"{bf.client_cpu:.2f}", f"{bb.client_cpu:.2f}")
    row("  other processes' CPU meanwhile (cores)", f"{bf.other_cpu / bf.wall:.2f}", f"{bb.other_cpu / bb.wall:.2f}")  # fmt: skip
    row("  desk still writing after last reply (s)",
        "no" if bf.db_wait is None else f"{bf.db_wait:.2f}", "n/a")  # fmt: skip
    best_cpu = {k: min(r.bot_cpu for r in v.tput) / n * 1000 for k, v in runs.items()}
    row("bot CPU ms per event, lowest round", f"{best_cpu['full']:.2f}", f"{best_cpu['bare']:.2f}")  # fmt: skip
    for name, run in runs.items():
        for r, t in enumerate(run.tput):
            miss = t.phase.missing()
            if miss or t.phase.unexpected or t.timed_out:
                print(f"  ! {name} round {r + 1}: missing replies {dict(miss)}, unexpected "
                      f"{dict(t.phase.unexpected)}{', TIMED OUT' if t.timed_out else ''}")  # fmt: skip
    ratio = eps_f / eps_b
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(f"  full/bare events/s: {ratio:.2f}x (target >= {TARGET_RATIO}x: {verdict}); "
          f"by CPU per event: {best_cpu['bare'] / best_cpu['full']:.2f}x")  # fmt: skip
    dms = sum(t.phase.outbox_dms for t in full.tput)
    print(f"  desk notifications the full bot sent as DMs meanwhile (send_private_msg): {dms}")
    print()
    print(
        f"(b) reply latency at a steady {args.rate:g} events/s (event written -> bot's send call read)"
    )
    row("", "full bot", "bare bot")
    lat = {k: [x for v in r.lat.phase.samples.values() for x in v] for k, r in runs.items()}  # type: ignore[union-attr]
    row("replies measured", str(len(lat["full"])), str(len(lat["bare"])))
    for p in (50, 90, 99):
        row(f"p{p} ms", ms(pct(lat["full"], p)), ms(pct(lat["bare"], p)))
    row("max ms", ms(max(lat["full"], default=float("nan"))), ms(max(lat["bare"], default=float("nan"))))  # fmt: skip
    row("bot CPU busy (share of one core)",
        f"{full.lat.bot_cpu / full.lat.wall:.0%}", f"{bare.lat.bot_cpu / bare.lat.wall:.0%}")  # type: ignore[union-attr]  # fmt: skip
    row("client send lag behind schedule p99/max ms",
        f"{ms(full.lat.lag_p99)}/{ms(full.lat.lag_max)}", f"{ms(bare.lat.lag_p99)}/{ms(bare.lat.lag_max)}")  # type: ignore[union-attr]  # fmt: skip
    row("other processes' CPU meanwhile (cores)",
        f"{full.lat.other_cpu / full.lat.wall:.2f}", f"{bare.lat.other_cpu / bare.lat.wall:.2f}")  # type: ignore[union-attr]  # fmt: skip
    print("  full bot by kind (n, p50 / p99 / max ms):")
    for kind, values in sorted(full.lat.phase.samples.items()):  # type: ignore[union-attr]
        print(f"    {kind:<9} {len(values):>5}  {ms(pct(values, 50)):>7} / {ms(pct(values, 99)):>7} / {ms(max(values)):>7}")  # fmt: skip
    for name, r in runs.items():
        t = r.lat
        assert t is not None
        miss = t.phase.missing()
        if miss or t.phase.unexpected or t.timed_out:
            print(f"  ! {name}: missing replies {dict(miss)}, unexpected {dict(t.phase.unexpected)}"
                  f"{', TIMED OUT' if t.timed_out else ''}")  # fmt: skip
    p99 = pct(lat["full"], 99) * 1000
    print(f"  full bot p99: {p99:.1f} ms (target <= {TARGET_P99_MS:g} ms at {args.rate:g}/s: "
          f"{'met' if p99 <= TARGET_P99_MS else 'MISSED'})")  # fmt: skip
    print()
    for name, r in runs.items():
        print(f"  {name} bot log: {r.log_errors} ERROR lines, {r.log_warnings} WARNING lines")
    print(f"  total bench time {elapsed:.0f}s")


async def amain(args: argparse.Namespace) -> int:
    t_start = time.monotonic()
    planner = Planner(args.seed)
    plans = {
        "warm": planner.plan(args.warmup),
        "tput": [planner.plan(args.events) for _ in range(args.repeat)],
        "lat": planner.plan(args.events),
    }
    root = Path(tempfile.mkdtemp(prefix="bot_bench_"))
    bots: dict[str, BotProc] = {}
    sides: dict[str, Side] = {}
    try:
        # Both up at once; the rounds alternate between them (full, bare, then bare,
        # full, ...), so a change in the machine's other load hits both alike.
        bots["full"] = start_bot("full", root, args.log_level)
        bots["bare"] = start_bot("bare", root, args.log_level)
        await asyncio.gather(*(wait_listening(b) for b in bots.values()))
        for name, bot in bots.items():
            sides[name] = Side(bot)
            await sides[name].open()
        order = [sides["full"], sides["bare"]]
        print(f"warm-up ({args.warmup} events each) ...", flush=True)
        for side in order:
            await side.throughput(plans["warm"])
        for r, plan in enumerate(plans["tput"]):
            for side in order if r % 2 == 0 else order[::-1]:
                print(
                    f"throughput round {r + 1}/{args.repeat}: {side.bot.name} bot ...", flush=True
                )
                side.run.tput.append(await side.throughput(plan))
                await asyncio.sleep(0.5)
        for side in order:
            print(f"latency round at {args.rate:g}/s: {side.bot.name} bot ...", flush=True)
            side.run.lat = await side.latency(plans["lat"], args.rate)
            await asyncio.sleep(0.5)
        for side in sides.values():
            await side.close()
        report(args, plans, {k: v.run for k, v in sides.items()}, time.monotonic() - t_start)
        if args.keep:
            print(f"  kept: {root}")
        return 0
    except Exception as exc:
        print(f"bench failed: {exc!r}", file=sys.stderr)
        for bot in bots.values():
            print(f"--- {bot.name} bot log ({bot.log_path}) ---\n{bot.log_tail()}", file=sys.stderr)
        return 1
    finally:
        for side in sides.values():
            with contextlib.suppress(Exception):
                await side.client.close()
        for bot in bots.values():
            bot.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000, help="events per round")
    parser.add_argument("--rate", type=float, default=100.0, help="events/s in the latency round")
    parser.add_argument("--repeat", type=int, default=2, help="throughput rounds per bot")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument(
        "--quick", action="store_true", help="400 events, 1 throughput round (~30 s)"
    )
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, databases)")
    args = parser.parse_args()
    args.loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if args.quick:
        args.events, args.warmup, args.repeat = min(args.events, 400), min(args.warmup, 100), 1
    raise SystemExit(asyncio.run(amain(args)))


if __name__ == "__main__":
    main()
