"""Where a bot's time goes, per kind of event: one event at a time, in process.

    .venv/bin/python bench/bot_breakdown.py [--n 400] [--profile]

Companion to bench/bot_bench.py (same seeded load, same JSON frames). Each
configuration runs in a child process: the bot is built as `python -m bot`
builds it (bot.app.create_app, or bench/bare_bot.setup for the bare bot),
the desk is opened on a temp SQLite file, and the OneBot v11 adapter's own
json_to_event + Bot.handle_event are called for each frame, awaiting one
before the next. The only fake is the connection: API calls return at once.
So the figures are service times without queueing, network or other events
(CPU = the process's CPU time, the database thread included; wall = elapsed).

Configurations: bare (bench/bare_bot.py), full, and ablations of the full bot:
without the duplicate-event preprocessor, with LOG_LEVEL=WARNING, with only
the 帮助 matcher left (intent and deskchat destroyed).
--profile: cProfile (own time by package) of the chat lines and of the intent
lines in the full bot, and of the chat lines in the bare bot.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
KINDS = ("chat", "intent", "command", "stats", "dm")
CONFIGS = {
    "bare": "bare NoneBot bot, 1 matcher (帮助)",
    "full": "full bot",
    "full-nodedupe": "full bot without the duplicate-event preprocessor",
    "full-logwarn": "full bot, LOG_LEVEL=WARNING",
    "full-onepri": "full bot with its 3 matchers moved to one priority (chat: fewer task groups)",
    "full-helponly": "full bot with only the 帮助 matcher (+ dedupe)",
    "full-alconna": "full bot + deskchat's 18 words again as on_alconna matchers (no-op"
    " handlers; needs nonebot-plugin-alconna, not a project dependency): what one plugin"
    " on alconna would add",
}


# --- child ---------------------------------------------------------------------


class _StubClient:
    """What bot_bench.FrameBuilder needs from the simulator."""

    def __init__(self) -> None:
        self._next = int(time.time() * 1000) % 1_000_000_000
        self.by_id: dict[int, dict[str, Any]] = {}

    def next_message_id(self) -> int:
        self._next += 1
        return self._next


def write_frames(path: Path, n: int, seed: int, passes: int) -> None:
    """The parent builds the frames (importing the plugins here registers no matchers
    anywhere that matters); the children only read them."""
    import bot_bench as bb  # noqa: PLC0415 - bench/ on sys.path

    planner = bb.Planner(seed)
    client = _StubClient()
    builder = bb.FrameBuilder(client)  # type: ignore[arg-type]
    warm = builder.build(planner.plan(300), False)
    by_kind: dict[str, list[str]] = defaultdict(list)
    while any(len(by_kind[k]) < n * passes for k in KINDS):
        for planned in planner.plan(2000):
            if len(by_kind[planned.kind]) < n * passes:
                by_kind[planned.kind].append(builder.one(planned, False).data)
    split = {k: [v[i * n : (i + 1) * n] for i in range(passes)] for k, v in by_kind.items()}
    path.write_text(json.dumps({
        "warm": [f.data for f in warm], "by_kind": split, "self_id": bb.SELF_ID,
        "manager": bb.MANAGER_QQ, "consultants": bb.CONSULTANTS, "env": bb.OPEN_SEND_QUEUE,
    }, ensure_ascii=False))  # fmt: skip


def add_alconna_matchers() -> None:
    """deskchat's words as the ecosystem would declare them: one on_alconna each."""
    import nonebot  # noqa: PLC0415

    nonebot.require("nonebot_plugin_alconna")
    from arclet.alconna import Alconna, AllParam, Args  # noqa: PLC0415
    from nonebot_plugin_alconna import on_alconna  # noqa: PLC0415

    words = "今日 线索 跟进 邀约 确认 到店 未到店 下订 成交 战败 上班 下班 线索统计 审核 分配 添加顾问 顾问列表 待分配"
    for word in words.split():
        matcher = on_alconna(
            Alconna(word, Args["rest?", AllParam]), use_cmd_start=True, priority=10
        )

        async def nothing() -> None:
            return None

        matcher.handle()(nothing)


