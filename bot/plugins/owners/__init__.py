"""车主 (the dealer's existing customers), the chat front: a manager marks a group
member as an owner (`设为车主 @某人 [车型]` in a group, `设为车主 <QQ号> [车型]`
anywhere) or takes it back (`取消车主`). An owner's event sign-up then makes no
lead (desk.capture). The rules are desk.owners; replies name the person by group
card and QQ number, never by phone."""

from nonebot.adapters import Bot, Event
from nonebot.log import logger

from bot.desk_runtime import get_desk
from bot.front import Call, CommandTable
from bot.people import staff_member
from bot.platform import origin_of
from bot.plugins.owners import texts
from bot.roles import MANAGER
from bot.sending import reply
from desk import Actor, Desk, InvalidInput
from desk.owners import QQ_ID

commands = CommandTable()


def _mentioned(bot: Bot, event: Event) -> list[str]:
    """QQ ids @-ed in the message (not @全体成员, not the bot)."""
    ids = []
    for segment in event.get_message():
        if segment.type == "at":
            qq = str(segment.data.get("qq", ""))
            if qq.isdigit() and qq != str(bot.self_id):
                ids.append(qq)
    return list(dict.fromkeys(ids))


def _target(bot: Bot, event: Event, word: str, args: str) -> tuple[str, str | None] | str:
    """(QQ id, the words after it) or the line that says what is wrong."""
    mentioned = _mentioned(bot, event)
    words = args.split(maxsplit=1)
    if len(mentioned) > 1:
        return texts.ONE_AT_A_TIME
    if mentioned:
        return mentioned[0], args.strip() or None
    if not words:
        return texts.usage(word)
    qq = words[0].lstrip("@")
    if qq == str(bot.self_id):
        return texts.NOT_SELF
    if not QQ_ID.match(qq):
        return texts.usage(word)
    return qq, words[1].strip() if len(words) > 1 else None


async def _actor(bot: Bot, event: Event, desk: Desk) -> Actor:
    origin = origin_of(bot, event)
    member = await staff_member(desk, origin.platform, origin.user_id)
    label = f"member:{member.id}" if member else f"{origin.platform}:{origin.user_id}"
    return Actor(role="manager", label=label, member_id=member.id if member else None)


async def _card(bot: Bot, event: Event, qq: str) -> str | None:
    """The person's group card or nickname, when the message came from a group."""
    group_id = getattr(event, "group_id", None)
    if group_id is None:
        return None
    try:
        info = await bot.call_api("get_group_member_info", group_id=group_id, user_id=int(qq))
    except Exception as exc:  # a nicety: the mark stands without the name
        logger.warning(f"get_group_member_info({group_id}, {qq}) failed: {exc!r}")
        return None
    if not isinstance(info, dict):
        return None
    name = str(info.get("card") or info.get("nickname") or "").strip()
    return name[:32] or None


@commands.word("设为车主", role=MANAGER, desc=texts.USAGE["设为车主"])
async def _mark(bot: Bot, event: Event, call: Call) -> None:
    target = _target(bot, event, call.word, call.args)
    if isinstance(target, str):
        await reply(bot, event, target)
        return
    qq, car_model = target
    desk = get_desk()
    name = await _card(bot, event, qq)
    try:
        done = await desk.mark_owner(
            await _actor(bot, event, desk), qq_id=qq, name=name, car_model=car_model
        )
    except InvalidInput as bad:
        await reply(bot, event, texts.BAD_INPUT.format(reason=bad.message))
        return
    line = texts.MARKED if done.created else texts.ALREADY
    who = texts.who(qq, done.owner.name)
    await reply(bot, event, line.format(who=who, model=texts.model(done.owner.car_model)))


@commands.word("取消车主", role=MANAGER, desc=texts.USAGE["取消车主"])
async def _unmark(bot: Bot, event: Event, call: Call) -> None:
    target = _target(bot, event, call.word, call.args)
    if isinstance(target, str):
        await reply(bot, event, target)
        return
    qq, _ = target
    desk = get_desk()
    removed = await desk.unmark_owner(await _actor(bot, event, desk), qq_id=qq)
    if removed is None:
        await reply(bot, event, texts.NOT_AN_OWNER.format(who=texts.who(qq, None)))
        return
    await reply(bot, event, texts.UNMARKED.format(who=texts.who(qq, removed.name)))


owners_command = commands.matcher(priority=10, block=True)

__plugin_meta__ = commands.metadata(texts.PLUGIN_NAME, texts.PLUGIN_DESCRIPTION)
