"""Web desk benchmark: the desk calls the 线索, 工作台 and 报表 pages make, at 1M leads.
Prints figures, asserts nothing.

    .venv/bin/python bench/web_bench.py [--leads 1000000] [--runs 30] [--quick] [--rebuild]

Builds a SQLite desk of N leads (10 consultants, 6 channels, 30 owner groups,
stages and timestamps spread over two years, a phone contact per lead) by bulk
insert into the migrated schema, and keeps it as data/bench/web_<N>.db (data/ is
gitignored), so a rerun starts measuring at once. Then times each desk call
(p50 / p95 over --runs calls; a call slower than 20 s / runs is timed fewer
times, at least 3) beside a baseline timed in the same run: the same
page of rows fetched with raw sqlite3 (SELECT * FROM leads ORDER BY id DESC
LIMIT 50), so the figures read as ratios on whatever machine runs this.

Goals (issue #12): lead list and 工作台 p95 <= 100 ms, 报表 p95 <= 300 ms, at 1M.
--quick: 50k leads and 10 runs, a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.desk_bench import (  # noqa: E402
    BUDGETS,
    CAR_MODELS,
    DEFEAT,
    LEAD_FIELDS,
    SURNAMES,
    TZ,
    load_avg,
    median_ms,
    p95_ms,
    print_table,
    raw_connect,
    settings_for,
    ts_dt,
    verdict,
)
from desk import SYSTEM, Actor, Desk, FrozenClock, reports  # noqa: E402
from desk.leadlist import LeadBoard, LeadFilter, LeadPage  # noqa: E402
from desk.reports import custom_period  # noqa: E402

LIST_GOAL_MS, REPORT_GOAL_MS = 100.0, 300.0
BUILD_VERSION = 2  # bump when the generated data changes: the cached files are rebuilt
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "data" / "bench"
# The frozen "now" of every run (the data is built around it, so the cache stays valid).
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=TZ).astimezone(UTC)
CONSULTANTS = 10
CHANNELS = [("autohome", 30), ("yiche", 18), ("qq_group", 22), ("wechat_oa", 12),
            ("phone_in", 10), ("walk_in", 8)]  # fmt: skip
GROUPS = [str(900000 + 37 * k) for k in range(30)]
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
SPAN = timedelta(days=730)


# -- building the database ------------------------------------------------------
def lead_rows(n: int, rng: random.Random, consultants: list[int]) -> Iterator[tuple[Any, ...]]:
    """Leads in creation order (ids follow created_at, as in life), older ones closed."""
    channels, weights = zip(*CHANNELS, strict=True)
    start = NOW - SPAN
    step = SPAN / n
    for i in range(1, n + 1):
        created = start + step * i + timedelta(seconds=rng.random() * 60)
        age = (NOW - created).days
        channel = rng.choices(channels, weights)[0]
        group = rng.choice(GROUPS) if channel == "qq_group" else None
        consultant = rng.choice(consultants)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")  # fmt: skip
        r = rng.random()
        if age > 60:
            stage = "lost" if r < 0.62 else "won" if r < 0.80 else rng.choice(
                ("following", "following", "invited", "visited", "ordered", "defeat_requested"))  # fmt: skip
        elif age > 3:
            stage = rng.choice(("following", "following", "following", "invited", "confirmed",
                                "visited", "ordered", "lost", "won", "defeat_requested"))  # fmt: skip
        else:
            stage = "new" if r < 0.6 else "following"
        reach = {"new": 0, "following": 1, "defeat_requested": 1, "invited": 2, "confirmed": 2,
                 "visited": 3, "ordered": 4, "won": 5, "lost": rng.choice((1, 1, 2, 3))}[stage]  # fmt: skip

        def later(base: datetime, hours: float) -> datetime:
            return min(NOW, base + timedelta(hours=rng.random() * hours))

        contacted = later(created, 6) if reach >= 1 else None
        invited = later(contacted, 72) if contacted and reach >= 2 else None
        visited = later(invited, 96) if invited and reach >= 3 else None
        ordered = later(visited, 240) if visited and reach >= 4 else None
        won = later(ordered, 480) if ordered and reach >= 5 else None
        lost = later(contacted or created, 720) if stage == "lost" else None
        due_first = created + timedelta(hours=2)
        if stage in ("new", "following", "invited", "visited", "ordered"):
            next_due = NOW + timedelta(hours=rng.uniform(-72, 24 * 14))
        elif stage == "lost" and rng.random() < 0.1:
            next_due = lost + timedelta(days=rng.randrange(30, 120))  # type: ignore[operator]
        else:
            next_due = None
        level = "N" if stage == "new" else rng.choice("HABC")
        visit_at = (invited + timedelta(days=2)) if invited else None
        values = {
            "name": name, "phone": f"13{5 + i % 5}{i:08d}", "car_model": rng.choice(CAR_MODELS),
            "budget": rng.choice(BUDGETS), "channel": channel,
            "source": f"{channel}:{group}" if group else channel, "group_id": group,
            "first_message": None, "referrer": None, "consultant_id": consultant,
            "level": level, "stage": stage,
            "stage_before_defeat": "following" if stage == "defeat_requested" else None,
            "expected_purchase_at": None, "expected_visit_at": visit_at,
            "next_follow_up_at": next_due, "first_contact_due_at": due_first,
            "first_contacted_at": contacted, "first_contact_escalated_at": None,
            "invited_at": invited, "confirmed_at": None, "visited_at": visited,
            "visit_count": 1 if visited else 0, "ordered_at": ordered, "won_at": won,
            "lost_at": lost, "defeat_reason": "客户说再看看" if lost else None,
            "defeat_category": rng.choice(DEFEAT) if lost else None,
            "defeat_requested_at": lost, "created_at": created, "updated_at": created,
        }  # fmt: skip
        yield (i, *(ts_dt(v) if isinstance(v, datetime) else v for v in (values[f] for f in LEAD_FIELDS)))  # fmt: skip


async def build(path: Path, n: int) -> None:
    """Migrate an empty file, bulk insert without the leads' indexes, index once."""
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    desk = await Desk.open(settings_for(tmp), FrozenClock(NOW))
    for k in range(CONSULTANTS):
        await desk.add_member(SYSTEM, name=f"顾问{k + 1}", qq_id=str(10001 + k), on_duty=True)
    await desk.add_member(SYSTEM, name="经理", qq_id="20001", role="manager")
    consultants = [m.id for m in await desk.members("consultant")]
    await desk.close()
    t0 = time.perf_counter()
    conn = raw_connect(tmp)
    conn.execute("PRAGMA synchronous=OFF")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('leads', 'lead_contacts')"
    ).fetchall()
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    columns = ", ".join(("id", *LEAD_FIELDS))
    marks = ", ".join("?" * (1 + len(LEAD_FIELDS)))
    conn.executemany(
        f"INSERT INTO leads ({columns}) VALUES ({marks})",
        lead_rows(n, random.Random(12), consultants),
    )
    conn.execute(
        "INSERT INTO lead_contacts (kind, value, lead_id) SELECT 'phone', phone, id FROM leads"
    )
    conn.execute("UPDATE roster_members SET open_load = (SELECT count(*) FROM leads "
                 "WHERE consultant_id = roster_members.id AND stage NOT IN ('won', 'lost'))")  # fmt: skip
    print(f"  inserted {n:,} leads in {time.perf_counter() - t0:.0f} s", flush=True)
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    print(f"  built {path} in {time.perf_counter() - t0:.0f} s", flush=True)


