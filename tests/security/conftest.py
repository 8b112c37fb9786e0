"""tests/bot's NoneBot set-up for the nonebug tests here (test_fuzz.py): its init
settings (superusers, command starts), the adapter, the plugins, the desk and the
unthrottled send queue. The other tests here run the bot as a child process."""

from tests.bot.conftest import (  # noqa: F401
    after_nonebot_init,
    bot_plugins,
    desk,
    desk_clock,
    pytest_configure,
    unthrottled_sending,
)
