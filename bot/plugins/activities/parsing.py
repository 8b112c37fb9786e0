"""The words of 设置话题 read as a topic and a plan: "冬季保养经验 明天上午9点"
(once), "早安 每天上午9点", "周报 每周一上午9点" (repeating). The time words are
the parser's vocabulary (jionlp reads the time: bot.timeparse); the rules on
the result are features.activities.plans. Pure: no NoneBot."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.timeparse import TimeParseError, parse_when
from desk.text import clean_text
from features.activities.config import TopicsConfig
from features.activities.plans import Plan, TopicError, once, repeating, topic_text

# Deciding whether the trailing word is a time at all (the parsing is jionlp's):
# a time is made of these characters only, with at least one unit among them.
# "冬季保养" or "周末自驾路线" are topics, although jionlp would read a date in them.
_TIME_CHARS = frozenset(
    "0123456789０１２３４５６７８９:：.一二三四五六七八九十零〇两半"
    "点时分秒钟刻整号日月年周星期礼拜天末今明后前大上下中午晚早夜凌晨傍每个"
)
_TIME_UNITS = frozenset("点时:：天周期拜号日月早晚午夜晨后每")
_RECURRING = re.compile(r"^每(?:(?P<daily>天|日)|(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天1-7]))(?P<rest>.*)$")  # fmt: skip
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


def looks_like_time(word: str) -> bool:
    return bool(word) and set(word) <= _TIME_CHARS and bool(set(word) & _TIME_UNITS)


def parse_plan(word: str, now: datetime, tz: ZoneInfo, cfg: TopicsConfig) -> Plan:
    """'明天上午9点' (once), '每天上午9点', '每周一上午9点' → a Plan; TopicError otherwise."""
    recurring = _RECURRING.match(word)
    try:
        if recurring:
            clock = parse_when(recurring.group("rest"), now, tz).astimezone(tz).time()
            raw_day = recurring.group("weekday")
            weekday = None
            if raw_day:
                weekday = int(raw_day) - 1 if raw_day.isdigit() else _WEEKDAYS[raw_day]
            return repeating(clock, weekday, now, tz)
        at = parse_when(word, now, tz)
    except TimeParseError:
        raise TopicError("bad_time", text=word[:20]) from None
    return once(at, now, tz, cfg)


def parse_topic_args(
    args: str, now: datetime, tz: ZoneInfo, cfg: TopicsConfig
) -> tuple[str, Plan | None]:
    """'<内容> [时间]' → (topic, plan or None for now). The time is the last one or
    two words when they read as a time ('明天上午9点', '12月1号 14:00')."""
    text = clean_text(args)
    when = None
    for words in (2, 1):
        split = re.match(rf"^(.*?)\s+(\S+(?:\s+\S+){{{words - 1}}})$", text, re.S)
        if split is None:
            continue
        candidate = "".join(split.group(2).split())
        if looks_like_time(candidate) or _RECURRING.match(candidate):
            text, when = split.group(1).strip(), candidate
            break
    if looks_like_time(text) or _RECURRING.match(text):
        raise TopicError("usage")  # only a time
    text = topic_text(text, cfg)
    plan = parse_plan(when, now, tz, cfg) if when else None
    return text, plan