def child(config: str, frames_path: Path, out: Path, profile: list[str]) -> None:
    workdir = out.parent / f"{config}-work"  # database and config; removed at the end
    workdir.mkdir()
    os.chdir(workdir)
    sys.path.insert(0, str(BENCH))
    sys.path.insert(0, str(REPO))
    frames = json.loads(frames_path.read_text())
    by_id = {}
    for data in [*frames["warm"], *(d for v in frames["by_kind"].values() for p in v for d in p)]:
        event = json.loads(data)
        by_id[event["message_id"]] = event

    config_dir = workdir / "config"
    config_dir.mkdir()
    (config_dir / "desk.toml").write_text(
        (REPO / "config" / "desk.toml").read_text("utf-8"), "utf-8"
    )
    roster = [f'[[member]]\nname = "赵经理"\nrole = "manager"\nqq_id = "{frames["manager"]}"\n'] + [
        f'[[member]]\nname = "{name}"\nrole = "consultant"\nqq_id = "{qq}"\n'
        for qq, name in frames["consultants"]
    ]
    (config_dir / "roster.toml").write_text("\n".join(roster), "utf-8")
    os.environ.update(
        ENVIRONMENT="bench", HOST="127.0.0.1", PORT="1",
        LOG_LEVEL="WARNING" if config == "full-logwarn" else "INFO",
        DESK_CONFIG_DIR=str(config_dir), DESK_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'desk.db'}",
        SUPERUSERS=json.dumps([str(frames["manager"])]), **frames["env"],
    )  # fmt: skip

    import nonebot  # noqa: PLC0415
    from nonebot.adapters.onebot.v11 import Adapter, Bot  # noqa: PLC0415

    bare = config == "bare"
    if bare:
        import bare_bot  # noqa: PLC0415

        bare_bot.setup()
    else:
        from bot.app import create_app  # noqa: PLC0415

        create_app()
        if config == "full-nodedupe":
            from bot.hooks import uninstall_dedupe  # noqa: PLC0415

            uninstall_dedupe()
        if config == "full-onepri":
            from nonebot.matcher import matchers  # noqa: PLC0415

            for priority in [p for p in list(matchers.keys()) if p != 1]:
                for matcher in list(matchers[priority]):
                    matcher.destroy()
                    matcher.priority = 1
                    matchers[1].append(matcher)
        if config == "full-alconna":
            add_alconna_matchers()
        if config == "full-helponly":
            from nonebot.matcher import matchers  # noqa: PLC0415

            for priority in list(matchers.keys()):
                for matcher in list(matchers[priority]):
                    if not (matcher.module_name or "").startswith("bot.plugins.help"):
                        matcher.destroy()

    adapter = nonebot.get_adapter(Adapter)
    calls: list[str] = []

    class OfflineBot(Bot):
        async def call_api(self, api: str, **data: Any) -> Any:
            calls.append(api)
            if api == "get_msg":
                event = by_id.get(data.get("message_id"))  # type: ignore[arg-type]
                if event is not None:
                    return {
                        "time": event["time"], "message_type": event["message_type"],
                        "message_id": event["message_id"], "real_id": event["message_id"],
                        "sender": event["sender"], "message": event["message"],
                    }  # fmt: skip
            return {"message_id": 1}

    bot = OfflineBot(adapter, str(frames["self_id"]))

    async def one(data: str) -> tuple[float, float]:
        c0, t0 = time.process_time(), time.perf_counter()
        event = adapter.json_to_event(json.loads(data))
        await bot.handle_event(event)  # type: ignore[arg-type]
        return time.process_time() - c0, time.perf_counter() - t0

    statements = [0]
    desk_cpu = [0.0]  # process CPU while a Desk call is in flight (events run one at a time)
    gc_pauses: list[float] = []
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                gc_started[0] = time.perf_counter()
            else:
                gc_pauses.append(time.perf_counter() - gc_started[0])

    async def run() -> dict[str, Any]:
        if not bare:
            from sqlalchemy import event as sa_event  # noqa: PLC0415

            from bot.desk_runtime import start_desk, stop_desk  # noqa: PLC0415
            from desk import Desk  # noqa: PLC0415

            depth = [0]

            def timed(method: Any) -> Any:
                async def wrapper(*a: Any, **k: Any) -> Any:
                    depth[0] += 1
                    c0 = time.process_time()
                    try:
                        return await method(*a, **k)
                    finally:
                        depth[0] -= 1
                        if depth[0] == 0:
                            desk_cpu[0] += time.process_time() - c0

                return wrapper

            for name in dir(Desk):
                if not name.startswith("_") and asyncio.iscoroutinefunction(getattr(Desk, name)):
                    setattr(Desk, name, timed(getattr(Desk, name)))
            desk = await start_desk(background=False)
            for engine in {desk.db.write_engine, desk.db.read_engine}:

                @sa_event.listens_for(engine.sync_engine, "before_cursor_execute")
                def _count(*_: Any) -> None:
                    statements[0] += 1

        for data in frames["warm"]:
            await one(data)
        gc.callbacks.append(on_gc)
        result: dict[str, Any] = {}
        passes = len(frames["by_kind"]["chat"])
        for number in range(passes):
            last = number == passes - 1
            for kind in KINDS:
                calls.clear()
                statements[0] = 0
                desk_cpu[0] = 0.0
                gc_pauses.clear()
                cpu, wall = [], []
                prof = None
                if last and kind in profile:
                    prof = cProfile.Profile()
                    prof.enable()
                for data in frames["by_kind"][kind][number]:
                    c, w = await one(data)
                    cpu.append(c)
                    wall.append(w)
                if prof is not None:
                    prof.disable()
                    prof.dump_stats(str(out.with_suffix(f".{kind}.prof")))
                this = {"cpu": cpu, "wall": wall, "calls": len(calls), "desk_cpu": desk_cpu[0],
                        "statements": statements[0], "gc2": list(gc_pauses)}  # fmt: skip
                best = result.get(kind)
                if best is None or statistics.median(cpu) < statistics.median(best["cpu"]):
                    result[kind] = this  # the least disturbed pass
        if not bare:
            await stop_desk()
        return result

    out.write_text(json.dumps(asyncio.run(run())))
    shutil.rmtree(workdir, ignore_errors=True)


