"""Desk in chat: the consultant's and manager's commands (spec §3.5).

Pure: no NoneBot. `DeskChat.handle` takes who asks and what they typed and
returns the reply; every desk error becomes a Chinese line, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.formatting import lead_ref, shorten, stage_name, when, who
from bot.notify_texts import channel_name
from bot.people import staff_member
from bot.plugins.deskchat import texts
from bot.timeparse import TimeParseError, parse_when
from desk import (
    Actor,
    Desk,
    DeskError,
    DuplicateMember,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    LeadNotFound,
    MemberNotFound,
    MemberView,
    TaskList,
)

_LEAD_NO = re.compile(r"^[#＃]?(\d{1,9})$")
_QQ_ID = re.compile(r"^[1-9][0-9]{4,11}$")  # as the desk's roster accepts it
MAX_NAME_CHARS = 32  # the roster's limit; checked here so the reply is Chinese
_KEYWORDS = ("下次", "级别", "购车", "回访")
PERIODS = {"今日": "today", "本周": "week", "本月": "month", "本季": "quarter", "本年": "year"}

CONSULTANT_COMMANDS = (
    "今日",
    "线索",
    "跟进",
    "邀约",
    "确认",
    "到店",
    "未到店",
    "下订",
    "成交",
    "战败",
    "上班",
    "下班",
)
MANAGER_COMMANDS = ("线索统计", "审核", "分配", "添加顾问", "顾问列表", "待分配")
COMMANDS = CONSULTANT_COMMANDS + MANAGER_COMMANDS
# Manager commands that may be used in a group: their replies carry no phone numbers
# and list nobody. Staff and lead lists go to DMs only.
LIST_COMMANDS = {"顾问列表": texts.STAFF_LIST_DM_ONLY, "待分配": texts.LEAD_LIST_DM_ONLY}
GROUP_COMMANDS = frozenset(MANAGER_COMMANDS) - LIST_COMMANDS.keys()


@dataclass(frozen=True)
class Asker:
    user_id: str  # a QQ id, or a WeCom user id
    superuser: bool
    in_group: bool
    platform: str = "qq"


def _reads_as_command(arg_text: str | None) -> bool:
    """Nothing after the word, or a lead number / QQ number / period first."""
    words = (arg_text or "").split()
    return not words or bool(_LEAD_NO.match(words[0])) or words[0] in PERIODS


class UsageError(Exception):
    """Wrong arguments: the reply is the command's usage line (or a given line)."""

    def __init__(self, line: str | None = None) -> None:
        super().__init__(line)
        self.line = line


def parse_lead_no(token: str | None) -> int:
    match = _LEAD_NO.match((token or "").strip())
    if not match or int(match.group(1)) == 0:
        raise UsageError(texts.BAD_LEAD_NO)
    return int(match.group(1))


def lead_and_note(args: list[str]) -> tuple[int, str | None]:
    """'12 客户确认明天到' → (12, '客户确认明天到'); the note is optional."""
    if not args:
        raise UsageError
    return parse_lead_no(args[0]), " ".join(args[1:]) or None


def split_keywords(words: list[str]) -> tuple[str, dict[str, str]]:
    """'客户在比价 下次 周六 上午10点 级别 A' → ('客户在比价', {'下次': '周六 上午10点', '级别': 'A'})."""
    free: list[str] = []
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for word in words:
        if word in _KEYWORDS and word not in found:
            current = found.setdefault(word, [])
        elif current is not None:
            current.append(word)
        else:
            free.append(word)
    return " ".join(free), {k: " ".join(v) for k, v in found.items()}


