"""Settings for every test (and the bot processes the e2e tests start, which inherit
the environment)."""

import os

from bot.notify_texts import STRICT_ENV

# A staff DM whose payload lacks a key its text reads fails instead of printing a blank.
os.environ[STRICT_ENV] = "1"