# --- parent ----------------------------------------------------------------------


PACKAGES = [  # (label, path fragment): first match wins
    ("bot/ + desk/ (this repo)", str(REPO) + "/bot/"), ("bot/ + desk/ (this repo)", str(REPO) + "/desk/"),
    ("nonebot", "/nonebot/"), ("anyio", "/anyio/"), ("asyncio", "/asyncio/"),
    ("sqlalchemy", "/sqlalchemy/"), ("aiosqlite", "/aiosqlite/"), ("loguru", "/loguru/"),
    ("pydantic", "/pydantic"), ("phonenumbers", "/phonenumbers/"), ("exceptiongroup", "/exceptiongroup/"),
    ("json", "/json/"), ("typing/inspect/copy/weakref", "/typing.py"), ("typing/inspect/copy/weakref", "/copy.py"),
    ("typing/inspect/copy/weakref", "weakref"), ("typing/inspect/copy/weakref", "/inspect.py"),
    ("contextlib", "/contextlib.py"), ("greenlet", "greenlet"),
]  # fmt: skip


def package_of(filename: str, func: str) -> str:
    for label, fragment in PACKAGES:
        if fragment in filename or fragment in func:
            return label
    if filename == "~":
        return "builtins (C)"
    return "other: " + "/".join(Path(filename).parts[-2:])


def print_profile(path: Path, title: str, events: int, top: int = 12) -> None:
    import pstats  # noqa: PLC0415

    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    by_pkg: dict[str, float] = defaultdict(float)
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in raw.items():
        by_pkg[package_of(filename, func)] += tt
    print(f"\n  cProfile, {title}: {total / events * 1e6:.0f} us/event under the profiler; own time by package:")  # fmt: skip
    for label, tt in sorted(by_pkg.items(), key=lambda kv: -kv[1])[:10]:
        print(f"    {label:<34} {tt / events * 1e6:7.0f} us/event {tt / total:6.1%}")
    print(f"    top {top} functions by own time:")
    for (filename, line, func), (_cc, nc, tt, ct, _c) in sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]:  # fmt: skip
        short = "/".join(Path(filename).parts[-2:])
        print(f"      {tt / events * 1e6:6.1f} us own {ct / events * 1e6:7.1f} us cum {nc / events:6.1f} calls/ev  {short}:{line}({func})")  # fmt: skip


