"""Answer with text and a chart of the same numbers, in one message (the text
segment first, then the picture). The text always goes out: when drawing fails
the reason is logged in one masked line and the text is sent alone. A picture
goes only to QQ (OneBot v11 image segment); the WeChat fronts send text only
(their transport has no image upload), so nothing is drawn for them."""

from __future__ import annotations

import asyncio

from nonebot.adapters import Bot, Event
from nonebot.adapters.onebot.v11 import Event as OneBotEvent
from nonebot.adapters.onebot.v11 import Message, MessageSegment
from nonebot.log import logger

from bot.charts.specs import Chart, Charted
from bot.sending import SendResult, as_message, reply
from desk.phone import mask_phones_in_text


def _draw(chart: Chart) -> bytes:
    # Imported on first use: matplotlib costs the bot's start half a second.
    from bot.charts.draw import render

    return render(chart)


async def chart_png(chart: Chart) -> bytes | None:
    """The chart drawn off the event loop; None (and one log line) when it fails."""
    try:
        return await asyncio.to_thread(_draw, chart)
    except Exception as exc:  # a picture is a nicety: the text answers anyway
        logger.warning(mask_phones_in_text(f"chart {chart.title!r} not drawn: {exc!r}"))
        return None


async def reply_charted(bot: Bot, event: Event, answer: str | Message | Charted) -> SendResult:
    """`bot.sending.reply`, with the chart of a Charted answer when the platform
    takes pictures and it could be drawn."""
    if not isinstance(answer, Charted):
        return await reply(bot, event, answer)
    message = as_message(answer.text)
    if answer.chart is not None and isinstance(event, OneBotEvent):
        png = await chart_png(answer.chart)
        if png is not None:
            message = message + MessageSegment.image(png)
    return await reply(bot, event, message)
