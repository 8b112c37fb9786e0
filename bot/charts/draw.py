"""Chart specs drawn as PNG bytes with matplotlib's object API (Figure + Agg
canvas; no pyplot, whose global state is not safe across threads). Every text
is set in the project's font, given by its file path; every word is passed
through the phone mask, as a group reply's text is (a title typed with a number
in it)."""

from __future__ import annotations

import io
from functools import cache

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator

from bot.charts.font import font_path
from bot.charts.specs import Bars, Chart, Funnel
from desk.phone import mask_phones_in_text

SIZE = (8.0, 5.0)  # inches at DPI: 800 x 500 pixels, a chat picture's size
DPI = 100
COLOURS = ("#2f6fdf", "#f0a030", "#3aa870", "#d9534f", "#8e6fc1")
INK = "#333333"
CROWDED = 30  # bars in one picture above which their values are left to the text


@cache
def _font() -> FontProperties:
    return FontProperties(fname=font_path())


def _safe(text: str) -> str:
    return mask_phones_in_text(text)


def render(chart: Chart) -> bytes:
    """The chart as a PNG (800 x 500). Blocking, CPU-bound: call it off the event
    loop (bot.charts.reply does, with asyncio.to_thread)."""
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    if isinstance(chart, Funnel):
        _funnel(ax, chart)
    else:
        _bars(ax, chart)
    font = _font()
    ax.set_title(_safe(chart.title), fontproperties=font, fontsize=15, color=INK, loc="left")
    if chart.note:
        fig.supxlabel(_safe(chart.note), fontproperties=font, fontsize=10, color="#666666")
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontproperties(font)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _funnel(ax: Axes, chart: Funnel) -> None:
    """Centred horizontal bars, widest first; each stage's count, and below the
    first its share of the stage before."""
    font = _font()
    names = [_safe(name) for name, _ in chart.stages]
    counts = [count for _, count in chart.stages]
    top = max(counts, default=0) or 1
    rows = range(len(counts))
    lefts = [(top - c) / 2 for c in counts]
    ax.barh(rows, counts, left=lefts, height=0.7, color=COLOURS[0])
    ax.set_yticks(list(rows), names, fontsize=12)
    ax.invert_yaxis()  # the first stage on top
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.set_xlim(0, top * 1.45)  # room on the right for the shares
    for row, count in enumerate(counts):
        ax.text(top / 2, row, str(count), ha="center", va="center", fontproperties=font,
                fontsize=12, color="white" if count > top * 0.12 else INK)  # fmt: skip
        if row == 0:
            continue
        before = counts[row - 1]
        kept = count / before if before else 0.0
        step = _safe(chart.step_word.format(kept=kept, lost=1 - kept if before else 0.0))
        ax.text(top * 1.02, row, step, va="center", fontproperties=font, fontsize=10,
                color=INK)  # fmt: skip


def _bars(ax: Axes, chart: Bars) -> None:
    font = _font()
    n = max(len(chart.series), 1)
    width = 0.8 / n
    for i, (name, values) in enumerate(chart.series):
        xs = [c + (i - (n - 1) / 2) * width for c in range(len(chart.categories))]
        bars = ax.bar(xs, values, width=width * 0.92, label=_safe(name),
                      color=COLOURS[i % len(COLOURS)])  # fmt: skip
        if len(chart.categories) * n <= CROWDED:
            ax.bar_label(bars, fontproperties=font, fontsize=10, color=INK, padding=2)
    ax.set_xticks(range(len(chart.categories)), [_safe(c) for c in chart.categories], fontsize=11)
    if len(chart.categories) > 6:  # many events: slanted names do not overlap
        ax.tick_params(axis="x", labelrotation=30, labelsize=9)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    if chart.limit is not None:
        name, value = chart.limit
        ax.axhline(value, color="#999999", linestyle="--", linewidth=1)
        ax.annotate(f"{_safe(name)} {value}", (1, value), xycoords=("axes fraction", "data"),
                    ha="right", va="bottom", fontproperties=font, fontsize=10, color="#666666")  # fmt: skip
    top = max(
        [v for _, values in chart.series for v in values] + [chart.limit[1] if chart.limit else 0]
    )
    ax.set_ylim(0, max(top, 1) * 1.15)  # room for the value labels
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 people
    if len(chart.series) > 1:
        ax.legend(prop=font, frameon=False)
