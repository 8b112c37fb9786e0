"""The Chinese text of every DM the desk queues, one function per kind.

Staff DMs may carry the customer's phone (they need it to call); group
messages never do (see the plugins' own texts).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from bot.formatting import lead_ref, referrer_label, shorten, stage_name, when, who

Payload = dict[str, Any]

# The reply to any message whose handler found the database unavailable (disk
# full, locked past the busy timeout): bot.hooks sends it, for every feature.
BUSY = "系统繁忙，请稍后再试"

CHANNEL_NAMES = {
    "qq_group": "QQ群", "qq_dm": "QQ私聊", "referral": "老客推荐", "event": "活动报名", "autohome": "汽车之家",
    "yiche": "易车", "baidu": "百度", "weibo": "微博", "forum": "论坛", "video": "视频", "groupbuy": "团购",
    "phone_in": "来电", "walk_in": "到店", "wechat_oa": "公众号", "wecom": "企业微信", "wecom_group": "企微客户群",
    "manual": "手工录入", "dongchedi": "懂车帝", "oem": "厂家线索", "douyin": "抖音", "other": "其他",
}  # fmt: skip


def channel_name(channel: str | None) -> str:
    return CHANNEL_NAMES.get(channel or "", channel or "未知")


def _contact(p: Payload) -> str:
    parts = [who(p.get("name"), "")]
    if p.get("phone"):
        parts.append(str(p["phone"]))
    if p.get("car_model"):
        parts.append(f"意向 {p['car_model']}")
    return " ".join(x for x in parts if x) or "未留姓名"


def _source(p: Payload) -> str:
    src = channel_name(p.get("channel"))
    if p.get("group_id"):
        src += f" {p['group_id']}"
    return src


def new_lead(p: Payload, tz: ZoneInfo) -> str:
    lines = [f"【新线索 {lead_ref(p.get('lead_id'))}】来自 {_source(p)}", _contact(p)]
    if p.get("message"):
        lines.append(f"原话：{shorten(p['message'], 80)}")
    if p.get("referrer"):
        lines.append(f"推荐人：{referrer_label(p['referrer'])}")
    lines.append(f"请在 {when(p.get('due_at'), tz)} 前首次联系")
    return "\n".join(lines)


def lead_returned(p: Payload, tz: ZoneInfo) -> str:
    head = "【战败客户回流】" if p.get("reopened") else "【撞单】"
    lines = [
        f"{head}{lead_ref(p.get('lead_id'))} {_contact(p)}",
        f"又从 {channel_name(str(p.get('via', '')).split(':')[0])} 联系我们",
    ]
    if p.get("message"):
        lines.append(f"原话：{shorten(p['message'], 80)}")
    lines.append(f"当前：{stage_name(p.get('stage'))}，下次跟进 {when(p.get('due_at'), tz)}")
    return "\n".join(lines)


def lead_assigned(p: Payload, tz: ZoneInfo) -> str:
    return f"【分配线索 {lead_ref(p.get('lead_id'))}】{_contact(p)}（{_source(p)}）\n当前：{stage_name(p.get('stage'))}，下次跟进 {when(p.get('due_at'), tz)}"


def unassigned_lead(p: Payload, tz: ZoneInfo) -> str:
    return f"【待分配 {lead_ref(p.get('lead_id'))}】没有在班顾问可接，来自 {_source(p)}\n{_contact(p)}\n发送「分配 {p.get('lead_id')} 顾问名」指派"


def defeat_review(p: Payload, tz: ZoneInfo) -> str:
    return (
        f"【战败审核 {lead_ref(p.get('lead_id'))}】{p.get('consultant') or '顾问'} 申请战败\n"
        f"客户：{_contact(p)}\n原因：{shorten(p.get('reason'), 80)}\n"
        f"回复「审核 {p.get('lead_id')} 同意 [回访 时间]」或「审核 {p.get('lead_id')} 驳回」"
    )


def defeat_result(p: Payload, tz: ZoneInfo) -> str:
    if p.get("approved"):
        return f"【战败已批准 {lead_ref(p.get('lead_id'))}】{_contact(p)}\n将在 {when(p.get('due_at'), tz)} 回访"
    return f"【战败被驳回 {lead_ref(p.get('lead_id'))}】{_contact(p)}\n请继续跟进，下次 {when(p.get('due_at'), tz)}"


def first_contact_overdue(p: Payload, tz: ZoneInfo) -> str:
    return f"【首次联系超时 {lead_ref(p.get('lead_id'))}】{p.get('consultant') or '未分配'} 未在时限内联系\n客户：{_contact(p)}（{_source(p)}）"


SIGNAL_NAMES = {"left_group": "退出了车主群"}


def lead_signal(p: Payload, tz: ZoneInfo) -> str:
    what = SIGNAL_NAMES.get(str(p.get("signal")), str(p.get("signal") or "有新动态"))
    lines = [f"【客户动态 {lead_ref(p.get('lead_id'))}】{_contact(p)} {what}"]
    if p.get("note"):
        lines.append(shorten(p["note"], 80))
    lines.append(f"当前：{stage_name(p.get('stage'))}，建议尽快回访")
    return "\n".join(lines)


ERASED_BY = {"person": "客户本人要求删除个人信息", "manager": "经理已按客户要求删除其个人信息"}


def lead_erased(p: Payload, tz: ZoneInfo) -> str:
    """No personal data: the lead is known to the consultant by its number only."""
    by = ERASED_BY.get(str(p.get("by")), ERASED_BY["person"])
    return (
        f"【线索已删除 {lead_ref(p.get('lead_id'))}】{by}，系统中的姓名、电话、聊天记录等已删除，线索已关闭。\n"
        "请勿再联系该客户，并删除您另外保存的该客户信息。"
    )


def _task_lines(title: str, items: list[Payload], tz: ZoneInfo, limit: int = 8) -> list[str]:
    if not items:
        return []
    lines = [f"{title}（{len(items)}）"]
    for t in items[:limit]:
        lines.append(
            f"· {lead_ref(t.get('lead_id'))} {who(t.get('name'))} {t.get('level')}级 {when(t.get('due_at'), tz)}"
        )
    if len(items) > limit:
        lines.append(f"· …还有 {len(items) - limit} 条，发「今日」看全部")
    return lines


def daily_digest(p: Payload, tz: ZoneInfo) -> str:
    lines = [f"【今日任务 {p.get('day', '')}】"]
    lines += _task_lines("⚠ 首次联系", p.get("first_contacts", []), tz)
    lines += _task_lines("⚠ 逾期回访", p.get("overdue", []), tz)
    lines += _task_lines("今日到店", p.get("visits_today", []), tz)
    lines += _task_lines("明日到店待确认", p.get("visits_to_confirm", []), tz)
    lines += _task_lines("今日回访", p.get("follow_ups", []), tz)
    lines += _task_lines("战败回访", p.get("revisits", []), tz)
    if len(lines) == 1:
        lines.append("今天没有到期任务 👍")
    return "\n".join(lines)


def daily_report(p: Payload, tz: ZoneInfo) -> str:
    channels = (
        "、".join(f"{channel_name(k)}{v}" for k, v in (p.get("new_leads_by_channel") or {}).items())
        or "无"
    )
    return "\n".join([
        f"【日报 {p.get('day', '')}】",
        f"回访 {p.get('follow_ups_done', 0)}/{p.get('follow_up_target', 0)}",
        f"新线索 {p.get('new_leads', 0)}：{channels}",
        f"邀约 {p.get('invitations', 0)} · 到店 {p.get('visits', 0)} · 未到店 {p.get('no_shows', 0)}",
        f"下订 {p.get('orders', 0)} · 成交 {p.get('deals', 0)}",
        f"待审战败 {p.get('defeat_requests_waiting', 0)} · 待分配 {p.get('unassigned_leads', 0)}",
    ])  # fmt: skip


def leads_imported(p: Payload, tz: ZoneInfo) -> str:
    """One per consultant per import, not one per lead."""
    lines = [f"【导入线索】{channel_name(p.get('source'))}"]
    if p.get("created"):
        lines.append(f"分给您的新线索 {p['created']} 条，请在工作时间内首次联系（发「今日」查看）")
    if p.get("merged"):
        lines.append(f"您已跟进的客户撞单 {p['merged']} 条，已补充资料，详情见各线索的时间线")
    return "\n".join(lines)


def import_unassigned(p: Payload, tz: ZoneInfo) -> str:
    return (
        f"【导入待分配】{channel_name(p.get('source'))} 导入的新线索有 {p.get('unassigned')} 条"
        "没有顾问可接（无人在班或已达上限）\n请在待分配线索中指派"
    )


def plain_text(p: Payload, tz: ZoneInfo) -> str:
    return str(p.get("text", ""))


RENDERERS: dict[str, Callable[[Payload, ZoneInfo], str]] = {
    "new_lead": new_lead,
    "lead_returned": lead_returned,
    "lead_assigned": lead_assigned,
    "unassigned_lead": unassigned_lead,
    "defeat_review": defeat_review,
    "defeat_result": defeat_result,
    "first_contact_overdue": first_contact_overdue,
    "lead_signal": lead_signal,
    "lead_erased": lead_erased,
    "daily_digest": daily_digest,
    "daily_report": daily_report,
    "leads_imported": leads_imported,
    "import_unassigned": import_unassigned,
}


# Set by the tests (tests/conftest.py): a desk payload without a key its renderer
# reads is an error there, not a blank field in a staff DM.
STRICT_ENV = "BOT_STRICT_TEXTS"


class _StrictPayload(dict):
    """A payload whose `get` raises on a key the desk did not set."""

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self:
            raise KeyError(f"notification payload has no {key!r} (keys: {sorted(self)})")
        return _strict(self[key])


def _strict(value: Any) -> Any:
    if isinstance(value, dict):
        return _StrictPayload(value)
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value


def render(kind: str, payload: Payload, tz: ZoneInfo) -> str:
    """Any kind not listed carries its own `text` (plugins' DMs to owners)."""
    renderer = RENDERERS.get(kind)
    if renderer is None:
        return plain_text(payload, tz)
    if os.environ.get(STRICT_ENV) == "1":
        payload = _strict(payload)
    return renderer(payload, tz)
