"""Every user-facing line of the events plugin, in one place for review, and the
small functions that word the use cases' results (features.events) as replies.
Times show in the one format of bot.formatting."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.charts import Bars
from bot.formatting import shorten, when
from features.events import errors, models
from features.events.core import EventInfo, Tally
from features.events.export import Cell, SignupList
from features.events.manage import Attendance, Cancellation, Closed, Created
from features.events.reports import EventStats, OpenEvent
from features.events.signups import MySignup, SignupCancelled, SignupOutcome

USAGE = {
    "发起活动": "发起活动 <标题> <时间> <地点> <名额> [截止 <时间>] —— 例：发起活动 周末自驾游 周六上午10点 4S店门口 20人 8车 截止 周五18点",
    "活动": "活动 —— 查看本群进行中的活动",
    "报名": "报名 <活动号> [N人] [N车] [备注] —— 例：报名 3 2人 带孩子",
    "取消报名": "取消报名 <活动号> —— 例：取消报名 3",
    "我的报名": "我的报名 —— 查看自己的报名",
    "到场": "到场 <活动号> @成员… —— 例：到场 3 @张三 @李四（也可写QQ号）",
    "关闭报名": "关闭报名 <活动号> —— 停止接受报名",
    "取消活动": "取消活动 <活动号> —— 取消活动并通知已报名的人",
    "活动统计": "活动统计 [活动号] —— 报名、候补、到场、新线索",
    "导出报名": "导出报名 <活动号> —— 报名名单导出为表格文件",
}
DESCRIPTIONS = {
    "发起活动": "发起活动 <标题> <时间> <地点> <名额> [截止 <时间>]",
    "活动": "活动 —— 本群进行中的活动",
    "报名": "报名 <活动号> [N人] [备注] —— 满员自动候补",
    "取消报名": "取消报名 <活动号>",
    "我的报名": "我的报名 —— 自己的报名和候补",
    "到场": "到场 <活动号> @成员… —— 登记到场",
    "关闭报名": "关闭报名 <活动号>",
    "取消活动": "取消活动 <活动号> —— 并通知所有报名的人",
    "活动统计": "活动统计 [活动号]",
    "导出报名": "导出报名 <活动号> —— 导出报名表格",
}

USAGE_PREFIX = "用法："
GROUP_ONLY = "请在车主群里使用这个命令。"
BAD_TIME = "没看懂时间「{text}」，可以写成：明天下午3点、周六上午10点、12月1号 14:00。"
BAD_TITLE = "活动标题最多 {limit} 个字，且不能含特殊字符。"
BAD_PLACE = "地点最多 {limit} 个字，且不能含特殊字符。"
BAD_CAPACITY = "名额应为 1 到 {limit} 之间的数字，例如 20 或 20人。"
BAD_CARS = "车辆数应为 1 到名额之间的数字，例如 8车。"
START_PAST = "活动时间 {when} 已经过去了，请写一个将来的时间。"
START_TOO_FAR = "活动时间太远了（最多 {days} 天以后）。"
DEADLINE_AFTER_START = "报名截止时间 {deadline} 晚于活动开始时间 {start}，请改早一些。"
DEADLINE_PAST = "报名截止时间 {deadline} 已经过去了。"
CREATED = "已发起活动 #{id}「{title}」\n时间：{when}\n地点：{place}\n名额：{capacity}{cars}\n报名截止：{deadline}\n发送「报名 {id}」报名，「报名 {id} 2人」带朋友一起。"
CREATED_AGAIN = "活动 #{id}「{title}」已经发起过了。"
CARS_SUFFIX = "，限 {cars} 辆车"

NO_EVENT = "没有找到活动 #{id}。"
# A DM sign-up for an event the asker cannot see: nothing about the event is told.
NOT_YOUR_GROUP = (
    "活动 #{id} 不是您所在车主群的活动，无法报名。请在您的车主群里发送「活动」查看可以报名的活动。"
)
NOT_ON_OA = "活动 #{id} 未开放公众号报名。"
NO_OPEN_EVENTS = "本群暂时没有进行中的活动。"
OPEN_EVENTS_HEADER = "本群活动（发送「报名 活动号」报名）："
EVENT_LINE = "#{id} {title}｜{when}｜{place}｜{seats}"
SEATS_LEFT = "剩余 {left} 位"
SEATS_FULL = "已满"
CARS_LEFT = "，车位剩余 {left}"
WAITLIST_SUFFIX = "，候补 {count} 组"
SIGNUP_CLOSED_TAG = "（报名已截止）"

EVENT_CANCELLED = "活动 #{id}「{title}」已取消。"
SIGNUP_CLOSED = "活动 #{id}「{title}」报名已截止。"
EVENT_STARTED = "活动 #{id}「{title}」已经开始了。"
BAD_PARTY = "人数应为 1 到 {limit} 之间，例如 2人。"
PARTY_TOO_BIG = "活动 #{id} 一共只有 {capacity} 个名额，{party} 人报不下，请联系组织者。"
CARS_TOO_MANY = "活动 #{id} 一共只能去 {limit} 辆车。"
CARS_OVER_PARTY = "车辆数不能多于人数。"
BAD_NOTE = "备注最多 {limit} 个字，且不能含特殊字符。"
SIGNED = "已报名活动 #{id}「{title}」，{party}人{cars}。\n时间：{when}\n地点：{place}"
WAITLISTED = "活动 #{id}「{title}」名额已满，已为您登记候补第 {position} 位（{party}人{cars}），有空位会@您。"
ALREADY_SIGNED = "您已报名活动 #{id}「{title}」（{party}人{cars}），无需重复报名。"
ALREADY_WAITLISTED = "您已在活动 #{id}「{title}」候补第 {position} 位（{party}人{cars}）。"
ALREADY_ATTENDED = "您已在活动 #{id}「{title}」登记到场。"
ALREADY_DONE = "活动 #{id}「{title}」已结束。"
UPDATED = "已把活动 #{id}「{title}」的报名改为 {party}人{cars}。"
UPDATE_DOES_NOT_FIT = "活动 #{id} 名额不够改为 {party}人{cars}，仍保留原报名 {old_party}人。"
WAITLIST_UPDATED = "已把活动 #{id} 的候补改为 {party}人{cars}，目前候补第 {position} 位。"
CARS_PART = "、{cars}车"

NOT_SIGNED_UP = "您没有报名活动 #{id}。"
SIGNUP_CANCELLED = "已取消活动 #{id}「{title}」的报名。"
WAITLIST_CANCELLED = "已取消活动 #{id}「{title}」的候补。"
PROMOTED_SUFFIX = "\n候补的 {names} 已转为报名成功。"
PROMOTED_POST = "活动 #{id}「{title}」有空位了，您已从候补转为报名成功（{party}人）。\n时间：{when}\n地点：{place}\n不能参加请发「取消报名 {id}」。"

NO_SIGNUPS = "您还没有报名任何活动，发送「活动」看看本群的活动。"
MY_SIGNUPS_HEADER = "您的报名："
MY_SIGNUP_LINE = "#{id} {title}｜{when}｜{party}人｜{status}"
STATUS = {
    "signed": "已报名",
    "waitlisted": "候补第{position}位",
    "cancelled": "已取消",
    "attended": "已到场",
    "no_show": "未到场",
}
EVENT_CANCELLED_STATUS = "活动已取消"

ATTEND_NOBODY = "请 @ 到场的成员或写上QQ号，例如：到场 {id} @张三。"
ATTEND_TOO_EARLY = "活动 #{id} 在 {when}，当天才能登记到场。"
ATTENDED = "活动 #{id} 已登记到场 {count} 人：{names}"
ATTEND_NOT_SIGNED = "未报名（未登记）：{names}"
ATTEND_NONE_MARKED = "活动 #{id} 没有登记到任何人。"

CLOSED = "活动 #{id}「{title}」已停止报名。"
ALREADY_CLOSED = "活动 #{id}「{title}」报名已经是关闭的。"
CANCELLED = "已取消活动 #{id}「{title}」{told}。"
CANCELLED_TOLD = "，已在群里通知 {count} 位报名的成员"
CANCELLED_TOLD_ALL = "，已通知 {count} 位报名的人（群里 @ {group} 位，私信 {dm} 位）"
ALREADY_CANCELLED = "活动 #{id}「{title}」已经取消过了。"
CANCEL_STARTED = "活动 #{id}「{title}」已经开始，不能取消了。"
CANCEL_POST = "很抱歉，活动 #{id}「{title}」（{when}，{place}）取消了，给您添麻烦了。"

REMINDER_POST = "明天的活动提醒：#{id}「{title}」\n时间：{when}\n地点：{place}\n请准时参加；不能来请发「取消报名 {id}」，把名额留给候补的朋友。"

STATS = (
    "活动 #{id}「{title}」统计{state}\n"
    "时间：{when}\n"
    "报名：{signed_people}人（{signed_parties}组）/ 名额 {capacity}{cars}\n"
    "其中：车主 {owners} 组 · 新客户 {prospects} 组\n"
    "候补：{wait_people}人（{wait_parties}组）\n"
    "取消：{cancelled}组\n"
    "到场：{attended_people}人（{attended_parties}组）\n"
    "未到场：{no_show_people}人（{no_show_parties}组）\n"
    "新线索：{leads}"
)
STATS_CARS = "，车辆 {cars}/{car_capacity}"
STATE_TAGS = {"open": "", "closed": "（报名已关闭）", "cancelled": "（已取消）"}
NO_RECENT = "还没有发起过活动。"
RECENT_HEADER = "最近的活动："
RECENT_LINE = (
    "#{id} {title}｜{when}｜报名{signed}人 候补{wait}组 到场{attended}人 新线索{leads}{state}"
)

EXPORT_FAILED = "名单文件发送失败，请稍后再试。"
EXPORT_QQ_ONLY = (
    "导出报名目前只能在QQ里使用：请在QQ私聊机器人或在车主群里发送「导出报名 <活动号>」。"
)
EXPORT_NAME = "活动{id}报名名单.xlsx"
SHEET_TITLE = "报名名单"
SHEET_HEADER = ("序号", "昵称", "QQ", "人数", "车辆", "状态", "备注", "报名时间")

# How a sign-up shows (name column, 候补 lists) when the platform gives no nickname.
PLATFORM_PERSON = {"wechat_oa": "公众号用户"}

# The mass-send to the WeCom customer groups linked to the event's QQ group
# (customers cannot type commands there: they sign up in a DM).
WECOM_ANNOUNCEMENT = "【活动报名】#{id}「{title}」\n时间：{when}\n地点：{place}\n名额：{capacity}{cars}\n报名截止：{deadline}\n报名请在公众号发送「报名 {id}」，或私信群主。"
# The first message of a lead captured by a sign-up (desk.capture).
LEAD_MESSAGE = "报名活动 {title}"
SHEET_TIME = "%Y-%m-%d %H:%M"


# -- the use cases' results as replies --------------------------------------------------


def usage(command: str) -> str:
    return USAGE_PREFIX + USAGE[command]


# Refusals worded by their own fields alone (`event_id` fills {id}); the rest,
# which need a time shown or a text cut, are in error_text's match.
_REFUSALS: dict[type[errors.EventError], str] = {
    errors.EventNotFound: NO_EVENT,
    errors.NotYourGroup: NOT_YOUR_GROUP,
    errors.NotOnOA: NOT_ON_OA,
    errors.BadTitle: BAD_TITLE,
    errors.BadPlace: BAD_PLACE,
    errors.BadCapacity: BAD_CAPACITY,
    errors.BadCars: BAD_CARS,
    errors.StartTooFar: START_TOO_FAR,
    errors.BadParty: BAD_PARTY,
    errors.CarsOverParty: CARS_OVER_PARTY,
    errors.BadNote: BAD_NOTE,
    errors.PartyTooBig: PARTY_TOO_BIG,
    errors.CarsTooMany: CARS_TOO_MANY,
    errors.EventCancelled: EVENT_CANCELLED,
    errors.EventStarted: EVENT_STARTED,
    errors.SignupClosed: SIGNUP_CLOSED,
    errors.NotSignedUp: NOT_SIGNED_UP,
    errors.AttendNobody: ATTEND_NOBODY,
    errors.AlreadyCancelled: ALREADY_CANCELLED,
    errors.CancelTooLate: CANCEL_STARTED,
}


def error_text(exc: errors.EventError, tz: ZoneInfo) -> str:
    """The reply to a refusal of the events feature."""
    if (text := _REFUSALS.get(type(exc))) is not None:
        fields = {"id" if k == "event_id" else k: v for k, v in vars(exc).items()}
        return text.format(**fields)
    match exc:
        case errors.UsageError(command=command):
            return usage(command)
        case errors.BadTime(text=text):
            return BAD_TIME.format(text=text[:20])
        case errors.StartPast(starts_at=at):
            return START_PAST.format(when=when(at, tz))
        case errors.DeadlineAfterStart(deadline_at=deadline, starts_at=start):
            return DEADLINE_AFTER_START.format(deadline=when(deadline, tz), start=when(start, tz))
        case errors.DeadlinePast(deadline_at=deadline):
            return DEADLINE_PAST.format(deadline=when(deadline, tz))
        case errors.AttendTooEarly(event_id=i, starts_at=at):
            return ATTEND_TOO_EARLY.format(id=i, when=when(at, tz))
    raise TypeError(f"no reply for {exc!r}")  # a new error class needs its line here


def _cars_suffix(event: EventInfo) -> str:
    return CARS_SUFFIX.format(cars=event.car_capacity) if event.car_capacity else ""


def created(result: Created, tz: ZoneInfo) -> str:
    e = result.event
    if result.again:
        return CREATED_AGAIN.format(id=e.id, title=e.title)
    return CREATED.format(
        id=e.id, title=e.title, when=when(e.starts_at, tz), place=e.place,
        capacity=e.capacity, cars=_cars_suffix(e), deadline=when(e.deadline_at, tz),
    )  # fmt: skip


def open_events(found: Sequence[OpenEvent], tz: ZoneInfo) -> str:
    if not found:
        return NO_OPEN_EVENTS
    lines = [OPEN_EVENTS_HEADER]
    for item in found:
        e = item.event
        seats = SEATS_LEFT.format(left=item.seats_left) if item.seats_left > 0 else SEATS_FULL
        if item.cars_left is not None:
            seats += CARS_LEFT.format(left=item.cars_left)
        if item.waiting_parties:
            seats += WAITLIST_SUFFIX.format(count=item.waiting_parties)
        if item.signup_closed:
            seats += SIGNUP_CLOSED_TAG
        lines.append(
            EVENT_LINE.format(
                id=e.id, title=e.title, when=when(e.starts_at, tz), place=e.place, seats=seats
            )
        )
    return "\n".join(lines)


def _fill(event: EventInfo, party: int, cars: int) -> dict[str, object]:
    return {
        "id": event.id,
        "title": event.title,
        "party": party,
        "cars": CARS_PART.format(cars=cars) if cars else "",
    }


def _promoted_suffix(names: Sequence[str]) -> str:
    return PROMOTED_SUFFIX.format(names="、".join(names)) if names else ""


def signup(outcome: SignupOutcome, tz: ZoneInfo) -> str:
    e = outcome.event
    fill = _fill(e, outcome.party, outcome.cars)
    if outcome.kind == "signed":
        return SIGNED.format(**fill, when=when(e.starts_at, tz), place=e.place)
    if outcome.kind == "waitlisted":
        return WAITLISTED.format(**fill, position=outcome.position)
    if outcome.kind == "kept":
        return UPDATE_DOES_NOT_FIT.format(**fill, old_party=outcome.old_party)
    if outcome.kind == "updated":
        return UPDATED.format(**fill) + _promoted_suffix(outcome.promoted)
    if outcome.kind == "waitlist_updated":
        return WAITLIST_UPDATED.format(**fill, position=outcome.position)
    # "already": the status they hold
    if outcome.status == models.ATTENDED:
        return ALREADY_ATTENDED.format(**fill)
    if outcome.status == models.NO_SHOW:
        return ALREADY_DONE.format(**fill)
    if outcome.status == models.WAITLISTED:
        return ALREADY_WAITLISTED.format(**fill, position=outcome.position)
    return ALREADY_SIGNED.format(**fill)


def signup_cancelled(result: SignupCancelled) -> str:
    done = WAITLIST_CANCELLED if result.was == models.WAITLISTED else SIGNUP_CANCELLED
    return done.format(id=result.event.id, title=result.event.title) + _promoted_suffix(
        result.promoted
    )


def _status(status: str, position: int | None) -> str:
    if status == models.WAITLISTED:
        return STATUS[models.WAITLISTED].format(position=position)
    return STATUS[status]


def my_signups(mine: Sequence[MySignup], tz: ZoneInfo) -> str:
    if not mine:
        return NO_SIGNUPS
    lines = [MY_SIGNUPS_HEADER]
    for item in mine:
        e = item.event
        status = (
            EVENT_CANCELLED_STATUS
            if e.status == models.CANCELLED
            else _status(item.status, item.position)
        )
        lines.append(
            MY_SIGNUP_LINE.format(
                id=e.id, title=e.title, when=when(e.starts_at, tz), party=item.party, status=status
            )
        )
    return "\n".join(lines)


def attendance(result: Attendance) -> str:
    if result.marked:
        lines = [
            ATTENDED.format(
                id=result.event_id, count=len(result.marked), names="、".join(result.marked)
            )
        ]
    else:
        lines = [ATTEND_NONE_MARKED.format(id=result.event_id)]
    if result.not_signed:
        lines.append(ATTEND_NOT_SIGNED.format(names="、".join(result.not_signed)))
    return "\n".join(lines)


def closed(result: Closed) -> str:
    template = ALREADY_CLOSED if result.already else CLOSED
    return template.format(id=result.event.id, title=result.event.title)


def cancelled(result: Cancellation) -> str:
    group, dm = result.told_in_group, result.told_by_dm
    if dm:
        told = CANCELLED_TOLD_ALL.format(count=group + dm, group=group, dm=dm)
    else:
        told = CANCELLED_TOLD.format(count=group) if group else ""
    return CANCELLED.format(id=result.event.id, title=result.event.title, told=told)


def stats(result: EventStats, tz: ZoneInfo) -> str:
    e, tally = result.event, result.tally
    cars = (
        STATS_CARS.format(cars=tally.seated_cars(), car_capacity=e.car_capacity)
        if e.car_capacity is not None
        else ""
    )
    return STATS.format(
        id=e.id, title=e.title, state=STATE_TAGS.get(e.status, ""), when=when(e.starts_at, tz),
        capacity=e.capacity, cars=cars,
        signed_people=tally.seated_people(), signed_parties=tally.seated_parties(),
        wait_people=tally.people.get(models.WAITLISTED, 0), wait_parties=tally.parties.get(models.WAITLISTED, 0),
        cancelled=tally.parties.get(models.WITHDRAWN, 0),
        attended_people=tally.people.get(models.ATTENDED, 0), attended_parties=tally.parties.get(models.ATTENDED, 0),
        no_show_people=tally.people.get(models.NO_SHOW, 0), no_show_parties=tally.parties.get(models.NO_SHOW, 0),
        leads=tally.leads, owners=tally.owners, prospects=tally.prospects,
    )  # fmt: skip


def _recent_line(e: EventInfo, tally: Tally, tz: ZoneInfo) -> str:
    return RECENT_LINE.format(
        id=e.id, title=e.title, when=when(e.starts_at, tz), signed=tally.seated_people(),
        wait=tally.parties.get(models.WAITLISTED, 0), attended=tally.people.get(models.ATTENDED, 0),
        leads=tally.leads, state=STATE_TAGS.get(e.status, ""),
    )  # fmt: skip


def recent(found: Sequence[EventStats], tz: ZoneInfo) -> str:
    if not found:
        return NO_RECENT
    return "\n".join([RECENT_HEADER, *(_recent_line(s.event, s.tally, tz) for s in found)])


# 活动统计's picture: the same numbers as its text.
STATS_CHART_TITLE = "活动 #{id}「{title}」"
STATS_CHART_BARS = ("报名", "候补", "到场", "未到场")
STATS_CHART_SERIES = ("人数", "组数")
STATS_CHART_CAPACITY = "名额"
STATS_CHART_NOTE = "取消 {cancelled} 组 · 新线索 {leads}"
RECENT_CHART_TITLE = "最近的活动"
RECENT_CHART_SERIES = ("报名(人)", "候补(组)", "到场(人)")
RECENT_CHART_EVENT = "#{id} {title}"


def stats_chart(result: EventStats) -> Bars:
    e, tally = result.event, result.tally
    people = (tally.seated_people(), tally.people.get(models.WAITLISTED, 0),
              tally.people.get(models.ATTENDED, 0), tally.people.get(models.NO_SHOW, 0))  # fmt: skip
    parties = (tally.seated_parties(), tally.parties.get(models.WAITLISTED, 0),
               tally.parties.get(models.ATTENDED, 0), tally.parties.get(models.NO_SHOW, 0))  # fmt: skip
    return Bars(
        title=STATS_CHART_TITLE.format(id=e.id, title=shorten(e.title, 20)),
        categories=STATS_CHART_BARS,
        series=tuple(zip(STATS_CHART_SERIES, (people, parties), strict=True)),
        note=STATS_CHART_NOTE.format(
            cancelled=tally.parties.get(models.WITHDRAWN, 0), leads=tally.leads
        ),
        limit=(STATS_CHART_CAPACITY, e.capacity),
    )


def recent_chart(found: Sequence[EventStats]) -> Bars | None:
    """The recent events side by side, oldest on the left; None when there are none."""
    if not found:
        return None
    ordered = list(reversed(found))
    signed = tuple(s.tally.seated_people() for s in ordered)
    waiting = tuple(s.tally.parties.get(models.WAITLISTED, 0) for s in ordered)
    attended = tuple(s.tally.people.get(models.ATTENDED, 0) for s in ordered)
    return Bars(
        title=RECENT_CHART_TITLE,
        categories=tuple(
            RECENT_CHART_EVENT.format(id=s.event.id, title=shorten(s.event.title, 6))
            for s in ordered
        ),
        series=tuple(zip(RECENT_CHART_SERIES, (signed, waiting, attended), strict=True)),
    )


def sheet_caption(e: EventInfo, tz: ZoneInfo) -> str:
    return f"#{e.id} {e.title} {when(e.starts_at, tz)} {e.place}"


def sheet_rows(found: SignupList) -> list[tuple[Cell, ...]]:
    """The sign-up list's rows under SHEET_HEADER (an Official Account follower
    shows as 公众号用户, with no QQ)."""
    return [
        (
            row.number,
            row.nickname or PLATFORM_PERSON.get(row.platform, ""),
            row.qq_id or "",
            row.party,
            row.cars,
            _status(row.status, row.position),
            row.note,
            row.signed_at.strftime(SHEET_TIME),
        )  # fmt: skip
        for row in found.rows
    ]


class Notices:
    """The words the events use cases queue and store (features.events.core.EventTexts)."""

    def promoted(self, event: EventInfo, party: int, tz: ZoneInfo) -> str:
        return PROMOTED_POST.format(
            id=event.id, title=event.title, party=party, when=when(event.starts_at, tz),
            place=event.place,
        )  # fmt: skip

    def cancelled(self, event: EventInfo, tz: ZoneInfo) -> str:
        return CANCEL_POST.format(
            id=event.id, title=event.title, when=when(event.starts_at, tz), place=event.place
        )

    def reminder(self, event: EventInfo, tz: ZoneInfo) -> str:
        return REMINDER_POST.format(
            id=event.id, title=event.title, when=when(event.starts_at, tz), place=event.place
        )

    def wecom_announcement(self, event: EventInfo, tz: ZoneInfo) -> str:
        return WECOM_ANNOUNCEMENT.format(
            id=event.id, title=event.title, when=when(event.starts_at, tz), place=event.place,
            capacity=event.capacity, cars=_cars_suffix(event), deadline=when(event.deadline_at, tz),
        )  # fmt: skip

    def lead_message(self, event: EventInfo) -> str:
        return LEAD_MESSAGE.format(title=event.title)


NOTICES = Notices()

PLUGIN_NAME = "活动报名"
PLUGIN_DESCRIPTION = "群里发起自驾游、试驾会等活动，成员报名、候补、提醒、签到、导出名单"
