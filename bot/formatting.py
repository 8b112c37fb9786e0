"""Shared formatting for replies and DMs: times in the dealer's zone, lead refs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from desk import STAGE_NAMES

WEEKDAYS = "一二三四五六日"


def when(at: datetime | str | None, tz: ZoneInfo) -> str:
    """'11-28 周六 10:00' (local), or '—'."""
    if at is None:
        return "—"
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    local = at.astimezone(tz)
    return f"{local:%m-%d} 周{WEEKDAYS[local.weekday()]} {local:%H:%M}"


def lead_ref(lead_id: int | None) -> str:
    return f"#{lead_id}" if lead_id is not None else "#?"


# What each lead step is called where a refusal names it (chat and web desk).
ACTION_NAMES = {
    "follow_up": "记录跟进", "set_level": "改级别", "invite": "邀约", "confirm": "确认到店", "visit": "记录到店",
    "no_show": "记为未到店", "order": "记为下订", "deal": "记为成交", "request_defeat": "申请战败",
    "review_defeat": "审核战败",
}  # fmt: skip


# What each timeline entry's action is called (the chat's 线索 <号> and the web desk's detail).
TIMELINE_LABELS = {
    "created": "新建", "seen_again": "撞单", "reopened": "回流", "follow_up": "跟进", "set_level": "改级别",
    "invite": "邀约", "confirm": "确认", "visit": "到店", "no_show": "未到店", "order": "下订", "deal": "成交",
    "defeat_request": "申请战败", "defeat_approved": "战败批准", "defeat_rejected": "战败驳回", "assign": "分配",
    "edit": "修改资料", "signal": "客户动态", "imported": "导入",
}  # fmt: skip


def stage_name(stage: str | None) -> str:
    return STAGE_NAMES.get(stage or "", stage or "—")


def who(name: str | None, fallback: str = "客户") -> str:
    return name or fallback


def shorten(text: str | None, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


REFERRER_PLATFORMS = {"qq": "QQ", "phone": "电话", "wechat": "公众号粉丝", "wecom": "企微客户"}


def referrer_label(handle: str | None) -> str:
    """The desk's referrer handle for staff: "qq:20001" → "QQ 20001"."""
    kind, _, value = (handle or "").partition(":")
    if kind not in REFERRER_PLATFORMS or not value:
        return handle or "—"
    return f"{REFERRER_PLATFORMS[kind]} {value}"
