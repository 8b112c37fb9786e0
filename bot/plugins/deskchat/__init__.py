"""线索台 in chat (spec §3.5): consultants record each step in one short line;
managers review, assign and see the funnel. The words are one CommandTable
(bot.front: roles checked there, one refusal per role); each handler parses
(parse.py), calls one desk.Desk use case and formats its answer (texts.py)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from nonebot.adapters import Bot, Event

from bot.charts import Charted
from bot.charts.reply import reply_charted
from bot.desk_runtime import get_desk
from bot.formatting import shorten, when
from bot.front import Call, CommandTable, refusal
from bot.people import staff_member
from bot.platform import in_group, platform_of, tells_of_a_lead
from bot.plugins.deskchat import parse, texts
from bot.plugins.deskchat.parse import UsageError
from bot.roles import CONSULTANT, MANAGER
from desk import Actor, Desk, DeskError, LeadView, MemberView

# Manager words whose replies may go to a group: they carry no phone numbers and
# list nobody. Everything else is answered in DMs only (the lists with a line of
# their own).
GROUP_WORDS = frozenset({"线索统计", "审核", "分配", "添加顾问"})
LIST_DM_ONLY = {"顾问列表": texts.STAFF_LIST_DM_ONLY, "待分配": texts.LEAD_LIST_DM_ONLY}


def _customers_chat(bot: Bot, event: Event, call: Call) -> bool:
    """A desk word from someone off the staff: a customer's chat, passed on in
    silence (the intent plugin reads it), unless it reads as a command in a DM.
    Owners in a group start lines with 成交/到店; an Official Account follower is
    always a customer; "到店 周六上午可以看车吗" in a QQ DM is a question."""
    if CONSULTANT in call.roles:
        return False  # a consultant on a manager word: refused
    if in_group(event) or platform_of(bot, event) == "wechat_oa":
        return True
    return not parse.reads_as_command(call.args)


@dataclass(frozen=True)
class Asker:
    """Who runs a desk step: the roster member (None: a SUPERUSER off the roster),
    and the desk actor their step is recorded as."""

    member: MemberView | None
    actor: Actor

    def staff(self) -> MemberView:
        """The roster member; a SUPERUSER off the roster has no duty or tasks."""
        if self.member is None:
            raise UsageError(refusal(CONSULTANT))
        return self.member


async def _asker(bot: Bot, event: Event, desk: Desk, roles: set[str]) -> Asker:
    platform, user_id = platform_of(bot, event), event.get_user_id()
    member = await staff_member(desk, platform, user_id)
    if member is None:  # a SUPERUSER off the roster
        return Asker(None, Actor(role="manager", label=f"{platform}:{user_id}"))
    actor = member.actor()
    if MANAGER in roles and actor.role != "manager":  # a SUPERUSER on the roster
        actor = Actor(role="manager", label=actor.label, member_id=actor.member_id)
    return Asker(member, actor)


Step = Callable[[Desk, Asker, list[str]], Awaitable[str | Charted]]
_S = TypeVar("_S", bound=Step)  # a step keeps its own return type (str, or text with a chart)
commands = CommandTable()


def _word(word: str, role: str) -> Callable[[_S], _S]:
    """Declare a desk word: its role and 帮助 line once; a pasted long note gets
    the "too long" line; the step's reply (or its usage/error line) is sent."""

    def register(step: _S) -> _S:
        async def handle(bot: Bot, event: Event, call: Call) -> bool | None:
            if word == "线索" and tells_of_a_lead(event, call.args):
                return False  # the intent plugin's correction (bot/plugins/intent/correct.py)
            await reply_charted(bot, event, await _answer(bot, event, call, step))

        commands.word(
            word, role=role, desc=texts.USAGE[word], long_ok=True, chat_for_others=_customers_chat
        )(handle)
        return step

    return register