class DeskChat:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._handlers: dict[str, Callable[[Actor, MemberView | None, list[str]], Awaitable[str]]] = {
            "今日": self._today, "线索": self._detail, "跟进": self._follow_up, "邀约": self._invite,
            "确认": self._confirm, "到店": self._visit, "未到店": self._no_show, "下订": self._order,
            "成交": self._deal, "战败": self._defeat, "上班": self._on_duty, "下班": self._off_duty,
            "线索统计": self._stats, "审核": self._review, "分配": self._assign, "添加顾问": self._add_member,
            "顾问列表": self._members, "待分配": self._unassigned,
        }  # fmt: skip

    async def roles(self, asker: Asker) -> set[str]:
        member = await staff_member(self.desk, asker.platform, asker.user_id)
        roles = set()
        if member is not None:
            roles.add("consultant")
            if member.role == "manager":
                roles.add("manager")
        if asker.superuser:
            roles.add("manager")
        return roles

    async def handle(self, asker: Asker, command: str, arg_text: str | None) -> str | None:
        """The reply to one command, or None when the asker may not see it at all.
        `arg_text` None: the message was too long to read as a command."""
        member = await staff_member(self.desk, asker.platform, asker.user_id)
        is_manager = asker.superuser or (member is not None and member.role == "manager")
        if member is None and not is_manager:
            # Owners chatting in a group may start a line with 成交/到店, and an Official
            # Account follower is always a customer ("到店 周六可以吗？"): stay quiet there,
            # so the intent plugin reads the message.
            quiet = asker.in_group or asker.platform == "wechat_oa"
            # In a QQ DM too, "到店 周六上午可以看车吗" is a customer's question, not a
            # staff command (those go on with a lead number or a period): let it through.
            return None if quiet or not _reads_as_command(arg_text) else texts.NOT_STAFF
        if command in MANAGER_COMMANDS and not is_manager:
            return texts.NOT_MANAGER
        if asker.in_group and command not in GROUP_COMMANDS:
            return LIST_COMMANDS.get(command, texts.DM_ONLY)
        if arg_text is None:
            return texts.TOO_LONG
        if member is not None:
            actor = member.actor()
            if is_manager and actor.role != "manager":
                actor = Actor(role="manager", label=actor.label, member_id=actor.member_id)
        else:
            actor = Actor(role="manager", label=f"{asker.platform}:{asker.user_id}")
        try:
            return await self._handlers[command](actor, member, arg_text.split())
        except UsageError as exc:
            return exc.line or texts.USAGE_PREFIX + texts.USAGE[command]
        except DeskError as exc:
            return describe_error(exc)

    # -- helpers ---------------------------------------------------------------
    def _when(self, text: str) -> datetime:
        try:
            return parse_when(
                text,
                self.desk.clock.now(),
                self.desk.settings.tz,
                self.desk.settings.working_hours.start,
            )
        except TimeParseError:
            raise UsageError(texts.BAD_TIME.format(text=shorten(text, 20))) from None

    def _fmt(self, at: datetime | None) -> str:
        return when(at, self.desk.settings.tz)

    @staticmethod
    def _level(options: dict[str, str]) -> str | None:
        level = options.get("级别")
        if level is None:
            return None
        if level.strip().upper() not in ("H", "A", "B", "C"):
            raise UsageError(texts.BAD_LEVEL)
        return level.strip().upper()

    @staticmethod
    def _need_member(member: MemberView | None) -> MemberView:
        if member is None:
            raise UsageError(texts.NOT_STAFF)
        return member

    # -- consultant commands -------------------------------------------------
    async def _today(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        if member is None:
            return await self._unassigned(actor, member, args)
        return format_tasks(await self.desk.tasks_for(member.id), self._fmt)

    async def _detail(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        if len(args) != 1:
            raise UsageError
        detail = await self.desk.lead(actor, parse_lead_no(args[0]))
        lead = detail.lead
        lines = [
            f"{lead.ref} {who(lead.name)} {lead.phone or ''}".rstrip(),
            f"{stage_name(lead.stage)} · {lead.level}级 · 来源 {lead.source or lead.channel}",
            f"意向 {lead.car_model or '—'} · 预计购车 {self._fmt(lead.expected_purchase_at)}",
            f"下次跟进 {self._fmt(lead.next_follow_up_at)}",
        ]
        if lead.expected_visit_at:
            lines.append(f"预计到店 {self._fmt(lead.expected_visit_at)}")
        lines.append("—— 记录 ——")
        for e in detail.timeline[-10:]:
            lines.append(
                f"{self._fmt(e.at)} {ACTION_LABELS.get(e.action, e.action)} {shorten(e.note, 40)}".rstrip()
            )
        return "\n".join(lines)

    async def _follow_up(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        if len(args) < 2:
            raise UsageError
        lead_id = parse_lead_no(args[0])
        result, options = split_keywords(args[1:])
        if not result:
            raise UsageError
        next_at = self._when(options["下次"]) if "下次" in options else None
        purchase_at = self._when(options["购车"]) if "购车" in options else None
        lead = await self.desk.follow_up(
            actor,
            lead_id,
            result,
            next_at=next_at,
            level=self._level(options),
            purchase_at=purchase_at,
        )
        return texts.FOLLOWED.format(
            lead_id=lead.id, level=lead.level, due=self._fmt(lead.next_follow_up_at)
        )

    async def _invite(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        if len(args) < 2:
            raise UsageError
        lead = await self.desk.invite(actor, parse_lead_no(args[0]), self._when(" ".join(args[1:])))
        return texts.INVITED.format(
            lead_id=lead.id,
            visit=self._fmt(lead.expected_visit_at),
            confirm=self._fmt(lead.next_follow_up_at),
        )

    async def _confirm(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        lead = await self.desk.confirm_visit(actor, *lead_and_note(args))
        return texts.CONFIRMED.format(lead_id=lead.id, visit=self._fmt(lead.expected_visit_at))

    async def _visit(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        if not args:
            raise UsageError
        note, options = split_keywords(args[1:])
        next_at = self._when(options["下次"]) if "下次" in options else None
        lead = await self.desk.record_visit(
            actor, parse_lead_no(args[0]), note or None, next_at=next_at, level=self._level(options)
        )
        return texts.VISITED.format(
            lead_id=lead.id, count=lead.visit_count, due=self._fmt(lead.next_follow_up_at)
        )

    async def _no_show(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        lead = await self.desk.record_no_show(actor, *lead_and_note(args))
        return texts.NO_SHOW.format(lead_id=lead.id, due=self._fmt(lead.next_follow_up_at))

    async def _order(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        lead = await self.desk.record_order(actor, *lead_and_note(args))
        return texts.ORDERED.format(lead_id=lead.id, due=self._fmt(lead.next_follow_up_at))

    async def _deal(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        lead = await self.desk.record_deal(actor, *lead_and_note(args))
        return texts.WON.format(lead_id=lead.id)

    async def _defeat(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        if len(args) < 2:
            raise UsageError
        lead = await self.desk.request_defeat(actor, parse_lead_no(args[0]), " ".join(args[1:]))
        return texts.DEFEAT_REQUESTED.format(lead_id=lead.id, category=lead.defeat_category)

    async def _on_duty(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        await self.desk.set_on_duty(self._need_member(member).id, True)
        return texts.ON_DUTY

    async def _off_duty(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        await self.desk.set_on_duty(self._need_member(member).id, False)
        return texts.OFF_DUTY

    # -- manager commands ------------------------------------------------------
    async def _stats(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        if len(args) > 1 or (args and args[0] not in PERIODS):
            raise UsageError
        period = self.desk.period(PERIODS[args[0]] if args else "today")
        [total] = await self.desk.funnel(period) or [None]
        if total is None or total.leads == 0:
            return f"【线索统计 {period.label}】暂无新线索"
        lines = [
            f"【线索统计 {period.label}】",
            f"线索 {total.leads} → 联系 {total.contacted} → 邀约 {total.invited} → 到店 {total.visited} → 下订 {total.ordered} → 成交 {total.won}",
            f"邀约率 {total.invite_rate:.0%} · 到店率 {total.visit_rate:.0%} · 成交率 {total.win_rate:.0%}",
        ]
        if total.first_response_minutes is not None:
            lines.append(f"平均首次响应 {total.first_response_minutes:.0f} 分钟")
        by_channel = await self.desk.funnel(period, "channel")
        lines.append(
            "渠道：" + "、".join(f"{channel_name(r.key)}{r.leads}" for r in by_channel[:6])
        )
        by_consultant = await self.desk.funnel(period, "consultant")
        lines.append(
            "顾问："
            + "、".join(f"{r.key or '未分配'}{r.leads}/成交{r.won}" for r in by_consultant[:8])
        )
        reasons = await self.desk.defeat_reasons(period)
        if reasons:
            lines.append("战败原因：" + "、".join(f"{c}{n}" for c, n in reasons[:6]))
        return "\n".join(lines)

    async def _review(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        if len(args) < 2 or args[1] not in ("同意", "驳回"):
            raise UsageError
        lead_id = parse_lead_no(args[0])
        _, options = split_keywords(args[2:])
        revisit = self._when(options["回访"]) if "回访" in options else None
        approve = args[1] == "同意"
        lead = await self.desk.review_defeat(actor, lead_id, approve, revisit_at=revisit)
        template = texts.APPROVED if approve else texts.REJECTED
        return template.format(lead_id=lead.id, due=self._fmt(lead.next_follow_up_at))

    async def _assign(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        if len(args) != 2:
            raise UsageError
        lead_id = parse_lead_no(args[0])
        members = await self.desk.members()
        target = next((m for m in members if args[1] in (m.name, m.qq_id, m.wecom_userid)), None)
        if target is None:
            raise UsageError(texts.MEMBER_NOT_FOUND.format(name=shorten(args[1], 16)))
        lead = await self.desk.assign(actor, lead_id, target.id)
        return texts.ASSIGNED.format(lead_id=lead.id, name=target.name)

    async def _add_member(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        if len(args) != 2 or not _QQ_ID.match(args[0]):  # not isdigit(): "²³⁴⁵⁶" is digits to it
            raise UsageError
        if len(args[1]) > MAX_NAME_CHARS:
            raise UsageError(texts.NAME_TOO_LONG.format(limit=MAX_NAME_CHARS))
        added = await self.desk.add_member(actor, qq_id=args[0], name=args[1])
        return texts.MEMBER_ADDED.format(name=added.name, qq=added.qq_id)

    async def _members(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        members = await self.desk.members()
        if not members:
            return texts.NO_MEMBERS
        lines = ["【顾问列表】"]
        for m in members:
            role = "经理" if m.role == "manager" else ("在班" if m.on_duty else "下班")
            lines.append(f"· {m.name} {accounts(m)} {role}")
        return "\n".join(lines)

    async def _unassigned(self, actor: Actor, member: MemberView | None, args: list[str]) -> str:
        leads = await self.desk.unassigned_leads(20)
        if not leads:
            return texts.NO_UNASSIGNED
        lines = [f"【待分配 {len(leads)}】"]
        for lead in leads:
            lines.append(
                f"· {lead.ref} {who(lead.name)} {channel_name(lead.channel)} {self._fmt(lead.created_at)}"
            )
        lines.append("发送「分配 <号> <顾问>」指派")
        return "\n".join(lines)


ACTION_LABELS = {
    "created": "新建", "seen_again": "撞单", "reopened": "回流", "follow_up": "跟进", "set_level": "改级别",
    "invite": "邀约", "confirm": "确认", "visit": "到店", "no_show": "未到店", "order": "下订", "deal": "成交",
    "defeat_request": "申请战败", "defeat_approved": "战败批准", "defeat_rejected": "战败驳回", "assign": "分配",
}  # fmt: skip


def format_tasks(tasks: TaskList, fmt: Callable[[datetime | None], str]) -> str:
    """Short lines, most urgent first, readable on a phone."""
    if tasks.total == 0:
        return texts.TODAY_EMPTY
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
            lines.append(f"· {lead_ref(t.lead_id)} {who(t.name)} {t.level}级 {fmt(t.due_at)}")
        if len(items) > 10:
            lines.append(f"· …还有 {len(items) - 10} 条")
    return "\n".join(lines)


def accounts(member: MemberView) -> str:
    """What a manager may type to 分配 to them: "QQ10001", "企微wangwu" or both."""
    ids = []
    if member.qq_id:
        ids.append(f"QQ{member.qq_id}")
    if member.wecom_userid:
        ids.append(f"企微{member.wecom_userid}")
    return " ".join(ids) or "QQ—"


def describe_error(exc: DeskError) -> str:
    if isinstance(exc, LeadNotFound):
        return texts.LEAD_NOT_FOUND.format(lead_id=exc.lead_id)
    if isinstance(exc, InvalidTransition):
        action = texts.ACTION_NAMES.get(exc.action, exc.action)
        return texts.TRANSITION.format(
            lead_id=exc.lead_id, stage=stage_name(exc.stage), action=action
        )
    if isinstance(exc, Forbidden):
        return texts.FORBIDDEN_GENERIC.format(message=str(exc))
    if isinstance(exc, MemberNotFound):
        return texts.MEMBER_NOT_FOUND.format(name=exc.ref)
    if isinstance(exc, DuplicateMember):
        return texts.DUPLICATE_MEMBER
    if isinstance(exc, InvalidInput):
        return texts.INVALID.format(message=exc.message)
    return texts.INVALID.format(message="请检查后重试")
