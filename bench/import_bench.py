"""Lead-import benchmark: prints figures, asserts nothing.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--small 10000] [--batch 500]
                                           [--captures 2000] [--quick] [--keep]

1. Generates an OEM-style lead export (.csv, UTF-8; 线索唯一ID, 手机号, 姓名, 所在城市,
   首触意向车型, 线索创建时间, 一/二/三级渠道名称, 询价类型, 线索评级, 分配顾问) with a
   realistic mix: 20 % of the phones already known to the desk (seeded first as
   leads of the chat channels), 2 % bad rows (a broken phone, a bad date, an
   unknown level), a few repeats of an earlier row;
2. imports it on SQLite through the reader (desk.imports.read) and the writer
   (Desk.import_leads): rows/s, total time, and the peak memory (RSS) of a process
   doing only that, at --small rows and at --rows (the file streams: it is flat);
3. beside it, in the same run, raw sqlite3 executemany of the same rows (parsed
   with the csv module) into a table like `leads` in a file of its own: the ratio;
4. single-capture captures/s (Desk.capture, one caller, a new phone each), the
   figure the issue asks to compare before/after the import's changes.

Before (main 4ce453a, the same capture loop: bench/import_bench.py --quick run
against main's desk/): see CAPTURE_BEFORE below.

Goal: >= 2,000 rows/s (100k rows in under a minute). Files live under
data/bench/ (data/ is git-ignored): removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desk import SYSTEM, Desk, FrozenClock, build_settings  # noqa: E402

TARGET_ROWS_PER_S = 2_000
# Single-capture captures/s on main 4ce453a (before the import's changes), one
# caller, this file's capture loop, on the machine of the run recorded in the
# commit that set it; the "after" figure is measured on every run.
CAPTURE_BEFORE = None  # filled in below when measured: (captures/s, commit)
TZ = ZoneInfo("Asia/Shanghai")
BENCH_DIR = ROOT / "data" / "bench"
HEADERS = [
    "线索唯一ID", "手机号", "姓名", "所在城市", "首触意向车型", "线索创建时间",
    "一级渠道名称", "二级渠道名称", "三级渠道名称", "询价类型", "线索评级", "分配顾问",
]  # fmt: skip
CITIES = ["北京市", "上海市", "广州市", "深圳市", "杭州市", "成都市", "武汉市", "西安市"]
MODELS = ["秦PLUS", "宋PLUS", "汉EV", "海豹", "海豚", "唐DM-i", "元PLUS", ""]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
INQUIRIES = ["询价", "试驾", "置换", ""]
LEVELS = ["H", "A", "B", "C", ""]
CONSULTANTS = 10


def now_utc() -> datetime:
    today = datetime.now(TZ)
    return datetime(today.year, today.month, today.day, 10, 30, tzinfo=TZ).astimezone(UTC)


def phone_of(i: int) -> str:
    return f"139{i:08d}"


def generate(path: Path, rows: int, seed: int = 7) -> list[str]:
    """The export; returns the phones to seed as known (20 % of the file's)."""
    rng = random.Random(seed)
    known: list[str] = []
    start = now_utc() - timedelta(days=30)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADERS)
        for i in range(rows):
            phone = phone_of(i)
            if rng.random() < 0.2:
                known.append(phone)
            created = (start + timedelta(seconds=i * 25)).astimezone(TZ)
            cells = [
                f"OEM{i:09d}", phone, rng.choice(SURNAMES) + rng.choice("先生女士"),
                rng.choice(CITIES), rng.choice(MODELS), created.strftime("%Y-%m-%d %H:%M:%S"),
                "线上", rng.choice(["汽车之家", "易车", "懂车帝"]), rng.choice(["询价", "试驾"]),
                rng.choice(INQUIRIES), rng.choice(LEVELS),
                f"顾问{rng.randint(1, CONSULTANTS)}" if rng.random() < 0.3 else "",
            ]  # fmt: skip
            bad = rng.random()
            if bad < 0.008:
                cells[1] = "1234"  # no valid phone
            elif bad < 0.014:
                cells[5] = "上周三"  # a bad date
            elif bad < 0.02:
                cells[10] = "Z"  # an unknown level
            out.writerow(cells)
    return known


def settings_for(db: Path):
    return build_settings({"database_url": f"sqlite+aiosqlite:///{db}"})


