"""Replies of the intent plugin. Never echo a phone number into a group."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from bot.formatting import when
from desk.phone import mask_phones_in_text
from features.intent.corrections import REVIEW_LIMIT, CorrectionView

GROUP_ACK = " 已安排顾问私信您，请留意好友/私聊消息～"
GROUP_ACK_PHONE = " 已记下您的号码 {masked}，顾问会尽快联系您。号码请尽量私聊发送哦～"
DM_ACK = "收到！已安排顾问尽快联系您。"
DM_ACK_PHONE = "收到！已记下您的号码 {masked}，顾问会尽快联系您。"

# -- staff corrections (correct.py): short, no phone, no customer named in a group --
CAPTURED = "已记为线索 #{lead_id}，已通知顾问跟进。"
ALREADY = "这条消息已记为线索 #{lead_id}。"
QUOTED_STAFF = "这是员工的消息，不能记为线索。"
QUOTED_BOT = "这是机器人的消息，不能记为线索；要撤回线索请引用它回复「不是线索」。"
NOT_CAPTURED = "没能记为线索：{reason}"
NOTE_NEEDS_PHONE = (
    "要记一条线索：在群里引用客户的消息回复「线索」；"
    "私聊或企业微信里请带上客户手机号：线索 13800000000 客户原话"
)
# WeCom: the app is told nothing of a forwarded message's original sender.
NOTE_IN_GROUP = "带手机号的线索请私聊我发送，不要在群里发号码。"
NOT_LEAD_NEEDS_QUOTE = "请引用机器人回复客户的那条消息（或客户的那条消息），再发「不是线索」。"
NOT_LEAD_UNKNOWN = "没有找到这条消息对应的线索（太久以前的回复无法撤回）。"
ALREADY_WITHDRAWN = "线索 #{lead_id} 已撤回（无效线索）。"
WITHDRAWN = "已撤回线索 #{lead_id}（无效线索），已告知顾问。"
NOT_WITHDRAWABLE = (
    "线索 #{lead_id} 已在跟进（{stage}），不能撤回；如客户无意向，请发「战败 {lead_id} 原因」。"
)
REVIEW_DM_ONLY = "意向复盘含客户原话，请私聊我发送「意向复盘」。"
REVIEW_EMPTY = "过去 7 天没有员工纠正（线索 / 不是线索）。"
VERDICT_NAMES = {"lead": "漏判→线索", "not_lead": "误判→不是线索"}
SOURCE_NAMES = {"group": "群聊", "dm": "私聊", "signup": "报名"}
LABELS = {"lead": "1", "not_lead": "0"}  # the labelled data's label column
USAGE = {
    "不是线索": "不是线索 —— 引用机器人给客户的回复发送，撤回误判的线索",
    "意向复盘": "意向复盘 —— 过去 7 天员工的纠正，可加入标注数据（私聊）",
}


def _one_line(text: str | None) -> str:
    """One line, phone numbers masked (138****5678)."""
    return mask_phones_in_text(" ".join((text or "").split())) or "（已删除）"


def _labelled(text: str) -> str:
    """A row's text for the labelled data, whose phone numbers are made-up 11-digit
    mobiles (features/intent/labelled/README.md): 138****5678 → 13800005678."""
    return re.sub(r"(\d{3})\*{4}(\d{4})", r"\g<1>0000\2", _one_line(text))


def review(rows: list[CorrectionView], tz: ZoneInfo) -> str:
    """意向复盘: one line per correction, then the rows ready for the labelled data
    (label<TAB>source<TAB>text, label 1 = lead, 0 = not)."""
    if not rows:
        return REVIEW_EMPTY
    lines = [f"【意向复盘】过去 7 天 {len(rows)} 条纠正"]
    if len(rows) >= REVIEW_LIMIT:
        lines[0] += f"（只列最早的 {REVIEW_LIMIT} 条）"
    for r in rows:
        lines.append(
            f"· {when(r.at, tz)} {VERDICT_NAMES.get(r.verdict, r.verdict)} "
            f"{SOURCE_NAMES.get(r.source, r.source)} {r.staff}：{_one_line(r.text)}"
        )
    lines.append("—— 标注数据（label\tsource\ttext）——")
    lines += [
        f"{LABELS.get(r.verdict, '?')}\t{r.source}\t{_labelled(r.text)}" for r in rows if r.text
    ]
    return "\n".join(lines)
