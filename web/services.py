"""The features' contexts for the web desk, built from the chat plugins' own config
and wording (no Chinese text twice).

A plugin package must not be imported before NoneBot loads it (its matchers would
be declared outside the plugin), so nothing here imports one at module level: each
function asks NoneBot whether the plugin is loaded, and only then imports it (by
then a lookup in sys.modules). A plugin that is not loaded is a feature turned off.
"""

from __future__ import annotations

from types import ModuleType

import nonebot

from desk import Desk
from features.events.core import Events
from features.referral.people import Referrals
from web import texts
from web.core import PageError

EVENTS = "bot.plugins.events"
REFERRAL = "bot.plugins.referral"


def _loaded(module: str) -> None:
    if nonebot.get_plugin_by_module_name(module) is None:
        raise PageError(404, texts.FEATURE_OFF)


def referrals(desk: Desk) -> Referrals:
    _loaded(REFERRAL)
    from bot.plugins.referral import referrals_for

    return referrals_for(desk)


def events(desk: Desk) -> Events:
    _loaded(EVENTS)
    from bot.plugins.events import events_for

    return events_for(desk)


def event_texts() -> ModuleType:
    """The events plugin's words (the export sheet's header and rows, statuses)."""
    _loaded(EVENTS)
    from bot.plugins.events import texts as event_texts

    return event_texts


def referral_texts() -> ModuleType:
    """The referral plugin's words (reward states, the referrer's account)."""
    _loaded(REFERRAL)
    from bot.plugins.referral import texts as referral_texts

    return referral_texts
