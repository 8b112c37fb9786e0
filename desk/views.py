"""What the desk hands to its fronts: plain frozen data, no ORM sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from desk.models import Lead, Member, OutboxMessage, TimelineEntry

Role = Literal["consultant", "manager", "system"]

# invalid (无效线索): staff withdrew the bot's capture (not a buyer); closed like won/lost.
CLOSED_STAGES = ("won", "lost", "invalid")
STAGE_NAMES = {
    "new": "新线索",
    "following": "跟进中",
    "invited": "已邀约",
    "confirmed": "已确认",
    "visited": "已到店",
    "ordered": "已下订",
    "won": "已成交",
    "defeat_requested": "申请战败",
    "lost": "战败",
    "invalid": "无效线索",
}

# Channels in words (the chat's notices, the web desk, the lead export).
CHANNEL_NAMES = {
    "qq_group": "QQ群", "qq_dm": "QQ私聊", "referral": "老客推荐", "event": "活动报名", "autohome": "汽车之家",
    "yiche": "易车", "baidu": "百度", "weibo": "微博", "forum": "论坛", "video": "视频", "groupbuy": "团购",
    "phone_in": "来电", "walk_in": "到店", "wechat_oa": "公众号", "wecom": "企业微信", "wecom_group": "企微客户群",
    "manual": "手工录入", "dongchedi": "懂车帝", "oem": "厂家线索", "douyin": "抖音", "other": "其他",
}  # fmt: skip


@dataclass(frozen=True)
class Actor:
    """Who acts: a roster member, a superuser manager, or the system."""

    role: Role
    label: str  # recorded in the timeline, e.g. "member:3" or "qq:10001"
    member_id: int | None = None

    @property
    def is_manager(self) -> bool:
        return self.role in ("manager", "system")


SYSTEM = Actor(role="system", label="system")


@dataclass(frozen=True)
class MemberView:
    id: int
    name: str
    role: str
    qq_id: str | None
    wecom_userid: str | None
    dm_channel: str
    on_duty: bool
    active: bool

    @classmethod
    def of(cls, m: Member) -> MemberView:
        return cls(m.id, m.name, m.role, m.qq_id, m.wecom_userid, m.dm_channel, m.on_duty, m.active)

    def actor(self) -> Actor:
        role: Role = "manager" if self.role == "manager" else "consultant"
        return Actor(role=role, label=f"member:{self.id}", member_id=self.id)


@dataclass(frozen=True)
class LeadView:
    id: int
    name: str | None
    phone: str | None
    car_model: str | None
    budget: str | None
    channel: str
    source: str | None
    group_id: str | None
    first_message: str | None
    referrer: str | None
    consultant_id: int | None
    level: str
    stage: str
    expected_purchase_at: datetime | None
    expected_visit_at: datetime | None
    next_follow_up_at: datetime | None
    first_contact_due_at: datetime | None
    first_contacted_at: datetime | None
    visit_count: int
    defeat_reason: str | None
    defeat_category: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, lead: Lead) -> LeadView:
        return cls(**{f: getattr(lead, f) for f in cls.__dataclass_fields__})

    @property
    def ref(self) -> str:
        return f"#{self.id}"


@dataclass(frozen=True)
class TimelineView:
    at: datetime
    actor: str
    action: str
    changes: dict[str, Any]
    note: str | None

    @classmethod
    def of(cls, e: TimelineEntry) -> TimelineView:
        return cls(e.at, e.actor, e.action, dict(e.changes or {}), e.note)


@dataclass(frozen=True)
class LeadDetail:
    lead: LeadView
    timeline: list[TimelineView]


@dataclass(frozen=True)
class CaptureResult:
    lead: LeadView
    created: bool
    duplicate: bool  # an existing lead was seen again (撞单)
    reopened: bool
    # The capture's once_key was new (e.g. the asker's first acknowledgement today).
    first_time: bool = False


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    kind: str
    channel: str
    address: str | None
    recipient_id: int | None
    lead_id: int | None
    payload: dict[str, Any]
    attempts: int

    @classmethod
    def of(cls, m: OutboxMessage) -> OutboxItem:
        return cls(
            m.id,
            m.key,
            m.kind,
            m.channel,
            m.address,
            m.recipient_id,
            m.lead_id,
            dict(m.payload or {}),
            m.attempts,
        )


@dataclass(frozen=True)
class DefeatRequest:
    """A lead waiting for a manager's 战败 review (the web desk's queue)."""

    lead_id: int
    name: str | None
    consultant: str | None  # the consultant's name; None: unassigned
    reason: str | None
    category: str | None
    requested_at: datetime | None


@dataclass(frozen=True)
class TaskItem:
    lead_id: int
    name: str | None
    level: str
    stage: str
    due_at: datetime | None
    overdue: bool = False


@dataclass(frozen=True)
class TaskList:
    """One consultant's work for one local day, most urgent first."""

    member_id: int
    day: str
    first_contacts: list[TaskItem] = field(default_factory=list)
    overdue: list[TaskItem] = field(default_factory=list)
    follow_ups: list[TaskItem] = field(default_factory=list)
    visits_to_confirm: list[TaskItem] = field(default_factory=list)
    visits_today: list[TaskItem] = field(default_factory=list)
    revisits: list[TaskItem] = field(default_factory=list)  # 战败回访: lost leads due a call

    @property
    def total(self) -> int:
        return (
            len(self.first_contacts) + len(self.overdue) + len(self.follow_ups)
            + len(self.visits_to_confirm) + len(self.visits_today) + len(self.revisits)
        )  # fmt: skip
