"""Purchase intent (spec §3.4): group and DM messages that read as a lead
become one on the desk; the consultant is told by DM through the outbox; the
asker gets one short acknowledgement a day, with any phone number masked."""

from nonebot import on_message
from nonebot.adapters import Bot, Event
from nonebot.adapters.onebot.v11 import MessageSegment
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule
from nonebot.typing import T_State

from bot import front
from bot.desk_runtime import DeskDep
from bot.platform import is_message, origin_of
from bot.plugins.intent.capture import capture_intent
from bot.plugins.intent.correct import commands as correction_commands
from bot.prefilter import register_interest
from bot.roles import CONSULTANT
from bot.sending import reply
from features.intent import corrections
from features.intent.corrections import ack_key
from features.intent.detect import IntentMatch, detect_intent, load_vocabulary

__plugin_meta__ = PluginMetadata(
    name="购车意向",
    description="群聊或私聊里问价、试驾、置换等购车意向自动转给顾问跟进",
    usage="无需命令：在群里或私聊问「落地多少钱」「能试驾吗」即可，顾问会私信您",
    extra={"commands": correction_commands.help_entries()},
)

# Loaded at import: a broken config/intent.toml stops the start (bot.loader).
VOCABULARY = load_vocabulary()


_scored: dict[tuple[int, str], IntentMatch | None] = {}
_SCORED_MAX = 512  # recent texts; the score depends on nothing but text and vocabulary


def intent_of(text: str) -> IntentMatch | None:
    """The message's intent, scored once: the pre-filter asks first (it has only
    the text), the matcher's rule gets the same answer."""
    vocabulary = VOCABULARY
    key = (id(vocabulary), text)
    try:
        return _scored[key]
    except KeyError:
        if len(_scored) >= _SCORED_MAX:
            _scored.clear()
        match = _scored[key] = detect_intent(text, vocabulary)
        return match


register_interest(lambda text: intent_of(text) is not None)


_MATCH_KEY = "intent_match"


async def _reads_as_intent(event: Event, state: T_State) -> bool:
    # The cheap pre-filter: most chat stops here without touching the desk.
    if not is_message(event):
        return False
    match = intent_of(event.get_plaintext())
    state[_MATCH_KEY] = match
    return match is not None


intent = on_message(rule=Rule(_reads_as_intent), priority=50, block=False)


@intent.handle()
async def _capture(bot: Bot, event: Event, state: T_State, desk: DeskDep) -> None:
    if CONSULTANT in await front.roles_of(bot, event):
        return  # staff talking shop (SUPERUSERS are managers, spec §3.5), not a prospect
    origin = origin_of(bot, event)
    outcome = await capture_intent(desk, state[_MATCH_KEY], origin, event.get_plaintext())
    if outcome is None or outcome.reply is None:
        return
    if origin.group_id:
        sent = await reply(
            bot, event, MessageSegment.at(origin.user_id) + MessageSegment.text(outcome.reply)
        )
    else:
        sent = await reply(bot, event, outcome.reply)
    # Which lead the acknowledgement was for: staff quote it with 不是线索.
    keys = [ack_key(origin.platform, origin.self_id, str(i)) for i in sent.message_ids]
    await corrections.remember_acks(desk, keys, outcome.lead_id)
