"""`python -m tests.support.wechat_bot`: the real bot (bot.app.create_app) plus the
echo fixture plugin - the bot has no setting for extra plugin folders."""

import sys

import nonebot

from bot.app import create_app
from bot.loader import StartupError

try:
    create_app()
except StartupError as exc:
    print(f"bot not started:\n{exc}", file=sys.stderr)
    raise SystemExit(1) from None
if nonebot.load_plugin("tests.adapters.wechat.fixture_plugins.echo") is None:
    raise SystemExit("echo fixture plugin did not load")
nonebot.run()
