"""Every reply of the desk-in-chat plugin, in one place for review, and the small
functions that turn the desk's answers (desk.Desk's views) into replies."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.charts import Funnel
from bot.commands import MAX_COMMAND_TEXT
from bot.formatting import ACTION_NAMES, TIMELINE_LABELS, lead_ref, shorten, stage_name, when, who
from bot.notify_texts import channel_name
from desk import (
    DeskError,
    DuplicateMember,
    Forbidden,
    FunnelRow,
    InvalidInput,
    InvalidTransition,
    LeadDetail,
    LeadNotFound,
    LeadView,
    MemberNotFound,
    MemberView,
    TaskList,
)

USAGE = {
    "今日": "今日 —— 查看今天的任务",
    "线索": "线索 <号> —— 例：线索 12；引用客户的群消息回复「线索」，或私聊「线索 <手机号> <原话>」记为线索",
    "跟进": "跟进 <号> <结果> [下次 <时间>] [级别 H/A/B/C] [购车 <时间>] —— 例：跟进 12 客户在比价 下次 周六上午10点 级别 A",
    "邀约": "邀约 <号> <到店时间> —— 例：邀约 12 周六上午10点",
    "确认": "确认 <号> —— 客户确认明天到店",
    "到店": "到店 <号> [结果] [下次 <时间>] [级别 H/A/B/C]",
    "未到店": "未到店 <号>",
    "下订": "下订 <号> [备注]",
    "成交": "成交 <号> [备注]",
    "战败": "战败 <号> <原因> —— 例：战败 12 竞品 买了别家",
    "上班": "上班 —— 开始接新线索",
    "下班": "下班 —— 暂停接新线索",
    "线索统计": "线索统计 [今日|本周|本月|本季|本年]",
    "审核": "审核 <号> 同意 [回访 <时间>] 或 审核 <号> 驳回",
    "分配": "分配 <号> <顾问姓名、QQ号或企微账号>",
    "添加顾问": "添加顾问 <QQ号> <姓名>",
    "顾问列表": "顾问列表",
    "待分配": "待分配 —— 没有顾问接手的线索",
}

USAGE_PREFIX = "用法："
DM_ONLY = "客户信息请私聊我查看，群里不展示。"
STAFF_LIST_DM_ONLY = "顾问名单请私聊我查看，群里不展示。"
LEAD_LIST_DM_ONLY = "待分配线索请私聊我查看，群里不展示。"
BAD_LEAD_NO = "线索号不对，应为数字，例如 12 或 #12。"
BAD_TIME = "没看懂时间「{text}」，可以写成：明天下午3点、周六上午10点、3天后、12月1号 14:00。"
BAD_LEVEL = "级别只能是 H、A、B、C。"
NAME_TOO_LONG = "名字太长了，最多 {limit} 个字。"
TOO_LONG = f"内容太长了：一条命令连同备注最多 {MAX_COMMAND_TEXT} 字，请精简后再发。"
LEAD_NOT_FOUND = "没有找到线索 #{lead_id}。"
FORBIDDEN_GENERIC = "没有权限：{message}"
MEMBER_NOT_FOUND = "没有找到顾问「{name}」，发送「顾问列表」查看。"
DUPLICATE_MEMBER = "这个QQ号已经在顾问名单里了。"
INVALID = "输入有误：{message}"
TRANSITION = "#{lead_id} 当前是「{stage}」，不能{action}。"

FOLLOWED = "已记录 #{lead_id} 跟进。级别 {level}，下次 {due}"
INVITED = "已邀约 #{lead_id} 于 {visit} 到店，{confirm} 提醒您确认。"
CONFIRMED = "已确认 #{lead_id}，{visit} 到店。"
VISITED = "已记录 #{lead_id} 第 {count} 次到店。下次跟进 {due}"
NO_SHOW = "已记录 #{lead_id} 未到店，{due} 再跟进。"
ORDERED = "已记录 #{lead_id} 下订 🎉 每周跟进至提车，下次 {due}"
WON = "已记录 #{lead_id} 成交 🎉"
DEFEAT_REQUESTED = "已提交 #{lead_id} 战败申请（{category}），等待经理审核。"
APPROVED = "已批准 #{lead_id} 战败，{due} 回访。"
REJECTED = "已驳回 #{lead_id} 战败，顾问将于 {due} 继续跟进。"
ASSIGNED = "已把 #{lead_id} 分配给 {name}。"
ON_DUTY = "已上班，新线索会分给您。"
OFF_DUTY = "已下班，暂停给您分配新线索。"
MEMBER_ADDED = "已添加顾问 {name}（QQ {qq}），默认在班。"
NO_MEMBERS = "顾问名单是空的，发送「添加顾问 <QQ号> <姓名>」添加。"
NO_UNASSIGNED = "没有待分配的线索。"
TODAY_EMPTY = "今天没有到期任务 👍"

STATS_EMPTY = "【线索统计 {label}】暂无新线索"


def tasks_list(tasks: TaskList, tz: ZoneInfo) -> str:
    """今日: short lines, most urgent first, readable on a phone."""
    if tasks.total == 0:
        return TODAY_EMPTY
    lines = [f"【今日任务 {tasks.day}】共 {tasks.total} 项"]
    sections = [
        ("⚠ 首次联系", tasks.first_contacts), ("⚠ 逾期回访", tasks.overdue), ("今日到店", tasks.visits_today),
        ("明日到店待确认", tasks.visits_to_confirm), ("今日回访", tasks.follow_ups),
        ("战败回访", tasks.revisits),
    ]  # fmt: skip
    for title, items in sections:
        if not items:
            continue
        lines.append(f"{title}（{len(items)}）")
        for t in items[:10]:
            lines.append(f"· {lead_ref(t.lead_id)} {who(t.name)} {t.level}级 {when(t.due_at, tz)}")
        if len(items) > 10:
            lines.append(f"· …还有 {len(items) - 10} 条")
    return "\n".join(lines)


def lead_detail(detail: LeadDetail, tz: ZoneInfo) -> str:
    """线索 <号>: the lead and its last ten steps."""
    lead = detail.lead
    lines = [
        f"{lead.ref} {who(lead.name)} {lead.phone or ''}".rstrip(),
        f"{stage_name(lead.stage)} · {lead.level}级 · 来源 {lead.source or lead.channel}",
        f"意向 {lead.car_model or '—'} · 预计购车 {when(lead.expected_purchase_at, tz)}",
        f"下次跟进 {when(lead.next_follow_up_at, tz)}",
    ]
    if lead.expected_visit_at:
        lines.append(f"预计到店 {when(lead.expected_visit_at, tz)}")
    lines.append("—— 记录 ——")
    for e in detail.timeline[-10:]:
        label = TIMELINE_LABELS.get(e.action, e.action)
        lines.append(f"{when(e.at, tz)} {label} {shorten(e.note, 40)}".rstrip())
    return "\n".join(lines)


def funnel_stats(
    label: str,
    t: FunnelRow,
    by_channel: Sequence[FunnelRow],
    by_consultant: Sequence[FunnelRow],
    reasons: Sequence[tuple[str, int]],
) -> str:
    """线索统计: the funnel of the period (`t`, all leads), by channel, by consultant,
    and why leads were lost."""
    lines = [
        f"【线索统计 {label}】",
        f"线索 {t.leads} → 联系 {t.contacted} → 邀约 {t.invited} → 到店 {t.visited} → 下订 {t.ordered} → 成交 {t.won}",
        f"邀约率 {t.invite_rate:.0%} · 到店率 {t.visit_rate:.0%} · 成交率 {t.win_rate:.0%}",
    ]
    if t.first_response_minutes is not None:
        lines.append(f"平均首次响应 {t.first_response_minutes:.0f} 分钟")
    lines.append("渠道：" + "、".join(f"{channel_name(r.key)}{r.leads}" for r in by_channel[:6]))
    lines.append(
        "顾问：" + "、".join(f"{r.key or '未分配'}{r.leads}/成交{r.won}" for r in by_consultant[:8])
    )
    if reasons:
        lines.append("战败原因：" + "、".join(f"{c}{n}" for c, n in reasons[:6]))
    return "\n".join(lines)


# 线索统计's picture: the same funnel as its first line, with each step's share.
FUNNEL_CHART_TITLE = "线索漏斗 {label}"
FUNNEL_CHART_STAGES = ("线索", "联系", "邀约", "到店", "下订", "成交")
FUNNEL_CHART_STEP = "转化 {kept:.0%} · 流失 {lost:.0%}"
FUNNEL_CHART_NOTE = "邀约率 {invite:.0%} · 到店率 {visit:.0%} · 成交率 {win:.0%}"


def funnel_chart(label: str, t: FunnelRow) -> Funnel:
    counts = (t.leads, t.contacted, t.invited, t.visited, t.ordered, t.won)
    return Funnel(
        title=FUNNEL_CHART_TITLE.format(label=label),
        stages=tuple(zip(FUNNEL_CHART_STAGES, counts, strict=True)),
        step_word=FUNNEL_CHART_STEP,
        note=FUNNEL_CHART_NOTE.format(invite=t.invite_rate, visit=t.visit_rate, win=t.win_rate),
    )


def accounts(member: MemberView) -> str:
    """What a manager may type to 分配 to them: "QQ10001", "企微wangwu" or both."""
    ids = []
    if member.qq_id:
        ids.append(f"QQ{member.qq_id}")
    if member.wecom_userid:
        ids.append(f"企微{member.wecom_userid}")
    return " ".join(ids) or "QQ—"


def member_list(members: Sequence[MemberView]) -> str:
    if not members:
        return NO_MEMBERS
    lines = ["【顾问列表】"]
    for m in members:
        role = "经理" if m.role == "manager" else ("在班" if m.on_duty else "下班")
        lines.append(f"· {m.name} {accounts(m)} {role}")
    return "\n".join(lines)


def unassigned_list(leads: Sequence[LeadView], tz: ZoneInfo) -> str:
    if not leads:
        return NO_UNASSIGNED
    lines = [f"【待分配 {len(leads)}】"]
    for lead in leads:
        lines.append(
            f"· {lead.ref} {who(lead.name)} {channel_name(lead.channel)} {when(lead.created_at, tz)}"
        )
    lines.append("发送「分配 <号> <顾问>」指派")
    return "\n".join(lines)


def desk_error(exc: DeskError) -> str:
    """The Chinese line for a desk error; every one has a line, none crashes."""
    if isinstance(exc, LeadNotFound):
        return LEAD_NOT_FOUND.format(lead_id=exc.lead_id)
    if isinstance(exc, InvalidTransition):
        action = ACTION_NAMES.get(exc.action, exc.action)
        return TRANSITION.format(lead_id=exc.lead_id, stage=stage_name(exc.stage), action=action)
    if isinstance(exc, Forbidden):
        return FORBIDDEN_GENERIC.format(message=str(exc))
    if isinstance(exc, MemberNotFound):
        return MEMBER_NOT_FOUND.format(name=exc.ref)
    if isinstance(exc, DuplicateMember):
        return DUPLICATE_MEMBER
    if isinstance(exc, InvalidInput):
        return INVALID.format(message=exc.message)
    return INVALID.format(message="请检查后重试")


PLUGIN_NAME = "线索台"
PLUGIN_DESCRIPTION = "顾问私聊记录跟进、邀约、到店、战败；经理审核、分配、看统计"
