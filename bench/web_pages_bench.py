"""Web desk page benchmark: the 工作台, 线索 and 报表 pages as a browser gets them (routes,
session, template, over ASGI, no socket), each beside the desk call it makes.
Prints figures, asserts nothing.

    .venv/bin/python bench/web_pages_bench.py [--leads 1000000] [--runs 30] [--quick]

The data is bench/web_bench.py's (built once, cached under data/bench/). A page's
p95 over its desk call's p95 is what the web front adds (filters, names, HTML).
Goal (issue #12): the lead list and 工作台 p95 <= 100 ms, 报表 <= 300 ms at 1M leads.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.desk_bench import load_avg, print_table, settings_for, verdict  # noqa: E402
from bench.web_bench import GROUPS, LIST_GOAL_MS, NOW, REPORT_GOAL_MS, cached_desk, timed  # noqa: E402
from bot.desk_runtime import set_desk  # noqa: E402
from desk import Desk, FrozenClock, MemberView  # noqa: E402
from desk.leadlist import LeadFilter  # noqa: E402
from web.app import install_web_desk  # noqa: E402
from web.config import WebConfig  # noqa: E402
from web.core import COOKIE  # noqa: E402


async def browser(app: FastAPI, desk: Desk, member: MemberView) -> tuple[httpx.AsyncClient, str]:
    """A client logged in as `member` (the one-time link the bot would DM), and its CSRF token."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    token = await desk.issue_login_link(member.id)
    response = await client.post("/desk/login", data={"token": token})
    assert response.status_code == 303, response.text
    session = await desk.web_session(client.cookies[COOKIE])
    assert session is not None
    return client, session.csrf


def get(client: httpx.AsyncClient, url: str) -> Callable[[], Awaitable[httpx.Response]]:
    async def call() -> httpx.Response:
        response = await client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return call


def post(client: httpx.AsyncClient, csrf: str, url: str, data: dict[str, str]) -> Callable[[], Awaitable[Any]]:
    async def call() -> httpx.Response:
        response = await client.post(url, data={**data, "csrf": csrf})
        assert response.status_code == 200, (url, response.status_code)
        return response

    return call


async def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="50k leads, 10 runs")
    args = ap.parse_args()
    if args.quick:
        args.leads, args.runs = 50_000, 10
    path = await cached_desk(args.leads)
    desk = await Desk.open(settings_for(path), FrozenClock(NOW))
    set_desk(desk)
    app = FastAPI()
    install_web_desk(app, WebConfig())
    members = await desk.members()
    manager_view = next(m for m in members if m.role == "manager")
    consultant_view = next(m for m in members if m.role == "consultant")
    manager, consultant = manager_view.actor(), consultant_view.actor()
    as_manager, manager_csrf = await browser(app, desk, manager_view)
    as_consultant, _ = await browser(app, desk, consultant_view)
    today = desk.calendar.local_date(NOW)
    month = desk.period("month", today)
    first = (await desk.lead_list(manager, limit=1)).items[0]
    phone = f"13{5 + (args.leads // 2) % 5}{args.leads // 2:08d}"
    reports_link = f"/desk/leads?reached=invited&from={today.replace(day=1)}&to={today}"

    def ll(actor: Any, f: LeadFilter | None = None, **kw: Any) -> Callable[[], Awaitable[Any]]:
        return lambda: desk.lead_list(actor, f, limit=50, **kw)

    pages: list[tuple[str, Callable[[], Awaitable[Any]], str, Callable[[], Awaitable[Any]]]] = [
        ("GET /desk/ (consultant)", get(as_consultant, "/desk/"),
         "tasks_for", lambda: desk.tasks_for(consultant_view.id, today)),
        ("GET /desk/leads (manager)", get(as_manager, "/desk/leads"), "lead_list", ll(manager)),
        ("GET /desk/leads (consultant)", get(as_consultant, "/desk/leads"), "lead_list", ll(consultant)),
        ("GET /desk/leads?overdue=1 (consultant)", get(as_consultant, "/desk/leads?overdue=1"),
         "lead_list overdue", ll(consultant, LeadFilter(overdue=True), order="due")),
        (f"GET /desk/leads?group={GROUPS[3]}", get(as_manager, f"/desk/leads?group={GROUPS[3]}"),
         "lead_list group", ll(manager, LeadFilter(group_id=GROUPS[3]))),
        ("GET 报表's link reached=invited, month", get(as_manager, reports_link),
         "lead_list reached", ll(manager, LeadFilter(reached="invited", created_from=month.start,
                                                      created_to=month.end))),
        ("POST /desk/leads q=<phone>", post(as_manager, manager_csrf, "/desk/leads", {"q": phone}),
         "lead_list phone", ll(manager, LeadFilter(query=phone))),
        ("POST /desk/leads q=王伟", post(as_manager, manager_csrf, "/desk/leads", {"q": "王伟"}),
         "lead_list name", ll(manager, LeadFilter(query="王伟"))),
        ("POST /desk/leads page 3", post(as_manager, manager_csrf, "/desk/leads", {"page": "3"}),
         "lead_list offset 100", ll(manager, offset=100)),
        ("GET /desk/leads/board (manager)", get(as_manager, "/desk/leads/board"),
         "lead_board", lambda: desk.lead_board(manager)),
        (f"GET /desk/leads/{first.id} (manager)", get(as_manager, f"/desk/leads/{first.id}"),
         "lead", lambda: desk.lead(manager, first.id)),
    ]  # fmt: skip
    # 报表: the page also reads the owner groups' side (features.reports) for a manager.
    for name in ("month", "quarter", "year"):
        p = desk.period(name, today)
        pages.append((
            f"GET /desk/reports?period={name}", get(as_manager, f"/desk/reports?period={name}"),
            f"lead_report({name}, channel)",
            lambda p=p: desk.lead_report(p, "channel"),
        ))  # fmt: skip
    rows, misses = [], []
    for name, page_call, desk_name, desk_call in pages:
        goal = REPORT_GOAL_MS if "reports" in name else LIST_GOAL_MS
        d50, d95, _, _ = await timed(desk_call, args.runs)
        p50, p95, _, _ = await timed(page_call, args.runs)
        rows.append([name, f"{p50:.1f}", f"{p95:.1f}", desk_name, f"{d50:.1f}", f"{d95:.1f}",
                     f"{p95 / d95:.1f}x", verdict(p95 <= goal)])  # fmt: skip
        if p95 > goal:
            misses.append(f"{name}: p95 {p95:.0f} ms > {goal:.0f} ms")
        print(f"  {name}: p50 {p50:.1f} ms p95 {p95:.1f} ms (desk {d95:.1f} ms)", flush=True)
    for client in (as_manager, as_consultant):
        await client.aclose()
    set_desk(None)
    await desk.close()
    print_table(
        f"{args.leads:,} leads, {args.runs} runs each; page = route + session + desk + template over ASGI",
        ["page", "p50 ms", "p95 ms", "desk call", "p50 ms", "p95 ms", "page/desk p95",
         f"goal {LIST_GOAL_MS:.0f}/{REPORT_GOAL_MS:.0f} ms"],
        rows,
    )  # fmt: skip
    print("\nmisses: " + ("; ".join(misses) if misses else "none"))
    print(f"load average at end: {load_avg()}")


if __name__ == "__main__":
    asyncio.run(main())