# -- measuring -------------------------------------------------------------------
CALL_BUDGET_S = 20.0  # a call slower than budget/runs is timed fewer times (at least 3)


async def timed(call: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, float, Any, int]:
    t = time.perf_counter()
    result = await call()  # warm: statement cache, pages
    runs = max(3, min(runs, int(CALL_BUDGET_S / max(time.perf_counter() - t, 1e-6))))
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        result = await call()
        samples.append(time.perf_counter() - t)
    return median_ms(samples), p95_ms(samples), result, runs


def raw_baseline(path: Path, runs: int) -> tuple[float, float]:
    conn: sqlite3.Connection = raw_connect(path)
    samples = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        conn.execute("SELECT * FROM leads ORDER BY id DESC LIMIT 50").fetchall()
        samples.append(time.perf_counter() - t)
    conn.close()
    return median_ms(samples[1:]), p95_ms(samples[1:])


async def cached_desk(leads: int, rebuild: bool = False) -> Path:
    """The database of `leads` leads, built once and kept (bench/web_pages_bench.py too)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    # The file is keyed by the schema too: a changed migration gets a fresh build.
    schema = hashlib.sha1(b"".join(
        f.read_bytes() for f in sorted((ROOT / "desk/migrations/versions").glob("*.py"))
    )).hexdigest()[:8]  # fmt: skip
    path = CACHE / f"web_{leads}_v{BUILD_VERSION}_{schema}.db"
    if rebuild or not path.exists():
        print(f"building {leads:,} leads (cached for the next run) …", flush=True)
        await build(path, leads)
    return path


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="50k leads, 10 runs")
    ap.add_argument("--rebuild", action="store_true", help="ignore the cached database")
    args = ap.parse_args()
    if args.quick:
        args.leads, args.runs = 50_000, 10
    path = await cached_desk(args.leads, args.rebuild)
    desk = await Desk.open(settings_for(path), FrozenClock(NOW))  # applies newer migrations
    # The 报表 rollup (desk.rollup): built once for the generated leads, as the
    # first report after the migration would; kept in the cached file.
    t0 = time.perf_counter()
    days = await desk.refresh_reports()
    if days:
        print(f"  report rollup: {days} days built in {time.perf_counter() - t0:.1f} s", flush=True)
    members = await desk.members()
    manager = next(m for m in members if m.role == "manager").actor()
    consultant_view = next(m for m in members if m.role == "consultant")
    consultant: Actor = consultant_view.actor()
    today = desk.calendar.local_date(NOW)
    month, quarter, year = (desk.period(p, today) for p in ("month", "quarter", "year"))
    last_30 = custom_period(desk.calendar, today - timedelta(days=29), today)
    phone = f"13{5 + (args.leads // 2) % 5}{args.leads // 2:08d}"

    def live(fn: Callable[..., Awaitable[Any]], *args: Any) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            async with desk._read() as uow:
                return await fn(uow, *args)

        return call

    def ll(actor: Actor, f: LeadFilter | None = None, **kw: Any) -> Callable[[], Awaitable[Any]]:
        return lambda: desk.lead_list(actor, f, **kw)

    calls: list[tuple[str, str, Callable[[], Awaitable[Any]]]] = [
        ("线索", "lead_list manager, no filter", ll(manager)),
        ("线索", "lead_list manager, page 3", ll(manager, offset=100)),
        ("线索", "lead_list consultant own", ll(consultant)),
        ("线索", "lead_list consultant own, next due first", ll(consultant, order="due")),
        ("线索", "lead_list stage+channel", ll(manager, LeadFilter(stage="following", channel="autohome"))),
        ("线索", "lead_list consultant filter (manager)", ll(manager, LeadFilter(consultant_id=consultant_view.id))),
        ("线索", "lead_list group", ll(manager, LeadFilter(group_id=GROUPS[3]))),
        ("线索", "lead_list overdue (manager)", ll(manager, LeadFilter(overdue=True))),
        ("线索", "lead_list overdue (consultant)", ll(consultant, LeadFilter(overdue=True), order="due")),
        ("线索", "lead_list search name 王伟 (manager)", ll(manager, LeadFilter(query="王伟"))),
        ("线索", "lead_list search name, no match (manager)", ll(manager, LeadFilter(query="欧阳"))),
        ("线索", "lead_list search name (consultant)", ll(consultant, LeadFilter(query="王伟"))),
        ("线索", "lead_list search phone", ll(manager, LeadFilter(query=phone))),
        ("线索", "lead_list reached=invited, month", ll(manager, LeadFilter(
            reached="invited", created_from=month.start, created_to=month.end))),
        ("线索", "lead_list reached=won, year", ll(manager, LeadFilter(
            reached="won", created_from=year.start, created_to=year.end))),
        ("线索", "lead_board manager", lambda: desk.lead_board(manager)),
        ("线索", "lead_board consultant", lambda: desk.lead_board(consultant)),
        ("线索", "lead_board manager, last 30 days", lambda: desk.lead_board(manager, LeadFilter(
            created_from=last_30.start, created_to=last_30.end))),
        ("线索", "filter_options", desk.filter_options),
        ("工作台", "tasks_for consultant", lambda: desk.tasks_for(consultant_view.id, today)),
    ]  # fmt: skip
    for label, p in (("month", month), ("quarter", quarter), ("year", year)):
        # before: the same figures read from every lead (the rollup's reference)
        calls.append(("报表", f"funnel {label} (live)", live(reports.funnel_live, p)))
        calls.append(("报表", f"funnel {label} by channel (live)", live(reports.funnel_live, p, "channel")))  # fmt: skip
        calls.append(("报表", f"lead_report {label} (live)", live(reports.lead_report_live, p)))
        calls.append(("报表", f"lead_report {label} by channel (live)", live(reports.lead_report_live, p, "channel")))  # fmt: skip
        calls.append(("报表", f"funnel {label}", lambda p=p: desk.funnel(p)))
        calls.append(("报表", f"funnel {label} by channel", lambda p=p: desk.funnel(p, "channel")))
        calls.append(("报表", f"funnel {label} by consultant", lambda p=p: desk.funnel(p, "consultant")))  # fmt: skip
        calls.append(("报表", f"defeat_reasons {label}", lambda p=p: desk.defeat_reasons(p)))
        # What the 报表 page itself calls (web/pages/reports.py): all its lead figures.
        calls.append(("报表", f"lead_report {label}", lambda p=p: desk.lead_report(p)))
        calls.append(("报表", f"lead_report {label} by channel", lambda p=p: desk.lead_report(p, "channel")))  # fmt: skip
        calls.append(("报表", f"lead_report {label}, consultant own", lambda p=p: desk.lead_report(p, None, consultant_view.id)))  # fmt: skip
    calls.append(("报表", "daily_report", lambda: desk.daily_report(today)))

    base_p50, base_p95 = raw_baseline(path, args.runs)
    rows, misses = [], []
    for page, name, call in calls:
        p50, p95, result, runs = await timed(call, args.runs)
        goal = REPORT_GOAL_MS if page == "报表" else LIST_GOAL_MS
        total = result.total if isinstance(result, LeadPage | LeadBoard) else None
        rows.append([page, name, str(runs), f"{p50:.1f}", f"{p95:.1f}", f"{p95 / base_p95:.0f}x",
                     "" if total is None else f"{total:,}{'+' * bool(getattr(result, 'capped', False))}", verdict(p95 <= goal)])  # fmt: skip
        if p95 > goal:
            misses.append(f"{page} {name}: p95 {p95:.0f} ms > {goal:.0f} ms")
        print(f"  {name}: p50 {p50:.1f} ms p95 {p95:.1f} ms", flush=True)
    await desk.close()
    print_table(
        f"{args.leads:,} leads, up to {args.runs} runs each; baseline (raw sqlite3, 50 newest rows): "
        f"p50 {base_p50:.2f} ms, p95 {base_p95:.2f} ms",
        ["page", "desk call", "runs", "p50 ms", "p95 ms", "p95/base", "total", f"goal {LIST_GOAL_MS:.0f}/{REPORT_GOAL_MS:.0f} ms"],
        rows,
    )  # fmt: skip
    print("\nmisses: " + ("; ".join(misses) if misses else "none"))
    print(f"load average at end: {load_avg()}")


if __name__ == "__main__":
    asyncio.run(main())
