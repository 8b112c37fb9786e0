"""Every reply of the personal-data plugin (个人信息), in one place for review,
and the two that are built from what the desk keeps (我的信息, the erasure summary)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.formatting import shorten, stage_name, when
from desk.privacy import PersonalData

PLUGIN_NAME = "个人信息"
PLUGIN_DESCRIPTION = "查看或删除我们保存的您的个人信息"

USAGE = {
    "我的信息": "我的信息 —— 查看我们保存的您的个人信息",
    "删除我的信息": "删除我的信息 —— 删除或匿名化您的个人信息（需回复确认）",
    "删除线索": "删除线索 <号> —— 应客户要求删除该线索的个人信息（需回复确认）",
    "确认删除": "确认删除 —— 确认上一条删除请求",
}
CONFIRM_WORD = "确认删除"

DM_ONLY = "为保护隐私，请私聊我发送「{word}」。"
STAFF_APP = "企业微信是员工账号，不保存客户个人信息；客户请在 QQ 或公众号私聊我。"
USAGE_LEAD = "用法：删除线索 <号>，例如 删除线索 12"
LEAD_NOT_FOUND = "没有找到线索 #{lead_id}。"

NOTHING_KEPT = "我们没有保存您的个人信息。"
CONFIRM_SELF = (
    "将删除以下与您有关的信息：\n{summary}\n"
    "删除后无法恢复，统计数字会保留但不再关联到您。\n"
    "请在 {minutes} 分钟内回复「确认删除」，回复其他内容即取消。"
)
CONFIRM_LEAD = (
    "将删除线索 #{lead_id} 的个人信息（姓名、电话、联系账号、聊天和跟进记录、报名、积分、推荐），"
    "线索关闭，统计数字保留。\n请在 {minutes} 分钟内回复「确认删除」，回复其他内容即取消。"
)
CANCELLED = "已取消删除，您的信息没有改动。"
NOTHING_PENDING = "没有待确认的删除请求（确认需在 {minutes} 分钟内）。请先发送「删除我的信息」。"
ERASED_SELF = "已删除您的个人信息。{lead}如以后再咨询，我们会重新登记。"
ERASED_SELF_LEAD = "顾问已收到通知，不会再联系您。"
ERASED_LEAD = "已删除线索 #{lead_id} 的个人信息（共处理 {rows} 条记录），顾问已收到通知。"
ERASED_LEAD_NO_CONSULTANT = "已删除线索 #{lead_id} 的个人信息（共处理 {rows} 条记录）。"

# 删除我的信息: what will go, one line each
SUMMARY_LEAD = "· 线索 #{lead_id}：姓名、电话、联系账号、聊天和跟进记录"
SUMMARY_SIGNUPS = "· 活动报名 {n} 条"
SUMMARY_POINTS = "· 积分和签到记录"
SUMMARY_MESSAGES = "· 群消息计数（不含内容）"
SUMMARY_REFERRAL = "· 推荐码和推荐记录"
SUMMARY_OWNER = "· 车主档案（姓名、电话、车型、车牌、车架号、购车日期）"

# 我的信息
MINE_HEADER = "【我的信息】"
MINE_LEAD = "线索 #{lead_id} · {stage} · 顾问 {consultant}"
MINE_CAR = "意向车型 {car}"
MINE_OWNER = "车主档案：{details}"
OWNER_FIELDS = (
    ("name", "姓名"), ("phone", "电话"), ("qq_id", "QQ"), ("wechat_openid", "公众号"),
    ("wecom_external_userid", "企业微信"), ("wechat_id", "微信号"), ("car_model", "车型"), ("plate", "车牌"),
    ("vin", "车架号"), ("purchased_on", "购车日期"),
)  # fmt: skip
MINE_CONTACTS = "联系方式：{contacts}"
MINE_NOTES = "记录 {n} 条{shown}："
MINE_NOTES_SHOWN = "（显示最近 {n} 条）"
MINE_NOTE = "· {when} {text}"
MINE_SIGNUPS = "活动报名："
MINE_SIGNUP = "· #{event_id} {title} {when} {party}人 {status}"
MINE_POINTS = "积分 {total}（{entries} 条记录）"
MINE_CHECKINS = "签到 {n} 次"
MINE_MESSAGES = "群消息 {n} 条（只计数，不存内容）"
MINE_CODE = "推荐码 {code}"
MINE_REFERRALS = "推荐了 {n} 位朋友"
MINE_REWARDS = "奖励 {n} 条"
MINE_REFERRED = "您是朋友推荐来的"
MINE_FOOTER = "以上是我们保存的全部个人信息。要删除，请发送「删除我的信息」。"
NO_CONSULTANT = "待分配"
CONTACT_KINDS = {
    "phone": "手机",
    "qq": "QQ",
    "wechat_openid": "公众号",
    "wecom_external": "企业微信",
}
SIGNUP_STATUS = {
    "signed": "已报名", "waitlisted": "候补", "cancelled": "已取消", "attended": "已到场",
    "no_show": "未到场",
}  # fmt: skip

MAX_NOTES_SHOWN = 10


def erasure_summary(data: PersonalData) -> str | None:
    """What 删除我的信息 will erase, one line each; None when nothing is kept."""
    lines = []
    if data.lead is not None:
        lines.append(SUMMARY_LEAD.format(lead_id=data.lead.id))
    events = data.features.get("events") or {}
    if events.get("signups"):
        lines.append(SUMMARY_SIGNUPS.format(n=len(events["signups"])))
    activities = data.features.get("activities") or {}
    if data.features.get("points") or activities.get("checkins"):
        lines.append(SUMMARY_POINTS)
    if activities.get("messages"):
        lines.append(SUMMARY_MESSAGES)
    if data.features.get("referral"):
        lines.append(SUMMARY_REFERRAL)
    if data.features.get("owners"):
        lines.append(SUMMARY_OWNER)
    return "\n".join(lines) or None


def _contact(kind: str, value: str) -> str:
    return f"{CONTACT_KINDS.get(kind, kind)} {value}"


def format_personal_data(data: PersonalData, tz: ZoneInfo) -> str:
    """我的信息, in full: it goes to the person's own DM."""
    if data.empty:
        return NOTHING_KEPT
    lines = [MINE_HEADER]
    lead = data.lead
    if lead is not None:
        lines.append(
            MINE_LEAD.format(
                lead_id=lead.id,
                stage=stage_name(lead.stage),
                consultant=data.consultant or NO_CONSULTANT,
            )  # fmt: skip
        )
        if lead.car_model:
            lines.append(MINE_CAR.format(car=lead.car_model))
        if data.contacts:
            lines.append(
                MINE_CONTACTS.format(contacts="、".join(_contact(k, v) for k, v in data.contacts))
            )
        if data.notes:
            shown = data.notes[-MAX_NOTES_SHOWN:]
            more = MINE_NOTES_SHOWN.format(n=len(shown)) if len(shown) < len(data.notes) else ""
            lines.append(MINE_NOTES.format(n=len(data.notes), shown=more))
            lines += [
                MINE_NOTE.format(when=when(at, tz), text=shorten(note, 60)) for at, note in shown
            ]
    signups = (data.features.get("events") or {}).get("signups") or []
    if signups:
        lines.append(MINE_SIGNUPS)
        for s in signups:
            lines.append(
                MINE_SIGNUP.format(
                    event_id=s["event_id"],
                    title=shorten(s["title"], 20),
                    when=when(s["starts_at"], tz),
                    party=s["party"],
                    status=SIGNUP_STATUS.get(s["status"], s["status"]),
                )  # fmt: skip
            )
    owner: list[str] = []
    points = data.features.get("points") or {}
    if points:
        owner.append(MINE_POINTS.format(total=points["total"], entries=points["entries"]))
    activities = data.features.get("activities") or {}
    if activities.get("checkins"):
        owner.append(MINE_CHECKINS.format(n=activities["checkins"]))
    if activities.get("messages"):
        owner.append(MINE_MESSAGES.format(n=activities["messages"]))
    if owner:
        lines.append(" · ".join(owner))
    referral = data.features.get("referral") or {}
    parts = []
    if referral.get("code"):
        parts.append(MINE_CODE.format(code=referral["code"]))
    if referral.get("referrals_made"):
        parts.append(MINE_REFERRALS.format(n=referral["referrals_made"]))
    if referral.get("rewards"):
        parts.append(MINE_REWARDS.format(n=referral["rewards"]))
    if referral.get("referred"):
        parts.append(MINE_REFERRED)
    if parts:
        lines.append(" · ".join(parts))
    for record in (data.features.get("owners") or {}).get("owners") or []:
        details = "，".join(f"{label} {record[k]}" for k, label in OWNER_FIELDS if record.get(k))
        lines.append(MINE_OWNER.format(details=details))
    lines.append(MINE_FOOTER)
    return "\n".join(lines)