def q(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="events per kind and pass")
    parser.add_argument("--passes", type=int, default=3, help="the least disturbed pass counts")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--frames", help=argparse.SUPPRESS)
    parser.add_argument("--profile-kinds", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kinds = [k for k in args.profile_kinds.split(",") if k]
        child(args.child, Path(args.frames), Path(args.out), kinds)
        return

    tmp = Path(tempfile.mkdtemp(prefix="bot_breakdown_"))
    sys.path.insert(0, str(BENCH))
    frames_path = tmp / "frames.json"
    write_frames(frames_path, args.n, args.seed, args.passes)
    results: dict[str, dict[str, Any]] = {}
    configs = [c for c in args.configs.split(",") if c]
    for config in configs:
        out = tmp / f"{config}.json"
        kinds = ""
        if args.profile and config == "full":
            kinds = "chat,intent"
        elif args.profile and config == "bare":
            kinds = "chat"
        with (tmp / f"{config}.log").open("wb") as log:
            rc = subprocess.run(
                [sys.executable, __file__, "--child", config, "--out", str(out),
                 "--frames", str(frames_path), "--profile-kinds", kinds],
                stdout=log, stderr=subprocess.STDOUT, timeout=600, check=False,
            ).returncode  # fmt: skip
        if rc != 0:
            print(f"{config}: child failed ({rc}); log {tmp / f'{config}.log'}")
            continue
        results[config] = json.loads(out.read_text())

    import bot_bench as bb  # noqa: PLC0415

    mix = bb.Planner(args.seed).plan(3000)
    share = {k: sum(p.kind == k for p in mix) / len(mix) for k in KINDS}
    print(f"bot_breakdown: {args.n} events per kind and pass, best of {args.passes} passes, "
          f"one event at a time, in process; load average "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}")  # fmt: skip
    heads = "".join(f"{k + f' ({share[k]:.0%})':>17}" for k in KINDS)

    print("\n  process CPU per event, ms: median (mean)")
    print(f"  {'':<15}{heads}{'mix-weighted mean':>20}")
    for config, res in results.items():
        weighted = sum(share[k] * statistics.fmean(res[k]["cpu"]) * 1000 for k in KINDS)
        cells = "".join(
            f"{statistics.median(res[k]['cpu']) * 1000:>9.2f} ({statistics.fmean(res[k]['cpu']) * 1000:5.2f})"
            for k in KINDS
        )
        print(f"  {config:<15}{cells}{weighted:>14.2f} ms/ev")

    print("\n  wall time per event (no queueing), ms: p50 / p99")
    print(f"  {'':<15}{heads}")
    for config, res in results.items():
        cells = "".join(
            f"{q(res[k]['wall'], 50) * 1000:>9.2f} /{q(res[k]['wall'], 99) * 1000:6.2f}"
            for k in KINDS
        )
        print(f"  {config:<15}{cells}")

    if "full" in results:
        res = results["full"]
        print(
            "\n  full bot, per event: mean CPU, of which inside Desk calls (SQLAlchemy, aiosqlite"
        )
        print("  and its thread), SQL statements (BEGIN/COMMIT included), API calls; gen-2 GCs")
        print("  during the pass (count, longest ms):")
        for k in KINDS:
            r = res[k]
            longest = max(r["gc2"], default=0.0) * 1000
            mean = statistics.fmean(r["cpu"]) * 1000
            in_desk = r["desk_cpu"] / args.n * 1000
            print(f"    {k:<8} {mean:6.2f} ms CPU, {in_desk:5.2f} in the desk ({in_desk / mean:4.0%}), "
                  f"{r['statements'] / args.n:4.1f} SQL, {r['calls'] / args.n:3.1f} API, "
                  f"gen2 GC {len(r['gc2'])}x longest {longest:.0f} ms")  # fmt: skip
    print()
    for config in results:
        print(f"    {config}: {CONFIGS.get(config, '')}")
    if args.profile:
        for config, kind in (("full", "chat"), ("full", "intent"), ("bare", "chat")):
            path = tmp / f"{config}.{kind}.prof"
            if path.exists():
                print_profile(path, f"{config} bot, {kind} lines", args.n)
    print(f"  logs and profiles: {tmp}")


if __name__ == "__main__":
    main()