async def _answer(bot: Bot, event: Event, call: Call, step: Step) -> str | Charted:
    if in_group(event) and call.word not in GROUP_WORDS:
        return LIST_DM_ONLY.get(call.word, texts.DM_ONLY)
    if call.too_long:
        return texts.TOO_LONG
    desk = get_desk()
    asker = await _asker(bot, event, desk, call.roles)
    try:
        return await step(desk, asker, call.args.split())
    except UsageError as exc:
        return exc.line or texts.USAGE_PREFIX + texts.USAGE[call.word]
    except DeskError as exc:
        return texts.desk_error(exc)


def _with_due(template: str, lead: LeadView, desk: Desk, **more: object) -> str:
    """A step's reply naming the lead and its next follow-up."""
    return template.format(
        lead_id=lead.id, due=when(lead.next_follow_up_at, desk.settings.tz), **more
    )


# -- consultant words ------------------------------------------------------------------


@_word("今日", CONSULTANT)
async def _today(desk: Desk, asker: Asker, args: list[str]) -> str:
    if asker.member is None:  # a SUPERUSER has no own tasks: the unassigned leads
        return await _unassigned(desk, asker, args)
    return texts.tasks_list(await desk.tasks_for(asker.member.id), desk.settings.tz)


@_word("线索", CONSULTANT)
async def _detail(desk: Desk, asker: Asker, args: list[str]) -> str:
    if len(args) != 1:
        raise UsageError
    detail = await desk.lead(asker.actor, parse.lead_no(args[0]))
    return texts.lead_detail(detail, desk.settings.tz)


@_word("跟进", CONSULTANT)
async def _follow_up(desk: Desk, asker: Asker, args: list[str]) -> str:
    if len(args) < 2:
        raise UsageError
    lead_id = parse.lead_no(args[0])
    result, options = parse.split_keywords(args[1:])
    if not result:
        raise UsageError
    lead = await desk.follow_up(
        asker.actor,
        lead_id,
        result,
        next_at=parse.option_time(desk, options, "下次"),
        level=parse.level(options),
        purchase_at=parse.option_time(desk, options, "购车"),
    )
    return _with_due(texts.FOLLOWED, lead, desk, level=lead.level)


@_word("邀约", CONSULTANT)
async def _invite(desk: Desk, asker: Asker, args: list[str]) -> str:
    if len(args) < 2:
        raise UsageError
    lead_id = parse.lead_no(args[0])
    lead = await desk.invite(asker.actor, lead_id, parse.time_of(desk, " ".join(args[1:])))
    tz = desk.settings.tz
    return texts.INVITED.format(
        lead_id=lead.id,
        visit=when(lead.expected_visit_at, tz),
        confirm=when(lead.next_follow_up_at, tz),
    )


@_word("确认", CONSULTANT)
async def _confirm(desk: Desk, asker: Asker, args: list[str]) -> str:
    lead = await desk.confirm_visit(asker.actor, *parse.lead_and_note(args))
    visit = when(lead.expected_visit_at, desk.settings.tz)
    return texts.CONFIRMED.format(lead_id=lead.id, visit=visit)


@_word("到店", CONSULTANT)
async def _visit(desk: Desk, asker: Asker, args: list[str]) -> str:
    if not args:
        raise UsageError
    note, options = parse.split_keywords(args[1:])
    lead = await desk.record_visit(
        asker.actor,
        parse.lead_no(args[0]),
        note or None,
        next_at=parse.option_time(desk, options, "下次"),
        level=parse.level(options),
    )
    return _with_due(texts.VISITED, lead, desk, count=lead.visit_count)


@_word("未到店", CONSULTANT)
async def _no_show(desk: Desk, asker: Asker, args: list[str]) -> str:
    lead = await desk.record_no_show(asker.actor, *parse.lead_and_note(args))
    return _with_due(texts.NO_SHOW, lead, desk)


@_word("下订", CONSULTANT)
async def _order(desk: Desk, asker: Asker, args: list[str]) -> str:
    lead = await desk.record_order(asker.actor, *parse.lead_and_note(args))
    return _with_due(texts.ORDERED, lead, desk)


