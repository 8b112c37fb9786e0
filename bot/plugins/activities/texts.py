"""Every line the activities plugin shows to users (Simplified Chinese), and the
small functions that turn the use cases' results (features.activities) into replies."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import formatting
from bot.charts import Bars
from features.activities.checkin import BoardRow, CheckinResult, PointsView
from features.activities.plans import TopicError
from features.activities.stats import GroupStats, MemberSplit
from features.activities.topics import ScheduleView

PLUGIN_NAME = "车友活动"
PLUGIN_DESCRIPTION = "群内签到积分、积分榜、每日话题、群统计"

USAGE = {
    "签到": "签到 —— 每天签到领积分，连续签到有奖励",
    "积分": "积分 —— 查看自己的积分、连续签到天数和群内排名",
    "积分榜": "积分榜 —— 本群积分前十名",
    "话题": "话题 —— 今天的群话题",
    "设置话题": "设置话题 <内容> [时间] —— 立即或定时发布话题，如：设置话题 冬季保养经验 明天上午9点（时间可写 每天上午9点、每周一上午9点）",
    "话题计划": "话题计划 —— 本群待发布的定时话题",
    "取消话题": "取消话题 <编号> —— 取消一个定时话题",
    "群统计": "群统计 [今日|本周|本月] —— 群成员、进退群、发言人数、消息数、签到数",
}
USAGE_PREFIX = "用法："

GROUP_ONLY = "这个命令请在群里使用哦"

# 签到
CHECKIN_DONE = (
    "签到成功！今日第{rank}名\n获得 {points} 积分{bonus}\n连续签到 {streak} 天，累计 {total} 积分"
)
CHECKIN_BONUS = "（含连签奖励 {bonus}）"
CHECKIN_ALREADY = (
    "今天已经签到过了（今日第{rank}名），明天再来吧～\n连续签到 {streak} 天，累计 {total} 积分"
)

# 积分
POINTS_GROUP = "累计 {total} 积分｜连续签到 {streak} 天｜本群排名：{rank}"
POINTS_NO_RANK = "暂无"
POINTS_DM = "累计 {total} 积分（连续签到天数和排名请在群里发送「积分」查看）"
POINTS_NONE = "还没有积分，在群里发送「签到」开始攒积分吧"

# 积分榜
BOARD_HEADER = "🏆 本群积分榜"
BOARD_LINE = "{place}. {name}  {total}分"
BOARD_EMPTY = "本群还没有人获得积分，发送「签到」抢第一吧！"
MASKED_QQ = "用户****{tail}"

# 话题
TOPIC_TODAY = "今日话题：{text}"
TOPIC_POST = "【今日话题】{text}\n欢迎大家一起聊聊～"
TOPIC_POSTED = "已设为今日话题，马上发到群里：{text}"
TOPIC_SCHEDULED = "已安排 #{id}：{when} 发布话题「{text}」"
TOPIC_TOO_LONG = "话题太长了（最多 {max} 字）"
TOPIC_BAD_TIME = (
    "没看懂时间「{text}」，可以写 明天上午9点、周六上午10点、每天上午9点、每周一上午9点"
)
TOPIC_PAST = "这个时间已经过了（{when}），请换一个以后的时间"
TOPIC_TOO_FAR = "时间太远了，最多可以安排 {days} 天以内的话题"
TOPIC_TOO_MANY = "本群的定时话题已经有 {max} 个了，请先「取消话题 <编号>」"
PLANS_HEADER = "本群定时话题："
PLAN_LINE = "#{id} {when}：{text}"
PLANS_EMPTY = "本群没有待发布的定时话题"
PLAN_CANCELLED = "已取消定时话题 #{id}"
PLAN_NOT_FOUND = "本群没有编号为 {id} 的定时话题"
WHEN_DAILY = "每天 {time}"
WHEN_WEEKLY = "每周{weekday} {time}"  # weekday: 一 … 日
TOPIC_ERRORS = {
    "too_long": TOPIC_TOO_LONG,
    "bad_time": TOPIC_BAD_TIME,
    "past": TOPIC_PAST,
    "too_far": TOPIC_TOO_FAR,
    "too_many": TOPIC_TOO_MANY,
}

# 群统计
STATS = (
    "📊 群统计（{label}）\n"
    "群成员：{members}\n"
    "新进群：{joined} 人｜退群：{left} 人\n"
    "发言人数：{speakers} 人｜消息：{messages} 条\n"
    "签到：{checkins} 人次"
)
MEMBERS_UNKNOWN = "未知"
# Shown once the group has owners (desk.owners: imported, 设为车主, or won).
MEMBERS_SPLIT = "{members}（车主 {owners} · 意向客户 {prospects}{staff}）"
MEMBERS_STAFF = " · 员工 {staff}"

# The consultant's DM when a lead leaves a WeCom customer group (a churn signal).
LEFT_WECOM_GROUP = "退出企业微信客户群 {chat_id}"


# -- formatting the use cases' results -------------------------------------------------------


def usage(cmd: str) -> str:
    return USAGE_PREFIX + USAGE[cmd]


def checkin(result: CheckinResult) -> str:
    if result.status == "already":
        return CHECKIN_ALREADY.format(rank=result.rank, streak=result.streak, total=result.total)
    bonus = CHECKIN_BONUS.format(bonus=result.bonus) if result.bonus else ""
    return CHECKIN_DONE.format(
        rank=result.rank, points=result.points, bonus=bonus, streak=result.streak,
        total=result.total,
    )  # fmt: skip


def points(view: PointsView, in_group: bool) -> str:
    if view.total == 0 and view.rank is None:
        return POINTS_NONE
    if not in_group:
        return POINTS_DM.format(total=view.total)
    rank = POINTS_NO_RANK if view.rank is None else f"第{view.rank}名"
    return POINTS_GROUP.format(total=view.total, streak=view.streak, rank=rank)


def masked_qq(user_id: str) -> str:
    """用户****1234: enough to tell members apart, not a full id (and never a phone)."""
    digits = re.sub(r"\D", "", user_id)
    return MASKED_QQ.format(tail=digits[-4:] or "????")


def board(rows: list[BoardRow]) -> str:
    if not rows:
        return BOARD_EMPTY
    lines = [BOARD_HEADER]
    lines += [
        BOARD_LINE.format(place=place, name=row.name or masked_qq(row.user_id), total=row.total)
        for place, row in enumerate(rows, 1)
    ]
    return "\n".join(lines)


def topic_post(text: str) -> str:
    """The post of a topic in the groups (QQ, and the linked WeCom customer groups)."""
    return TOPIC_POST.format(text=text)


def topic_error(exc: TopicError, tz: ZoneInfo) -> str:
    line = TOPIC_ERRORS.get(exc.kind)
    if line is None:
        return usage("设置话题")
    params = dict(exc.params)
    at = params.pop("at", None)
    if isinstance(at, datetime):  # a time is shown as every reply shows times
        params["when"] = formatting.when(at, tz)
    return line.format(**params)


def schedule_when(view: ScheduleView, tz: ZoneInfo) -> str:
    if view.repeat == "daily":
        return WHEN_DAILY.format(time=view.local_time)
    if view.repeat == "weekly" and view.weekday is not None:
        return WHEN_WEEKLY.format(weekday=formatting.WEEKDAYS[view.weekday], time=view.local_time)
    return formatting.when(view.next_at, tz)


def scheduled(view: ScheduleView, tz: ZoneInfo) -> str:
    return TOPIC_SCHEDULED.format(id=view.id, when=schedule_when(view, tz), text=view.text)


def plans(views: list[ScheduleView], tz: ZoneInfo) -> str:
    if not views:
        return PLANS_EMPTY
    lines = [PLANS_HEADER]
    lines += [PLAN_LINE.format(id=v.id, when=schedule_when(v, tz), text=v.text) for v in views]
    return "\n".join(lines)


# 群统计's picture: the same figures as its text.
STATS_CHART_TITLE = "群统计（{label}）"
STATS_CHART_BARS = ("新进群", "退群", "发言人数", "消息", "签到")
STATS_CHART_NOTE = "群成员：{members}"


def members_text(split: MemberSplit | None) -> str:
    if split is None:
        return MEMBERS_UNKNOWN
    if not split.owners:
        return str(split.members)
    staff = MEMBERS_STAFF.format(staff=split.staff) if split.staff else ""
    return MEMBERS_SPLIT.format(
        members=split.members, owners=split.owners, prospects=split.prospects, staff=staff
    )


def stats_chart(label: str, split: MemberSplit | None, figures: GroupStats) -> Bars:
    values = (figures.joined, figures.left, figures.speakers, figures.messages, figures.checkins)
    return Bars(
        title=STATS_CHART_TITLE.format(label=label),
        categories=STATS_CHART_BARS,
        series=(("", values),),
        note=STATS_CHART_NOTE.format(members=members_text(split)),
    )


def stats(label: str, split: MemberSplit | None, figures: GroupStats) -> str:
    return STATS.format(
        label=label, members=members_text(split),
        joined=figures.joined, left=figures.left, speakers=figures.speakers,
        messages=figures.messages, checkins=figures.checkins,
    )  # fmt: skip
