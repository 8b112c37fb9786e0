"""Charts for the chat's statistics: 线索统计, 活动统计 and 群统计 answer with their
text and a PNG drawn from the same report data.

A plugin's texts.py turns a use case's result into a chart spec (specs.py: the
words and the numbers, nothing else); draw.py draws it with matplotlib in the
font this project installs (font.py); reply.py sends the text with the picture,
and the text alone when drawing fails or the platform takes no pictures.
"""

from bot.charts.font import font_path
from bot.charts.specs import Bars, Chart, Charted, Funnel

__all__ = ["Bars", "Chart", "Charted", "Funnel", "font_path"]
