"""What the statistics' pictures cost (issue #12): for 线索统计, 活动统计 <号>,
活动统计 and 群统计, the time to word the text (the plugin's texts.py, what the
reply cost before) beside the time to word and draw the chart (bot.charts.draw,
run in a worker thread by the bot), from the same sample results. In one process,
no database, no network; prints figures, asserts nothing.

    .venv/bin/python bench/chart_bench.py [--repeat 20]

Wall time per reply, median of --repeat rounds (the first drawing, which loads
the font, is shown apart). Figures on the shared 2-core machine (matplotlib
3.11.2, --repeat 10): first chart 563 ms; then 线索统计 text 0.008 ms / chart
166 ms (38 KB), 活动统计 <号> 0.013 / 132 ms (28 KB), 活动统计 0.057 / 165 ms
(29 KB), 群统计 0.002 / 96 ms (23 KB). matplotlib's constrained layout is about
45% of a chart's time; kept, so long words never run off the picture. The bot
draws in a worker thread: the event loop does not wait.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import nonebot  # noqa: E402

nonebot.init(driver="~none", log_level="WARNING")
for plugin in ("bot.plugins.activities", "bot.plugins.deskchat", "bot.plugins.events"):
    nonebot.load_plugin(plugin)

from bot.charts import draw  # noqa: E402
from bot.plugins.activities import texts as activities  # noqa: E402
from bot.plugins.deskchat import texts as deskchat  # noqa: E402
from bot.plugins.events import texts as events  # noqa: E402
from desk.reports import FunnelRow  # noqa: E402
from features.activities.stats import GroupStats  # noqa: E402
from features.events import models  # noqa: E402
from features.events.core import EventInfo, Tally  # noqa: E402
from features.events.reports import EventStats  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
FUNNEL = FunnelRow(None, 120, 90, 40, 25, 8, 5, first_response_minutes=3.0)
CHANNELS = [FunnelRow("qq_group:1", 60, 40, 20, 12, 4, 2, 2.0)] * 6
CONSULTANTS = [FunnelRow("王顾问", 20, 15, 8, 5, 2, 1, 3.0)] * 8
GROUP = GroupStats(joined=5, left=2, speakers=30, messages=420, checkins=18)


def _event(event_id: int, title: str, signed: int) -> EventStats:
    start = datetime(2026, 11, 28, 2, tzinfo=UTC)
    info = EventInfo(event_id, "123456", title, "展厅", start, start, 30, 8, models.OPEN)
    people = {models.SIGNED: signed, models.WAITLISTED: 3, models.ATTENDED: 12}
    parties = {models.SIGNED: signed // 2, models.WAITLISTED: 2, models.WITHDRAWN: 1}
    return EventStats(info, Tally(people=people, parties=parties, leads=4))


ONE = _event(1, "周末自驾游", 20)
RECENT = [_event(i, f"试驾会{i}", 5 * i) for i in range(5, 0, -1)]

# kind: (word the text, word the chart)
REPLIES: dict[str, tuple[Callable[[], str], Callable[[], Any]]] = {
    "线索统计": (
        lambda: deskchat.funnel_stats("本月", FUNNEL, CHANNELS, CONSULTANTS, [("价格", 3)]),
        lambda: deskchat.funnel_chart("本月", FUNNEL),
    ),
    "活动统计 <号>": (lambda: events.stats(ONE, TZ), lambda: events.stats_chart(ONE)),
    "活动统计": (lambda: events.recent(RECENT, TZ), lambda: events.recent_chart(RECENT)),
    "群统计": (
        lambda: activities.stats("本周", 88, GROUP),
        lambda: activities.stats_chart("本周", 88, GROUP),
    ),
}


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = call()
    return (time.perf_counter() - start) * 1000, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    cold, _ = timed(lambda: draw.render(REPLIES["群统计"][1]()))
    print(f"first chart of the process (font loaded): {cold:.0f} ms")
    print(f"{'reply':<14}{'text ms':>10}{'chart ms':>10}{'ratio':>9}{'PNG KB':>9}")
    for kind, (text, chart) in REPLIES.items():
        text_ms = statistics.median(timed(text)[0] for _ in range(args.repeat))
        runs = [timed(lambda chart=chart: draw.render(chart())) for _ in range(args.repeat)]
        chart_ms = statistics.median(ms for ms, _ in runs)
        size = len(runs[-1][1]) / 1024
        ratio = chart_ms / text_ms if text_ms else float("inf")
        print(f"{kind:<14}{text_ms:>10.3f}{chart_ms:>10.1f}{ratio:>8.0f}x{size:>9.1f}")


if __name__ == "__main__":
    main()