async def seed(db: Path, known: list[str]) -> None:
    """The roster, and the known phones as leads from the chat channels (bulk)."""
    desk = await Desk.open(settings_for(db), FrozenClock(now_utc() - timedelta(days=60)))
    try:
        for k in range(CONSULTANTS):
            await desk.add_member(SYSTEM, name=f"顾问{k + 1}", qq_id=str(10001 + k), on_duty=True)
        await desk.add_member(SYSTEM, name="经理", qq_id="20001", role="manager")
    finally:
        await desk.close()
    conn = sqlite3.connect(db)
    at = (now_utc() - timedelta(days=60)).replace(tzinfo=None).isoformat(sep=" ")
    with conn:
        first = (conn.execute("SELECT coalesce(max(id), 0) FROM leads").fetchone())[0] + 1
        conn.executemany(
            "INSERT INTO leads (id, phone, channel, source, consultant_id, level, stage,"
            " visit_count, created_at, updated_at) VALUES (?, ?, 'qq_group', 'qq_group', ?,"
            " 'C', 'following', 0, ?, ?)",
            [(first + i, p, 1 + i % CONSULTANTS, at, at) for i, p in enumerate(known)],
        )
        conn.executemany(
            "INSERT INTO lead_contacts (kind, value, lead_id) VALUES ('phone', ?, ?)",
            [(p, first + i) for i, p in enumerate(known)],
        )
        conn.execute(
            "UPDATE roster_members SET open_load = (SELECT count(*) FROM leads"
            " WHERE consultant_id = roster_members.id AND stage NOT IN ('won', 'lost'))"
        )
    conn.close()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def import_file(db: Path, csv_path: Path, batch: int) -> dict:
    from desk.imports.read import open_lead_file

    base = rss_mb()
    desk = await Desk.open(settings_for(db), FrozenClock(now_utc()))
    rejected = 0

    def sink(_row: object) -> None:
        nonlocal rejected
        rejected += 1

    try:
        manager = await desk.member_by(qq_id="20001")
        assert manager is not None
        opened = rss_mb()
        t0 = time.perf_counter()
        with open_lead_file(csv_path, source="oem", tz=TZ, now=now_utc()) as leads:
            report = await desk.import_leads(
                leads.rows(), source="oem", actor=manager.actor(), batch_size=batch,
                rejects=sink, total=leads.expected_rows,
            )  # fmt: skip
        seconds = time.perf_counter() - t0
    finally:
        await desk.close()
    return {
        "rows": report.rows, "seconds": seconds, "counts": report.counts,
        "rss_base_mb": base, "rss_open_mb": opened, "rss_peak_mb": rss_mb(),
        "rejected_sink": rejected,
    }  # fmt: skip


def raw_sqlite(csv_path: Path, db: Path) -> dict:
    """The same rows, parsed by the csv module, executemany into a leads-like table."""
    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE leads (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, car_model TEXT,"
        " channel TEXT, source TEXT, level TEXT, stage TEXT, consultant_id INTEGER,"
        " next_follow_up_at TEXT, first_contact_due_at TEXT, created_at TEXT, updated_at TEXT)"
    )
    conn.execute("CREATE UNIQUE INDEX ix_phone ON leads (phone)")
    conn.execute("CREATE INDEX ix_created ON leads (created_at)")
    at = now_utc().replace(tzinfo=None).isoformat(sep=" ")
    t0 = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        batch: list[tuple] = []
        for i, r in enumerate(reader):
            batch.append((r[2], r[1], r[4], "oem", "/".join(r[6:9]), r[10] or "N", "new",
                          1 + i % CONSULTANTS, at, at, at, at))  # fmt: skip
            if len(batch) == 500:
                with conn:
                    conn.executemany(_RAW_INSERT, batch)
                batch.clear()
        with conn:
            conn.executemany(_RAW_INSERT, batch)
    seconds = time.perf_counter() - t0
    conn.close()
    return {"seconds": seconds}


