"""bot.charts: the statistics' pictures (线索统计, 活动统计, 群统计), drawn in the CJK
font the project installs itself. A chart whose Chinese fell back to boxes fails
here: matplotlib warns "Glyph ... missing from font(s)" for every such character,
and the control test shows that check catches a font without Chinese."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from matplotlib import get_data_path
from matplotlib.font_manager import FontProperties

from bot.charts import Bars, Chart, Funnel, draw, font_path
from desk.reports import FunnelRow
from features.activities.stats import GroupStats, MemberSplit
from features.events import models
from features.events.core import EventInfo, Tally
from features.events.reports import EventStats
from tests.support.chat import png_size

FUNNEL = FunnelRow(None, 120, 90, 40, 25, 8, 5, first_response_minutes=3.0)
GROUP = GroupStats(joined=5, left=2, speakers=30, messages=420, checkins=18)


def _event(event_id: int, title: str, signed: int) -> EventStats:
    start = datetime(2026, 11, 28, 2, tzinfo=UTC)
    info = EventInfo(event_id, "123456", title, "展厅", start, start, 30, 8, models.OPEN)
    tally = Tally(
        people={models.SIGNED: signed, models.WAITLISTED: 3, models.ATTENDED: 12},
        parties={models.SIGNED: signed // 2, models.WAITLISTED: 2, models.WITHDRAWN: 1},
        leads=4,
    )
    return EventStats(info, tally)


def plugin_charts() -> dict[str, Chart]:
    """Every kind of chart the chat sends, worded by the plugins' texts.py (imported
    here: the plugins are loaded by the session by then)."""
    from bot.plugins.activities import texts as activities
    from bot.plugins.deskchat import texts as deskchat
    from bot.plugins.events import texts as events

    recent = events.recent_chart([_event(2, "小型试驾会", 9), _event(1, "周末自驾游", 20)])
    assert recent is not None
    return {
        "线索统计": deskchat.funnel_chart("本月", FUNNEL),
        "活动统计 <号>": events.stats_chart(_event(1, "周末自驾游", 20)),
        "活动统计": recent,
        "群统计": activities.stats_chart(
            "本周", MemberSplit(members=88, owners=30, staff=3), GROUP
        ),
    }


def words(chart: Chart) -> str:
    """Every character a chart may set in type."""
    if isinstance(chart, Funnel):
        names = "".join(name for name, _ in chart.stages)
        return chart.title + names + chart.step_word + chart.note
    series = "".join(name for name, _ in chart.series)
    limit = chart.limit[0] if chart.limit else ""
    return chart.title + "".join(chart.categories) + series + chart.note + limit


def glyph_warnings(chart: Chart) -> tuple[bytes, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw.render(chart)
    return png, [str(w.message) for w in caught if "missing from font" in str(w.message)]


@pytest.fixture
def font_without_chinese(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """matplotlib's own DejaVu Sans (Latin only) in place of the project's font."""
    dejavu = Path(get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    monkeypatch.setattr(draw, "font_path", lambda: dejavu)
    draw._font.cache_clear()
    yield
    draw._font.cache_clear()


def test_the_font_comes_with_the_project_not_the_system() -> None:
    path = font_path()
    assert path.suffix == ".otf" and path.is_file()
    assert path.is_relative_to(sys.prefix), path  # installed into this environment
    assert FontProperties(fname=path).get_name() == "Noto Sans SC"


@pytest.mark.parametrize("kind", ["线索统计", "活动统计 <号>", "活动统计", "群统计"])
def test_every_chart_is_a_picture_with_all_its_chinese(kind: str) -> None:
    chart = plugin_charts()[kind]
    cmap = TTFont(font_path(), lazy=True).getBestCmap()
    missing = {c for c in words(chart) if not c.isspace() and ord(c) not in cmap}
    assert not missing, missing
    png, missing_glyphs = glyph_warnings(chart)
    assert missing_glyphs == []
    assert png_size(png) == (800, 500)
    assert len(png) < 100_000, len(png)  # a chat picture, not a photo


def test_the_glyph_check_catches_chinese_drawn_as_boxes(font_without_chinese: None) -> None:
    _, missing_glyphs = glyph_warnings(plugin_charts()["群统计"])
    assert missing_glyphs and "DejaVu Sans" in missing_glyphs[0], missing_glyphs


def test_a_phone_typed_into_a_title_is_masked_in_the_picture() -> None:
    def chart(title: str) -> Bars:
        return Bars(title, ("报名", "候补"), (("人数", (3, 1)),), limit=("名额", 20))

    typed, masked = (
        draw.render(chart("试驾会 13812345678")),
        draw.render(chart("试驾会 138****5678")),
    )
    assert typed == masked
    assert typed != draw.render(chart("试驾会 13912345678"))


def test_nothing_to_count_still_draws() -> None:
    empty = FunnelRow(None, 0, 0, 0, 0, 0, 0, first_response_minutes=None)
    from bot.plugins.deskchat import texts

    for chart in (
        texts.funnel_chart("今日", empty),
        Bars("群统计（今日）", ("签到",), (("", (0,)),)),
    ):
        png, missing_glyphs = glyph_warnings(chart)
        assert png_size(png) == (800, 500) and missing_glyphs == []