@_word("成交", CONSULTANT)
async def _deal(desk: Desk, asker: Asker, args: list[str]) -> str:
    lead = await desk.record_deal(asker.actor, *parse.lead_and_note(args))
    return texts.WON.format(lead_id=lead.id)


@_word("战败", CONSULTANT)
async def _defeat(desk: Desk, asker: Asker, args: list[str]) -> str:
    if len(args) < 2:
        raise UsageError
    lead = await desk.request_defeat(asker.actor, parse.lead_no(args[0]), " ".join(args[1:]))
    return texts.DEFEAT_REQUESTED.format(lead_id=lead.id, category=lead.defeat_category)


@_word("上班", CONSULTANT)
async def _on_duty(desk: Desk, asker: Asker, args: list[str]) -> str:
    await desk.set_on_duty(asker.staff().id, True)
    return texts.ON_DUTY


@_word("下班", CONSULTANT)
async def _off_duty(desk: Desk, asker: Asker, args: list[str]) -> str:
    await desk.set_on_duty(asker.staff().id, False)
    return texts.OFF_DUTY


# -- manager words ---------------------------------------------------------------------


@_word("线索统计", MANAGER)
async def _stats(desk: Desk, asker: Asker, args: list[str]) -> str | Charted:
    if len(args) > 1 or (args and args[0] not in parse.PERIODS):
        raise UsageError
    period = desk.period(parse.PERIODS[args[0]] if args else "today")
    [total] = await desk.funnel(period) or [None]
    if total is None or total.leads == 0:
        return texts.STATS_EMPTY.format(label=period.label)
    text = texts.funnel_stats(
        period.label,
        total,
        await desk.funnel(period, "channel"),
        await desk.funnel(period, "consultant"),
        await desk.defeat_reasons(period),
    )
    return Charted(text, texts.funnel_chart(period.label, total))


@_word("审核", MANAGER)
async def _review(desk: Desk, asker: Asker, args: list[str]) -> str:
    if len(args) < 2 or args[1] not in ("同意", "驳回"):
        raise UsageError
    lead_id = parse.lead_no(args[0])
    _, options = parse.split_keywords(args[2:])
    revisit = parse.option_time(desk, options, "回访")
    approve = args[1] == "同意"
    lead = await desk.review_defeat(asker.actor, lead_id, approve, revisit_at=revisit)
    return _with_due(texts.APPROVED if approve else texts.REJECTED, lead, desk)


@_word("分配", MANAGER)
async def _assign(desk: Desk, asker: Asker, args: list[str]) -> str:
    if len(args) != 2:
        raise UsageError
    lead_id = parse.lead_no(args[0])
    members = await desk.members()
    target = next((m for m in members if args[1] in (m.name, m.qq_id, m.wecom_userid)), None)
    if target is None:
        raise UsageError(texts.MEMBER_NOT_FOUND.format(name=shorten(args[1], 16)))
    lead = await desk.assign(asker.actor, lead_id, target.id)
    return texts.ASSIGNED.format(lead_id=lead.id, name=target.name)


@_word("添加顾问", MANAGER)
async def _add_member(desk: Desk, asker: Asker, args: list[str]) -> str:
    qq_id, name = parse.new_member(args)
    added = await desk.add_member(asker.actor, qq_id=qq_id, name=name)
    return texts.MEMBER_ADDED.format(name=added.name, qq=added.qq_id)


@_word("顾问列表", MANAGER)
async def _members(desk: Desk, asker: Asker, args: list[str]) -> str:
    return texts.member_list(await desk.members())


@_word("待分配", MANAGER)
async def _unassigned(desk: Desk, asker: Asker, args: list[str]) -> str:
    return texts.unassigned_list(await desk.unassigned_leads(20), desk.settings.tz)


# Blocking: a desk command is answered by the desk alone. Someone else's chat that
# starts with a desk word (an owner's "今日 有什么优惠吗") goes on to the intent plugin.
desk_command = commands.matcher(priority=5, block=True)

__plugin_meta__ = commands.metadata(texts.PLUGIN_NAME, texts.PLUGIN_DESCRIPTION)
