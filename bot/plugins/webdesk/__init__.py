"""网页线索台 in the chat: `登录` (DM, staff) answers with a one-time login link to
the web desk (web/, desk.access); `退出登录` ends the asker's web sessions.

The link is stored (its hash) before the reply that carries it. The reply is the
answer to the asker's own DM, like every command's answer; it never goes to a group.
"""

from nonebot import get_driver
from nonebot.adapters import Bot, Event

from bot.desk_runtime import current_settings, get_desk
from bot.front import Call, CommandTable
from bot.people import staff_member
from bot.platform import in_group, platform_of
from bot.plugins.webdesk import texts
from bot.roles import CONSULTANT
from bot.sending import reply
from desk.views import MemberView

commands = CommandTable()


async def _member(bot: Bot, event: Event, word: str) -> MemberView | None:
    """The asker's roster entry, in a DM; None once the asker has been answered."""
    if in_group(event):
        await reply(bot, event, texts.DM_ONLY.format(word=word))
        return None
    member = await staff_member(get_desk(), platform_of(bot, event), event.get_user_id())
    if member is None:  # a SUPERUSER off the roster: sessions belong to roster members
        await reply(bot, event, texts.NOT_ON_ROSTER)
    return member


@commands.word("登录", role=CONSULTANT, desc=texts.USAGE["登录"], where="private")
async def _login(bot: Bot, event: Event, call: Call) -> None:
    if (member := await _member(bot, event, call.word)) is None:
        return
    web = current_settings().web
    token = await get_desk().issue_login_link(member.id, web.web_login_link_minutes)
    config = get_driver().config
    url = f"{web.base_url(str(config.host), config.port)}/desk/login/{token}"
    await reply(bot, event, texts.LINK.format(minutes=web.web_login_link_minutes, url=url))


@commands.word("退出登录", role=CONSULTANT, desc=texts.USAGE["退出登录"], where="private")
async def _logout(bot: Bot, event: Event, call: Call) -> None:
    if (member := await _member(bot, event, call.word)) is None:
        return
    count = await get_desk().end_web_sessions_of(member.id)
    await reply(bot, event, texts.LOGGED_OUT.format(count=count) if count else texts.NONE_LOGGED_IN)


webdesk_command = commands.matcher(priority=10, block=True)

__plugin_meta__ = commands.metadata(texts.PLUGIN_NAME, texts.PLUGIN_DESCRIPTION)
