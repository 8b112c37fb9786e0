"""Soak: the whole bot over its real OneBot v11 WebSocket at a steady rate for
minutes. Prints figures, asserts nothing; not run in CI.

    .venv/bin/python bench/soak.py [--rate 100] [--minutes 10] [--quick]
                                   [--seed N] [--log-level INFO] [--keep]

The bot, its temp database and roster and the load are bench/bot_bench.py's
(40 owner groups of 60 owners: chat, purchase questions, group commands,
线索统计, consultants' 今日 DMs), sent open loop at --rate events/s in
one-minute rounds: after each round the bench waits (at most 30 s) for the
replies still due, then reads the bot's resident memory (VmRSS in
/proc/<pid>/status). A reply is matched to its event as in bot_bench.py.

Printed: per minute and in total, events sent, replies expected / received,
reply latency p50 / p99 (event written -> the bot's send call read) and RSS;
at the end every failed expectation (a reply missing, a send nobody asked
for) and every ERROR line in the bot's log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot_bench import (  # noqa: E402 - bench/ is not a package
    BotProc,
    Planner,
    RoundResult,
    Side,
    ms,
    pct,
    start_bot,
    wait_listening,
)


def rss_kib(pid: int) -> int:
    """The process's resident set size in KiB (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def error_lines(bot: BotProc) -> list[str]:
    text = bot.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [ln for ln in text if " ERROR " in ln or "Traceback" in ln]


def replies(result: RoundResult) -> list[float]:
    return [x for values in result.phase.samples.values() for x in values]


def expected(result: RoundResult) -> int:
    return len(replies(result)) + sum(result.phase.missing().values())


async def soak(args: argparse.Namespace, root: Path) -> int:
    planner = Planner(args.seed)
    bot = start_bot("full", root, args.log_level)
    side: Side | None = None
    try:
        await wait_listening(bot)
        side = Side(bot)
        await side.open()
        print(f"bot ready after {bot.ready_after:.1f}s; {side.run.roster_note}")
        rss_start = rss_kib(bot.proc.pid)
        print(f"RSS at start: {mib(rss_start)}")
        per_round = max(1, round(args.rate * 60))
        rounds: list[RoundResult] = []
        print(f"{'minute':>6} {'events':>7} {'expected':>9} {'replies':>8} "
              f"{'p50 ms':>8} {'p99 ms':>8} {'RSS':>12}")  # fmt: skip
        began = time.monotonic()
        for minute in range(1, args.minutes + 1):
            result = await side.latency(planner.plan(per_round), args.rate)
            rounds.append(result)
            lat = replies(result)
            print(f"{minute:>6} {result.events:>7} {expected(result):>9} {len(lat):>8} "
                  f"{ms(pct(lat, 50)):>8} {ms(pct(lat, 99)):>8} "
                  f"{mib(rss_kib(bot.proc.pid)):>12}", flush=True)  # fmt: skip
        wall = time.monotonic() - began
        rss_end = rss_kib(bot.proc.pid)
        await side.close()
        report(args, rounds, wall, rss_start, rss_end, error_lines(bot))
        return 0
    except Exception as exc:
        print(f"soak failed: {exc!r}\n--- bot log ({bot.log_path}) ---\n{bot.log_tail()}",
              file=sys.stderr)  # fmt: skip
        return 1
    finally:
        if side is not None:
            with contextlib.suppress(Exception):
                await side.client.close()
        bot.stop()


def report(
    args: argparse.Namespace, rounds: list[RoundResult], wall: float,
    rss_start: int, rss_end: int, errors: list[str],
) -> None:  # fmt: skip
    lat = [x for r in rounds for x in replies(r)]
    sent = sum(r.events for r in rounds)
    missing = sum((r.phase.missing() for r in rounds), Counter())
    unexpected = sum((r.phase.unexpected for r in rounds), Counter())
    outbox = sum(r.phase.outbox_dms for r in rounds)
    print()
    print(f"soak: {args.minutes} min at {args.rate:g} events/s, {wall:.0f}s of wall time")
    print(f"  events sent {sent}, replies expected {sum(map(expected, rounds))}, "
          f"received {len(lat)}; desk DMs (outbox) {outbox}")  # fmt: skip
    print(f"  reply latency p50 {ms(pct(lat, 50))} ms, p99 {ms(pct(lat, 99))} ms, "
          f"max {ms(max(lat, default=float('nan')))} ms")  # fmt: skip
    by_kind: dict[str, list[float]] = {}
    for r in rounds:
        for kind, values in r.phase.samples.items():
            by_kind.setdefault(kind, []).extend(values)
    for kind, values in sorted(by_kind.items()):
        print(f"    {kind:<8} n={len(values):<6} p50 {ms(pct(values, 50))} / "
              f"p99 {ms(pct(values, 99))} ms")  # fmt: skip
    busy = sum(r.other_cpu for r in rounds) / sum(r.wall for r in rounds)
    print(f"  other processes' CPU meanwhile: {busy:.2f} cores (a shared machine slows replies)")
    print(f"  RSS: start {mib(rss_start)}, end {mib(rss_end)} "
          f"({(rss_end - rss_start) / 1024:+.1f} MiB)")  # fmt: skip
    timed_out = sum(r.timed_out for r in rounds)
    failed = sum(missing.values()) + sum(unexpected.values()) + timed_out
    print(f"  failed expectations: {failed} (missing replies {dict(missing)}, "
          f"unexpected sends {dict(unexpected)}, rounds timed out {timed_out})")  # fmt: skip
    print(f"  bot ERROR log lines: {len(errors)}")
    for line in errors[:20]:
        print(f"    {line[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="events/s")
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="1 minute")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (log, database)")
    args = parser.parse_args()
    if args.quick:
        args.minutes = 1
    root = Path(tempfile.mkdtemp(prefix="soak_"))
    try:
        code = asyncio.run(soak(args, root))
    finally:
        if args.keep:
            print(f"  kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