_RAW_INSERT = (
    "INSERT OR IGNORE INTO leads (name, phone, car_model, channel, source, level, stage,"
    " consultant_id, next_follow_up_at, first_contact_due_at, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


async def captures(db: Path, n: int) -> float:
    """Single-capture captures/s: one caller, a new person each time."""
    desk = await Desk.open(settings_for(db), FrozenClock(now_utc()))
    try:
        for k in range(CONSULTANTS):
            await desk.add_member(SYSTEM, name=f"顾问{k + 1}", qq_id=str(10001 + k), on_duty=True)
        for i in range(50):  # warm up: statement caches
            await desk.capture(channel="qq_group:1", phone=phone_of(90_000_000 + i), name="热身")
        t0 = time.perf_counter()
        for i in range(n):
            await desk.capture(
                channel="qq_group:1", phone=phone_of(i), name="客户", car_model="汉EV",
                message="想了解一下落地价",
            )  # fmt: skip
        return n / (time.perf_counter() - t0)
    finally:
        await desk.close()


def child(args: argparse.Namespace) -> None:
    """One import in a process of its own (its peak RSS is the import's)."""
    result = asyncio.run(import_file(Path(args.db), Path(args.csv), args.batch))
    print(json.dumps(result))


def run_child(db: Path, csv_path: Path, batch: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--db", str(db), "--csv", str(csv_path),
         "--batch", str(batch)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--captures", type=int, default=2_000)
    ap.add_argument("--quick", action="store_true", help="10k/2k rows, 300 captures")
    ap.add_argument("--keep", action="store_true", help="keep data/bench/import_*")
    ap.add_argument("--captures-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--db")
    ap.add_argument("--csv")
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    if args.quick:
        args.rows, args.small, args.captures = 10_000, 2_000, 300
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    if args.captures_only:
        db = BENCH_DIR / "import_captures.db"
        made.append(db)
        rate = asyncio.run(captures(db, args.captures))
        print(f"single capture: {rate:,.0f} captures/s ({args.captures} captures, one caller)")
        _cleanup(made, args.keep)
        return
    print(f"lead import bench: {args.small:,} and {args.rows:,} rows, batch {args.batch}")
    results = {}
    try:
        for n in (args.small, args.rows):
            csv_path = BENCH_DIR / f"import_{n}.csv"
            db = BENCH_DIR / f"import_{n}.db"
            raw = BENCH_DIR / f"import_{n}_raw.db"
            for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                p.unlink(missing_ok=True)
            made += [csv_path, db, raw, Path(f"{db}-wal"), Path(f"{db}-shm"),
                     Path(f"{raw}-wal"), Path(f"{raw}-shm")]  # fmt: skip
            known = generate(csv_path, n)
            asyncio.run(seed(db, known))
            got = run_child(db, csv_path, args.batch)
            got["raw"] = raw_sqlite(csv_path, raw)
            got["known"] = len(known)
            results[n] = got
        db = BENCH_DIR / "import_captures.db"
        made += [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        rate = asyncio.run(captures(db, args.captures))
    finally:
        _cleanup(made, args.keep)

    print()
    print(f"{'rows':>8} {'time s':>8} {'rows/s':>9} {'raw s':>7} {'raw rows/s':>11} "
          f"{'ratio':>6} {'RSS base':>9} {'RSS peak':>9}  counts")  # fmt: skip
    for n, r in results.items():
        rate_n = r["rows"] / r["seconds"]
        raw_rate = r["rows"] / r["raw"]["seconds"]
        print(
            f"{n:>8,} {r['seconds']:>8.2f} {rate_n:>9,.0f} {r['raw']['seconds']:>7.2f} "
            f"{raw_rate:>11,.0f} {r['seconds'] / r['raw']['seconds']:>5.1f}x "
            f"{r['rss_open_mb']:>7.0f}MB {r['rss_peak_mb']:>7.0f}MB  {r['counts']}"
        )
    big = results[args.rows]
    big_rate = big["rows"] / big["seconds"]
    ok = big_rate >= TARGET_ROWS_PER_S
    print(
        f"\nimport of {args.rows:,} rows: {big_rate:,.0f} rows/s, {big['seconds']:.1f} s "
        f"(goal >= {TARGET_ROWS_PER_S:,} rows/s: {'OK' if ok else 'MISSED'}); "
        f"raw sqlite3 executemany {big['rows'] / big['raw']['seconds']:,.0f} rows/s, "
        f"the import takes {big['seconds'] / big['raw']['seconds']:.1f}x its time"
    )
    small = results[args.small]
    print(
        f"peak RSS during the import: {small['rss_peak_mb'] - small['rss_open_mb']:+.0f} MB at "
        f"{args.small:,} rows, {big['rss_peak_mb'] - big['rss_open_mb']:+.0f} MB at "
        f"{args.rows:,} rows (over the process after opening the desk)"
    )
    before = f"{CAPTURE_BEFORE[0]:,} captures/s on {CAPTURE_BEFORE[1]}" if CAPTURE_BEFORE else "—"
    print(f"single capture: {rate:,.0f} captures/s now; before: {before}")


def _cleanup(made: list[Path], keep: bool) -> None:
    if keep:
        return
    for p in made:
        p.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
