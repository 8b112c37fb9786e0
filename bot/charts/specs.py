"""What a chart shows: its words (from a plugin's texts.py) and its numbers (from
the use case's result). Plain data, so a front builds one without matplotlib."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Funnel:
    """Stages in order with how many reached each. Every stage after the first is
    labelled with `step_word`, formatted with `kept` and `lost` (shares of the
    stage before, 0..1), e.g. "转化 {kept:.0%} · 流失 {lost:.0%}"."""

    title: str
    stages: tuple[tuple[str, int], ...]
    step_word: str
    note: str = ""


@dataclass(frozen=True)
class Bars:
    """Grouped bars: one group per category, one bar per series (name, a value per
    category); a legend when there is more than one series. `limit`: a dashed line
    with its name (e.g. ("名额", 30))."""

    title: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]
    note: str = ""
    limit: tuple[str, int] | None = None


Chart = Funnel | Bars


@dataclass(frozen=True)
class Charted:
    """A reply that is text with a picture of the same numbers (None: text only)."""

    text: str
    chart: Chart | None
